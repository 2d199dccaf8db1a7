"""A deterministic text rendering of a channel for assertions: authors, content, components, files.

    alice: hello
    Kimaki: Working on it
      [button: Accept] [button: Deny (disabled)]
      [attachment: diff.txt]

Edits are applied (the current state is shown), deleted messages are left out, no ids or times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import JSON, Message

if TYPE_CHECKING:
    from .world import World


def render_channel(world: World, channel_id: int) -> str:
    lines: list[str] = []
    for msg in world.channel_log(channel_id):
        if not msg.deleted:
            lines += render_message(world, msg)
    return "\n".join(lines)


def render_message(world: World, msg: Message) -> list[str]:
    author = msg.author.name
    if msg.type == 18:
        return [f"* {author} started a thread: {msg.content}"]
    tags = []
    if msg.reference is not None and msg.type == 19:
        ref = world.messages.get(int(msg.reference.get("message_id") or 0))
        tags.append(f"reply to {ref.author.name}" if ref is not None else "reply")
    if msg.visible_to is not None:
        tags.append(f"ephemeral to {world.users[msg.visible_to].name}")
    if msg.loading:
        tags.append("thinking")
    head = author + (f" ({', '.join(tags)})" if tags else "") + ":"
    text = msg.content.split("\n") if msg.content else []
    lines = [f"{head} {text[0]}" if text else head]
    lines += [f"  {line}" for line in text[1:]]
    lines += [f"  {line}" for line in _extras(world, msg)]
    return lines


def _extras(world: World, msg: Message) -> list[str]:
    lines: list[str] = []
    for embed in msg.embeds:
        parts = [str(embed[k]) for k in ("title", "description") if embed.get(k)]
        lines.append(f"[embed: {' | '.join(parts)}]")
    lines += _components(msg.components)
    for att in msg.attachments:
        kind = "voice message" if att.duration_secs is not None else "attachment"
        lines.append(f"[{kind}: {att.filename}]")
    reacted = [key.split(":")[0] for key, users in msg.reactions.items() if users]
    if reacted:
        lines.append(f"[reactions: {' '.join(reacted)}]")
    if msg.thread_id is not None and msg.thread_id in world.channels:
        lines.append(f"[thread: {world.channels[msg.thread_id].name}]")
    return lines


def _components(components: list[JSON]) -> list[str]:
    lines: list[str] = []
    for comp in components:
        kind = comp.get("type")
        if kind == 1:
            lines.append(" ".join(_interactive(c) for c in comp.get("components") or []))
        elif kind == 10:
            lines += str(comp.get("content", "")).split("\n")
        elif kind == 14:
            lines.append("---")
        elif kind in (9, 17):
            lines += _components(comp.get("components") or [])
            if isinstance(comp.get("accessory"), dict):
                lines.append(_interactive(comp["accessory"]))
        elif kind in (2, 3, 5, 6, 7, 8):
            lines.append(_interactive(comp))
        elif kind in (12, 13):
            lines.append(f"[{'gallery' if kind == 12 else 'file'}]")
    return lines


def _interactive(comp: JSON) -> str:
    kind = comp.get("type")
    suffix = " (disabled)" if comp.get("disabled") else ""
    if kind == 2:
        label = comp.get("label") or (comp.get("emoji") or {}).get("name") or ""
        if comp.get("style") == 5:
            return f"[link: {label} -> {comp.get('url')}]{suffix}"
        return f"[button: {label}]{suffix}"
    if kind == 3:
        options = ", ".join(str(o.get("label")) for o in comp.get("options") or [])
        placeholder = comp.get("placeholder") or comp.get("custom_id")
        return f"[select: {placeholder} | {options}]{suffix}"
    if kind == 11:
        return "[thumbnail]"
    return f"[component {kind}: {comp.get('custom_id', '')}]{suffix}"
