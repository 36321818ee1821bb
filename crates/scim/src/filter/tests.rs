//! Parser and printer tests: RFC 7644 §3.4.2.2's examples, precedence, Entra's form, errors,
//! limits, and the round trip AST → text → AST as a property.

use super::*;
use crate::error::ScimType;
use proptest::prelude::*;

fn p(s: &str) -> Filter {
    Filter::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn path(s: &str) -> AttrPath {
    AttrPath::parse(s).unwrap()
}

fn cmp(pa: &str, op: CompareOp, v: Literal) -> Filter {
    Filter::Compare {
        path: path(pa),
        op,
        value: v,
    }
}

fn pr(pa: &str) -> Filter {
    Filter::Present { path: path(pa) }
}

fn s(v: &str) -> Literal {
    Literal::Str(v.into())
}

const RFC_EXAMPLES: &[&str] = &[
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"userName sw "J""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    r#"title pr"#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    r#"title pr and userType eq "Employee""#,
    r#"title pr or userType eq "Intern""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType eq "Employee" and (emails.type eq "work")"#,
    r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
];

#[test]
fn every_rfc_example_parses_and_round_trips() {
    for text in RFC_EXAMPLES {
        let f = p(text);
        assert_eq!(p(&f.to_string()), f, "{text}");
    }
}

#[test]
fn rfc_examples_have_the_expected_trees() {
    assert_eq!(
        p(RFC_EXAMPLES[0]),
        cmp("userName", CompareOp::Eq, s("bjensen"))
    );
    assert_eq!(
        p(RFC_EXAMPLES[3]),
        Filter::Compare {
            path: AttrPath {
                urn: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()),
                name: "userName".into(),
                sub: None
            },
            op: CompareOp::Sw,
            value: s("J")
        }
    );
    assert_eq!(
        p(RFC_EXAMPLES[13]),
        Filter::and(
            cmp("userType", CompareOp::Ne, s("Employee")),
            Filter::negate(Filter::or(
                cmp("emails", CompareOp::Co, s("example.com")),
                cmp("emails.value", CompareOp::Co, s("example.org"))
            ))
        )
    );
    assert_eq!(
        p(RFC_EXAMPLES[15]),
        Filter::and(
            cmp("userType", CompareOp::Eq, s("Employee")),
            Filter::ValuePath {
                attr: path("emails"),
                filter: Box::new(Filter::and(
                    cmp("type", CompareOp::Eq, s("work")),
                    cmp("value", CompareOp::Co, s("@example.com"))
                ))
            }
        )
    );
}

#[test]
fn not_binds_tighter_than_and_and_and_than_or() {
    assert_eq!(
        p("a pr or b pr and c pr"),
        Filter::or(pr("a"), Filter::and(pr("b"), pr("c")))
    );
    assert_eq!(
        p("a pr and b pr or c pr"),
        Filter::or(Filter::and(pr("a"), pr("b")), pr("c"))
    );
    assert_eq!(
        p("not (a pr) and b pr"),
        Filter::and(Filter::negate(pr("a")), pr("b"))
    );
    assert_eq!(
        p("(a pr or b pr) and c pr"),
        Filter::and(Filter::or(pr("a"), pr("b")), pr("c"))
    );
    assert_eq!(
        p("a pr and b pr and c pr"),
        Filter::and(Filter::and(pr("a"), pr("b")), pr("c"))
    );
    assert_eq!(
        p("a pr and (b pr and c pr)"),
        Filter::and(pr("a"), Filter::and(pr("b"), pr("c")))
    );
}

#[test]
fn display_prints_minimal_parentheses() {
    for text in [
        "a pr or b pr and c pr",
        "(a pr or b pr) and c pr",
        "a pr and (b pr and c pr)",
        "a pr or (b pr or c pr)",
        "not (a pr or b pr)",
        "emails[type eq \"work\" or primary eq true]",
    ] {
        assert_eq!(p(text).to_string(), text);
    }
}

