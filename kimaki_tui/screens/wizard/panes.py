"""One widget per wizard step. Each renders what the SetupController says and posts `StepDone`
when its step is complete; the screen decides what comes next. I/O runs in workers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import (
    Button,
    DirectoryTree,
    Input,
    Label,
    LoadingIndicator,
    Select,
    SelectionList,
    Static,
)

from kimaki_tui.errors import KimakiError
from kimaki_tui.secrets import mask
from kimaki_tui.setup import SetupController, SetupError, Step, TokenNotStored, guide
from kimaki_tui.setup.controller import clean_token


def guide_text(text: str) -> Vertical:
    """A step's words re-flowed to the terminal's width: paragraphs, and list items whose lines
    wrap under their text (a hanging indent), not under their number."""
    widgets: list[Widget] = []
    for block in guide.blocks(text):
        classes = "guide-block -gap" if block.gap else "guide-block"
        if block.marker:
            marker = Static(block.marker, classes="guide-marker")
            widgets.append(Horizontal(marker, Static(block.text, classes="guide-item"), classes=classes))
        else:
            widgets.append(Static(block.text, classes=classes))
    return Vertical(*widgets, classes="instructions")


class StepDone(Message):
    """The pane's step is complete; the screen moves on."""


class Pane(VerticalScroll):
    """A step: instructions on top, its controls below; it scrolls when the terminal is too short
    for both (80×24), so no control is ever out of reach."""

    step: Step
    text = ""

    def __init__(self, setup: SetupController) -> None:
        super().__init__(id=self.step.value, classes="pane")
        self.setup = setup

    def compose_text(self) -> ComposeResult:
        if self.text:
            yield guide_text(self.text)

    def entered(self) -> None:
        """Called each time the step becomes current."""

    def left(self) -> None:
        """Called when the screen moves away from this step."""

    def show_error(self, message: str) -> None:
        error = self.query_one(".error", Static)
        error.update(message)
        error.display = bool(message)


class InfoPane(Pane):
    """A step that only explains (create the application, enable the intent)."""

    def __init__(self, setup: SetupController, step: Step, text: str) -> None:
        self.step, self.text = step, text
        super().__init__(setup)

    def compose(self) -> ComposeResult:
        yield from self.compose_text()
        yield Button("Done, next", id=f"{self.step.value}-next", variant="primary")

    def entered(self) -> None:
        self.query_one(Button).focus()

    @on(Button.Pressed)
    def _next(self) -> None:
        self.post_message(StepDone())


class TokenPane(Pane):
    step = Step.TOKEN

    def __init__(self, setup: SetupController) -> None:
        super().__init__(setup)
        self.text = setup.token_page_text()

    # What the pane says under the box, and whether the checked token waits for a place to go.
    status: reactive[str] = reactive("")
    no_keyring: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield from self.compose_text()
        self.token_input = Input(placeholder="bot token", password=True, id="token-input")
        yield self.token_input
        yield Static("", classes="error", id="token-error")
        self.status_line = Static("", id="token-ok")
        yield self.status_line
        with Horizontal(classes="buttons"):
            self.check_button = Button("Check token", id="token-check", variant="primary")
            yield self.check_button
            self.file_button = Button(f"Keep it in {self.setup.secrets.file_path.name}", id="token-file")
            yield self.file_button
            self.next_button = Button("Next", id="token-next", disabled=True)
            yield self.next_button

    def watch_status(self, status: str) -> None:
        self.status_line.update(status)

    def watch_no_keyring(self, no_keyring: bool) -> None:
        self.set_class(no_keyring, "-no-keyring")
        if no_keyring:
            self.file_button.focus()

    def entered(self) -> None:
        self.show_error("")
        self.token_input.focus()

    @on(Input.Submitted, "#token-input")
    @on(Button.Pressed, "#token-check")
    def _check(self) -> None:
        self.check_button.disabled = True
        self.show_error("")
        self.status = "Checking the token with Discord…"
        self._submit(self.token_input.value)

    @work(exclusive=True, group="token")
    async def _submit(self, raw: str) -> None:
        self.no_keyring = False
        try:
            identity = await self.setup.submit_token(raw)
        except TokenNotStored as exc:
            # Checked but not stored: offer the file here, so no step has to be done again.
            self.status = self._identity_line()
            self.show_error(str(exc))
            self.no_keyring = True
            return
        except SetupError as exc:
            self.status = ""
            self.show_error(str(exc))
            self.token_input.focus()
            return
        finally:
            self.check_button.disabled = False
        self._saved(identity.warnings)

    @on(Button.Pressed, "#token-file")
    def _store_in_file(self) -> None:
        try:
            self.setup.store_token_in_file()
        except (KimakiError, OSError) as exc:
            self.show_error(str(exc))
            return
        self.no_keyring = False
        self.show_error("")
        self._saved(self.setup.checked_identity().warnings)

    def _identity_line(self) -> str:
        identity = self.setup.identity
        return f"✓ Bot {identity.username} · application id {identity.app_id}" if identity else ""

    def _saved(self, warnings: list[str]) -> None:
        token = clean_token(self.token_input.value)
        lines = [self._identity_line(), f"  token {mask(token)} saved ({self._where()})"]
        lines += [f"⚠ {warning}" for warning in warnings]
        self.token_input.value = ""
        self.status = "\n".join(lines)
        self.next_button.disabled = False
        self.next_button.focus()

    def _where(self) -> str:
        saved_in = self.setup.token_saved_in
        return f"file {self.setup.secrets.file_path}" if saved_in == "file" else str(saved_in)

    @on(Button.Pressed, "#token-next")
    def _next(self) -> None:
        self.post_message(StepDone())


