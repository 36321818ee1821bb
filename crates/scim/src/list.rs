//! Listing and searching (RFC 7644 §3.4.2, §3.4.3): the `ListResponse` body, and the query
//! parameters `filter`, `startIndex`, `count`, `sortBy`, `sortOrder`, `attributes` and
//! `excludedAttributes`, read alike from a query string or a `POST /.search` body.

use crate::error::ScimError;
use crate::filter::Filter;
use crate::path::AttrPath;
use serde::Deserialize;
use serde_json::{json, Value};

/// URN of the list response message.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// URN of the search request message.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// One page of query results.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResponse {
    /// How many resources match in all, across pages.
    pub total_results: u64,
    /// 1-based index of the first resource on this page.
    pub start_index: u64,
    /// This page's resources, already projected.
    pub resources: Vec<Value>,
}

impl ListResponse {
    /// A page of `total_results` matches starting at `start_index`.
    pub fn new(total_results: u64, start_index: u64, resources: Vec<Value>) -> Self {
        ListResponse {
            total_results,
            start_index,
            resources,
        }
    }

    /// A response holding every result on one page (discovery lists).
    pub fn complete(resources: Vec<Value>) -> Self {
        ListResponse::new(resources.len() as u64, 1, resources)
    }

    /// The response body; `itemsPerPage` is the number of resources on this page.
    pub fn to_json(&self) -> Value {
        json!({
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": self.total_results,
            "startIndex": self.start_index,
            "itemsPerPage": self.resources.len(),
            "Resources": self.resources,
        })
    }
}

/// Sort direction; `ascending` unless the client says otherwise (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

/// A validated list or search request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based; values below 1 were read as 1.
    pub start_index: u64,
    /// Page size: negative values were read as 0, and it never exceeds the server's maximum,
    /// which is also the size when the client gave none.
    pub count: u64,
    pub sort_by: Option<AttrPath>,
    pub sort_order: SortOrder,
    pub attributes: Vec<String>,
    pub excluded_attributes: Vec<String>,
}

impl ListQuery {
    /// Reads decoded query-string pairs. Parameter names are matched case-insensitively;
    /// unknown parameters are left to the server; a repeated parameter keeps its last value.
    pub fn from_query<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        max_results: u64,
    ) -> Result<ListQuery, ScimError> {
        let mut q = ListQuery::empty(max_results);
        for (key, value) in pairs {
            match key.to_ascii_lowercase().as_str() {
                "filter" => q.filter = parse_filter(value)?,
                "startindex" => q.start_index = start_index(parse_int("startIndex", value)?),
                "count" => q.count = count(parse_int("count", value)?, max_results),
                "sortby" => q.sort_by = Some(sort_by(value)?),
                "sortorder" => q.sort_order = sort_order(value)?,
                "attributes" => q.attributes = split_list(value),
                "excludedattributes" => q.excluded_attributes = split_list(value),
                _ => {}
            }
        }
        Ok(q)
    }

    /// The offset of the first result for SQL `OFFSET`.
    pub fn offset(&self) -> u64 {
        self.start_index.saturating_sub(1)
    }

    fn empty(max_results: u64) -> ListQuery {
        ListQuery {
            start_index: 1,
            count: max_results,
            ..ListQuery::default()
        }
    }
}

/// The body of `POST /.search` (RFC 7644 §3.4.3), as sent.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    #[serde(default)]
    pub schemas: Vec<String>,
    pub attributes: Option<Vec<String>>,
    pub excluded_attributes: Option<Vec<String>>,
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
}

impl SearchRequest {
    /// Reads a search body; it must name the SearchRequest schema (`invalidSyntax` otherwise).
    pub fn from_json(body: &Value) -> Result<SearchRequest, ScimError> {
        let req = SearchRequest::deserialize(body)
            .map_err(|e| ScimError::invalid_syntax(format!("not a SearchRequest: {e}")))?;
        if !req
            .schemas
            .iter()
            .any(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
        {
            return Err(ScimError::invalid_syntax(format!(
                "`schemas` must contain {SEARCH_REQUEST_SCHEMA}"
            )));
        }
        Ok(req)
    }

    /// Validates the request with the same rules as the query string.
    pub fn to_query(&self, max_results: u64) -> Result<ListQuery, ScimError> {
        let mut q = ListQuery::empty(max_results);
        if let Some(f) = &self.filter {
            q.filter = parse_filter(f)?;
        }
        if let Some(i) = self.start_index {
            q.start_index = start_index(i);
        }
        if let Some(c) = self.count {
            q.count = count(c, max_results);
        }
        if let Some(s) = &self.sort_by {
            q.sort_by = Some(sort_by(s)?);
        }
        if let Some(o) = &self.sort_order {
            q.sort_order = sort_order(o)?;
        }
        q.attributes = self.attributes.clone().unwrap_or_default();
        q.excluded_attributes = self.excluded_attributes.clone().unwrap_or_default();
        Ok(q)
    }
}

/// A blank filter (`?filter=`) is no filter.
fn parse_filter(text: &str) -> Result<Option<Filter>, ScimError> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        Filter::parse(text).map(Some)
    }
}

