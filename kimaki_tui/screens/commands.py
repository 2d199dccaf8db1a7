"""Command palette entries (Ctrl+P): go to a screen, approve or deny the newest request, open or
abort a session, add a project, restart OpenCode, quit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from kimaki_tui.screens.format import clip, project_name
from kimaki_tui.screens.gemini_key import open_gemini_key
from kimaki_tui.screens.widgets.nav_bar import tabs

if TYPE_CHECKING:
    from kimaki_tui.screens.app import KimakiApp

Command = tuple[str, Callable[[], object], str]
SESSIONS_LISTED = 50


class KimakiCommands(Provider):
    @property
    def kimaki(self) -> KimakiApp:
        return cast("KimakiApp", self.app)

    def _commands(self) -> Iterator[Command]:
        app = self.kimaki
        for mode, key, label in tabs(app.model.chat is not None):
            yield (
                f"Go to {label}",
                partial(app.action_goto, mode),
                f"Show the {label.lower()} screen (key {key})",
            )
        core = app.model.core
        pending = core.approvals.pending_permissions()
        if pending:
            newest = pending[0]
            what = clip(f"{newest.kind}: {newest.summary}", 60)
            yield (f"Approve newest permission — {what}", partial(app.answer_newest, "once"), "Allow it once")
            yield (f"Deny newest permission — {what}", partial(app.answer_newest, "reject"), "Deny it")
        yield ("Add project…", app.action_add_project, "Add a project folder")
        yield ("Discord servers…", app.action_servers, "The servers the bot is in: allow or deny them")
        if core.sandboxes.available:
            yield ("Sandboxes…", app.action_sandboxes, "Sandboxed threads: running, paused or destroyed")
        yield ("Set Gemini API key…", partial(open_gemini_key, app), "For transcribing voice messages")
        if core.server.can_restart:
            yield ("Restart OpenCode", app.restart_opencode, "Restart the OpenCode server")
        yield ("Quit", app.action_quit, "Stop kimaki (the bot and OpenCode stop too)")
        views = sorted(core.conversations.all(), key=lambda v: v.last_activity, reverse=True)
        for view in views[:SESSIONS_LISTED]:
            title = clip(view.title or f"thread {view.thread_id}", 50)
            name = f"{project_name(view.directory)} — {title}"
            yield (
                f"Open session {name}",
                partial(app.open_session, view.thread_id),
                "Transcript, prompt, queue",
            )
            if view.busy:
                yield (
                    f"Abort session {name}",
                    partial(app.abort_session, view.thread_id),
                    "Abort its turn",
                )

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            if not name.startswith(("Open session", "Abort session")):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
