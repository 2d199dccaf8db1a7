"""How the bot answers interactions: the callback (types 4-9), followups and the @original message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import messaging, serialize
from .errors import ApiError, invalid_form, unknown
from .interactions import APPLICATION_COMMAND, AUTOCOMPLETE, COMPONENT, MODAL_SUBMIT, Interaction, is_expired
from .limits import check_choices, check_modal
from .messaging import Draft
from .model import JSON, Message, MessageFlag

if TYPE_CHECKING:
    from .world import World

# Which callback types Discord accepts for each interaction type.
_ALLOWED = {
    APPLICATION_COMMAND: {4, 5, 9},
    COMPONENT: {4, 5, 6, 7, 9},
    AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5, 6, 7},
}


def callback(world: World, inter: Interaction, kind: int, draft: Draft) -> JSON:
    """Apply `POST /interactions/{id}/{token}/callback`; returns the with_response body."""
    if inter.acknowledged:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.", kind="protocol")
    if is_expired(inter):
        raise ApiError(404, 10062, "Unknown interaction (answered too late)", kind="timeout")
    if kind not in _ALLOWED[inter.type] or (kind in (6, 7) and inter.message is None):
        raise invalid_form([("type", "INTERACTION_RESPONSE_TYPE_INVALID", f"Callback {kind} not valid here")])
    handler = {4: _reply, 5: _defer, 6: _defer_update, 7: _update, 8: _choices, 9: _modal}[kind]
    resource = handler(world, inter, draft)
    inter.callback_type = kind
    world.changes.notify()
    return _callback_body(world, inter, kind, resource)


def _callback_body(world: World, inter: Interaction, kind: int, resource: Message | None) -> JSON:
    body: JSON = {
        "interaction": {
            "id": str(inter.id),
            "type": inter.type,
            "response_message_id": str(resource.id) if resource else None,
            "response_message_loading": bool(resource and resource.loading),
            "response_message_ephemeral": bool(resource and resource.ephemeral),
        }
    }
    if resource is not None:
        body["resource"] = {"type": kind, "message": serialize.message_json(world, resource)}
    return body


def _response_message(world: World, inter: Interaction, flags: int) -> Message:
    msg = messaging.new_message(
        world,
        inter.channel,
        world.bot_user,
        type=20 if inter.type == APPLICATION_COMMAND else 0,
        webhook_id=world.app_id,
        application_id=world.app_id,
    )
    msg.flags = flags & (MessageFlag.EPHEMERAL | MessageFlag.LOADING)
    if msg.ephemeral:
        msg.visible_to = inter.user.id
    msg.interaction_metadata = inter.metadata()
    return msg


def _reply(world: World, inter: Interaction, draft: Draft) -> Message:
    messaging.validate(world, draft)
    msg = _response_message(world, inter, int(draft.fields.get("flags") or 0))
    messaging.apply_draft(world, msg, draft, creating=True)
    inter.original = msg
    return messaging.post(world, inter.channel, msg)


def _defer(world: World, inter: Interaction, draft: Draft) -> Message:
    flags = int(draft.fields.get("flags") or 0) | MessageFlag.LOADING
    msg = _response_message(world, inter, flags)
    inter.original = msg
    return messaging.post(world, inter.channel, msg)


def _defer_update(world: World, inter: Interaction, draft: Draft) -> None:
    inter.original = inter.message
    return None


def _update(world: World, inter: Interaction, draft: Draft) -> Message:
    assert inter.message is not None
    inter.original = messaging.edit(world, inter.message, draft)
    return inter.original


def _choices(world: World, inter: Interaction, draft: Draft) -> None:
    choices = draft.fields.get("choices")
    errors = check_choices(choices)
    if errors:
        raise invalid_form(errors)
    inter.choices = list(choices or [])
    return None


def _modal(world: World, inter: Interaction, draft: Draft) -> None:
    errors = check_modal({"data": draft.fields} | draft.fields)
    if errors:
        raise invalid_form(errors)
    inter.modal = serialize.strip(draft.fields)
    return None


# -- webhook side: @original and followups --------------------------------------------------------


def original(inter: Interaction) -> Message:
    if inter.original is None or inter.original.deleted:
        raise unknown("Message")
    return inter.original


def edit_original(world: World, inter: Interaction, draft: Draft) -> Message:
    msg = original(inter)
    if msg.loading:
        messaging.validate(world, draft)
        msg.flags &= ~MessageFlag.LOADING
        messaging.apply_draft(world, msg, draft, creating=False)
        msg.pinged = messaging.pinged_users(world, msg)  # the "thinking" message's first content
        messaging.edited(world, msg)
        return msg
    return messaging.edit(world, msg, draft)


def followup(world: World, inter: Interaction, draft: Draft) -> Message:
    """A followup message; right after a 'thinking' defer Discord edits the loading message instead."""
    if not inter.acknowledged:
        raise unknown("Webhook")
    if inter.original is not None and inter.original.loading and not inter.original.deleted:
        return edit_original(world, inter, draft)
    messaging.validate(world, draft)
    msg = _response_message(world, inter, int(draft.fields.get("flags") or 0))
    msg.interaction_metadata = inter.metadata() | {"original_response_message_id": _original_id(inter)}
    messaging.apply_draft(world, msg, draft, creating=True)
    inter.followups.append(msg)
    return messaging.post(world, inter.channel, msg)


def _original_id(inter: Interaction) -> str | None:
    return str(inter.original.id) if inter.original is not None else None


def webhook_message(inter: Interaction, message_id: str) -> Message:
    if message_id == "@original":
        return original(inter)
    for msg in inter.followups:
        if str(msg.id) == message_id and not msg.deleted:
            return msg
    raise unknown("Message")