/// Reads an integer parameter; a run of digits too long for `i64` saturates rather than fails.
fn parse_int(name: &str, value: &str) -> Result<i64, ScimError> {
    let v = value.trim();
    if let Ok(n) = v.parse::<i64>() {
        return Ok(n);
    }
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(if neg { i64::MIN } else { i64::MAX });
    }
    Err(ScimError::invalid_value(format!(
        "`{name}` must be an integer, not `{value}`"
    )))
}

fn start_index(i: i64) -> u64 {
    // RFC 7644 §3.4.2.4: a value less than 1 is interpreted as 1.
    u64::try_from(i).unwrap_or(1).max(1)
}

fn count(c: i64, max_results: u64) -> u64 {
    // RFC 7644 §3.4.2.4: a negative count is interpreted as 0.
    u64::try_from(c).unwrap_or(0).min(max_results)
}

fn sort_by(s: &str) -> Result<AttrPath, ScimError> {
    AttrPath::parse(s.trim())
        .map_err(|m| ScimError::invalid_value(format!("`sortBy` is not an attribute: {m}")))
}

fn sort_order(s: &str) -> Result<SortOrder, ScimError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "ascending" => Ok(SortOrder::Ascending),
        "descending" => Ok(SortOrder::Descending),
        _ => Err(ScimError::invalid_value(format!(
            "`sortOrder` must be ascending or descending, not `{s}`"
        ))),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;

    #[test]
    fn list_response_body() {
        let r = ListResponse::new(10, 3, vec![json!({"id": "a"}), json!({"id": "b"})]);
        assert_eq!(
            r.to_json(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 10,
                "startIndex": 3,
                "itemsPerPage": 2,
                "Resources": [{"id": "a"}, {"id": "b"}]
            })
        );
    }

    #[test]
    fn defaults_without_parameters() {
        let q = ListQuery::from_query([], 100).unwrap();
        assert_eq!(q.start_index, 1);
        assert_eq!(q.count, 100);
        assert_eq!(q.offset(), 0);
        assert_eq!(q.filter, None);
        assert_eq!(q.sort_order, SortOrder::Ascending);
    }

    #[test]
    fn start_index_below_one_is_one_and_count_is_clamped() {
        for (raw, want) in [("0", 1), ("-5", 1), ("1", 1), ("7", 7)] {
            let q = ListQuery::from_query([("startIndex", raw)], 100).unwrap();
            assert_eq!(q.start_index, want, "{raw}");
        }
        for (raw, want) in [
            ("-1", 0),
            ("0", 0),
            ("10", 10),
            ("1000", 100),
            ("99999999999999999999", 100),
        ] {
            let q = ListQuery::from_query([("count", raw)], 100).unwrap();
            assert_eq!(q.count, want, "{raw}");
        }
        let e = ListQuery::from_query([("count", "ten")], 100).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    }

    #[test]
    fn reads_every_parameter_case_insensitively() {
        let q = ListQuery::from_query(
            [
                ("filter", "userName eq \"bjensen\""),
                ("SORTBY", "name.familyName"),
                ("sortOrder", "Descending"),
                ("attributes", "userName, emails"),
                ("excludedAttributes", "groups"),
                ("other", "ignored"),
            ],
            50,
        )
        .unwrap();
        assert!(q.filter.is_some());
        assert_eq!(q.sort_by.unwrap().sub.as_deref(), Some("familyName"));
        assert_eq!(q.sort_order, SortOrder::Descending);
        assert_eq!(q.attributes, ["userName", "emails"]);
        assert_eq!(q.excluded_attributes, ["groups"]);
    }

    #[test]
    fn bad_filter_sort_order_and_sort_by_are_rejected() {
        let e = ListQuery::from_query([("filter", "userName eq")], 50).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
        assert_eq!(
            ListQuery::from_query([("filter", " ")], 50).unwrap().filter,
            None
        );
        let e = ListQuery::from_query([("sortOrder", "up")], 50).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        let e = ListQuery::from_query([("sortBy", "1x")], 50).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    }

    #[test]
    fn search_request_body() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes": ["displayName", "userName"],
            "excludedAttributes": ["groups"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 0,
            "count": -3,
            "sortBy": "userName",
            "sortOrder": "descending"
        });
        let q = SearchRequest::from_json(&body)
            .unwrap()
            .to_query(10)
            .unwrap();
        assert_eq!(q.start_index, 1);
        assert_eq!(q.count, 0);
        assert_eq!(q.attributes, ["displayName", "userName"]);
        assert_eq!(q.excluded_attributes, ["groups"]);
        assert_eq!(q.sort_order, SortOrder::Descending);
        assert_eq!(q.sort_by, Some(AttrPath::name("userName")));
        assert!(q.filter.is_some());
    }

    #[test]
    fn search_request_needs_its_schema_and_shape() {
        let e = SearchRequest::from_json(&json!({"filter": "a pr"})).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
        let e = SearchRequest::from_json(&json!({
            "schemas": [SEARCH_REQUEST_SCHEMA], "count": "many"
        }))
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    }
}
