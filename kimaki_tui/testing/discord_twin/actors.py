"""Twin users acting like people in the Discord client: type, send messages and files, click, pick,
run slash commands, autocomplete and submit modals. Refuses what the Discord client would not allow.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import messaging, serialize, threads
from .commands import build_invocation, find_command, user_can_see
from .interactions import APPLICATION_COMMAND, AUTOCOMPLETE, COMPONENT, MODAL_SUBMIT, Interaction, dispatch
from .model import JSON, Channel, Message, MessageFlag, User
from .permissions import Perm, missing

if TYPE_CHECKING:
    from .world import World


def _send_permission(channel: Channel) -> Perm:
    """What writing in `channel` needs: a thread has its own permission."""
    return Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES


class Actor:
    """A (human) user of the twin. Methods mirror what someone does in the Discord app."""

    def __init__(self, world: World, user: User) -> None:
        self.world = world
        self.user = user

    def __repr__(self) -> str:
        return f"<Actor {self.user.name} {self.user.id}>"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def mention(self) -> str:
        return self.user.mention

    # -- messages -------------------------------------------------------------------------------

    async def send(
        self,
        channel: Channel | int,
        content: str = "",
        *,
        attachments: list[tuple[str, bytes, str | None]] | tuple[()] = (),
        voice: bool = False,
        voice_duration: float = 2.0,
        reply_to: Message | None = None,
        link_previews: list[JSON] | tuple[()] = (),
    ) -> Message:
        """Post a message; `voice=True` sends the single attachment as a Discord voice message.
        `link_previews`: the embeds Discord's link unfurling gives the message (people cannot send
        embeds of their own)."""
        ch = self._channel(channel)
        needed = _send_permission(ch)
        needed |= Perm.ATTACH_FILES if attachments else 0
        needed |= Perm.SEND_VOICE_MESSAGES if voice else 0
        self._require(ch, needed, "send a message")
        if len(content) > 2000:
            raise ValueError("the Discord client does not send more than 2000 characters")
        if not content and not attachments:
            raise ValueError("the Discord client does not send empty messages")
        if voice and (content or len(attachments) != 1):
            raise ValueError("a voice message is exactly one audio attachment and no text")
        msg = messaging.new_message(self.world, ch, self.user, content=content, embeds=list(link_previews))
        msg.attachments = [messaging.store_upload(self.world, ch.id, a) for a in attachments]
        if voice:
            msg.flags |= MessageFlag.IS_VOICE_MESSAGE
            msg.attachments[0].duration_secs = voice_duration
            msg.attachments[0].waveform = base64.b64encode(bytes(range(0, 256, 4))).decode()
        if reply_to is not None:
            msg.type = 19
            msg.reference = {
                "type": 0,
                "message_id": str(reply_to.id),
                "channel_id": str(ch.id),
                "guild_id": str(ch.guild_id),
            }
        messaging.parse_mentions(self.world, msg)
        msg.pinged = list(msg.mentions)  # people's clients send no allowed_mentions
        return await self._post(ch, msg)

    async def forward(self, channel: Channel | int, message: Message) -> Message:
        """Forward `message` here: a message of its own with no text, carrying a snapshot of the
        original (its text, embeds and attachments) and a reference of type 1 (FORWARD)."""
        ch = self._channel(channel)
        self._require(ch, _send_permission(ch), "forward")
        msg = messaging.new_message(self.world, ch, self.user)
        source = self._channel(message.channel_id)
        msg.reference = {
            "type": 1,
            "message_id": str(message.id),
            "channel_id": str(source.id),
            "guild_id": str(source.guild_id),
        }
        original = serialize.message_json(self.world, message, nested=False)
        kept = ("type", "content", "embeds", "attachments", "timestamp", "edited_timestamp", "flags")
        snapshot = {k: original.get(k) for k in kept} | {"mentions": [], "mention_roles": []}
        msg.snapshots = [{"message": snapshot}]
        return await self._post(ch, msg)

    async def send_poll(
        self, channel: Channel | int, question: str, answers: list[str], *, multiple: bool = False
    ) -> Message:
        """Start a poll (24 h): a message with no text and a `poll` object, as the client sends."""
        ch = self._channel(channel)
        self._require(ch, _send_permission(ch), "send a poll")
        if not 1 <= len(answers) <= 10:
            raise ValueError("a Discord poll has 1 to 10 answers")
        msg = messaging.new_message(self.world, ch, self.user)
        expiry = datetime.now(UTC) + timedelta(hours=24)
        msg.poll = {
            "question": {"text": question},
            "answers": [{"answer_id": i + 1, "poll_media": {"text": a}} for i, a in enumerate(answers)],
            "expiry": expiry.isoformat(),
            "allow_multiselect": multiple,
            "layout_type": 1,
        }
        return await self._post(ch, msg)

    async def _post(self, ch: Channel, msg: Message) -> Message:
        if ch.is_thread:
            threads.add_member(self.world, ch, self.user)
        messaging.post(self.world, ch, msg)
        await asyncio.sleep(0)
        return msg

    async def start_typing(self, channel: Channel | int) -> None:
        """Start writing a message: the client tells Discord, which sends TYPING_START."""
        ch = self._channel(channel)
        self._require(ch, _send_permission(ch), "type")
        messaging.typing(self.world, ch, self.user, asyncio.get_running_loop().time())
        await asyncio.sleep(0)

    async def edit(self, message: Message, content: str) -> Message:
        if message.author.id != self.id:
            raise PermissionError("people can only edit their own messages")
        message.content = content
        messaging.parse_mentions(self.world, message)
        messaging.edited(self.world, message)
        await asyncio.sleep(0)
        return message

    async def delete(self, message: Message) -> None:
        if message.author.id != self.id:
            self._require(self._channel(message.channel_id), Perm.MANAGE_MESSAGES, "delete others' messages")
        messaging.delete(self.world, message)
        await asyncio.sleep(0)

    async def react(self, message: Message, emoji: str) -> None:
        ch = self._channel(message.channel_id)
        needed = Perm.READ_MESSAGE_HISTORY | (0 if message.reactions.get(emoji) else Perm.ADD_REACTIONS)
        self._require(ch, needed, "react")
        messaging.react(self.world, message, self.user, emoji, add=True)
        await asyncio.sleep(0)

    # -- components -----------------------------------------------------------------------------

    async def click(self, message: Message, custom_id: str) -> Interaction:
        """Click a button on a message; the returned interaction tells what the bot answered."""
        comp = self._component(message, custom_id, (2,))
        data = {"custom_id": custom_id, "component_type": 2, "id": comp.get("id")}
        return await self._start(COMPONENT, self._channel(message.channel_id), data, message)

    async def select(self, message: Message, custom_id: str, values: list[str]) -> Interaction:
        """Pick options of a string select menu."""
        comp = self._component(message, custom_id, (3,))
        allowed = [o["value"] for o in comp.get("options") or []]
        if any(v not in allowed for v in values):
            raise ValueError(f"select {custom_id!r} offers {allowed}, not {values}")
        low, high = int(comp.get("min_values", 1)), int(comp.get("max_values", 1))
        if not low <= len(values) <= high:
            raise ValueError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
        data = {"custom_id": custom_id, "component_type": 3, "values": list(values), "id": comp.get("id")}
        return await self._start(COMPONENT, self._channel(message.channel_id), data, message)

    def _component(self, message: Message, custom_id: str, kinds: tuple[int, ...]) -> JSON:
        if message.deleted:
            raise LookupError("that message was deleted")
        if message.visible_to not in (None, self.id):
            raise PermissionError("that ephemeral message is not shown to this user")
        found = _walk(message.components)
        for comp in found:
            if comp.get("custom_id") == custom_id and comp.get("type") in kinds:
                if comp.get("disabled"):
                    raise PermissionError(f"component {custom_id!r} is disabled")
                return comp
        ids = [c.get("custom_id") for c in found if c.get("custom_id")]
        raise LookupError(f"no component {custom_id!r} on message {message.id}; it has {ids}")

    # -- application commands -------------------------------------------------------------------

    async def slash(self, channel: Channel | int, command: str, /, **options: Any) -> Interaction:
        """Run `/command` (or `/group sub` with a space) with typed options, as the client would send it.
        Positional-only, so an option may be called `command` or `channel`."""
        ch = self._channel(channel)
        name, *path = command.split()
        cmd = find_command(self.world, self.world.guild_of(ch), name)
        self._check_command_use(ch, cmd)
        data = build_invocation(self.world, self.world.guild_of(ch), ch, cmd, path, options)
        return await self._start(APPLICATION_COMMAND, ch, data, None)

    async def autocomplete(
        self, channel: Channel | int, command: str, option: str, typed: str, **options: Any
    ) -> list[JSON]:
        """Type `typed` into an autocomplete option and return the choices the bot offers."""
        ch = self._channel(channel)
        name, *path = command.split()
        cmd = find_command(self.world, self.world.guild_of(ch), name)
        self._check_command_use(ch, cmd)
        values = {**options, option: typed}
        data = build_invocation(self.world, self.world.guild_of(ch), ch, cmd, path, values, focused=option)
        inter = await self._start(AUTOCOMPLETE, ch, data, None)
        await inter.wait_callback()
        return list(inter.choices or [])

    def _check_command_use(self, ch: Channel, cmd: Any) -> None:
        self._require(ch, Perm.USE_APPLICATION_COMMANDS, "use application commands")
        if not user_can_see(self.world, self.user, cmd, ch):
            raise PermissionError(f"/{cmd.name} is hidden from {self.name} (default_member_permissions)")

    async def submit_modal(
        self,
        source: Interaction,
        custom_id: str | None = None,
        values: dict[str, Any] | None = None,
        timeout: float = 5.0,
    ) -> Interaction:
        """Fill in and submit the modal the bot showed in answer to `source`."""
        await source.wait_callback(timeout)
        modal = source.modal
        if modal is None:
            raise LookupError(
                f"the bot answered {source.id} with callback {source.callback_type}, not a modal"
            )
        if custom_id is not None and modal.get("custom_id") != custom_id:
            raise LookupError(f"the modal is {modal.get('custom_id')!r}, not {custom_id!r}")
        uploads: dict[str, JSON] = {}
        answers = {k: self._uploads(source.channel, v, uploads) for k, v in dict(values or {}).items()}
        components = _modal_answers(modal, answers)
        data: JSON = {"custom_id": modal["custom_id"], "components": components}
        if uploads:  # file upload fields answer with attachment ids, resolved beside them
            data["resolved"] = {"attachments": uploads}
        return await self._start(MODAL_SUBMIT, source.channel, data, source.message)

    def _uploads(self, channel: Channel, value: Any, uploads: dict[str, JSON]) -> Any:
        """A file upload field's answer, (name, bytes[, type]) tuples, becomes attachment ids."""
        if not (isinstance(value, list) and value and all(isinstance(v, tuple) for v in value)):
            return value
        ids = []
        for upload in value:
            attachment = messaging.store_upload(self.world, channel.id, upload)
            uploads[str(attachment.id)] = serialize.attachment_json(attachment)
            ids.append(str(attachment.id))
        return ids

    # -- helpers --------------------------------------------------------------------------------

    async def _start(self, kind: int, ch: Channel, data: JSON, message: Message | None) -> Interaction:
        if self.world.sink is None or not self.world.sink.has_session():
            raise RuntimeError("the bot is not connected to the twin's gateway")
        guild = self.world.guild_of(ch)
        inter = Interaction(self.world, kind, guild, ch, self.user, data, message=message)
        dispatch(self.world, inter)
        await asyncio.sleep(0)
        return inter

    def _channel(self, channel: Channel | int) -> Channel:
        return channel if isinstance(channel, Channel) else self.world.channel(channel)

    def _require(self, ch: Channel, needed: int, action: str) -> None:
        guild = self.world.guild_of(ch)
        if self.id not in guild.members:
            raise PermissionError(f"{self.name} is not a member of {guild.name}")
        perms = self.world.member_perms(self.id, ch)
        lacking = missing(perms, needed | Perm.VIEW_CHANNEL)
        if lacking:
            raise PermissionError(f"{self.name} cannot {action} in #{ch.name}: lacks {', '.join(lacking)}")


