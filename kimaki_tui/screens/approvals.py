"""Every pending permission and question across sessions, newest first, answered from the keys.

`o` approves once, `a` always, `d` denies a permission or dismisses a question; Enter moves into
a question's answer form. Answers go through the core (signed "control center"), which edits the
Discord prompt by itself; an answer given in Discord reaches here as a resolution event and the
row disappears. A late answer shows the core's "already answered" message as a notification.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.core.api import AnswerResult
from kimaki_tui.core.events import PermissionReply, PermissionRequest, QuestionRequest, ToolRequest
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.format import age, clip
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.state import Request
from kimaki_tui.screens.widgets.question_form import QuestionForm
from kimaki_tui.screens.widgets.request_detail import PermissionDetail, request_title
from kimaki_tui.screens.widgets.tool_request_form import ToolRequestForm, answer

NOTHING = (
    "Nothing is waiting for an answer. ✓\n\nPermission prompts, questions and the agent's buttons and file\n"
    "requests from every session appear here."
)


def what(request: Request, directory: str = "") -> str:
    """One line: the command, the file (relative to the project) or the questions."""
    if isinstance(request, PermissionRequest):
        summary = request.summary
        prefix = directory.rstrip("/") + "/"
        return summary[len(prefix) :] if directory and summary.startswith(prefix) else summary
    if isinstance(request, ToolRequest):
        return request.prompt
    return " / ".join(str(q.get("question") or q.get("header") or "") for q in request.questions)


class RequestTable(DataTable[Text]):
    """The pending requests; Enter moves into the answer form when the row is a question."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Answer", tooltip="Move to the question's answer form")
    ]
    answerable = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.answerable if action == "select_cursor" else True


