"""The context a session's agent gets about where it is talking: with the first prompt of a session
kimaki created, a block saying who writes (name and id), in which thread, what the Discord tools
can do and how to hand off follow-up work; later, a line whenever the author changes (several
people can write in one thread). Both travel as synthetic parts wrapped in <system-reminder>, so
OpenCode keeps them out of what people see, and no front end shows them."""

from __future__ import annotations

from typing import Any

from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.opencode.schema import text_part

TOOLS = (
    "kimaki_file_upload asks the user for files (they land in the project); kimaki_send_file posts a "
    "project file to the thread (25 MB at most); kimaki_action_buttons offers up to 5 buttons and "
    "returns the one clicked; kimaki_sleep ends your turn and wakes you later; kimaki_send starts a "
    "session in another project channel."
)


def author_of(prompt: PromptInput) -> str:
    """Who wrote the prompt, as the agent is told: name and, from Discord, the user id."""
    name = prompt.author_name or "someone"
    if prompt.origin == "discord" and prompt.author_id:
        return f"{name} (Discord user id {prompt.author_id})"
    return f"{name} (from kimaki's {prompt.origin})"


def intro_text(prompt: PromptInput, *, thread_id: str, channel_id: str) -> str:
    return (
        "<system-reminder>\n"
        "You are working through kimaki: people talk to you in a Discord thread and your answers are "
        "posted there, so keep Markdown simple (no wide tables).\n"
        f"This message is from {author_of(prompt)}, in thread {thread_id} of project channel "
        f"{channel_id}. Several people may write in one thread; you are told when the author changes.\n"
        f"Discord tools: {TOOLS}\n"
        f'For follow-up work in a new thread, run `kimaki send --channel {channel_id} --prompt "..."`.\n'
        "</system-reminder>"
    )


def author_text(prompt: PromptInput) -> str:
    return f"<system-reminder>The next message is from {author_of(prompt)}.</system-reminder>"


class SessionContext:
    """Which context the next prompt of one thread carries. Nothing changes until `sent()`, so a
    prompt that failed to go out carries it again."""

    def __init__(self, *, thread_id: str, channel_id: str) -> None:
        self._thread_id = thread_id
        self._channel_id = channel_id
        self._intro_due = False
        self._last_author: tuple[str, str] | None = None

    def session_created(self) -> None:
        self._intro_due = True

    def prompt_parts(self, prompt: PromptInput) -> list[dict[str, Any]]:
        if self._intro_due:
            intro = intro_text(prompt, thread_id=self._thread_id, channel_id=self._channel_id)
            return [text_part(intro, synthetic=True)]
        if self._last_author != _key(prompt):  # also the first prompt of a resumed session
            return [text_part(author_text(prompt), synthetic=True)]
        return []

    def sent(self, prompt: PromptInput) -> None:
        self._intro_due = False
        self._last_author = _key(prompt)


def _key(prompt: PromptInput) -> tuple[str, str]:
    return (prompt.author_id or prompt.author_name, prompt.origin)
