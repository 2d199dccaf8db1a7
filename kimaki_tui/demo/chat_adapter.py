"""`TwinChat`: the control center's `ChatWorld` over the Discord twin, acting as the demo user.

Messages, buttons and menus are read from the twin exactly as the bot left them; sending, clicking,
picking and slash commands go through the twin's actor API, so the bot sees what Discord would send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kimaki_tui.screens.chat_model import (
    ChatChannel,
    ChatComponent,
    ChatMessage,
    ChatOption,
    SlashCommand,
    SlashOption,
)
from kimaki_tui.testing.discord_twin import Actor, Channel, DiscordTwin, Guild, Message

log = logging.getLogger(__name__)

_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}
_STRING, _INTEGER, _BOOLEAN, _NUMBER = 3, 4, 5, 10
_ACTION_ERRORS = (LookupError, PermissionError, ValueError, RuntimeError)


class TwinChat:
    """One user's view of the project channels (and their threads) in a twin guild."""

    def __init__(
        self, twin: DiscordTwin, user: Actor, guild: Guild, channels: list[Channel], intro: str = ""
    ) -> None:
        self.twin = twin
        self.user = user
        self.guild = guild
        self.project_channels = channels
        self.intro = intro

    @property
    def user_name(self) -> str:
        return self.user.name

    # ---- reading ----------------------------------------------------------------------------------
    def channels(self) -> list[ChatChannel]:
        found: list[ChatChannel] = []
        for channel in self.project_channels:
            found.append(ChatChannel(channel.id, channel.name))
            for thread in sorted(self.twin.threads(channel), key=lambda t: t.id):
                found.append(ChatChannel(thread.id, thread.name, channel.id, thread.archived))
        return found

    def messages(self, channel_id: int) -> list[ChatMessage]:
        """The channel's messages; a thread starts with the message it was started from, as in Discord."""
        shown = [m for m in self.twin.messages(channel_id) if m.visible_to in (None, self.user.id)]
        starter = self.twin.world.messages.get(channel_id)
        if starter is not None and not starter.deleted and starter.channel_id != channel_id:
            shown.insert(0, starter)
        return [self._message(m) for m in shown]

    def _message(self, msg: Message) -> ChatMessage:
        rows = tuple(_row(c) for c in msg.components if c.get("type") == 1)
        return ChatMessage(
            id=msg.id,
            channel_id=msg.channel_id,
            author=msg.author.name,
            content=msg.content if msg.type != 18 else f"started a thread: {msg.content}",
            bot=msg.author.bot,
            rows=tuple(r for r in rows if r),
            notes=tuple(self._notes(msg)),
            ephemeral=msg.visible_to is not None,
            thinking=msg.loading,
            edited=msg.edited_timestamp is not None,
        )

    def _notes(self, msg: Message) -> list[str]:
        notes = [f"[file: {a.filename}]" for a in msg.attachments]
        for embed in msg.embeds:
            notes.append(" | ".join(str(embed[k]) for k in ("title", "description") if embed.get(k)))
        if msg.thread_id is not None and msg.thread_id in self.twin.world.channels:
            notes.append(f"↳ thread: {self.twin.world.channels[msg.thread_id].name}")
        return notes

    def commands(self) -> list[SlashCommand]:
        found: list[SlashCommand] = []
        for cmd in [*self.twin.commands(self.guild), *self.twin.commands()]:
            opts = tuple(
                SlashOption(str(o["name"]), str(o.get("description", "")), bool(o.get("required")))
                for o in cmd.schema.get("options") or []
            )
            found.append(SlashCommand(cmd.name, str(cmd.schema.get("description", "")), opts))
        return sorted(found, key=lambda c: c.name)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        return self.twin.world.changes.subscribe(listener)

    # ---- acting -----------------------------------------------------------------------------------
    async def send(self, text: str, channel_id: int) -> None:
        await self.user.send(channel_id, text)

    async def click(self, message_id: int, custom_id: str) -> str | None:
        try:
            await self.user.click(self._find(message_id), custom_id)
        except _ACTION_ERRORS as exc:
            return str(exc)
        return None

    async def select(self, message_id: int, custom_id: str, values: list[str]) -> str | None:
        try:
            await self.user.select(self._find(message_id), custom_id, values)
        except _ACTION_ERRORS as exc:
            return str(exc)
        return None

    async def slash(self, channel_id: int, command: str, options: Mapping[str, str]) -> str | None:
        try:
            typed = self.typed_options(command, options)
            await self.user.slash(channel_id, command, **typed)
        except _ACTION_ERRORS as exc:
            return str(exc)
        return None

    def _find(self, message_id: int) -> Message:
        msg = self.twin.world.messages.get(message_id)
        if msg is None or msg.deleted:
            raise LookupError("that message is gone")
        return msg

    def typed_options(self, command: str, options: Mapping[str, str]) -> dict[str, Any]:
        """Text typed in the chat box → the option types the command declares (as the client does)."""
        name = command.split()[0]
        cmd = next((c for c in self.twin.commands(self.guild) if c.name == name), None)
        schema = {str(o["name"]): int(o["type"]) for o in (cmd.schema.get("options") or [])} if cmd else {}
        typed: dict[str, Any] = {}
        for key, raw in options.items():
            kind = schema.get(key, _STRING)
            if kind == _INTEGER:
                typed[key] = int(raw)
            elif kind == _NUMBER:
                typed[key] = float(raw)
            elif kind == _BOOLEAN:
                typed[key] = raw.lower() in ("1", "true", "yes", "on")
            else:
                typed[key] = raw
        return typed


def _row(row: dict[str, Any]) -> tuple[ChatComponent, ...]:
    found: list[ChatComponent] = []
    for comp in row.get("components") or []:
        kind = comp.get("type")
        disabled = bool(comp.get("disabled"))
        if kind == 2:
            label = comp.get("label") or (comp.get("emoji") or {}).get("name") or ""
            style = _STYLES.get(int(comp.get("style", 2)), "secondary")
            ident = str(comp.get("custom_id") or comp.get("url") or "")
            if style == "link":
                found.append(ChatComponent("link", ident, str(label), disabled, style))
            else:
                found.append(ChatComponent("button", ident, str(label), disabled, style))
        elif kind == 3:
            options = tuple(
                ChatOption(str(o.get("label")), str(o.get("value")), str(o.get("description") or ""))
                for o in comp.get("options") or []
            )
            placeholder = str(comp.get("placeholder") or "Choose…")
            found.append(
                ChatComponent(
                    "select",
                    str(comp.get("custom_id")),
                    placeholder,
                    disabled,
                    options=options,
                    min_values=int(comp.get("min_values", 1)),
                    max_values=int(comp.get("max_values", 1)),
                )
            )
    return tuple(found)
