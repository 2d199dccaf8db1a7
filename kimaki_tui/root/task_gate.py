"""The scheduler's `TaskGate` over the core: whether a thread's session is at work, and which
project folder a scheduled send's `--pre-run` command runs in."""

from __future__ import annotations

from kimaki_tui.core.api import CoreApi
from kimaki_tui.scheduling.request import SendRequest


class CoreTaskGate:
    def __init__(self, core: CoreApi) -> None:
        self._core = core

    def busy(self, thread_id: str) -> bool:
        view = self._core.conversations.get(thread_id)
        return view is not None and view.state in ("busy", "waiting")

    def directory_for(self, request: SendRequest) -> str | None:
        """The `--cwd` folder, else the channel's project, else the thread's folder."""
        if request.target == "channel":
            return request.cwd or self._core.projects.directory_of(request.target_id)
        view = self._core.conversations.get(request.target_id)
        return view.directory if view is not None else None