class ApprovalsScreen(KimakiScreen):
    NAV = "approvals"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "approve('once')", "Approve once", tooltip="Allow this request once"),
        Binding("a", "approve('always')", "Always", tooltip="Allow requests like this one from now on"),
        Binding("d", "deny", "Deny / dismiss", tooltip="Deny the permission or dismiss the question"),
        Binding("escape", "back_to_list", "List", tooltip="Back from the answer form to the list"),
    ]

    def __init__(self, model: ControlCenterModel) -> None:
        super().__init__(model)
        self._shown: str | None = None  # the request whose detail is drawn
        # Made here, not in compose: the footer asks `check_action` (which reads it) that early.
        self.table = RequestTable(id="requests", cursor_type="row")

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        with Horizontal(id="approvals-body") as self.body:
            self.table.border_title = "Pending"
            yield self.table
            self.detail = VerticalScroll(id="detail")
            yield self.detail
        self.nothing = Static(NOTHING, id="nothing")
        yield self.nothing
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        for key, label, width in (("age", "Age", 4), ("kind", "Kind", 8), ("project", "Project", 12)):
            table.add_column(label, key=key, width=width)
        table.add_column("What", key="what", width=44)
        self.watch(self.app, "requests", self._show_requests)

    def _request(self, request_id: str | None) -> Request | None:
        return next((r for r in self.app_state.requests if r.request_id == request_id), None)

    @property
    def selected(self) -> Request | None:
        table = self.table
        if not table.row_count:
            return None
        return self._request(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # ---- keeping the list current ---------------------------------------------------------------
    def sync(self) -> None:
        self._show_requests(self.app_state.requests)

    def _show_requests(self, pending: tuple[Request, ...]) -> None:
        table = self.table
        row = table.cursor_row
        keep = (
            table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        )
        table.clear()
        now = self.model.clock()
        conversations = self.model.core.conversations
        for request in pending:
            project, _ = self.session_label(request.session_id)
            view = conversations.for_session(request.session_id)
            kind = "question" if isinstance(request, QuestionRequest) else request.kind
            table.add_row(
                Text(age(now - request.asked_at), style="dim"),
                Text(kind, style="bold"),
                Text(clip(project, 12)),
                Text(clip(what(request, view.directory if view else ""), 44)),
                key=request.request_id,
            )
        if keep is not None and keep in table.rows:
            row = table.get_row_index(keep)
        if pending:
            table.move_cursor(row=min(row, len(pending) - 1))
        table.border_subtitle = f"{len(pending)} waiting" if pending else ""
        self.body.display = bool(pending)
        self.nothing.display = not pending
        self._show_detail(self.selected)

    @on(DataTable.RowHighlighted, "#requests")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(self._request(event.row_key.value))

    def _show_detail(self, request: Request | None) -> None:
        if request is not None and request.request_id == self._shown:
            return
        detail = self.detail
        focused = self.focused
        if focused is not None and focused is not detail and detail in focused.ancestors:
            self.table.focus()  # its button goes with the request: not nowhere
        detail.remove_children()
        self._shown = request.request_id if request else None
        table = self.table
        table.answerable = isinstance(request, QuestionRequest | ToolRequest)
        table.refresh_bindings()
        self.refresh_bindings()
        if request is None:
            return
        project, session = self.session_label(request.session_id)
        asked = age(self.model.clock() - request.asked_at)
        palette = self.palette
        if isinstance(request, PermissionRequest):
            title = request_title(request.kind, project, session, asked, palette.busy)
            detail.mount(PermissionDetail(request, title, self.screen.styles.background.hex))
        elif isinstance(request, ToolRequest):
            detail.mount(Static(request_title(request.kind, project, session, asked, palette.waiting)))
            detail.mount(ToolRequestForm(request))
        else:
            title = request_title("question", project, session, asked, palette.waiting)
            detail.mount(Static(title, classes="request-title"))
            detail.mount(QuestionForm(request))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        request = self.selected
        if action == "approve":
            return isinstance(request, PermissionRequest)
        if action == "deny":
            return request is not None
        return True

    # ---- answering --------------------------------------------------------------------------------
    def action_approve(self, reply: PermissionReply) -> None:
        if isinstance(request := self.selected, PermissionRequest):
            self._reply_permission(request.request_id, reply)

    def action_deny(self) -> None:
        request = self.selected
        if isinstance(request, PermissionRequest):
            self._reply_permission(request.request_id, "reject")
        elif isinstance(request, QuestionRequest):
            self._dismiss_question(request.request_id)
        elif isinstance(request, ToolRequest):
            self.notify("The agent waits for this answer; it expires by itself.", severity="warning")

    @on(DataTable.RowSelected, "#requests")
    def _answer(self) -> None:
        for form in self.query(QuestionForm):
            form.focus_first()
        for tool_form in self.query(ToolRequestForm):
            tool_form.focus_first()

    def action_back_to_list(self) -> None:
        self.table.focus()

    @on(QuestionForm.Answer)
    def _answered(self, event: QuestionForm.Answer) -> None:
        self._answer_question(event.request_id, event.answers)

    @on(ToolRequestForm.Chosen)
    def _chosen(self, event: ToolRequestForm.Chosen) -> None:
        model = self.model
        self._after(
            answer(model.core.tool_requests, event, by=model.user_name, origin=model.origin), "Answer sent."
        )

    @work(name="answer-permission", group="answers")
    async def _reply_permission(self, request_id: str, reply: PermissionReply) -> None:
        model = self.model
        result = await model.core.approvals.answer_permission(
            request_id, reply, by=model.user_name, origin=model.origin
        )
        self._after(
            result, {"once": "Approved once.", "always": "Approved always.", "reject": "Denied."}[reply]
        )

    @work(name="answer-question", group="answers")
    async def _answer_question(self, request_id: str, answers: list[list[str]]) -> None:
        model = self.model
        result = await model.core.approvals.answer_question(
            request_id, answers, by=model.user_name, origin=model.origin
        )
        self._after(result, "Answer sent.")

    @work(name="dismiss-question", group="answers")
    async def _dismiss_question(self, request_id: str) -> None:
        model = self.model
        result = await model.core.approvals.reject_question(
            request_id, by=model.user_name, origin=model.origin
        )
        self._after(result, "Question dismissed.")

    def _after(self, result: AnswerResult, done: str) -> None:
        if result.ok:
            self.notify(done, timeout=2)
        else:
            message = result.message or result.status.replace("_", " ")
            self.notify(message, severity="error" if result.status == "failed" else "warning")
