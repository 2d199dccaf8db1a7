"""What a Discord message says beyond its own text — the message it replies to, a forwarded
message, link previews and other embeds, a poll — written out as context for the prompt.

The agent reads Discord through the prompt only: a reply like "do this for that one too" means
nothing without the message it answers, and a forward or a poll has no text of its own. The
formatting functions are pure (Discord JSON and strings in, text out); `message_context` reads them
off a discord.py message, fetching a replied-to message discord.py did not receive.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import discord

from kimaki_tui.bot.cli_marker import MARKER_PREFIX

log = logging.getLogger(__name__)

QUOTE_LIMIT = 1500  # characters of one quoted message: context, not a second prompt


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` as a markdown quote, cut to `limit` characters."""
    text = text.strip()
    if len(text) > limit:
        text = text[:limit].rstrip() + " …"
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def embed_text(embed: Mapping[str, Any]) -> str:
    """An embed's readable text (Discord JSON): author, title (with its link), description, fields
    as `name: value`, footer. Empty for an embed with none (an image preview)."""
    lines: list[str] = []
    if name := (embed.get("author") or {}).get("name"):
        lines.append(str(name))
    if title := embed.get("title"):
        lines.append(f"{title} ({embed['url']})" if embed.get("url") else str(title))
    if description := embed.get("description"):
        lines.append(str(description))
    lines += [f"{f.get('name', '')}: {f.get('value', '')}" for f in embed.get("fields") or []]
    footer = str((embed.get("footer") or {}).get("text") or "")
    if footer and not footer.startswith(MARKER_PREFIX):  # kimaki send's marker is not for the agent
        lines.append(footer)
    return "\n".join(lines)


def poll_text(question: str, answers: Sequence[str], multiple: bool) -> str:
    """A poll as the agent should read it: its question and numbered answers."""
    choice = "several answers may be chosen" if multiple else "one answer may be chosen"
    options = "\n".join(f"{n}. {answer}" for n, answer in enumerate(answers, 1))
    return f"Poll ({choice}): {question}\n{options}"


def forwarded_text(content: str, embeds: Iterable[Mapping[str, Any]], files: Sequence[str]) -> str:
    """A forwarded message: its text, its embeds' text and the names of its files, quoted."""
    parts = [content.strip(), *(embed_text(e) for e in embeds)]
    if files:
        parts.append("Files: " + ", ".join(files))
    body = "\n\n".join(p for p in parts if p)
    return "Forwarded message:\n" + quoted(body or "(nothing readable)")


def reply_text(author: str, content: str) -> str:
    return f"In reply to {author}:\n" + quoted(content or "(a message without text)")


def with_context(text: str, context: Sequence[str]) -> str:
    """The prompt: the context blocks, then what the person wrote (kept last so its suffixes, like
    `. queue`, still end it)."""
    return "\n\n".join([*context, text] if text else context)


async def message_context(message: discord.Message) -> list[str]:
    """The context blocks of `message`, in reading order: what it replies to, what it forwards,
    its link previews, its poll."""
    blocks: list[str] = []
    replied = await _replied_to(message)
    if replied is not None:
        blocks.append(reply_text(replied.author.display_name, _readable(replied)))
    for snapshot in message.message_snapshots:
        embeds = [e.to_dict() for e in snapshot.embeds]
        blocks.append(forwarded_text(snapshot.content, embeds, [a.filename for a in snapshot.attachments]))
    previews = [text for text in (embed_text(e.to_dict()) for e in message.embeds) if text]
    blocks += [f"Link preview:\n{quoted(text)}" for text in previews]
    if message.poll is not None:
        poll = message.poll
        blocks.append(poll_text(poll.question or "", [a.text for a in poll.answers], poll.multiple))
    return blocks


def has_more_than_text(message: discord.Message) -> bool:
    """A message with no text of its own that still says something (a forward, a poll)."""
    return bool(message.message_snapshots) or message.poll is not None


def _readable(message: discord.Message) -> str:
    parts = [message.clean_content, *(embed_text(e.to_dict()) for e in message.embeds)]
    return "\n\n".join(p for p in parts if p)


async def _replied_to(message: discord.Message) -> discord.Message | None:
    reference = message.reference
    if reference is None or reference.type is not discord.MessageReferenceType.reply:
        return None
    if isinstance(reference.resolved, discord.Message):
        return reference.resolved
    if isinstance(reference.resolved, discord.DeletedReferencedMessage) or reference.message_id is None:
        return None
    if reference.channel_id != message.channel.id:
        return None  # a reply across channels: not this conversation's context
    try:
        return await message.channel.fetch_message(reference.message_id)
    except discord.HTTPException as exc:
        log.info("could not read the message %s replies to: %s", message.id, exc)
        return None
