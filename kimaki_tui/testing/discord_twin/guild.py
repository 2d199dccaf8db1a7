"""A guild in the twin: its roles, members and channels, with builder methods that emit gateway events.

Tests call the builders (`add_role`, `add_text_channel`, `set_overwrite`...); REST routes call the same
methods after their validation, so a channel made by the bot and one made by a test look the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import serialize
from .model import Channel, ChannelType, Member, Overwrite, Role, User
from .permissions import DEFAULT_BOT, DEFAULT_EVERYONE
from .snowflake import now_iso

if TYPE_CHECKING:
    from .world import World


class Guild:
    def __init__(self, world: World, name: str, owner: User, bot_permissions: int = DEFAULT_BOT) -> None:
        self.world = world
        self.id = world.ids.next()
        self.name = name
        self.owner_id = owner.id
        self.system_channel_id: int | None = None  # where Discord posts joins (and bots post notices)
        self.roles: dict[int, Role] = {}
        self.members: dict[int, Member] = {}
        self.roles[self.id] = Role(self.id, self.id, "@everyone", int(DEFAULT_EVERYONE), 0)
        bot = world.bot_user
        self.bot_role = self._new_role(bot.name, int(bot_permissions), managed=True, bot_id=bot.id)
        self._new_member(owner, [])
        self._new_member(bot, [self.bot_role.id])

    # -- views ----------------------------------------------------------------------------------

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    @property
    def bot_member(self) -> Member:
        return self.members[self.world.bot_user.id]

    @property
    def channels(self) -> list[Channel]:
        """Live channels and categories (not threads), by position then id."""
        found = [c for c in self.world.channels.values() if c.guild_id == self.id and not c.deleted]
        return sorted((c for c in found if not c.is_thread), key=lambda c: (c.position, c.id))

    @property
    def threads(self) -> list[Channel]:
        found = self.world.channels.values()
        return [c for c in found if c.guild_id == self.id and c.is_thread and not c.deleted]

    def channel(self, name: str) -> Channel:
        for channel in [*self.channels, *self.threads]:
            if channel.name == name:
                return channel
        raise KeyError(f"no channel named {name!r} in {self.name}")

    def role(self, name: str) -> Role:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"no role named {name!r} in {self.name}")

    # -- builders -------------------------------------------------------------------------------

    def add_member(self, user: Any, roles: list[Role] | tuple[Role, ...] = ()) -> Member:
        from .world import as_user

        member = self._new_member(as_user(user), [r.id for r in roles])
        data = serialize.member_json(member) | {"guild_id": str(self.id)}
        self.world.emit("GUILD_MEMBER_ADD", data, guild_id=self.id)
        return member

    def add_role(
        self,
        name: str,
        permissions: int = 0,
        *,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> Role:
        role = self._new_role(name, int(permissions), color=color, hoist=hoist, mentionable=mentionable)
        self._emit_role("GUILD_ROLE_CREATE", role)
        return role

    def set_role_permissions(self, role: Role, permissions: int) -> None:
        role.permissions = int(permissions)
        self._emit_role("GUILD_ROLE_UPDATE", role)

    def give_role(self, user: Any, role: Role) -> None:
        from .world import as_user

        member = self.members[as_user(user).id]
        if role.id not in member.role_ids:
            member.role_ids.append(role.id)
        self.emit_member_update(member)

    def add_category(self, name: str) -> Channel:
        return self.create_channel(ChannelType.CATEGORY, name)

    def add_text_channel(
        self,
        name: str,
        *,
        category: Channel | None = None,
        topic: str | None = None,
        overwrites: list[Overwrite] | None = None,
    ) -> Channel:
        parent = category.id if category is not None else None
        return self.create_channel(
            ChannelType.TEXT, name, parent_id=parent, topic=topic, overwrites=overwrites
        )

    def add_voice_channel(self, name: str, *, category: Channel | None = None) -> Channel:
        parent = category.id if category is not None else None
        return self.create_channel(ChannelType.VOICE, name, parent_id=parent)

    def set_overwrite(self, channel: Channel, target: Any, *, allow: int = 0, deny: int = 0) -> None:
        """Set (or with allow=deny=0 remove) a role's or member's overwrite on a channel."""
        if isinstance(target, Role):
            target_id, kind = target.id, 0
        else:
            from .world import as_user

            target_id, kind = as_user(target).id, 1
        channel.overwrites = [o for o in channel.overwrites if o.id != target_id]
        if allow or deny:
            channel.overwrites.append(Overwrite(target_id, kind, int(allow), int(deny)))
        self.emit_channel("CHANNEL_UPDATE", channel)

    def archive_thread(self, thread: Channel, *, locked: bool = False) -> None:
        """What Discord's auto-archive (or a moderator) does; the bot's next message unarchives it."""
        thread.archived, thread.locked = True, locked
        thread.archive_timestamp = now_iso()
        self.emit_channel("THREAD_UPDATE", thread)

    # -- mutators shared with the REST routes ---------------------------------------------------

    def create_channel(
        self,
        kind: int,
        name: str,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
        overwrites: list[Overwrite] | None = None,
        position: int | None = None,
        emit: bool = True,
    ) -> Channel:
        if kind in (ChannelType.TEXT, ChannelType.NEWS):
            # Discord normalises text channel names: lower case, spaces become dashes.
            name = "-".join(name.lower().split())
        if position is None:
            same = [c.position for c in self.channels if c.type == kind]
            position = max(same, default=-1) + 1
        channel = Channel(
            id=self.world.ids.next(),
            guild_id=self.id,
            type=int(kind),
            name=name,
            position=position,
            parent_id=parent_id,
            topic=topic,
            overwrites=list(overwrites or []),
            created_at=now_iso(),
        )
        self.world.channels[channel.id] = channel
        if emit:
            self.emit_channel("CHANNEL_CREATE", channel)
        return channel

    def create_role(self, name: str, permissions: int, **style: Any) -> Role:
        role = self._new_role(name, permissions, **style)
        self._emit_role("GUILD_ROLE_CREATE", role)
        return role

    def emit_channel(self, event: str, channel: Channel) -> None:
        self.world.emit(event, serialize.channel_json(channel), guild_id=self.id, channel_id=channel.id)

    def emit_member_update(self, member: Member) -> None:
        data = serialize.member_json(member) | {"guild_id": str(self.id)}
        self.world.emit("GUILD_MEMBER_UPDATE", data, guild_id=self.id)

    def _emit_role(self, event: str, role: Role) -> None:
        data = {"guild_id": str(self.id), "role": serialize.role_json(role)}
        self.world.emit(event, data, guild_id=self.id)

    def _new_role(self, name: str, permissions: int, **extra: Any) -> Role:
        # New roles go just above @everyone, pushing the others up, as on Discord.
        for role in self.roles.values():
            if role.id != self.id:
                role.position += 1
        role = Role(self.world.ids.next(), self.id, name, permissions, 1, **extra)
        self.roles[role.id] = role
        return role

    def _new_member(self, user: User, role_ids: list[int]) -> Member:
        self.world.users.setdefault(user.id, user)
        member = Member(user=user, role_ids=list(role_ids), joined_at=now_iso())
        self.members[user.id] = member
        return member
