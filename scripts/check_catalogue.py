#!/usr/bin/env python3
"""Validate the application catalogue files (standard library only).

Usage: scripts/check_catalogue.py [FILE.json ...]   (default: catalogue/*.json)
Exits 1 and lists every problem if any file is invalid.
"""
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY_RE = re.compile(r"^[a-z0-9-]+$")
# role_names "identifier" (seed 002): letters, digits, - _ and ., not starting with _ or .
ROLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ROLE_NAMINGS = ("printable", "identifier")
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def role_name_problem(name, naming):
    """Mirrors rolecall_core::validate::RoleName::parse."""
    if naming == "identifier":
        return None if ROLE_RE.match(name) else f"must match {ROLE_RE.pattern}"
    if name != name.strip():
        return "must not start or end with spaces"
    if not 1 <= len(name) <= 64:
        return "must have 1 to 64 characters"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 or c in BIDI for c in name):
        return "must not contain control or bidirectional-override characters"
    return None
# Expected resource counts for known apps (guards against accidental truncation).
EXPECTED_COUNTS = {"commerce-admin": 231}
REQUIRED = ["key", "name", "description", "one_role_per_user", "actions",
            "scope_kinds", "default_scopes", "resources"]


def check(path):
    errs = []
    err = errs.append
    try:
        with open(path, encoding="utf-8") as f:
            cat = json.load(f)
    except (OSError, ValueError) as e:
        return [f"cannot read JSON: {e}"], None

    for k in REQUIRED:
        if k not in cat:
            err(f"missing field {k!r}")
    if errs:
        return errs, None

    key = cat["key"]
    if not isinstance(key, str) or not KEY_RE.match(key):
        err(f"key {key!r} must match {KEY_RE.pattern}")
    stem = os.path.splitext(os.path.basename(path))[0]
    if key != stem:
        err(f"key {key!r} does not match file name {stem!r}")
    for k in ("name", "description"):
        if not isinstance(cat[k], str) or not cat[k].strip():
            err(f"{k} must be a non-empty string")
    if not isinstance(cat["one_role_per_user"], bool):
        err("one_role_per_user must be a boolean")
    for flag in ("keep_an_administrator", "roles_through_groups"):
        if not isinstance(cat.get(flag, False), bool):
            err(f"{flag} must be a boolean")
    naming = cat.get("role_names", "printable")
    if naming not in ROLE_NAMINGS:
        err(f"role_names must be one of {ROLE_NAMINGS}")
        naming = "printable"

    vocab = cat["actions"]
    if not isinstance(vocab, list) or not all(isinstance(a, str) and a for a in vocab):
        err("actions must be a list of non-empty strings")
        vocab = []
    if len(set(vocab)) != len(vocab):
        err(f"duplicate entries in actions {vocab}")
    vocab_set = set(vocab)

    # --- resources
    nodes = {}  # id -> node

    def walk(node, where):
        if not isinstance(node, dict):
            err(f"{where}: resource must be an object")
            return
        rid = node.get("id")
        if not isinstance(rid, str) or not rid:
            err(f"{where}: resource without id")
            return
        if not isinstance(node.get("title"), str) or not node["title"].strip():
            err(f"{rid}: missing title")
        if rid in nodes:
            err(f"duplicate resource id {rid!r}")
        nodes[rid] = node
        extra = set(node) - {"id", "title", "actions", "children"}
        if extra:
            err(f"{rid}: unexpected fields {sorted(extra)}")
        if "actions" in node:
            acts = node["actions"]
            if not isinstance(acts, list):
                err(f"{rid}: actions must be a list")
            else:
                if len(set(acts)) != len(acts):
                    err(f"{rid}: duplicate actions {acts}")
                bad = [a for a in acts if a not in vocab_set]
                if bad:
                    err(f"{rid}: actions {bad} not in app vocabulary {vocab}")
        children = node.get("children", [])
        if not isinstance(children, list):
            err(f"{rid}: children must be a list")
            return
        for i, c in enumerate(children):
            walk(c, f"{rid}/children[{i}]")

    walk(cat["resources"], "resources")
    exp = EXPECTED_COUNTS.get(key)
    if exp is not None and len(nodes) != exp:
        err(f"{len(nodes)} resources, expected {exp}")

    # --- scopes
    kinds = cat["scope_kinds"]
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k for k in kinds):
        err("scope_kinds must be a non-empty list of strings")
        kinds = []
    if len(set(kinds)) != len(kinds):
        err(f"duplicate scope kinds {kinds}")
    kind_idx = {k: i for i, k in enumerate(kinds)}
    scopes = {}  # code -> kind
    if kinds:
        scopes[kinds[0]] = kinds[0]  # the root scope instance: code == root kind
    for i, s in enumerate(cat["default_scopes"]):
        where = f"default_scopes[{i}]"
        if not isinstance(s, dict):
            err(f"{where}: must be an object")
            continue
        code, kind, parent = s.get("code"), s.get("kind"), s.get("parent")
        if not isinstance(code, str) or not KEY_RE.match(code.replace("_", "-")):
            err(f"{where}: bad code {code!r}")
            continue
        if not isinstance(s.get("name"), str) or not s["name"].strip():
            err(f"{where} ({code}): missing name")
        if code in scopes:
            err(f"{where}: duplicate scope code {code!r}")
        if kind not in kind_idx:
            err(f"{where} ({code}): kind {kind!r} not in scope_kinds {kinds}")
            continue
        if kind_idx[kind] == 0:
            err(f"{where} ({code}): only the implicit root scope may have the root kind {kind!r}")
        if parent not in scopes:
            err(f"{where} ({code}): parent {parent!r} not defined before it")
        elif kind_idx[scopes[parent]] + 1 != kind_idx[kind]:
            err(f"{where} ({code}): kind {kind!r} cannot sit under {parent!r} of kind {scopes[parent]!r}")
        scopes[code] = kind

    # --- default roles
    roles = cat.get("default_roles", [])
    if not isinstance(roles, list):
        err("default_roles must be a list")
        roles = []
    seen = set()
    for i, r in enumerate(roles):
        name = r.get("name") if isinstance(r, dict) else None
        where = f"default_roles[{i}] ({name})"
        problem = role_name_problem(name, naming) if isinstance(name, str) else "must be a string"
        if problem:
            err(f"{where}: role name {problem} (role_names: {naming})")
            continue
        if name.lower() == "administrators":
            err(f"{where}: 'Administrators' is built in and must not be listed")
        if name.lower() in seen:
            err(f"{where}: duplicate role name")
        seen.add(name.lower())
        formerly = r.get("formerly", [])
        if not isinstance(formerly, list) or not all(isinstance(f, str) and f for f in formerly):
            err(f"{where}: formerly must be a list of earlier names")
            formerly = []
        for old in formerly:
            if old.lower() in seen or any(
                isinstance(o, dict) and str(o.get("name", "")).lower() == old.lower() for o in roles
            ):
                err(f"{where}: earlier name {old!r} is the name of a shipped role")
        extra = set(r) - {"name", "description", "grants", "formerly"}
        if extra:
            err(f"{where}: unexpected fields {sorted(extra)}")
        if not isinstance(r.get("description", ""), str):
            err(f"{where}: description must be a string")
        grants = r.get("grants")
        if not isinstance(grants, list) or not grants:
            err(f"{where}: grants must be a non-empty list")
            continue
        for j, g in enumerate(grants):
            res = g.get("resource") if isinstance(g, dict) else None
            if res not in nodes:
                err(f"{where}: grant {j} names unknown resource {res!r}")
                continue
            acts = g.get("actions", "*")
            if acts == "*":
                continue
            if not isinstance(acts, list) or not acts:
                err(f"{where}: grant on {res}: actions must be '*' or a non-empty list")
                continue
            bad = [a for a in acts if a not in vocab_set]
            if bad:
                err(f"{where}: grant on {res}: actions {bad} not in app vocabulary")
            node_acts = set(nodes[res].get("actions", []))
            missing = [a for a in acts if a in vocab_set and a not in node_acts]
            if missing:
                err(f"{where}: grant on {res}: resource does not declare actions {missing}")

    # --- default profiles (created once, when the application is added to an organisation)
    profiles = cat.get("default_profiles", [])
    if not isinstance(profiles, list):
        err("default_profiles must be a list")
        profiles = []
    names = set()
    for i, p in enumerate(profiles):
        where = f"default_profiles[{i}]"
        if not isinstance(p, dict):
            err(f"{where}: must be an object")
            continue
        extra = set(p) - {"name", "description", "roles", "seat_quota"}
        if extra:
            err(f"{where}: unexpected fields {sorted(extra)}")
        name = p.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            err(f"{where}: name must have 1 to 100 characters")
        elif name.lower() in names:
            err(f"{where}: duplicate profile name {name!r}")
        else:
            names.add(name.lower())
        bundle = p.get("roles", [])
        if not isinstance(bundle, list):
            err(f"{where}: roles must be a list of default role names")
            bundle = []
        for r in bundle:
            if not isinstance(r, str) or r.lower() not in seen:
                err(f"{where}: role {r!r} is not one of default_roles")
        if cat["one_role_per_user"] and len(bundle) > 1:
            err(f"{where}: one_role_per_user allows one role per profile")
        quota = p.get("seat_quota")
        if quota is not None and (not isinstance(quota, int) or quota < 0):
            err(f"{where}: seat_quota must be 0 or more, or absent")

    summary = (f"{key}: {len(nodes)} resources, {len(scopes)} scopes "
               f"({len(scopes) - 1} default), {len(roles)} default roles, "
               f"{len(profiles)} default profiles")
    return errs, summary


def main(argv):
    paths = argv[1:] or sorted(glob.glob(os.path.join(ROOT, "catalogue", "*.json")))
    if not paths:
        print("no catalogue files found", file=sys.stderr)
        return 1
    failed = False
    keys = {}
    for p in paths:
        errs, summary = check(p)
        if summary:
            k = summary.split(":", 1)[0]
            if k in keys:
                errs.append(f"app key {k!r} also used by {keys[k]}")
            keys[k] = p
        if errs:
            failed = True
            print(f"FAIL {p}", file=sys.stderr)
            for e in errs:
                print(f"  - {e}", file=sys.stderr)
        else:
            print(f"ok   {summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