def _walk(components: list[JSON]) -> list[JSON]:
    found: list[JSON] = []
    for comp in components:
        found.append(comp)
        found += _walk(comp.get("components") or [])
        if isinstance(comp.get("accessory"), dict):
            found.append(comp["accessory"])
    return found


def _modal_answers(modal: JSON, values: dict[str, Any]) -> list[JSON]:
    """Mirror the modal's layout (action rows or labels) with the user's answers, as Discord does."""
    answers: list[JSON] = []
    for top in modal.get("components") or []:
        if top.get("type") == 1:
            inner = [_answer(c, values) for c in top.get("components") or []]
            answers.append({"type": 1, "components": inner})
        elif top.get("type") == 18 and isinstance(top.get("component"), dict):
            answers.append({"type": 18, "component": _answer(top["component"], values)})
    if values:
        raise LookupError(f"the modal has no fields {sorted(values)}")
    return answers


def _answer(field: JSON, values: dict[str, Any]) -> JSON:
    custom_id = field.get("custom_id")
    value = values.pop(str(custom_id), None)
    if field.get("type") == 4:
        text = "" if value is None else str(value)
        if field.get("required", True) and not text:
            raise ValueError(f"modal field {custom_id!r} is required")
        low, high = int(field.get("min_length") or 0), int(field.get("max_length") or 4000)
        if text and not low <= len(text) <= high:
            raise ValueError(f"modal field {custom_id!r} needs {low}..{high} characters")
        return {"type": 4, "custom_id": custom_id, "value": text}
    chosen = list(value or [])
    return {"type": field.get("type"), "custom_id": custom_id, "values": chosen}
