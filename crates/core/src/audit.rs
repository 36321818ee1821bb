//! The audit trail's rules: what an entry holds, its canonical form and hash, how one
//! organisation's chain of entries is verified, and which fields may never be recorded.
//!
//! Each entry's hash covers its content and the hash of the entry before it, so editing an
//! entry, removing one or changing their order breaks the chain at that point. Order is carried
//! by the `prev_hash` links, not by the storage sequence number (which is not hashed): a swap of
//! two rows therefore shows as an entry whose predecessor is found later in the chain. The last
//! hash (the chain head) is published with every export, so a copy kept elsewhere can prove a
//! later truncation. No I/O: the store feeds rows in, in sequence order.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The `prev_hash` of an organisation's very first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who or what an entry is about, or who acted: kind, stable id, and the display name at the
/// time (so the entry still reads right after a rename or deletion).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    /// Actors: `person`, `credential`, `token`, `operator`, `server`, `policy`, `anonymous`,
    /// `unrecorded` (entries migrated from the old sign-in log). Targets: `user`, `group`,
    /// `role`, `profile`, `scope`, `credential`, `invitation`, `organization`, `settings`, ….
    pub kind: String,
    pub id: String,
    pub name: String,
}

impl Party {
    pub fn new(kind: &str, id: impl ToString, name: impl Into<String>) -> Party {
        Party {
            kind: kind.to_string(),
            id: id.to_string(),
            name: name.into(),
        }
    }
}

/// One field's value before and after the change (`null` when it did not exist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub before: Value,
    pub after: Value,
}

/// Field → before/after, ordered by field name so the stored text is canonical.
pub type Changes = BTreeMap<String, FieldChange>;

/// A recorded entry. `changes` is kept as the exact JSON text that was hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub org_id: String,
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor: Party,
    pub action: String,
    pub target: Party,
    pub changes: String,
    pub detail: String,
    pub source_ip: String,
    pub user_agent: String,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The fields the hash covers, in order, but the link (`prev_hash`): `at` is passed in as
    /// text.
    fn linked_fields<'a>(&'a self, at: &'a str) -> [&'a str; 16] {
        [
            "rolecall-audit-v1",
            &self.org_id,
            &self.id,
            at,
            &self.actor.kind,
            &self.actor.id,
            &self.actor.name,
            &self.action,
            &self.target.kind,
            &self.target.id,
            &self.target.name,
            &self.changes,
            &self.detail,
            &self.source_ip,
            &self.user_agent,
            &self.request_id,
        ]
    }

    /// The bytes the hash covers: every field but `seq` and `hash`, as a JSON array of strings
    /// (unambiguous: each field is quoted and escaped), behind a version tag.
    pub fn canonical(&self) -> Vec<u8> {
        let at = self.at.to_string();
        let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = self.linked_fields(&at);
        let fields: [&str; 17] = [
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            i,
            j,
            k,
            l,
            m,
            n,
            o,
            p,
            &self.prev_hash,
        ];
        // Serialising an array of strings cannot fail.
        serde_json::to_vec(&fields).unwrap_or_default()
    }

    /// The hash this entry should carry given its content and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical()))
    }

    /// Links this entry after `prev_hash` and computes its hash.
    pub fn seal(&mut self, prev_hash: &str) {
        self.prev_hash = prev_hash.to_string();
        self.hash = self.compute_hash();
    }

    /// The hash taken over everything but the link, for [`Entry::seal_unlinked`]: the
    /// canonical form is a JSON array whose last element is `prev_hash`, so its bytes up to
    /// that element are known before the chain's head is.
    pub fn unlinked(&self) -> Unlinked {
        let at = self.at.to_string();
        let mut head = serde_json::to_vec(&self.linked_fields(&at)).unwrap_or_default();
        // `[f0,…,f15]` becomes `[f0,…,f15,`: the link and the closing bracket follow.
        head.pop();
        head.push(b',');
        Unlinked {
            state: Sha256::new_with_prefix(head),
        }
    }

    /// [`Entry::seal`] from a hash taken by [`Entry::unlinked`] of this entry as it stands:
    /// only the link is hashed here. The same bytes are hashed, so the result is the same.
    pub fn seal_unlinked(&mut self, unlinked: &Unlinked, prev_hash: &str) {
        let mut state = unlinked.state.clone();
        state.update(serde_json::to_vec(prev_hash).unwrap_or_default());
        state.update(b"]");
        self.prev_hash = prev_hash.to_string();
        self.hash = hex::encode(state.finalize());
    }
}

