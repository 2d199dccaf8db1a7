"""The pure access policy (kimaki_tui.core.access): who may use the bot, and what refusals say."""

from __future__ import annotations

import pytest

from kimaki_tui.core.access import BLOCKED_TEXT, NEEDS_ROLE_TEXT, RoleInfo, Subject, decide, has_role

KIMAKI = RoleInfo("Kimaki")
NO_KIMAKI = RoleInfo("No-Kimaki")


@pytest.mark.parametrize(
    ("subject", "allow_all", "verdict"),
    [
        (Subject(is_owner=True), False, "allowed"),
        (Subject(administrator=True), False, "allowed"),
        (Subject(manage_guild=True), False, "allowed"),
        (Subject(roles=(RoleInfo("KIMAKI"),)), False, "allowed"),
        (Subject(roles=(RoleInfo(" kimaki "),)), False, "allowed"),
        (Subject(), False, "needs_role"),
        (Subject(roles=(RoleInfo("Kimaki", managed=True),)), False, "needs_role"),  # the bot's own role
        (Subject(is_owner=True, roles=(NO_KIMAKI,)), False, "blocked"),
        (Subject(administrator=True, roles=(KIMAKI, NO_KIMAKI)), False, "blocked"),
        (Subject(), True, "allowed"),
        (Subject(roles=(NO_KIMAKI,)), True, "blocked"),
        (Subject(is_bot=True), False, "ignored"),
        (Subject(is_bot=True), True, "ignored"),
        (Subject(is_bot=True, administrator=True), False, "ignored"),
        (Subject(is_bot=True, roles=(KIMAKI,)), False, "allowed"),
        (Subject(is_bot=True, roles=(KIMAKI, NO_KIMAKI)), False, "ignored"),
        (Subject(is_self=True, is_bot=True, roles=(KIMAKI,)), False, "ignored"),
    ],
)
def test_decide(subject: Subject, allow_all: bool, verdict: str) -> None:
    assert decide(subject, allow_all_users=allow_all).verdict == verdict


def test_replies_say_what_to_do_and_silence_stays_silent() -> None:
    assert decide(Subject()).reply == NEEDS_ROLE_TEXT
    assert "**Kimaki** role" in NEEDS_ROLE_TEXT and "admin" in NEEDS_ROLE_TEXT
    assert decide(Subject(roles=(NO_KIMAKI,))).reply == BLOCKED_TEXT
    assert decide(Subject(is_bot=True)).reply is None
    assert decide(Subject(is_owner=True)).reply is None and decide(Subject(is_owner=True)).allowed


def test_has_role_ignores_case_and_managed_roles() -> None:
    assert has_role([RoleInfo("kImAkI")], "kimaki")
    assert not has_role([RoleInfo("kimaki", managed=True)], "kimaki")
    assert not has_role([RoleInfo("kimaki-fans")], "kimaki")
