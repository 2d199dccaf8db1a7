"""Turn routing: whether a message in a bot thread gets an answer, by the channel's mode.

- `off`: every message does;
- `heuristic`: the rules in `core.routing.needs_answer` (a mention of the bot always does; thanks
  and messages addressed to someone else do not);
- `ai`: the heuristic first, then a model is asked about what is left. The question goes to
  OpenCode as a throw-away session (titled, so OpenCode does not spend a call naming it; no tools),
  with the channel's project folder, and the session is deleted afterwards. When the model does not
  answer within the timeout, or anything fails, the message is answered: routing may cost a
  reply, never lose a prompt.

A message that gets no answer still reaches the session as context (the bot's ingress does that).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import get_args

from kimaki_tui.core.routing import ThreadMessage, needs_answer
from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.schema import ModelRef, text_part
from kimaki_tui.settings.tree import TurnRouting
from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)

_FIRST_WORD = re.compile(r"\W*([A-Za-z]+)")
ROUTING_MODES: tuple[TurnRouting, ...] = get_args(TurnRouting)
_SETTING = "turn_routing"
SESSION_TITLE = "kimaki turn routing"
JUDGE_SYSTEM = (
    "You route messages in a chat thread where people work with a coding agent. Decide whether the "
    "newest message asks the agent for something (a question, an instruction, a follow-up on its "
    "work) or is not for it (chatter between people, thanks, greetings, a reply to someone else). "
    "Answer with exactly one word: RESPOND or SKIP."
)


@dataclass(frozen=True, slots=True)
class JudgeOptions:
    """Which model `ai` routing asks (None: OpenCode's default) and how long it waits."""

    model: ModelRef | None = None
    timeout: float = 8.0


def verdict(answer: str) -> bool:
    """Whether the model's answer means RESPOND: anything but a leading SKIP does."""
    first = _FIRST_WORD.match(answer)
    return not (first and first.group(1).upper() == "SKIP")


def judge_prompt(message: ThreadMessage) -> str:
    author = message.author or "someone"
    return f"Newest message, from {author}:\n{message.shown or message.text}"


class TurnRouter:
    def __init__(self, client: OpenCodeClient, store: Store, options: JudgeOptions | None = None) -> None:
        self._client = client
        self._store = store
        self._options = options or JudgeOptions()
        self._cleanups: set[asyncio.Task[None]] = set()

    def mode(self, channel_id: str | None, *, default: TurnRouting) -> TurnRouting:
        """The channel's own /turn-routing choice, else `default` (the --turn-routing flag)."""
        value = self._store.get_channel_setting(channel_id, _SETTING) if channel_id else None
        return next((m for m in ROUTING_MODES if m == value), default)

    def set_mode(self, channel_id: str, mode: TurnRouting | None) -> None:
        """Set the channel's turn routing; None forgets it (the global default applies)."""
        if mode is not None and mode not in ROUTING_MODES:
            raise ValueError(f"unknown turn routing {mode!r}; one of: {', '.join(ROUTING_MODES)}")
        self._store.set_channel_setting(channel_id, _SETTING, mode)

    async def needs_answer(
        self, message: ThreadMessage, *, channel_id: str | None, directory: str, default: TurnRouting
    ) -> bool:
        mode = self.mode(channel_id, default=default)
        if mode == "off" or message.mentions_bot:
            return True
        if not needs_answer(message):
            return False
        if mode == "heuristic":
            return True
        return await self._ask(message, directory)

    async def _ask(self, message: ThreadMessage, directory: str) -> bool:
        try:
            answer = await asyncio.wait_for(self._judge(message, directory), self._options.timeout)
        except TimeoutError:
            log.warning("turn routing: no verdict within %.1f s; answering", self._options.timeout)
            return True
        except (OpenCodeError, KimakiError) as exc:
            log.warning("turn routing: the model could not be asked (%s); answering", exc)
            return True
        respond = verdict(answer)
        log.info("turn routing: %s (model said %r)", "answer" if respond else "context only", answer[:40])
        return respond

    async def _judge(self, message: ThreadMessage, directory: str) -> str:
        session = await self._client.create_session(directory, title=SESSION_TITLE)
        try:
            reply = await self._client.prompt(
                session.id,
                directory,
                [text_part(judge_prompt(message))],
                model=self._options.model,
                system=JUDGE_SYSTEM,
                tools={"*": False},
            )
        finally:
            # Deleted in the background: a timeout must not wait for the clean-up too.
            task = asyncio.create_task(self._forget(session.id, directory))
            self._cleanups.add(task)
            task.add_done_callback(self._cleanups.discard)
        return " ".join(part.text for part in reply.text_parts())

    async def _forget(self, session_id: str, directory: str) -> None:
        try:
            await self._client.abort(session_id, directory)  # still thinking after a timeout
            await self._client.delete_session(session_id, directory)
        except OpenCodeError as exc:
            log.warning("turn routing: could not delete its session %s (%s)", session_id, exc)