/// An entry's hash over all but its link (see [`Entry::unlinked`]). An import drafts its
/// entries on another thread while the database writes the rows they describe; hashing them
/// there leaves the writer, which alone knows the chain's head, a few dozen bytes per entry.
#[derive(Clone)]
pub struct Unlinked {
    state: Sha256,
}

/// Fields that are never written to the log whatever a use case passes (passwords, hashes,
/// tokens, TOTP seeds, recovery codes): the log is read by more people than the secrets are.
/// Asked for every field of every entry, so it compares bytes in place rather than lowering a
/// copy of the name.
pub fn is_secret_field(name: &str) -> bool {
    // Rules about secrets, not secrets: a weakened password policy must show in the log.
    if name.eq_ignore_ascii_case("password_policy") {
        return false;
    }
    const SECRET: [&[u8]; 7] = [
        b"password",
        b"hash",
        b"secret",
        b"token",
        b"totp",
        b"recovery",
        b"seed",
    ];
    let n = name.as_bytes();
    SECRET
        .iter()
        .any(|s| n.windows(s.len()).any(|w| w.eq_ignore_ascii_case(s)))
}

/// Bookkeeping fields that change on every write and say nothing to a reader.
fn is_noise_field(name: &str) -> bool {
    matches!(name, "version" | "updated_at" | "created_at")
}

/// The fields that differ between two JSON objects (either may be `null`: creation or
/// deletion), without secrets or bookkeeping. Both objects' keys come sorted, so one pass
/// over the two in step finds every field, with no lookups.
pub fn diff(before: &Value, after: &Value) -> Changes {
    use std::cmp::Ordering;
    let empty = serde_json::Map::new();
    let null = Value::Null;
    let mut b = before.as_object().unwrap_or(&empty).iter().peekable();
    let mut a = after.as_object().unwrap_or(&empty).iter().peekable();
    let mut out = Vec::new();
    loop {
        // Which side holds the next key in order: the earlier one, or both when equal.
        let order = match (b.peek(), a.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((kb, _)), Some((ka, _))) => kb.cmp(ka),
        };
        let (key, old, new) = match order {
            Ordering::Less => match b.next() {
                Some((k, v)) => (k, v, &null),
                None => break,
            },
            Ordering::Greater => match a.next() {
                Some((k, v)) => (k, &null, v),
                None => break,
            },
            Ordering::Equal => match (b.next(), a.next()) {
                (Some((k, vb)), Some((_, va))) => (k, vb, va),
                _ => break,
            },
        };
        if old != new && !is_secret_field(key) && !is_noise_field(key) {
            out.push((
                key.clone(),
                FieldChange {
                    before: old.clone(),
                    after: new.clone(),
                },
            ));
        }
    }
    // Already in key order, so the map is built from the run in one go.
    out.into_iter().collect()
}

/// A single field change, for use cases that change one thing (a membership, a setting).
pub fn field(name: &str, before: Value, after: Value) -> Changes {
    let mut out = Changes::new();
    if !is_secret_field(name) {
        out.insert(name.to_string(), FieldChange { before, after });
    }
    out
}

/// The canonical text of a set of changes (keys sorted; secrets dropped once more).
pub fn changes_text(changes: &Changes) -> String {
    /// The changes without their secrets, serialised as they stand: no second map.
    struct Clean<'a>(&'a Changes);
    impl Serialize for Clean<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().filter(|(k, _)| !is_secret_field(k)))
        }
    }
    serde_json::to_string(&Clean(changes)).unwrap_or_else(|_| "{}".into())
}

