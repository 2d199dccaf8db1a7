"""The rename budget (core) and the Discord twin's rename limit: two renames per window per thread."""

from __future__ import annotations

from kimaki_tui.core.renames import RenameBudget
from kimaki_tui.testing.discord_twin.renames import RenameLimit


def test_budget_allows_two_renames_per_window_then_says_how_long_to_wait() -> None:
    now = [100.0]
    budget = RenameBudget(limit=2, window=600.0, clock=lambda: now[0])
    assert budget.delay("t") == 0.0
    budget.spend("t")
    now[0] = 160.0
    budget.spend("t")
    assert budget.delay("t") == 100.0 + 600.0 - 160.0
    assert budget.delay("other") == 0.0  # per thread
    now[0] = 700.0  # the first rename left the window
    assert budget.delay("t") == 0.0


def test_the_twin_refuses_a_third_rename_within_the_window() -> None:
    limit = RenameLimit(limit=2, window=600.0)
    assert limit.take(1) is None and limit.take(1) is None
    wait = limit.take(1)
    assert wait is not None and 599.0 < wait <= 600.0
    assert limit.take(2) is None
