"""Threads: starting them (from a message or not), membership, and the events Discord sends for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import messaging, serialize
from .errors import ApiError, invalid_form
from .limits import check_length
from .model import JSON, Channel, ChannelType, Message, User
from .snowflake import now_iso

if TYPE_CHECKING:
    from .world import World

ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


def check_thread_fields(fields: JSON) -> None:
    errors = check_length("name", fields.get("name"), 100, minimum=1)
    if fields.get("name") is None:
        errors.append(("name", "BASE_TYPE_REQUIRED", "This field is required"))
    duration = fields.get("auto_archive_duration")
    if duration is not None and duration not in ARCHIVE_DURATIONS:
        errors.append(
            ("auto_archive_duration", "BASE_TYPE_CHOICES", f"Value must be one of {ARCHIVE_DURATIONS}.")
        )
    if errors:
        raise invalid_form(errors)


def check_parent(parent: Channel) -> None:
    if parent.type not in (ChannelType.TEXT, ChannelType.NEWS):
        raise ApiError(400, 50024, "Cannot execute action on this channel type", kind="limit")


def start_thread(
    world: World, parent: Channel, owner: User, fields: JSON, *, kind: int, starter: Message | None = None
) -> Channel:
    """Create a thread; one started from a message takes that message's id, as on Discord."""
    if starter is not None and starter.thread_id is not None:
        raise ApiError(400, 160004, "A thread has already been created for this message", kind="limit")
    now = now_iso()
    thread = Channel(
        id=starter.id if starter is not None else world.ids.next(),
        guild_id=parent.guild_id,
        type=kind,
        name=str(fields["name"]),
        parent_id=parent.id,
        owner_id=owner.id,
        auto_archive_duration=int(fields.get("auto_archive_duration") or 1440),
        archive_timestamp=now,
        created_at=now,
        invitable=bool(fields.get("invitable", True)),
        rate_limit_per_user=int(fields.get("rate_limit_per_user") or 0),
        thread_members={owner.id: now},
    )
    world.channels[thread.id] = thread
    if starter is not None:
        starter.thread_id = thread.id
    data = serialize.thread_json(thread) | {"newly_created": True}
    if owner.id == world.bot_user.id:
        data["member"] = _self_member(thread, owner.id)
    world.emit("THREAD_CREATE", data, guild_id=thread.guild_id, channel_id=thread.id)
    if starter is None and kind == ChannelType.PUBLIC_THREAD:
        _announce(world, parent, thread, owner)
    return thread


def _self_member(thread: Channel, user_id: int) -> JSON:
    return {
        "join_timestamp": thread.thread_members[user_id],
        "flags": 1,
        "id": str(thread.id),
        "user_id": str(user_id),
    }


def _announce(world: World, parent: Channel, thread: Channel, owner: User) -> None:
    """Discord posts a THREAD_CREATED (type 18) system message in the parent for standalone threads."""
    msg = messaging.new_message(world, parent, owner, type=18, content=thread.name)
    msg.reference = {"channel_id": str(thread.id), "guild_id": str(thread.guild_id)}
    messaging.post(world, parent, msg)


def add_member(world: World, thread: Channel, user: User) -> None:
    if user.id in thread.thread_members:
        return
    thread.thread_members[user.id] = now_iso()
    guild = world.guild_of(thread)
    added = serialize.thread_member_json(thread, user.id)
    member = guild.members.get(user.id)
    if member is not None:
        added["member"] = serialize.member_json(member)
        added["presence"] = None
    _members_update(world, thread, added=[added], removed=[])


def remove_member(world: World, thread: Channel, user: User) -> None:
    if thread.thread_members.pop(user.id, None) is not None:
        _members_update(world, thread, added=[], removed=[str(user.id)])


def _members_update(world: World, thread: Channel, added: list[JSON], removed: list[str]) -> None:
    data: JSON = {
        "id": str(thread.id),
        "guild_id": str(thread.guild_id),
        "member_count": min(len(thread.thread_members), 50),
    }
    if added:
        data["added_members"] = added
    if removed:
        data["removed_member_ids"] = removed
    world.emit("THREAD_MEMBERS_UPDATE", data, guild_id=thread.guild_id, channel_id=thread.id)