/// Actions that were the old sign-in event log (`/auth-events`, `rolecall events`): sign-ins,
/// sessions, second factors, passwords, administration rights, credentials and invitations.
pub const AUTH_ACTIONS: &[&str] = &[
    "sign_in_succeeded",
    "sign_in_failed",
    "signed_out",
    "locked",
    "unlocked",
    "second_factor_verified",
    "second_factor_failed",
    "totp_enrolled",
    "totp_reset",
    "reverified",
    "reverification_failed",
    "password_changed",
    "password_change_failed",
    "password_reset",
    "password_reset_requested",
    "session_revoked",
    "sessions_ended_elsewhere",
    "admin_right_granted",
    "admin_right_revoked",
    "ownership_transferred",
    "credential_created",
    "credential_revoked",
    "credential_kept",
    "credential_transferred",
    "invitation_sent",
    "invitation_withdrawn",
    "invitation_accepted",
];

/// How a chain was found broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlawKind {
    /// The entry's content no longer matches its hash.
    Edited,
    /// One or more entries before this one are missing.
    Removed,
    /// This entry's predecessor appears elsewhere in the chain.
    Reordered,
    /// Entries after the last one are missing (the stored or a known head is not reached).
    Truncated,
}

/// The first point where a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flaw {
    /// Sequence number of the first entry that does not verify (for `truncated`, the last
    /// entry found).
    pub seq: i64,
    pub kind: FlawKind,
    pub message: String,
}

/// A link that does not hold: the entry at `seq` names `found_prev` as its predecessor, which
/// is not the entry before it. Whether that is a removal or a reordering depends on whether
/// `found_prev` is the hash of some other entry, which only the store can look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Ok,
    Flaw(Flaw),
    Unlinked { seq: i64, found_prev: String },
}

/// Walks one organisation's chain in sequence order.
#[derive(Debug, Clone)]
pub struct Verifier {
    expected_prev: String,
    last_seq: Option<i64>,
    checked: u64,
}

impl Verifier {
    /// Starts at the first kept entry, whose `prev_hash` must be `anchor` (the hash of the last
    /// pruned entry, or [`GENESIS`]).
    pub fn new(anchor: &str) -> Verifier {
        Verifier {
            expected_prev: anchor.to_string(),
            last_seq: None,
            checked: 0,
        }
    }

    pub fn check(&mut self, e: &Entry) -> Check {
        if e.compute_hash() != e.hash {
            return Check::Flaw(Flaw {
                seq: e.seq,
                kind: FlawKind::Edited,
                message: format!(
                    "entry {} was edited: its content does not match its hash",
                    e.seq
                ),
            });
        }
        if e.prev_hash != self.expected_prev {
            return Check::Unlinked {
                seq: e.seq,
                found_prev: e.prev_hash.clone(),
            };
        }
        self.expected_prev = e.hash.clone();
        self.last_seq = Some(e.seq);
        self.checked += 1;
        Check::Ok
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The last verified hash (the anchor when nothing was checked).
    pub fn last_hash(&self) -> &str {
        &self.expected_prev
    }

    /// After the last entry: the chain must end at the stored head.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Option<Flaw> {
        if self.expected_prev == head_hash {
            return None;
        }
        let last = self.last_seq.unwrap_or(0);
        Some(Flaw {
            seq: last,
            kind: FlawKind::Truncated,
            message: format!(
                "the chain ends at entry {last} but its head is entry {head_seq}: entries after {last} were removed"
            ),
        })
    }
}

