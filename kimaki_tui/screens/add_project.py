"""Pick a project directory: type a path, or walk a directory tree and press Enter on a folder.

The error under the box is the screen's `problem`: set when Enter finds no folder, cleared as soon
as the box holds one again.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Footer, Input, Static


class FolderTree(DirectoryTree):
    """Only folders, hidden ones left out."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if not path.name.startswith(".") and path.is_dir()]


class AddProjectScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    problem: reactive[str] = reactive("")

    def __init__(self, root: Path) -> None:
        super().__init__(classes="add-project")
        self._root = root

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Add a project"
            yield Static("The folder OpenCode works in. Type its path and press Enter, or pick it below.")
            self.path_input = Input(value=f"{self._root}/", placeholder="/path/to/project", id="path")
            yield self.path_input
            self.path_error = Static(id="path-error")
            yield self.path_error
            yield FolderTree(self._root, id="tree")
        yield Footer()

    def on_mount(self) -> None:
        self.path_input.focus()

    def watch_problem(self, problem: str) -> None:
        self.path_error.update(problem)

    @on(Input.Changed, "#path")
    def _typing(self, event: Input.Changed) -> None:
        if self.problem and Path(event.value.strip()).expanduser().is_dir():
            self.problem = ""

    @on(DirectoryTree.DirectorySelected)
    def _picked(self, event: DirectoryTree.DirectorySelected) -> None:
        if self.path_input.value.rstrip("/") == str(event.path).rstrip("/"):
            self._submit(self.path_input.value)  # Enter on the folder already in the box confirms it
            return
        self.path_input.value = str(event.path)

    @on(Input.Submitted, "#path")
    def _typed(self, event: Input.Submitted) -> None:
        self._submit(event.value)

    def _submit(self, value: str) -> None:
        path = Path(value.strip()).expanduser()
        if not value.strip() or not path.is_dir():
            self.problem = f"✗ {value.strip() or 'nothing'} is not a folder"
            return
        self.dismiss(str(path.resolve()))

    def action_cancel(self) -> None:
        self.dismiss(None)
