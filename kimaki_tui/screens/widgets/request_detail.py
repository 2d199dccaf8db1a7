"""What a permission request asks, in full: the command or file, the patterns, the diff.

A bash command and an edit's unified diff are syntax highlighted; buttons mirror the keys.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kimaki_tui.core.events import PermissionRequest

DIFF_LINES = 400


def request_title(kind: str, project: str, session: str, asked: str, colour: str) -> Text:
    text = Text()
    text.append(f" {kind} ", style=f"bold #000000 on {colour}")
    text.append(f"  {project}", style="bold")
    when = "just now" if asked == "now" else f"{asked} ago"
    text.append(f" · {session} · asked {when}", style="dim")
    return text


def permission_body(request: PermissionRequest, background: str) -> RenderableType:
    """`background` is the panel's colour, so highlighted code sits on it without a box."""
    meta = request.metadata
    parts: list[RenderableType] = []
    command = meta.get("command")
    if isinstance(command, str) and command:
        parts.append(Text("Command", style="bold"))
        parts.append(Syntax(command, "bash", theme="monokai", word_wrap=True, background_color=background))
    for key, label in (("filepath", "File"), ("parentDir", "Directory")):
        value = meta.get(key)
        if isinstance(value, str) and value:
            parts.append(Text.assemble((f"{label}  ", "bold"), value))
    if request.patterns and list(request.patterns) != [command]:
        parts.append(Text.assemble(("Patterns  ", "bold"), ", ".join(request.patterns)))
    parts.append(_always(request))
    diff = meta.get("diff")
    if isinstance(diff, str) and diff.strip():
        lines = [line for line in diff.splitlines() if not line.startswith(("Index: ", "====="))]
        shown = "\n".join(lines[:DIFF_LINES])
        if len(lines) > DIFF_LINES:
            shown += f"\n… {len(lines) - DIFF_LINES} more lines"
        parts.append(Text("Diff", style="bold"))
        parts.append(Syntax(shown, "diff", theme="monokai", word_wrap=False, background_color=background))
    return Group(*parts)


def _always(request: PermissionRequest) -> Text:
    text = Text("Always  ", style="bold")
    if request.always == ("*",):
        text.append(f"would allow every {request.kind} request in this project", style="dim")
    elif request.always:
        text.append("would allow ", style="dim")
        text.append(", ".join(request.always[:5]))
    else:
        text.append("same as once for this request", style="dim")
    return text


class PermissionDetail(Vertical):
    def __init__(self, request: PermissionRequest, title: Text, background: str) -> None:
        super().__init__(classes="permission-detail")
        self.request = request
        self._title = title
        self._background = background

    def compose(self) -> ComposeResult:
        yield Static(self._title, classes="request-title")
        # The buttons above the body: a long diff must not push them out of a small terminal.
        with Horizontal(classes="request-buttons"):
            yield Button("Approve once (o)", variant="success", action="screen.approve('once')")
            yield Button("Always (a)", variant="primary", action="screen.approve('always')")
            yield Button("Deny (d)", variant="error", action="screen.deny")
        yield Static(permission_body(self.request, self._background), classes="request-body")
