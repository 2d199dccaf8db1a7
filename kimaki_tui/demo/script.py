"""Demo scripts: a list of things the demo user does in Discord, parsed from text, and replayed.

One action per line (`#` starts a comment):

    say: TEXT              message in the current thread (the first one, in the project channel,
                           starts a thread, which becomes the current one)
    new: TEXT              message in the project channel: starts a new thread and moves into it
    click: LABEL           press the newest button labelled LABEL in the current thread
    select: LABEL[, ...]   pick options by label in the newest select menu offering them
    slash: NAME k=v ...    run /NAME in the current thread (`slash: queue message=hi there`)
    wait: idle | SECONDS | TEXT
                           until the bot is done with the thread / a pause / a bot message
                           containing TEXT appears in the current thread

Every step waits (bounded) for what it needs, so scripts read like what a person would do.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kimaki_tui.demo.world import DemoWorld
from kimaki_tui.errors import KimakiError
from kimaki_tui.screens.chat_model import bind_slash, parse_slash
from kimaki_tui.testing.discord_twin import Channel, Message

ACTIONS = ("say", "new", "click", "select", "slash", "wait")
STEP_TIMEOUT = 60.0
IDLE_TIMEOUT = 180.0


class ScriptError(KimakiError, ValueError):
    """A script line that cannot be parsed or a step that could not be done."""


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    argument: str
    line: int

    def __str__(self) -> str:
        return f"line {self.line}: {self.action}: {self.argument}"


def parse_script(text: str) -> list[Step]:
    steps: list[Step] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        action, colon, argument = line.partition(":")
        action = action.strip().lower()
        if not colon or action not in ACTIONS:
            raise ScriptError(f"line {number}: expected one of {', '.join(ACTIONS)} then ':', got {line!r}")
        if not argument.strip():
            raise ScriptError(f"line {number}: {action}: needs an argument")
        steps.append(Step(action, argument.strip(), number))
    return steps


IdleCheck = Callable[[Channel], bool]


class Player:
    """Replays steps as the demo user; `idle(thread)` says whether the bot is done with a thread."""

    def __init__(self, world: DemoWorld, idle: IdleCheck, settle: Callable[[], Any]) -> None:
        self.world = world
        self.idle = idle
        self.settle = settle
        self.thread: Channel | None = None

    @property
    def twin(self) -> Any:
        return self.world.twin

    @property
    def place(self) -> Channel:
        return self.thread or self.world.channel

    async def play(self, steps: list[Step]) -> None:
        for step in steps:
            try:
                await getattr(self, f"_{step.action}")(step.argument)
            except (TimeoutError, LookupError, ValueError, PermissionError, RuntimeError) as exc:
                raise ScriptError(f"{step}: {exc}") from exc

    async def _say(self, text: str) -> None:
        if self.thread is None:
            await self._new(text)
        else:
            await self.world.user.send(self.thread, text)

    async def _new(self, text: str) -> None:
        channel = self.world.channel
        before = {t.id for t in self.twin.threads(channel)}
        await self.world.user.send(channel, text)
        self.thread = await self.twin.wait_for_thread(
            channel, STEP_TIMEOUT, predicate=lambda t: t.id not in before
        )

    async def _click(self, label: str) -> None:
        def find() -> tuple[Message, str] | None:
            for message in reversed(self.twin.messages(self.place)):
                for comp in _interactive(message.components):
                    if comp.get("type") == 2 and comp.get("label") == label and not comp.get("disabled"):
                        return message, str(comp["custom_id"])
            return None

        message, custom_id = await self.twin.wait_until(find, STEP_TIMEOUT, f"a {label!r} button", 0.1)
        interaction = await self.world.user.click(message, custom_id)
        await interaction.wait_callback(STEP_TIMEOUT)

    async def _select(self, labels: str) -> None:
        wanted = [w.strip() for w in labels.split(",") if w.strip()]

        def find() -> tuple[Message, str, list[str]] | None:
            for message in reversed(self.twin.messages(self.place)):
                for comp in _interactive(message.components):
                    options = {str(o.get("label")): str(o.get("value")) for o in comp.get("options") or []}
                    if comp.get("type") == 3 and all(w in options for w in wanted):
                        return message, str(comp["custom_id"]), [options[w] for w in wanted]
            return None

        found = await self.twin.wait_until(find, STEP_TIMEOUT, f"a menu offering {wanted}", 0.1)
        interaction = await self.world.user.select(*found)
        await interaction.wait_callback(STEP_TIMEOUT)

    async def _slash(self, text: str) -> None:
        name, options = parse_slash(text)
        command = next((c for c in self.world.chat.commands() if c.name == name), None)
        if command is None:
            raise LookupError(f"the bot has no /{name} command")
        typed = self.world.chat.typed_options(name, bind_slash(command, options))
        interaction = await self.world.user.slash(self.place, name, **typed)
        await interaction.wait_callback(STEP_TIMEOUT)

    async def _wait(self, what: str) -> None:
        if re.fullmatch(r"\d+(\.\d+)?", what):
            await asyncio.sleep(float(what))
        elif what.lower() == "idle":
            await self._wait_idle()
        else:
            bot = self.twin.bot_user.id
            await self.twin.wait_for_message(
                self.place, lambda m: m.author.id == bot and what in m.content, STEP_TIMEOUT
            )

    async def _wait_idle(self) -> None:
        """Idle twice in a row with the bot's posts drained in between (a queued message may start
        a new turn just as the last one ends)."""
        thread = self.place
        for _ in range(2):
            await self.twin.wait_until(lambda: self._quiet(thread), IDLE_TIMEOUT, "the bot to finish", 0.1)
            await self.settle()
            await asyncio.sleep(0.3)
        await self.twin.wait_until(lambda: self._quiet(thread), IDLE_TIMEOUT, "the bot to finish", 0.1)

    def _quiet(self, thread: Channel) -> bool:
        messages = self.twin.messages(thread)
        bot = self.twin.bot_user.id
        answered = any(m.author.id == bot for m in messages)
        return answered and not any(m.loading for m in messages) and self.idle(thread)


def _interactive(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for comp in components:
        found.append(comp)
        found += _interactive(comp.get("components") or [])
    return found


def transcript(world: DemoWorld) -> str:
    """The project channel and each of its threads, as the twin renders them."""
    twin = world.twin
    parts = [f"=== #{world.channel.name} ===", twin.transcript(world.channel)]
    for thread in sorted(twin.threads(world.channel), key=lambda t: t.id):
        parts += ["", f"=== thread: {thread.name} ===", twin.transcript(thread)]
    return "\n".join(parts) + "\n"
