#!/usr/bin/env python3
"""Generate catalogue/commerce-admin.json from the Magento 2.4.8 admin ACL tree.

Usage: scripts/gen_commerce_catalogue.py [ACL_JSON] [OUT]
Defaults: /work/shared/data/magento2-acl.json -> catalogue/commerce-admin.json
(relative to the repository root). Standard library only.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SRC = "/work/shared/data/magento2-acl.json"
DEFAULT_OUT = os.path.join(ROOT, "catalogue", "commerce-admin.json")


def convert(node):
    """Keep id, title and children (same order); drop sortOrder."""
    return {
        "id": node["id"],
        "title": node["title"],
        "children": [convert(c) for c in node.get("children") or []],
    }


def count(node):
    return 1 + sum(count(c) for c in node.get("children", []))


def main(argv):
    src = argv[1] if len(argv) > 1 else DEFAULT_SRC
    out_path = argv[2] if len(argv) > 2 else DEFAULT_OUT
    with open(src, encoding="utf-8") as f:
        acl = json.load(f)
    tree = convert(acl["root"])
    expected = acl.get("counts", {}).get("resources_in_tree")
    n = count(tree)
    if expected is not None and n != expected:
        sys.exit(f"resource count {n} != counts.resources_in_tree {expected}")

    catalogue = {
        "key": "commerce-admin",
        "name": "Commerce Admin",
        "description": "Magento Open Source / Adobe Commerce Admin panel roles over the "
        "2.4.8 admin ACL resource tree, one role per admin user.",
        "one_role_per_user": True,
        # Seed 001: "There must always be at least one active admin user with full
        # Administrator access"; Magento names roles freely ("Store Managers").
        "keep_an_administrator": True,
        "role_names": "printable",
        "actions": [],
        "scope_kinds": ["global", "website", "store", "store_view"],
        "default_scopes": [
            {"code": "base", "kind": "website", "parent": "global", "name": "Main Website"},
            {"code": "main_website_store", "kind": "store", "parent": "base", "name": "Main Website Store"},
            {"code": "default", "kind": "store_view", "parent": "main_website_store", "name": "Default Store View"},
        ],
        "default_roles": [],
        "resources": tree,
    }
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(catalogue, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {out_path}: {n} resources", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
