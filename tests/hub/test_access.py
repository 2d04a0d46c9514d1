"""The access rules, walked role by role and action by action, and checked over HTTP.

EXPECTED is written out by hand: it is what the school policy says, not a copy of RULES.
Cells: A = anywhere in the school, C = only in the principal's own classes (a teacher's
taught classes, a parent's children's classes, a student's class), - = never. The token
columns: y = an API token with that scope may, - = it may not.

Adding an action to hub.auth.access.RULES means adding its row here.
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from hub.auth.access import (
    EVERYWHERE,
    RULES,
    Action,
    Principal,
    TokenScope,
    can,
    classes_for,
)
from hub.school import Role
from tests.support.school import SchoolBuilder
from tests.support.web import api, sign_in

ROLE_COLUMNS = (
    Role.PARENT, Role.STUDENT, Role.TEACHER, Role.SPEECH_THERAPIST, Role.PSYCHOLOGIST,
    Role.MODERATOR, Role.COORDINATOR, Role.SYSADMIN, Role.HR,
)
TOKEN_COLUMNS = (TokenScope.ADMIN, TokenScope.JOURNAL)

EXPECTED_TABLE = """
action                    par stu tea spe psy mod coo sys hr | admin journal
view_profile               A   A   A   A   A   A   A   A   A |   -     -
change_password            A   A   A   A   A   A   A   A   A |   -     -
view_class                 C   C   C   C   C   -   A   A   A |   y     -
view_people                -   -   -   -   -   -   A   A   A |   y     -
manage_people              -   -   -   -   -   -   -   A   A |   y     -
issue_accounts             -   -   -   -   -   -   -   A   - |   -     -
manage_roles               -   -   -   -   -   -   -   A   - |   -     -
manage_classes             -   -   -   -   -   -   -   A   A |   y     -
manage_guardianships       -   -   -   -   -   -   -   A   A |   y     -
record_consent             -   -   -   -   -   -   -   A   A |   y     -
import_people              -   -   -   -   -   -   -   A   A |   y     -
export_personal_data       -   -   -   -   -   -   -   A   - |   -     -
erase_personal_data        -   -   -   -   -   -   -   A   - |   -     -
manage_api_tokens          -   -   -   -   -   -   -   A   - |   -     -
read_board                 A   A   A   A   A   A   A   A   A |   -     -
read_all_notices           -   -   -   -   -   A   A   A   - |   -     -
read_staff_notices         -   -   A   A   A   A   A   A   A |   -     -
read_parent_notices        A   -   -   -   -   -   -   -   - |   -     -
read_class_notices         C   C   C   C   C   A   A   A   - |   -     -
post_announcement          -   -   C   C   C   -   A   A   - |   -     -
post_school_announcement   -   -   -   -   -   -   A   A   - |   -     -
view_ack_report            -   -   -   -   -   -   A   A   - |   -     -
read_school_forum          A   A   A   A   A   A   A   A   A |   -     -
post_school_forum          A   A   A   A   A   A   A   A   A |   -     -
read_staff_room            -   -   A   A   A   A   A   A   A |   -     -
post_staff_room            -   -   A   A   A   A   A   A   A |   -     -
read_class_forum           C   C   C   C   C   A   A   A   - |   -     -
post_class_forum           C   C   C   C   C   -   A   A   - |   -     -
oversee_section            -   -   C   C   C   -   A   A   - |   -     -
see_held_posts             -   -   -   -   -   A   A   A   - |   -     -
report_post                A   A   A   A   A   A   A   A   A |   -     -
enter_grades               -   -   C   C   C   -   A   -   - |   -     y
view_own_grades            A   A   -   -   -   -   -   -   - |   -     -
link_telegram              A   A   A   A   A   A   A   A   A |   -     -
moderate                   -   -   -   -   -   A   A   -   - |   -     -
undo_any_decision          -   -   -   -   -   -   A   -   - |   -     -
sanction_author            -   -   -   -   -   A   A   -   - |   -     -
manage_watched_words       -   -   -   -   -   -   A   A   - |   -     -
read_audit_log             -   -   -   -   -   -   A   A   - |   -     -
view_notifications         A   A   A   A   A   A   A   A   A |   -     -
view_delivery_log          -   -   -   -   -   -   A   A   - |   -     -
retry_deliveries           -   -   -   -   -   -   A   A   - |   -     -
view_mailbox               -   -   -   -   -   -   -   A   - |   -     -
"""


def _parse(table: str) -> dict[str, tuple[dict[Role, str], dict[TokenScope, str]]]:
    rows: dict[str, tuple[dict[Role, str], dict[TokenScope, str]]] = {}
    for line in table.strip().splitlines()[1:]:
        roles_part, tokens_part = line.split("|")
        name, *cells = roles_part.split()
        tokens = tokens_part.split()
        assert len(cells) == len(ROLE_COLUMNS) and len(tokens) == len(TOKEN_COLUMNS), line
        assert name not in rows, f"{name} appears twice"
        rows[name] = (dict(zip(ROLE_COLUMNS, cells, strict=True)),
                      dict(zip(TOKEN_COLUMNS, tokens, strict=True)))
    return rows


EXPECTED = _parse(EXPECTED_TABLE)
OWN_CLASS, OTHER_CLASS = 1, 2


def _principal(role: Role) -> Principal:
    """A principal with one role whose own class (in that role's sense) is OWN_CLASS."""
    return Principal(
        school_id=1, person_id=10, roles=frozenset({role}),
        taught_class_ids=frozenset({OWN_CLASS}), children_class_ids=frozenset({OWN_CLASS}),
        own_class_id=OWN_CLASS, child_ids=frozenset({11}),
    )


def test_every_action_has_an_expected_row_and_no_row_is_stale() -> None:
    rule_names = {action.value for action in RULES}
    assert rule_names - set(EXPECTED) == set(), "add these actions to EXPECTED_TABLE"
    assert set(EXPECTED) - rule_names == set(), "these rows name no action in RULES"
    assert set(Action) == set(RULES), "every Action needs a row in RULES"


@pytest.mark.parametrize("action", list(RULES), ids=lambda a: a.value)
@pytest.mark.parametrize("role", ROLE_COLUMNS, ids=lambda r: r.value)
def test_role_against_action(role: Role, action: Action) -> None:
    expected = EXPECTED[action.value][0][role]
    principal = _principal(role)
    answers = (
        can(principal, action, OWN_CLASS),
        can(principal, action, OTHER_CLASS),
        can(principal, action),
    )
    wanted = {"A": (True, True, True), "C": (True, False, False),
              "-": (False, False, False)}[expected]
    assert answers == wanted, f"{role} {action}: expected {expected}"
    scope = classes_for(principal, action)
    if expected == "A":
        assert scope is EVERYWHERE
    else:
        assert scope == (frozenset({OWN_CLASS}) if expected == "C" else frozenset())


@pytest.mark.parametrize("action", list(RULES), ids=lambda a: a.value)
@pytest.mark.parametrize("scope", TOKEN_COLUMNS, ids=lambda s: s.value)
def test_token_scope_against_action(scope: TokenScope, action: Action) -> None:
    allowed = EXPECTED[action.value][1][scope] == "y"
    token = Principal(school_id=1, person_id=None, token_id=5, token_scopes=frozenset({scope}))
    assert can(token, action, OWN_CLASS) is allowed
    assert can(token, action) is allowed


async def test_parent_sees_own_childs_class_never_another(
    client: TestClient, school: SchoolBuilder
) -> None:
    own = await school.student("5А", last_name="Свой")
    await school.student("5Б", last_name="Чужой")
    await school.parent_of(own, login="mama")
    await sign_in(client, "mama")
    class_a, class_b = school.classes["5А"].id, school.classes["5Б"].id

    response = await client.get(f"/admin/classes/{class_a}")
    assert response.status == 200 and "Свой" in await response.text()

    response = await client.get(f"/admin/classes/{class_b}")
    assert response.status in (403, 404)
    assert "Чужой" not in await response.text()
    listing = await (await client.get("/admin/classes")).text()
    assert "5А" in listing and "5Б" not in listing

    for path in (f"/api/v1/people?class_id={class_b}", "/api/v1/classes"):
        response = await api(client, "GET", path)
        assert response.status in (403, 404)
        assert "Чужой" not in await response.text()


async def test_teacher_sees_taught_class_only(client: TestClient, school: SchoolBuilder) -> None:
    await school.student("5А", last_name="Ученик")
    await school.student("5Б", last_name="Посторонний")
    await school.teacher_of("5А", login="uchitel")
    await sign_in(client, "uchitel")
    assert (await client.get(f"/admin/classes/{school.classes['5А'].id}")).status == 200
    response = await client.get(f"/admin/classes/{school.classes['5Б'].id}")
    assert response.status == 403 and "Посторонний" not in await response.text()
