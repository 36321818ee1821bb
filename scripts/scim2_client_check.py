"""Drives rolecall's /scim/v2 with a real SCIM client library, scim2-client (python-scim),
validating every response against the schemas the server publishes (issue 14).

    python scim2_client_check.py <scim base URL> <SCIM client token>

Exits non-zero, printing what failed, when the library refuses a response or a result is wrong.
Run by the Rust test `scim_client_library` through `./scripts/test`, which installs the library.
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (
    Email,
    EnterpriseUser,
    Group,
    GroupMember,
    ListResponse,
    Name,
    PatchOp,
    PatchOperation,
    SearchRequest,
    User,
)


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def main(base, token):
    http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    scim = SyncSCIMClient(http, resource_models=[User[EnterpriseUser], Group])
    scim.discover()
    check(scim.service_provider_config.patch.supported, "PATCH is advertised")

    created = scim.create(
        User[EnterpriseUser](
            user_name="bjensen@example.com",
            name=Name(given_name="Barbara", family_name="Jensen"),
            emails=[Email(value="bjensen@example.com", type="work", primary=True)],
            display_name="Babs Jensen",
            title="Tour Guide",
            active=True,
        )
    )
    check(created.id, "the created user has an id")
    check(created.meta.version, "the created user has a version")
    check(created.user_name == "bjensen@example.com", "userName round-trips")
    user_id = created.id

    read = scim.query(User[EnterpriseUser], user_id)
    check(read.display_name == "Babs Jensen", "read back the display name")

    found = scim.query(
        User[EnterpriseUser],
        query_parameters=SearchRequest(filter='userName eq "BJENSEN@example.com"'),
    )
    check(isinstance(found, ListResponse), "a filtered query is a list")
    check(found.total_results == 1, f"userName matches case-insensitively: {found}")

    searched = scim.search(
        SearchRequest(filter='title sw "tour"', attributes=["userName"])
    )
    check(searched.total_results >= 1, "POST /.search finds the user")

    scim.modify(
        User[EnterpriseUser],
        user_id,
        PatchOp[User[EnterpriseUser]](
            operations=[
                PatchOperation(op="replace", path="title", value="Head Guide"),
                PatchOperation(op="replace", path="active", value=False),
            ]
        ),
    )
    after = scim.query(User[EnterpriseUser], user_id)
    check(after.title == "Head Guide", "PATCH changed the title")
    check(after.active is False, "PATCH deactivated the user")

    after.active = True
    after.nick_name = "Babs"
    replaced = scim.replace(after)
    check(replaced.nick_name == "Babs" and replaced.active, "PUT replaced the user")

    group = scim.create(
        Group(display_name="Tour Guides", members=[GroupMember(value=user_id)])
    )
    check(group.id, "the created group has an id")
    members = scim.query(Group, group.id).members or []
    check([m.value for m in members] == [user_id], "the group holds the user")
    groups = scim.query(Group, query_parameters=SearchRequest(filter=f'members.value eq "{user_id}"'))
    check(groups.total_results == 1, "groups are found by member")

    scim.delete(Group, group.id)
    scim.delete(User[EnterpriseUser], user_id)
    gone = scim.query(
        User[EnterpriseUser], query_parameters=SearchRequest(filter=f'id eq "{user_id}"')
    )
    check(gone.total_results == 0, "deleted users are gone")
    print("scim2-client: every call succeeded and every response validated")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
