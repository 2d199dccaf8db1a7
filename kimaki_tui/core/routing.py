"""Whether a message in a bot thread asks the agent for an answer (`turn_routing = "heuristic"`).

In a thread several people share, not every message is for the agent. The heuristic, in order:
- a message that mentions the bot is for the agent;
- a message that starts by mentioning someone else is addressed to them;
- a bare acknowledgement ("thanks!", "ok", "lgtm", "👍", …: nothing else in it) needs no answer;
- anything else is for the agent.
A message that needs no answer still reaches the session, as context the agent sees next turn.

A message in a thread that ends with `. queue` is queued behind the running turn; one that ends
with `. btw` is a side question, answered in a fork of the session (its own `btw:` thread).

Mention mode (per channel) decides which channel messages start a thread: only those that mention
the bot (or its role) or start with `!`. In threads the bot owns every message still counts, except
one that starts by mentioning someone else (without mentioning the bot): that is context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_ACKNOWLEDGEMENT = re.compile(
    r"^(?:(?:thanks?(?: a lot| so much)?|thank you(?: so much)?|thx|ty|tysm|cheers|ok(?:ay)?|k|cool|"
    r"nice|great|perfect|awesome|got it|sounds good|lgtm|looks good|sure|yes thanks|merci|danke|"
    r"[\U0001F44D\U0001F64F\U0001F389\u2705\u2764\uFE0F\U0001F525\U0001F4AF]+)[\s!.,:)]*)+$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """What the heuristic reads of a message (the bot adapts Discord's message to this)."""

    text: str  # without mentions
    mentions_bot: bool = False
    starts_with_other_mention: bool = False
    author: str = ""
    shown: str = ""  # as people read it, mentions as @names (what `ai` routing asks about)


def needs_answer(message: ThreadMessage) -> bool:
    if message.mentions_bot:
        return True
    if message.starts_with_other_mention:
        return False
    text = message.text.strip()
    return bool(text) and not _ACKNOWLEDGEMENT.match(text)


ChannelAction = Literal["start", "ignore", "explain"]


def channel_action(message: ThreadMessage, *, linked: bool, mention_mode: bool) -> ChannelAction:
    """What a message in a text channel does: start a thread, nothing, or (a mention in a channel
    not linked to a project) get a reply saying how to link it."""
    if not linked:
        return "explain" if message.mentions_bot else "ignore"
    if message.starts_with_other_mention and not message.mentions_bot:
        return "ignore"  # addressed to someone else
    if mention_mode and not (message.mentions_bot or message.text.lstrip().startswith("!")):
        return "ignore"
    return "start"


def is_context(message: ThreadMessage, *, mention_mode: bool) -> bool:
    """In mention mode, a thread message that starts by addressing someone else is context only."""
    return mention_mode and message.starts_with_other_mention and not message.mentions_bot


_QUEUE_SUFFIX = re.compile(r"\s*\.\s*queue\s*$", re.IGNORECASE)


def queue_suffix(text: str) -> tuple[str, bool]:
    """A message ending in `. queue` waits for the running turn instead of interrupting it: the
    text without the suffix, and whether it was there."""
    stripped = _QUEUE_SUFFIX.sub("", text)
    return (stripped, True) if stripped != text and stripped.strip() else (text, False)


# Punctuation or a line break before "btw": a message that merely ends with the word is a prompt.
_BTW_SUFFIX = re.compile(r"(?:(?<=[.!?,;:])|\n)\s*btw\.?\s*$", re.IGNORECASE)


def btw_suffix(text: str) -> tuple[str, bool]:
    """A message ending in `. btw` is a side question: the text without the suffix, and whether it
    was there."""
    stripped = _BTW_SUFFIX.sub("", text).rstrip(" \t\n.,;:")  # a question mark stays
    return (stripped, True) if stripped != text and stripped.strip() else (text, False)


def side_question(question: str, parent_session_id: str) -> str:
    """The prompt a `btw` fork runs: the question, framed so the agent answers it and stops."""
    return (
        f"This is a side question asked in a copy of session {parent_session_id}. Answer only this "
        "question, briefly; do not resume or change the work that session was doing.\n\n"
        f"Question:\n{question}"
    )