#[test]
fn keywords_and_literals_are_case_insensitive() {
    assert_eq!(
        p(r#"userName EQ "x" AND title PR Or NOT (active Eq TRUE)"#),
        Filter::or(
            Filter::and(cmp("userName", CompareOp::Eq, s("x")), pr("title")),
            Filter::negate(cmp("active", CompareOp::Eq, Literal::Bool(true)))
        )
    );
    assert_eq!(
        p("x eq False"),
        cmp("x", CompareOp::Eq, Literal::Bool(false))
    );
    assert_eq!(p("x ne NULL"), cmp("x", CompareOp::Ne, Literal::Null));
}

#[test]
fn numbers_and_escaped_strings() {
    assert_eq!(p("age gt 17"), cmp("age", CompareOp::Gt, Literal::Int(17)));
    assert_eq!(
        p("score le -1.5"),
        cmp("score", CompareOp::Le, Literal::Dec(-1.5))
    );
    assert_eq!(
        p(r#"displayName eq "say \"hi\"\\\u00e9""#),
        cmp("displayName", CompareOp::Eq, s("say \"hi\"\\é"))
    );
}

#[test]
fn urn_qualified_sub_attributes() {
    let f = p(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Ann""#);
    let Filter::Compare { path, .. } = &f else {
        panic!("{f:?}")
    };
    assert_eq!(path.name, "name");
    assert_eq!(path.sub.as_deref(), Some("givenName"));
    let f = p(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "X""#);
    let Filter::Compare { path, .. } = &f else {
        panic!("{f:?}")
    };
    assert_eq!(
        path.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
}

#[test]
fn entra_value_path_with_trailing_sub_attribute_becomes_a_value_filter() {
    let entra = p(r#"emails[type eq "work"].value eq "x@y""#);
    let rfc = p(r#"emails[type eq "work" and value eq "x@y"]"#);
    assert_eq!(entra, rfc);
    assert_eq!(
        p(r#"emails[type eq "work" or type eq "home"].value pr"#),
        p(r#"emails[(type eq "work" or type eq "home") and value pr]"#)
    );
}

#[test]
fn an_attribute_may_be_called_not() {
    assert_eq!(p("not pr"), pr("not"));
    assert_eq!(p("not eq 1"), cmp("not", CompareOp::Eq, Literal::Int(1)));
}

#[test]
fn errors_are_invalid_filter_with_a_position() {
    let cases = [
        ("", "character 1: the filter is empty"),
        (
            "userName",
            "character 9: expected an operator after `userName`, found the end",
        ),
        ("userName eq", "character 12: expected a value"),
        ("userName xx \"a\"", "character 10: unknown operator `xx`"),
        (
            "userName eq \"a\" and",
            "character 20: expected an attribute",
        ),
        ("(userName pr", "character 13: expected `)`, found the end"),
        (
            "userName pr)",
            "character 12: unexpected `)` after a complete expression",
        ),
        ("emails[type eq \"w\"", "character 19: expected `]`"),
        (
            "emails[value[x pr]]",
            "character 13: value filters cannot be nested",
        ),
        (
            "emails[a.b pr]",
            "character 8: inside `[...]` use a sub-attribute name",
        ),
        (
            "name.givenName[x pr]",
            "character 1: a value filter must follow an attribute",
        ),
        ("userName eq 'a'", "character 13: unexpected character `'`"),
        ("é pr", "character 1: unexpected character `é`"),
        ("1abc pr", "character 1: a number runs into a name"),
        ("userName eq bjensen", "character 13: expected a value"),
        (
            "emails[type eq \"w\"]. eq 1",
            "character 20: `` is not a valid sub-attribute name",
        ),
    ];
    for (text, want) in cases {
        let e = Filter::parse(text).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{text}");
        assert_eq!(e.status, 400);
        assert!(
            e.detail.contains(want),
            "{text:?}: got {:?}, want {want:?}",
            e.detail
        );
    }
}

#[test]
fn length_and_depth_are_limited() {
    let long = format!("displayName eq \"{}\"", "a".repeat(MAX_FILTER_LEN));
    let e = Filter::parse(&long).unwrap_err();
    assert!(e.detail.contains("longer than 4096 bytes"), "{}", e.detail);

    let nest = |n: usize| format!("{}a pr{}", "(".repeat(n), ")".repeat(n));
    assert!(Filter::parse(&nest(MAX_DEPTH)).is_ok());
    let e = Filter::parse(&nest(MAX_DEPTH + 1)).unwrap_err();
    assert!(e.detail.contains("nested deeper than 32"), "{}", e.detail);
    let nots = format!(
        "{}a pr{}",
        "not (".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(Filter::parse(&nots).is_err());

    // The longest flat chain that fits is parsed without recursion and evaluates fine.
    let chain = vec!["a pr"; MAX_FILTER_LEN / 9].join(" and ");
    assert!(Filter::parse(&chain).is_ok());
}

// ---- properties -------------------------------------------------------------------------

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_-]{0,6}",
        Just("$ref".to_string()),
        Just("not".to_string()),
        Just("and".to_string()),
        Just("pr".to_string()),
    ]
}

fn urn() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some("urn:ietf:params:scim:schemas:core:2.0:User".to_string())),
        1 => Just(Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string())),
    ]
}

fn full_path() -> impl Strategy<Value = AttrPath> {
    (urn(), name(), proptest::option::of(name())).prop_map(|(urn, name, sub)| AttrPath {
        urn,
        name,
        sub,
    })
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<String>().prop_map(Literal::Str),
        any::<i64>().prop_map(Literal::Int),
        any::<f64>()
            .prop_filter("finite", |d| d.is_finite())
            .prop_map(Literal::Dec),
        any::<bool>().prop_map(Literal::Bool),
        Just(Literal::Null),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Co),
        Just(CompareOp::Sw),
        Just(CompareOp::Ew),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
    ]
}

fn leaf(paths: BoxedStrategy<AttrPath>) -> impl Strategy<Value = Filter> {
    prop_oneof![
        (paths.clone(), op(), literal()).prop_map(|(path, op, value)| Filter::Compare {
            path,
            op,
            value
        }),
        paths.prop_map(|path| Filter::Present { path }),
    ]
}

fn logic(leaves: BoxedStrategy<Filter>, depth: u32) -> BoxedStrategy<Filter> {
    leaves
        .prop_recursive(depth, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::and(a, b)),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::or(a, b)),
                inner.prop_map(Filter::negate),
            ]
        })
        .boxed()
}

