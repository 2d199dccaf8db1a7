"""An interaction a twin user started: its gateway payload, what the bot answered, and waiting for it."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import serialize
from .model import JSON, Channel, Message, User

if TYPE_CHECKING:
    from .guild import Guild
    from .world import World

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5


@dataclass
class InteractionResponse:
    """What the user saw: the response message (created or updated), a modal, or autocomplete choices."""

    type: int
    message: Message | None = None
    modal: JSON | None = None
    choices: list[JSON] | None = None
    followups: list[Message] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return self.message is not None and self.message.ephemeral

    @property
    def content(self) -> str:
        return self.message.content if self.message is not None else ""


@dataclass(eq=False)
class Interaction:
    world: World = field(repr=False)
    type: int
    guild: Guild = field(repr=False)
    channel: Channel = field(repr=False)
    user: User
    data: JSON
    message: Message | None = None  # the message whose component was used (or that opened the modal)
    id: int = 0
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created: float = field(default_factory=lambda: asyncio.get_running_loop().time())
    callback_type: int | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    modal: JSON | None = None
    choices: list[JSON] | None = None

    def __post_init__(self) -> None:
        if not self.id:
            self.id = self.world.ids.next()

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    def payload(self) -> JSON:
        """INTERACTION_CREATE data with everything discord.py reads (attachment_size_limit included)."""
        world, guild, channel = self.world, self.guild, self.channel
        member = guild.members[self.user.id]
        channel_data = serialize.channel_json(channel)
        channel_data["permissions"] = str(world.member_perms(self.user.id, channel))
        data: JSON = {
            "id": str(self.id),
            "application_id": str(world.app_id),
            "type": self.type,
            "token": self.token,
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": channel_data,
            "member": serialize.member_json(member, permissions=world.member_perms(self.user.id, channel)),
            "app_permissions": str(world.bot_perms(channel)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": world.upload_limit,
            "data": self.data,
        }
        if self.message is not None:
            data["message"] = serialize.message_json(world, self.message)
        return data

    def metadata(self) -> JSON:
        """interaction_metadata on the messages this interaction produces."""
        meta: JSON = {
            "id": str(self.id),
            "type": self.type,
            "user": serialize.user_json(self.user),
            "authorizing_integration_owners": {"0": str(self.guild.id)},
        }
        if self.type == APPLICATION_COMMAND:
            meta["name"] = self.data.get("name")
        if self.message is not None:
            meta["interacted_message_id"] = str(self.message.id)
        if self.original is not None and self.original is not self.message:
            meta["original_response_message_id"] = str(self.original.id)
        return meta

    # -- waiting --------------------------------------------------------------------------------

    async def wait_callback(self, timeout: float = 5.0) -> int:
        """The callback type the bot answered with (4 message, 5 defer, 6 deferred update, 7 update, 8, 9)."""
        return await self.world.changes.wait_for(
            lambda: self.callback_type, timeout, f"the bot to answer interaction {self.id} ({self.data})"
        )

    async def wait_response(self, timeout: float = 5.0) -> InteractionResponse:
        """Wait for what the user would see; a 'thinking' defer waits until the bot edits or follows up."""
        kind = await self.wait_callback(timeout)
        if kind == 5:
            await self.world.changes.wait_for(
                lambda: self.original is not None and not self.original.loading,
                timeout,
                f"the bot to finish deferred interaction {self.id}",
            )
        return self.response()

    async def wait_followup(self, count: int = 1, timeout: float = 5.0) -> Message:
        """The `count`-th followup message the bot sent."""
        return await self.world.changes.wait_for(
            lambda: self.followups[count - 1] if len(self.followups) >= count else None,
            timeout,
            f"followup #{count} of interaction {self.id}",
        )

    def response(self) -> InteractionResponse:
        if self.callback_type is None:
            raise RuntimeError(f"interaction {self.id} was not answered")
        return InteractionResponse(
            type=self.callback_type,
            message=self.original,
            modal=self.modal,
            choices=self.choices,
            followups=list(self.followups),
        )


def dispatch(world: World, inter: Interaction) -> Interaction:
    world.interactions[inter.id] = inter
    world.emit("INTERACTION_CREATE", inter.payload(), guild_id=inter.guild.id, channel_id=None)
    return inter


def find_by_token(world: World, token: str) -> Interaction | None:
    for inter in world.interactions.values():
        if inter.token == token:
            return inter
    return None


def is_expired(inter: Interaction, now: float | None = None) -> bool:
    moment = asyncio.get_running_loop().time() if now is None else now
    return moment - inter.created > inter.world.interaction_timeout
