//! The web console, end to end: HTTP-level checks of its security headers, CSRF and cookies
//! (`http`), and real flows in headless Chromium driven over WebDriver (`browser`). The browser
//! tests run on SQLite only: they test the console, and the API suite covers both databases.

#![allow(clippy::unwrap_used)]

// The API helpers check every API response against the OpenAPI document.
#[allow(dead_code)]
#[path = "../api/contract.rs"]
mod contract;
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod browser;
mod http;
mod pages;
mod paging;
mod screenshots;
mod support;
mod webdriver;
