//! rolecall server library.
