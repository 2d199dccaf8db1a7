"""Defects found walking the control center as a new user: focus, 80×24 layouts, wording.

Each test reproduces one reported defect over the offline scene (real core and store).
"""

from __future__ import annotations

import pytest
from textual.widgets import Button, DataTable, Input
from textual.widgets._footer import FooterKey

from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.approvals import ApprovalsScreen
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.session import SessionScreen
from kimaki_tui.screens.widgets.request_detail import PermissionDetail
from kimaki_tui.screens.widgets.session_table import SessionTable
from tests.screens.conftest import plain, settle
from tests.screens.scene import build_scene, concrete

SMALL = (80, 24)


def visible(app: KimakiApp, widget: object) -> bool:
    """The widget is drawn whole inside the terminal."""
    region = widget.region  # type: ignore[attr-defined]
    return bool(region.area) and app.screen.region.contains_region(region)


async def test_digits_switch_screens_from_the_session_screen(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SMALL) as pilot:
        build_scene(scene)
        await settle(pilot)
        await app.open_session("1001")
        await pilot.pause()
        prompt = app.screen.query_one("#prompt", Input)
        await pilot.press("2")  # the nav bar says 2 is Approvals: it must not type a digit
        assert isinstance(app.screen, ApprovalsScreen) and prompt.value == ""
        await pilot.press("1")
        await app.open_session("1001")
        await pilot.press("m", "2")  # `m` moves into the message box, where digits are text
        assert isinstance(app.screen, SessionScreen)
        assert app.screen.query_one("#prompt", Input).value == "2"
        await pilot.press("escape")  # out of the box; a second Escape goes back
        assert isinstance(app.screen, SessionScreen) and not isinstance(app.focused, Input)
        await pilot.press("escape")
        assert not isinstance(app.screen, SessionScreen)


async def test_the_nav_bar_shows_every_tab_at_80_columns(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SMALL) as pilot:
        build_scene(scene)
        await settle(pilot)
        tabs = app.screen.query_one("#tabs")
        assert tabs.region.height == 1 and visible(app, tabs)
        text = plain(tabs)  # type: ignore[arg-type]
        assert "5 Tasks" in text and "⚠3" in text
        assert len(text) <= tabs.region.width


async def test_approvals_buttons_fit_at_80x24(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SMALL) as pilot:
        build_scene(scene)
        await pilot.press("2")
        await settle(pilot)
        buttons = app.screen.query_one(PermissionDetail).query(Button)
        assert [str(b.label) for b in buttons] == ["Approve once (o)", "Always (a)", "Deny (d)"]
        assert all(visible(app, button) for button in buttons)


async def test_focus_returns_to_the_list_when_the_focused_button_goes(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SMALL) as pilot:
        build_scene(scene)
        await pilot.press("2")
        await settle(pilot)
        deny = app.screen.query_one(PermissionDetail).query(Button).last()
        deny.focus()
        await pilot.pause()
        # Answered elsewhere (Discord): the request, its detail and the focused button go away.
        concrete(scene).permissions.replied_elsewhere("per_edit01", "once")
        await settle(pilot)
        table = app.focused
        assert isinstance(table, DataTable) and table.id == "requests"
        await pilot.press("down")  # keys still act on the list
        assert table.cursor_row == 1


async def test_a_fresh_request_was_asked_just_now(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SMALL) as pilot:
        build_scene(scene)
        newest = max(scene.core.approvals.pending_permissions(), key=lambda r: r.asked_at)
        scene.clock = lambda: newest.asked_at + 1
        await pilot.press("2")
        await settle(pilot)
        title = plain(app.screen.query_one(".request-title"))  # type: ignore[arg-type]
        assert "asked just now" in title and "ago" not in title


async def test_the_detail_pane_shows_when_it_has_focus(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SMALL) as pilot:
        build_scene(scene)
        await pilot.press("2")
        await settle(pilot)
        detail = app.screen.query_one("#detail")
        before = detail.styles.border_top
        await pilot.press("tab")  # from the list into the detail: a stop the eye can see
        assert app.focused is detail
        await pilot.pause()
        assert detail.styles.border_top != before


async def test_dashboard_columns_fit_at_80_columns(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SMALL) as pilot:
        build_scene(scene)
        await settle(pilot)
        table = app.screen.query_one(SessionTable)
        labels = [str(column.label) for column in table.ordered_columns]
        assert labels[:3] == ["Project", "Session", "Status"] and "Active" in labels
        assert table.virtual_size.width <= table.scrollable_content_region.width


@pytest.mark.parametrize("keys", [(), ("2",), ("enter",), ("3",), ("4",), ("5",)])
async def test_every_footer_key_is_shown_at_80x24(scene: ControlCenterModel, keys: tuple[str, ...]) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SMALL) as pilot:
        build_scene(scene)
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        shown = app.screen.query(FooterKey)
        assert shown and all(visible(app, key) for key in shown), [
            key.description for key in shown if not visible(app, key)
        ]
