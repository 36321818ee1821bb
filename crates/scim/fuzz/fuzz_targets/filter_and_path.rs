//! Fuzz target: arbitrary bytes into the filter parser and the PATCH path parser. A filter that
//! parses must print to text that parses back to the same tree, and must evaluate (or be
//! rejected) without panicking against the User schema.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rolecall_scim::filter::MAX_FILTER_LEN;
use rolecall_scim::schema::ResourceType;
use rolecall_scim::{matches, Filter, PatchPath};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = Filter::parse(text) {
        let printed = filter.to_string();
        // Printing can lengthen a filter (`1e9` prints as `1000000000.0`), past the limit.
        if printed.len() <= MAX_FILTER_LEN {
            assert_eq!(Filter::parse(&printed).ok(), Some(filter.clone()), "{printed}");
        }
        let user = serde_json::json!({
            "userName": "bjensen",
            "name": {"givenName": "Barbara"},
            "active": true,
            "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
            "meta": {"lastModified": "2011-05-13T04:42:34Z"}
        });
        let _ = matches(&filter, &user, &ResourceType::user());
    }
    if let Ok(path) = PatchPath::parse(text) {
        let printed = path.to_string();
        if printed.len() <= MAX_FILTER_LEN {
            assert_eq!(PatchPath::parse(&printed).ok(), Some(path), "{printed}");
        }
    }
});
