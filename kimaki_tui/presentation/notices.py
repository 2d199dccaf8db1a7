"""The bot's short notices in a thread: a message queued or interrupting, a prompt sent from
elsewhere, an abort, and what a question prompt becomes once answered."""

from __future__ import annotations

from kimaki_tui.core.events import BY_SERVER_RESTART, PromptDispatched, QuestionRequest, TurnAborted
from kimaki_tui.presentation.markdown import escape_markdown

CONTROL_CENTER = "control-center"
DISPATCHED_MAX = 300
INTERRUPTING_TEXT = "⏳ This interrupts the current answer in a moment; your message is sent right after."


def queue_notice(position: int) -> str:
    """Posted when a message waits for the running turn (`position` counts from 1)."""
    if position <= 1:
        return "⏳ Queued — it goes next, when the current turn ends."
    return f"⏳ Queued at position {position} — it is sent when the turns before it end."


def submit_notice(outcome: str, position: int) -> str | None:
    """The short reply to a message that did not go straight to OpenCode."""
    if outcome == "queued":
        return queue_notice(position)
    if outcome == "interrupting":
        return INTERRUPTING_TEXT
    return None  # "sent" needs no reply; "failed" is reported by the core as a session error


def dispatched_line(event: PromptDispatched) -> str:
    """`» **author:** prompt` for a prompt the thread does not show yet (queued, or typed elsewhere)."""
    prompt = " ".join(event.prompt.split())
    prompt = prompt if len(prompt) <= DISPATCHED_MAX else prompt[: DISPATCHED_MAX - 1] + "…"
    author = escape_markdown(event.author or event.origin)
    if event.origin == CONTROL_CENTER:
        return f"» **{author}** (sent from the kimaki control center): {prompt}"
    return f"» **{author}:** {prompt}"


def abort_notice(event: TurnAborted) -> str:
    """Posted in the thread when a turn was stopped from somewhere other than the thread itself."""
    who = escape_markdown(event.by)[:80]
    where = " (from the kimaki control center)" if event.origin == CONTROL_CENTER else ""
    return f"⏹ **Aborted** by {who}{where}."


def question_outcome(
    request: QuestionRequest, answers: tuple[tuple[str, ...], ...] | None, by: str, expired: bool
) -> str:
    """What a question message becomes once answered, dismissed or expired."""
    who = escape_markdown(by)[:80]
    if answers is None:
        if expired and by == BY_SERVER_RESTART:
            return "⌛ Question expired — OpenCode restarted before it was answered"
        return "⌛ Question expired — no answer" if expired else f"✖ Question dismissed by {who}"
    lines = []
    for index, question in enumerate(request.questions):
        header = str(question.get("header") or question.get("question") or f"Question {index + 1}")[:100]
        chosen = ", ".join(answers[index]) if index < len(answers) else ""
        lines.append(f"✅ **{escape_markdown(header)}** — {chosen[:300] or '(no answer)'}")
    lines.append(f"-# answered by {who}")
    return "\n".join(lines)


INTERRUPTED_NOTICE = (
    "⚠️ kimaki stopped while this answer was being written (a crash or a restart), so it may be "
    "incomplete. Send your last message again to continue."
)

LATE_NOTICE = "📬 Picked up late: this message arrived while kimaki was offline."
