"""The control center app: four screens (modes), the bridge from the core, the palette, the wizard.

`KimakiApp(model)` gets everything by injection. Each main screen is a mode with its own stack
(the session screen is pushed on the dashboard's). Core events arrive through the one bridge and
update the app's one state — the reactives `sessions`, `requests`, `queues`, `server_status`,
`discord_status`, `scheduler_status` (and the computed `pending_approvals`) — and the transcripts;
screens watch what they show. `run_control_center(model)` runs it in the caller's loop.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from kimaki_tui.core.api import ConversationView, ScheduledTask
from kimaki_tui.core.events import ChatStatus, GuildAccessChanged, PermissionReply, QueueChanged, QueuedItem
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.screens.activity import ACTIVITY_LIMIT, ActivityLine, activity_of
from kimaki_tui.screens.approvals import ApprovalsScreen
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.bridge import Bridge
from kimaki_tui.screens.commands import KimakiCommands
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.dashboard import DashboardScreen
from kimaki_tui.screens.format import clip, project_name
from kimaki_tui.screens.keys import KeysScreen
from kimaki_tui.screens.logbook import LogBook
from kimaki_tui.screens.logs import LogsScreen
from kimaki_tui.screens.messages import AbortSession, CoreEvents, LogLines, OpenSession
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.projects import ProjectsScreen
from kimaki_tui.screens.session import SessionScreen
from kimaki_tui.screens.state import (
    ProjectRow,
    Request,
    affects,
    read_projects,
    read_requests,
    read_tasks,
    refreshed,
    touched_threads,
)
from kimaki_tui.screens.tasks import TasksScreen
from kimaki_tui.screens.transcript import TranscriptBook

log = logging.getLogger(__name__)
# The state re-reads the sessions this often even without events (a thread can be opened before
# its session sends anything, and the scheduler changes its line on its own).
STATE_INTERVAL = 5.0
WIZARD_MODULE = "kimaki_tui.screens.wizard"


class KimakiApp(App[None]):
    CSS_PATH = Path(__file__).with_name("kimaki.tcss")  # absolute: subclasses live elsewhere
    TITLE = "kimaki"
    # The screens get `-narrow` below 120 columns (kimaki.tcss lays the bars and panes out for 80×24),
    # `-roomy` from 160 (where the dashboard has room for its preview pane beside the full table).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide"), (160, "-roomy")]  # noqa: RUF012 (Textual declares it so)
    COMMANDS = App.COMMANDS | {KimakiCommands}
    # The digits are shown by the nav bar on every screen (the footer keeps its room for the screen's keys).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "goto('dashboard')", "Dashboard", tooltip="Sessions and statuses", show=False),
        Binding(
            "2", "goto('approvals')", "Approvals", tooltip="Pending permissions and questions", show=False
        ),
        Binding("3", "goto('logs')", "Logs", tooltip="The live log", show=False),
        Binding(
            "4", "goto('projects')", "Projects", tooltip="Project folders and their channels", show=False
        ),
        Binding("5", "goto('tasks')", "Tasks", tooltip="Scheduled sends (kimaki send --send-at)", show=False),
        Binding(
            "6", "goto('discord')", "Discord", tooltip="The demo's Discord, as the demo user", show=False
        ),
        Binding("question_mark", "keys", "Keys", tooltip="Every key of this screen"),
        # Ctrl+C stops kimaki as on the headless command line; Ctrl+Q is Textual's usual quit key.
        Binding("ctrl+c,ctrl+q", "quit", "Quit", tooltip="Stop kimaki", priority=True),
    ]

    # ---- the one state the screens watch (replaced as a whole, never mutated) -----------------
    sessions: reactive[tuple[ConversationView, ...]] = reactive(())
    requests: reactive[tuple[Request, ...]] = reactive(())
    queues: reactive[Mapping[str, tuple[QueuedItem, ...]]] = reactive(dict)
    server_status: reactive[ServerStatus] = reactive(ServerStatus("stopped"))
    discord_status: reactive[ChatStatus] = reactive(ChatStatus("connecting"))
    scheduler_status: reactive[str | None] = reactive(None)
    pending_approvals: reactive[int] = reactive(0)
    projects: reactive[tuple[ProjectRow, ...]] = reactive(())
    tasks: reactive[tuple[ScheduledTask, ...]] = reactive(())
    activity: reactive[tuple[ActivityLine, ...]] = reactive(())

    def compute_pending_approvals(self) -> int:
        return len(self.requests)

    def __init__(self, model: ControlCenterModel) -> None:
        super().__init__()
        self.model = model
        self.transcripts = TranscriptBook()
        self.logbook = LogBook(model.log_capacity)
        self.bridge = Bridge(self.post_message, model.core.subscribe, model.log_ring)
        self._modes_made: list[KimakiScreen] = []
        self._stop_attending: Callable[[], None] = lambda: None
        self.add_mode("dashboard", lambda: self._made(DashboardScreen(model, self.transcripts)))
        self.add_mode("approvals", lambda: self._made(ApprovalsScreen(model)))
        self.add_mode("logs", lambda: self._made(LogsScreen(model, self.logbook)))
        self.add_mode("projects", lambda: self._made(ProjectsScreen(model)))
        self.add_mode("tasks", lambda: self._made(TasksScreen(model)))
        if model.chat is not None:
            self.add_mode("discord", lambda: self._made(_discord_screen(model)))

    def _made(self, screen: KimakiScreen) -> KimakiScreen:
        self._modes_made.append(screen)
        return screen

    def on_mount(self) -> None:
        self.server_status = self.model.server_status
        self.discord_status = self.model.discord_status
        if self.model.log_ring is not None:
            self.logbook.extend(self.model.log_ring.lines())
        self.bridge.start()
        # The agent's buttons and file requests are answered here too, even while Discord is down.
        self._stop_attending = self.model.core.tool_requests.attend()
        self.read_state()
        self.set_interval(STATE_INTERVAL, self.read_state)
        self.switch_mode("discord" if self.model.chat is not None else "dashboard")
        self._maybe_setup()

    def on_unmount(self) -> None:
        self._stop_attending()
        self.bridge.stop()

    # ---- the bridge's batches -------------------------------------------------------------------
    def on_core_events(self, message: CoreEvents) -> None:
        if not self.is_running:
            return  # shutting down: the screens are being taken apart
        sessions, requests = affects(message.events)
        queues: dict[str, tuple[QueuedItem, ...]] = {}
        for event in message.events:
            if isinstance(event, ServerStatus):
                if event.state == "failed" and self.server_status.state != "failed":
                    text = (
                        f"OpenCode stopped for good: {event.detail}. "
                        'Retry with "Restart OpenCode" in the command palette.'
                    )
                    self.notify(text, severity="error", timeout=60)
                self.model.server_status = self.server_status = event
            elif isinstance(event, ChatStatus):
                self.model.discord_status = self.discord_status = event
            elif isinstance(event, GuildAccessChanged):
                self.read_projects()
                if event.status == "pending":
                    text = f"Discord server {event.name or event.guild_id} is waiting for your approval"
                    self.notify(f"{text} (Projects → s).", severity="warning", timeout=30)
            else:
                if isinstance(event, QueueChanged):
                    queues[event.thread_id] = event.items
                self.transcripts.apply(event)
        if lines := self._activity_lines(message.events):
            self.activity = (*self.activity, *lines)[-ACTIVITY_LIMIT:]
        if queues:
            self.queues = {**self.queues, **queues}
        if sessions:
            self.sessions = refreshed(self.sessions, touched_threads(message.events), self.model.core)
        if requests:
            self.requests = read_requests(self.model.core)
        active = self._active_screens()
        for screen in {*self._modes_made, *active}:
            if screen.is_mounted and screen.is_running:
                screen.apply_events(message.events, visible=screen in active)

    def _activity_lines(self, events: tuple[object, ...]) -> list[ActivityLine]:
        now = self.model.clock()
        titled = {view.thread_id: view for view in self.sessions}

        def name(thread_id: str) -> str:
            view = titled.get(thread_id) or self.model.core.conversations.get(thread_id)
            if view is None:
                return f"thread {thread_id}"
            return clip(view.title, 40) if view.title else project_name(view.directory)

        return [line for event in events if (line := activity_of(event, name, now)) is not None]

    def read_state(self) -> None:
        """Re-read the whole state from the core (on start, after setup, and on a slow clock)."""
        core = self.model.core
        self.sessions = tuple(core.conversations.all())
        self.requests = read_requests(core)
        self.scheduler_status = self.model.scheduler_status
        self.read_projects()
        self.tasks = read_tasks(core)

    def read_projects(self) -> None:
        """Projects live in the database (the bot, the wizard and the CLI add them): re-read them."""
        self.projects = read_projects(self.model.core, self.model.channel_name)

    def on_log_lines(self, message: LogLines) -> None:
        self.logbook.extend(message.lines)
        if not self.is_running:
            return
        for screen in self._active_screens():
            screen.apply_log()

    def _active_screens(self) -> list[KimakiScreen]:
        """Our screens in the active stack (shown, or under a dialog)."""
        return [s for s in self.screen_stack if isinstance(s, KimakiScreen) and s.is_mounted and s.is_running]

    # ---- navigation -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "goto":
            if parameters == ("discord",) and self.model.chat is None:
                return False  # the Discord view exists only in `kimaki demo`
            # Not from inside the wizard or a dialog: they must be finished or dismissed first.
            return isinstance(self.screen, KimakiScreen)
        return True

    async def action_goto(self, mode: str) -> None:
        self.read_state()  # what changed outside the events (the scheduler's line) shows at once
        if self.current_mode == mode:
            while isinstance(self.screen, SessionScreen):
                self.pop_screen()
            return
        await self.switch_mode(mode)

    async def on_open_session(self, message: OpenSession) -> None:
        await self.open_session(message.thread_id)

    async def open_session(self, thread_id: str) -> None:
        if self.model.core.conversations.get(thread_id) is None:
            self.notify("That session is gone.", severity="warning")
            return
        await self.action_goto("dashboard")
        await self.push_screen(SessionScreen(self.model, self.transcripts, thread_id))

    async def action_add_project(self) -> None:
        await self.switch_mode("projects")
        if isinstance(self.screen, ProjectsScreen):
            self.screen.action_add()

    async def action_servers(self) -> None:
        await self.switch_mode("projects")
        if isinstance(self.screen, ProjectsScreen):
            self.screen.action_servers()

    async def action_sandboxes(self) -> None:
        await self.switch_mode("projects")
        if isinstance(self.screen, ProjectsScreen):
            self.screen.action_sandboxes()

    # ---- habits: keys, quitting, screenshots ------------------------------------------------------
    def action_keys(self) -> None:
        if isinstance(self.screen, KimakiScreen):
            title = self.screen.NAV if not isinstance(self.screen, SessionScreen) else "session"
            self.push_screen(KeysScreen(self.screen, title.capitalize()))

    async def action_quit(self) -> None:
        """Quit; while turns run, ask first (a second Ctrl+C in that question quits)."""
        busy = sum(1 for view in self.sessions if view.busy)
        if not busy or isinstance(self.screen, QuitConfirm):
            self.exit()
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.exit()

        turns = f"{busy} turn is" if busy == 1 else f"{busy} turns are"
        self.push_screen(
            QuitConfirm("Quit", f"{turns} still running. Quit kimaki anyway?", confirm="Quit"), answered
        )

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Save under <data-dir>/screenshots (Textual's default, ~/Downloads, may not exist)."""
        if path is None:
            folder = self.model.data_dir / "screenshots"
            folder.mkdir(parents=True, exist_ok=True)
            path = str(folder)
        return super().deliver_screenshot(filename, path, time_format)

    # ---- palette actions ----------------------------------------------------------------------------
    @work(name="answer-newest", group="answers")
    async def answer_newest(self, reply: PermissionReply) -> None:
        model = self.model
        approvals = model.core.approvals
        pending = approvals.pending_permissions()
        if not pending:
            self.notify("Nothing is waiting for approval.")
            return
        result = await approvals.answer_permission(
            pending[0].request_id, reply, by=model.user_name, origin=model.origin
        )
        self.notify(
            "Done." if result.ok else result.message, severity="information" if result.ok else "warning"
        )

    def on_abort_session(self, message: AbortSession) -> None:
        self.abort_session(message.thread_id)

    @work(name="abort-session", group="abort")
    async def abort_session(self, thread_id: str) -> None:
        model = self.model
        try:
            stopped = await model.core.conversations.abort(thread_id, by=model.user_name, origin=model.origin)
        except LookupError:
            self.notify("That session is gone.", severity="warning")
            return
        self.notify("Turn aborted." if stopped else "No turn was running.")

    @work(name="restart-opencode", exclusive=True, group="opencode")
    async def restart_opencode(self) -> None:
        server = self.model.core.server
        if not server.can_restart:
            return
        self.notify("Restarting OpenCode…")
        await server.restart()

    # ---- first run ----------------------------------------------------------------------------------
    def _maybe_setup(self) -> None:
        if not self.model.needs_setup:
            return
        try:
            wizard = importlib.import_module(WIZARD_MODULE)
        except ModuleNotFoundError as exc:
            if exc.name != WIZARD_MODULE:
                raise
            log.warning("first-run setup is needed, but this build has no setup wizard")
            return
        self.push_screen(wizard.WizardScreen(self.model.setup), self._setup_done)

    def _setup_done(self, result: object) -> None:
        self.model.needs_setup = False
        self.read_state()
        if isinstance(self.screen, KimakiScreen):
            self.screen.sync()
        if self.model.after_setup is not None:
            self._after_setup(result)

    @work(name="after-setup", exclusive=True, group="setup")
    async def _after_setup(self, result: object) -> None:
        assert self.model.after_setup is not None
        await self.model.after_setup(result)


class QuitConfirm(ConfirmScreen):
    """The question before quitting while turns run."""


def _discord_screen(model: ControlCenterModel) -> KimakiScreen:
    from kimaki_tui.screens.discord_view import DiscordScreen

    assert model.chat is not None
    return DiscordScreen(model, model.chat)


async def run_control_center(model: ControlCenterModel) -> None:
    """Run the control center in the running loop until the user quits."""
    await KimakiApp(model).run_async()