/// Names an unlinked entry: `found_at` is the sequence number of the entry whose hash it names
/// as predecessor, if any entry has that hash.
pub fn classify_unlinked(seq: i64, found_at: Option<i64>) -> Flaw {
    match found_at {
        Some(other) => Flaw {
            seq,
            kind: FlawKind::Reordered,
            message: format!(
                "entry {seq} is out of order: it follows entry {other}, not the entry before it"
            ),
        },
        None => Flaw {
            seq,
            kind: FlawKind::Removed,
            message: format!("the entry (or entries) just before entry {seq} were removed"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(seq: i64, detail: &str) -> Entry {
        Entry {
            org_id: "org".into(),
            seq,
            id: format!("id{seq}"),
            at: 1000 + seq,
            actor: Party::new("person", "u1", "ann@example.com"),
            action: "user_updated".into(),
            target: Party::new("user", "u2", "bob@example.com"),
            changes: changes_text(&field("first_name", json!("Bob"), json!("Rob"))),
            detail: detail.into(),
            source_ip: "127.0.0.1".into(),
            user_agent: "test".into(),
            request_id: "r1".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|i| {
                let mut e = entry(i, "");
                e.seal(&prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn walk(entries: &[Entry]) -> Option<Flaw> {
        let mut v = Verifier::new(GENESIS);
        for e in entries {
            match v.check(e) {
                Check::Ok => {}
                Check::Flaw(f) => return Some(f),
                Check::Unlinked { seq, found_prev } => {
                    let at = entries.iter().find(|x| x.hash == found_prev).map(|x| x.seq);
                    return Some(classify_unlinked(seq, at));
                }
            }
        }
        let head = entries
            .last()
            .map(|e| e.hash.clone())
            .unwrap_or(GENESIS.into());
        v.finish(entries.len() as i64, &head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(walk(&chain(5)), None);
    }

    #[test]
    fn an_edit_is_named() {
        let mut c = chain(5);
        c[2].detail = "changed".into();
        let f = walk(&c).unwrap();
        assert_eq!((f.seq, f.kind), (3, FlawKind::Edited));
    }

    #[test]
    fn a_removal_is_named() {
        let mut c = chain(5);
        c.remove(2);
        let f = walk(&c).unwrap();
        assert_eq!((f.seq, f.kind), (4, FlawKind::Removed));
    }

    #[test]
    fn a_swap_is_named() {
        let mut c = chain(5);
        c.swap(1, 2);
        let f = walk(&c).unwrap();
        assert_eq!((f.seq, f.kind), (3, FlawKind::Reordered));
    }

    #[test]
    fn truncation_against_a_known_head_is_named() {
        let c = chain(5);
        let head = c[4].hash.clone();
        let mut v = Verifier::new(GENESIS);
        for e in &c[..3] {
            assert_eq!(v.check(e), Check::Ok);
        }
        let f = v.finish(5, &head).unwrap();
        assert_eq!((f.seq, f.kind), (3, FlawKind::Truncated));
    }

    #[test]
    fn the_hash_covers_every_content_field() {
        let mut e = entry(1, "x");
        e.seal(GENESIS);
        let base = e.hash.clone();
        let edits: Vec<fn(&mut Entry)> = vec![
            |e| e.org_id.push('x'),
            |e| e.id.push('x'),
            |e| e.at += 1,
            |e| e.actor.kind.push('x'),
            |e| e.actor.id.push('x'),
            |e| e.actor.name.push('x'),
            |e| e.action.push('x'),
            |e| e.target.kind.push('x'),
            |e| e.target.id.push('x'),
            |e| e.target.name.push('x'),
            |e| e.changes.push(' '),
            |e| e.detail.push('x'),
            |e| e.source_ip.push('x'),
            |e| e.user_agent.push('x'),
            |e| e.request_id.push('x'),
            |e| e.prev_hash.push('x'),
        ];
        for edit in edits {
            let mut copy = e.clone();
            edit(&mut copy);
            assert_ne!(copy.compute_hash(), base);
        }
    }

    #[test]
    fn diff_keeps_changed_fields_and_drops_secrets_and_bookkeeping() {
        let before = json!({"email": "a@x", "first_name": "A", "version": 1, "password_hash": "h"});
        let after = json!({"email": "b@x", "first_name": "A", "version": 2, "password_hash": "k"});
        let d = diff(&before, &after);
        assert_eq!(d.keys().collect::<Vec<_>>(), vec!["email"]);
        let created = diff(&Value::Null, &json!({"name": "G", "totp_secret": "s"}));
        assert_eq!(created["name"].before, Value::Null);
        assert!(!created.contains_key("totp_secret"));
        assert!(field("recovery_codes", json!(1), json!(2)).is_empty());
        assert_eq!(changes_text(&Changes::new()), "{}");
    }

    /// `diff` walks both objects' keys in step, which needs them in key order: serde_json's
    /// `preserve_order` feature (insertion order), switched on by any crate in the build, would
    /// break it, and this fails first.
    #[test]
    fn json_objects_iterate_in_key_order() {
        let v = json!({"zeta": 1, "alpha": 2, "mid": 3, "Beta": 4});
        let keys: Vec<&String> = v
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    /// Sealing from the hash over all but the link gives the hash sealing gives, whatever the
    /// fields hold (quotes, escapes, non-ASCII), so the chain verifies the same.
    #[test]
    fn sealing_from_an_unlinked_hash_is_sealing() {
        for detail in [
            "",
            "plain",
            "quote \" and \\ back",
            "tab\tnew\nline",
            "é ü 漢 \u{1}",
        ] {
            let mut whole = entry(3, detail);
            whole.changes = format!("{{\"x\":\"{detail}\"}}");
            let mut fast = whole.clone();
            let unlinked = fast.unlinked();
            whole.seal(GENESIS);
            fast.seal_unlinked(&unlinked, GENESIS);
            assert_eq!(fast, whole, "{detail:?}");
            let prev = whole.hash.clone();
            whole.seal(&prev);
            fast.seal_unlinked(&unlinked, &prev);
            assert_eq!(fast.hash, whole.hash);
            assert_eq!(fast.hash, fast.compute_hash());
        }
    }

    /// The field names the log refuses, whatever their case and wherever they appear.
    #[test]
    fn secret_fields_are_found_in_any_case_and_place() {
        for name in [
            "password",
            "PasswordHash",
            "api_TOKEN",
            "totp_secret",
            "x_seed_y",
            "Recovery",
        ] {
            assert!(is_secret_field(name), "{name}");
        }
        for name in [
            "email",
            "first_name",
            "has",
            "tok",
            "se",
            "",
            "password_policy",
        ] {
            assert!(!is_secret_field(name), "{name}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// The lookup-per-key diff `diff` replaced: the reference it must agree with.
        fn diff_by_lookup(before: &Value, after: &Value) -> Changes {
            let empty = serde_json::Map::new();
            let b = before.as_object().unwrap_or(&empty);
            let a = after.as_object().unwrap_or(&empty);
            let mut out = Changes::new();
            for key in b.keys().chain(a.keys()) {
                let lowered = key.to_ascii_lowercase();
                let secret = [
                    "password", "hash", "secret", "token", "totp", "recovery", "seed",
                ]
                .iter()
                .any(|s| lowered.contains(s));
                if out.contains_key(key) || secret || is_noise_field(key) {
                    continue;
                }
                let old = b.get(key).cloned().unwrap_or(Value::Null);
                let new = a.get(key).cloned().unwrap_or(Value::Null);
                if old != new {
                    out.insert(
                        key.clone(),
                        FieldChange {
                            before: old,
                            after: new,
                        },
                    );
                }
            }
            out
        }

        fn object() -> impl Strategy<Value = Value> {
            let key = prop::sample::select(vec![
                "email",
                "first_name",
                "last_name",
                "status",
                "version",
                "created_at",
                "password_hash",
                "TotpSecret",
                "a",
                "b",
                "zz",
                "Name",
            ]);
            let value = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                (0i64..3).prop_map(|n| json!(n)),
                prop::sample::select(vec!["x", "y", ""]).prop_map(|s| json!(s)),
            ];
            prop_oneof![
                Just(Value::Null),
                prop::collection::btree_map(key, value, 0..8).prop_map(|m| {
                    Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                }),
            ]
        }

        proptest! {
            /// Any text in any field: sealing from the unlinked hash is sealing.
            #[test]
            fn sealing_from_an_unlinked_hash_is_sealing_for_any_text(
                name in any::<String>(),
                changes in any::<String>(),
                agent in any::<String>(),
                at in any::<i64>(),
                prev in "[0-9a-f]{64}",
            ) {
                let mut whole = Entry {
                    actor: Party::new("person", "p1", name),
                    changes,
                    user_agent: agent,
                    at,
                    ..super::entry(1, "d")
                };
                let mut fast = whole.clone();
                let unlinked = fast.unlinked();
                whole.seal(&prev);
                fast.seal_unlinked(&unlinked, &prev);
                prop_assert_eq!(fast, whole);
            }

            #[test]
            fn diff_agrees_with_a_lookup_per_key(before in object(), after in object()) {
                prop_assert_eq!(diff(&before, &after), diff_by_lookup(&before, &after));
            }
        }
    }
}
