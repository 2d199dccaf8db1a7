"""Application commands: validating what the bot syncs, and building invocation data from a schema."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import serialize
from .errors import FieldError
from .limits import check_length
from .model import JSON, Channel, Command, Role, User
from .permissions import ALL_PERMISSIONS

if TYPE_CHECKING:
    from .guild import Guild
    from .world import World

COMMANDS_MAX = {1: 100, 2: 5, 3: 5}
_NAME = re.compile(r"^[-_\w]{1,32}$")
SUB, GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11


def check_commands(commands: list[JSON]) -> list[FieldError]:
    errors: list[FieldError] = []
    counts: dict[int, int] = {}
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        kind = int(cmd.get("type", 1))
        counts[kind] = counts.get(kind, 0) + 1
        key = (str(cmd.get("name")), kind)
        if key in seen:
            errors.append(
                (f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Duplicate command name {key[0]!r}")
            )
        seen.add(key)
        errors += check_command(str(i), cmd)
    for kind, count in counts.items():
        if count > COMMANDS_MAX.get(kind, 0):
            errors.append(
                (
                    "_",
                    "APPLICATION_COMMANDS_TOO_MANY",
                    f"Max {COMMANDS_MAX.get(kind, 0)} commands of type {kind}",
                )
            )
    return errors


def check_command(path: str, cmd: JSON) -> list[FieldError]:
    kind = int(cmd.get("type", 1))
    name = cmd.get("name")
    if kind == 1:
        errors = _check_name(f"{path}.name", name)
        errors += check_length(f"{path}.description", cmd.get("description"), 100, minimum=1)
        errors += check_options(f"{path}.options", cmd.get("options") or [], depth=0)
    else:
        errors = check_length(f"{path}.name", name, 32, minimum=1)
        if cmd.get("description"):
            errors.append(
                (f"{path}.description", "APPLICATION_COMMAND_INVALID", "Context menus have no description")
            )
    return errors


def _check_name(path: str, name: Any) -> list[FieldError]:
    if not isinstance(name, str) or not _NAME.match(name) or name != name.lower():
        return [(path, "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")]
    return []


def check_options(path: str, options: list[JSON], depth: int) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(options) > 25:
        errors.append((path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
    optional_seen = False
    for i, opt in enumerate(options):
        here = f"{path}.{i}"
        errors += _check_name(f"{here}.name", opt.get("name"))
        errors += check_length(f"{here}.description", opt.get("description"), 100, minimum=1)
        kind = int(opt.get("type", 0))
        if kind in (SUB, GROUP):
            if depth >= (1 if kind == GROUP else 2):
                errors.append(
                    (f"{here}.type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Nesting too deep")
                )
            errors += check_options(f"{here}.options", opt.get("options") or [], depth + 1)
            continue
        if opt.get("required"):
            if optional_seen:
                errors.append(
                    (here, "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be first")
                )
        else:
            optional_seen = True
        choices = opt.get("choices") or []
        if len(choices) > 25:
            errors.append((f"{here}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
        if choices and opt.get("autocomplete"):
            errors.append(
                (f"{here}.autocomplete", "AUTOCOMPLETE_AND_CHOICES", "Cannot have choices and autocomplete")
            )
    return errors


# -- invoking -------------------------------------------------------------------------------------


def find_command(world: World, guild: Guild, name: str, kind: int = 1) -> Command:
    """A command the bot synced for this guild or globally; never-synced commands are refused."""
    for cmd in [*world.commands_for(guild.id), *world.commands_for(None)]:
        if cmd.name == name and cmd.type == kind:
            return cmd
    synced = sorted(c.name for c in [*world.commands_for(guild.id), *world.commands_for(None)])
    raise LookupError(f"/{name} was never synced by the bot (synced: {synced})")


def build_invocation(
    world: World,
    guild: Guild,
    channel: Channel,
    cmd: Command,
    path: list[str],
    values: dict[str, Any],
    focused: str | None = None,
) -> JSON:
    """The `data` of an APPLICATION_COMMAND (or autocomplete, when `focused` names the typed option)."""
    resolved: JSON = {}
    schema_opts: list[JSON] = cmd.schema.get("options") or []
    nested: list[list[JSON]] = []
    for part in path:
        sub = next((o for o in schema_opts if o.get("name") == part and o.get("type") in (SUB, GROUP)), None)
        if sub is None:
            raise ValueError(f"/{cmd.name} has no subcommand {part!r}")
        schema_opts = sub.get("options") or []
        nested.append([{"name": part, "type": sub["type"], "options": []}])
    if any(o.get("type") in (SUB, GROUP) for o in schema_opts):
        raise ValueError(f"/{cmd.name} {' '.join(path)} needs a subcommand")
    leaf = _leaf_options(world, guild, channel, schema_opts, values, focused, resolved)
    options = leaf
    for level in reversed(nested):
        level[0]["options"] = options
        options = level
    data: JSON = {"id": str(cmd.id), "name": cmd.name, "type": cmd.type, "options": options}
    if cmd.guild_id is not None:
        data["guild_id"] = str(cmd.guild_id)
    if resolved:
        data["resolved"] = resolved
    return data


def _leaf_options(
    world: World,
    guild: Guild,
    channel: Channel,
    schema: list[JSON],
    values: dict[str, Any],
    focused: str | None,
    resolved: JSON,
) -> list[JSON]:
    by_name = {o["name"]: o for o in schema}
    unknown_names = set(values) - set(by_name)
    if unknown_names:
        raise ValueError(f"unknown option(s) {sorted(unknown_names)}; schema has {sorted(by_name)}")
    out: list[JSON] = []
    for opt in schema:
        name = opt["name"]
        if name not in values:
            if opt.get("required") and focused is None:
                raise ValueError(f"option {name!r} is required")
            continue
        if name == focused:
            if not opt.get("autocomplete"):
                raise ValueError(f"option {name!r} has no autocomplete")
            out.append({"name": name, "type": opt["type"], "value": str(values[name]), "focused": True})
            continue
        value = _convert(world, guild, channel, opt, values[name], resolved)
        out.append({"name": name, "type": opt["type"], "value": value})
    return out


def _convert(world: World, guild: Guild, channel: Channel, opt: JSON, value: Any, resolved: JSON) -> Any:
    kind = int(opt["type"])
    name = opt["name"]
    if kind in (STRING, INTEGER, NUMBER, BOOLEAN):
        return _scalar(opt, value)
    if kind in (USER, MENTIONABLE) and not isinstance(value, Role):
        from .world import as_user

        user = as_user(value)
        resolved.setdefault("users", {})[str(user.id)] = serialize.user_json(user)
        member = guild.members.get(user.id)
        if member is not None:
            perms = world.member_perms(user.id, channel)
            resolved.setdefault("members", {})[str(user.id)] = serialize.member_json(
                member, with_user=False, permissions=perms
            )
        return str(user.id)
    if kind in (ROLE, MENTIONABLE) and isinstance(value, Role):
        resolved.setdefault("roles", {})[str(value.id)] = serialize.role_json(value)
        return str(value.id)
    if kind == CHANNEL and isinstance(value, Channel):
        return _resolve_channel(world, opt, value, resolved)
    if kind == ATTACHMENT:
        from .messaging import store_upload

        att = store_upload(world, channel.id, value)
        resolved.setdefault("attachments", {})[str(att.id)] = serialize.attachment_json(att)
        return str(att.id)
    raise ValueError(f"option {name!r} (type {kind}) cannot take {value!r}")


def _scalar(opt: JSON, value: Any) -> Any:
    kind, name = int(opt["type"]), opt["name"]
    ok = {
        STRING: isinstance(value, str),
        INTEGER: isinstance(value, int) and not isinstance(value, bool),
        NUMBER: isinstance(value, (int, float)) and not isinstance(value, bool),
        BOOLEAN: isinstance(value, bool),
    }[kind]
    if not ok:
        raise ValueError(f"option {name!r} (type {kind}) cannot take {value!r}")
    choices = opt.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"option {name!r} must be one of {[c['value'] for c in choices]}")
    if kind in (INTEGER, NUMBER):
        low, high = opt.get("min_value"), opt.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"option {name!r} out of range [{low}, {high}]")
    if kind == STRING:
        low, high = opt.get("min_length", 0), opt.get("max_length", 6000)
        if not low <= len(value) <= high:
            raise ValueError(f"option {name!r} length out of range [{low}, {high}]")
    return value


def _resolve_channel(world: World, opt: JSON, channel: Channel, resolved: JSON) -> str:
    allowed = opt.get("channel_types")
    if allowed and channel.type not in allowed:
        raise ValueError(f"option {opt['name']!r} accepts channel types {allowed}, not {channel.type}")
    data = serialize.channel_json(channel)
    data["permissions"] = str(world.bot_perms(channel))
    resolved.setdefault("channels", {})[str(channel.id)] = data
    return str(channel.id)


def user_can_see(world: World, user: User, cmd: Command, channel: Channel) -> bool:
    """Discord hides commands whose default_member_permissions the member lacks."""
    required = cmd.schema.get("default_member_permissions")
    if required is None:
        return True
    needed = int(required)
    perms = world.member_perms(user.id, channel)
    # "0" means admins only; everyone else needs every listed bit.
    return perms == ALL_PERMISSIONS if needed == 0 else perms & needed == needed