class InstallPane(Pane):
    step = Step.INSTALL
    text = guide.INSTALL

    def __init__(self, setup: SetupController, open_url: Callable[[str], None] | None) -> None:
        super().__init__(setup)
        self._open_url = open_url

    def compose(self) -> ComposeResult:
        yield from self.compose_text()
        yield Static("", id="install-url", classes="url")
        with Horizontal(classes="buttons"):
            yield Button("Open in browser", id="install-open", disabled=self._open_url is None)
            yield Button("Copy link", id="install-copy")
            yield Button("Added it, next", id="install-next", variant="primary")
        yield Static("", classes="error")

    def entered(self) -> None:
        self.query_one("#install-url", Static).update(self.setup.install_url)
        self.query_one("#install-next", Button).focus()

    @on(Button.Pressed, "#install-open")
    def _open(self) -> None:
        if self._open_url is not None:
            self._open_url(self.setup.install_url)

    @on(Button.Pressed, "#install-copy")
    def _copy(self) -> None:
        self.app.copy_to_clipboard(self.setup.install_url)
        self.app.notify("Install link copied (if your terminal allows clipboard access).")

    @on(Button.Pressed, "#install-next")
    def _next(self) -> None:
        self.post_message(StepDone())


class WaitPane(Pane):
    step = Step.WAIT_GUILD
    text = guide.WAIT_GUILD

    def __init__(self, setup: SetupController, poll_interval: float) -> None:
        super().__init__(setup)
        self._interval = poll_interval

    def compose(self) -> ComposeResult:
        yield from self.compose_text()
        yield Static("", id="wait-url", classes="url")
        yield LoadingIndicator(id="wait-spinner")
        yield Static("", classes="error")

    def entered(self) -> None:
        self.show_error("")
        self.query_one("#wait-url", Static).update(self.setup.install_url)
        self._wait()

    def left(self) -> None:
        self.workers.cancel_group(self, "wait")

    @work(exclusive=True, group="wait")
    async def _wait(self) -> None:
        try:
            await self.setup.wait_for_guild(interval=self._interval)
        except SetupError as exc:
            self.show_error(str(exc))
            return
        self.post_message(StepDone())