/// Arbitrary filter trees as the parser can produce them.
pub(crate) fn arb_filter() -> BoxedStrategy<Filter> {
    let simple = name().prop_map(|n| AttrPath::name(&n)).boxed();
    let value_path = (urn(), name(), logic(leaf(simple).boxed(), 2)).prop_map(|(urn, name, f)| {
        Filter::ValuePath {
            attr: AttrPath {
                urn,
                name,
                sub: None,
            },
            filter: Box::new(f),
        }
    });
    let leaves = prop_oneof![4 => leaf(full_path().boxed()), 1 => value_path].boxed();
    logic(leaves, 4)
}

proptest! {
    #[test]
    fn display_then_parse_gives_the_same_tree(f in arb_filter()) {
        let text = f.to_string();
        prop_assume!(text.len() <= MAX_FILTER_LEN);
        let back = Filter::parse(&text);
        prop_assert_eq!(back.as_ref().ok(), Some(&f), "{}", text);
    }

    #[test]
    fn parser_never_panics_on_any_string(s in any::<String>()) {
        let _ = Filter::parse(&s);
        let _ = crate::path::PatchPath::parse(&s);
    }

    #[test]
    fn parser_never_panics_on_filter_like_text(s in r#"[a-z. "()\[\]:0-9\\-]{0,80}"#) {
        if let Ok(f) = Filter::parse(&s) {
            // Whatever parses prints to something that parses to the same tree.
            prop_assert_eq!(Filter::parse(&f.to_string()).ok(), Some(f));
        }
        let _ = crate::path::PatchPath::parse(&s);
    }
}