class ProjectsPane(Pane):
    step = Step.PROJECTS
    text = guide.PROJECTS

    def __init__(self, setup: SetupController) -> None:
        super().__init__(setup)
        self._listed: set[str] = set()

    def compose(self) -> ComposeResult:
        yield from self.compose_text()
        self.listing = SelectionList[str](id="projects-list")
        yield self.listing
        with Horizontal(classes="buttons"):
            self.path_input = Input(placeholder="/path/to/another/project", id="project-path")
            yield self.path_input
            yield Button("Add", id="project-add")
            yield Button("Browse…", id="project-browse")
        self.folder_tree = DirectoryTree(Path.home(), id="project-tree")
        yield self.folder_tree
        with Horizontal(id="guild-row") as self.guild_row:
            yield Label("Create the channels in:", id="guild-label")
            self.guild_select = Select[str]([], prompt="Server", id="guild-select")
            yield self.guild_select
        yield Static("", classes="error")
        with Horizontal(classes="buttons"):
            self.create_button = Button("Create channels", id="projects-create", variant="primary")
            yield self.create_button
            yield Button("Skip", id="projects-skip")

    def on_mount(self) -> None:
        self.folder_tree.display = False

    def entered(self) -> None:
        self.show_error("")
        guilds = self.setup.guilds
        select = self.guild_select
        select.set_options([(g.name, g.id) for g in guilds])
        if guilds:
            select.value = guilds[0].id
        self.guild_row.display = len(guilds) > 1
        self._load()

    @work(exclusive=True, group="projects")
    async def _load(self) -> None:
        try:
            choices = await self.setup.project_choices()
        except SetupError as exc:
            self.show_error(str(exc))
            self.path_input.focus()
            return
        listing = self.listing
        for directory in choices:
            if directory not in self._listed:
                self._listed.add(directory)
                listing.add_option((directory, directory))
        listing.focus()

    @on(Input.Submitted, "#project-path")
    @on(Button.Pressed, "#project-add")
    def _add(self) -> None:
        path_input = self.path_input
        try:
            directory = self.setup.check_directory(path_input.value)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        listing = self.listing
        if directory in self._listed:
            listing.select(directory)
        else:
            self._listed.add(directory)
            listing.add_option((directory, directory, True))
        path_input.value = ""

    @on(Button.Pressed, "#project-browse")
    def _browse(self) -> None:
        tree = self.folder_tree
        tree.display = not tree.display
        if tree.display:
            tree.focus()

    @on(DirectoryTree.DirectorySelected)
    def _picked(self, event: DirectoryTree.DirectorySelected) -> None:
        self.path_input.value = str(event.path)

    @on(Button.Pressed, "#projects-skip")
    def _skip(self) -> None:
        self.post_message(StepDone())

    @on(Button.Pressed, "#projects-create")
    def _create(self) -> None:
        selected = list(self.listing.selected)
        if not selected:
            self.show_error("Select at least one project, or Skip.")
            return
        guild = self.guild_select.value
        guild_id = guild if isinstance(guild, str) else self.setup.guilds[0].id
        self.create_button.disabled = True
        self._create_channels(guild_id, selected)

    @work(exclusive=True, group="create")
    async def _create_channels(self, guild_id: str, directories: list[str]) -> None:
        try:
            await self.setup.create_channels(guild_id, directories)
        except SetupError as exc:
            self.show_error(str(exc))
            return
        finally:
            self.create_button.disabled = False
        self.post_message(StepDone())


class GeminiPane(Pane):
    step = Step.GEMINI
    text = guide.GEMINI

    def compose(self) -> ComposeResult:
        yield from self.compose_text()
        yield Input(placeholder="Gemini API key (optional)", password=True, id="gemini-input")
        yield Static("", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Save", id="gemini-save", variant="primary")
            yield Button("Skip", id="gemini-skip")

    def entered(self) -> None:
        self.show_error("")
        self.query_one("#gemini-input", Input).focus()

    @on(Input.Submitted, "#gemini-input")
    @on(Button.Pressed, "#gemini-save")
    def _save(self) -> None:
        field = self.query_one("#gemini-input", Input)
        try:
            self.setup.save_gemini_key(field.value)
        except SetupError as exc:
            self.show_error(str(exc))
            return
        field.value = ""
        self.post_message(StepDone())

    @on(Button.Pressed, "#gemini-skip")
    def _skip(self) -> None:
        self.post_message(StepDone())


class DonePane(Pane):
    step = Step.DONE

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("Kimaki is set up.", classes="headline")
            yield Static("", id="done-summary")
        yield Button("Start kimaki", id="done-finish", variant="success")

    def entered(self) -> None:
        self.query_one("#done-summary", Static).update(self.setup.summary())
        self.query_one("#done-finish", Button).focus()
