"""What the wizard tells a newcomer, and the install link it builds: shared by the TUI and the CLI.

The permission set is what the bot actually does: read and answer in project channels and their
threads, create those channels under a "Kimaki" category, manage the "Kimaki" access role, upload
files and react to messages.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from enum import IntFlag
from urllib.parse import urlencode

PORTAL_URL = "https://discord.com/developers/applications"
AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
SCOPES = ("bot", "applications.commands")


class Permission(IntFlag):
    """Discord permission bits the bot asks for (https://discord.com/developers/docs/topics/permissions)."""

    MANAGE_CHANNELS = 1 << 4
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MANAGE_ROLES = 1 << 28
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38


BOT_PERMISSIONS = int(
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.MANAGE_THREADS
    | Permission.MANAGE_CHANNELS
    | Permission.MANAGE_ROLES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ATTACH_FILES
    | Permission.ADD_REACTIONS
    | Permission.EMBED_LINKS
)

# Application flags (GET /oauth2/applications/@me): the Message Content switch on the Bot page.
# Bots in fewer than 100 servers get the LIMITED flag when the switch is on.
_MESSAGE_CONTENT_FLAGS = (1 << 18) | (1 << 19)


def install_url(app_id: str, permissions: int = BOT_PERMISSIONS) -> str:
    """The OAuth2 link that adds the bot to a server with its commands and permissions."""
    query = urlencode({"client_id": app_id, "permissions": str(permissions), "scope": " ".join(SCOPES)})
    return f"{AUTHORIZE_URL}?{query}"


def message_content_enabled(application_flags: int) -> bool:
    return bool(application_flags & _MESSAGE_CONTENT_FLAGS)


def channel_url(guild_id: str, channel_id: str) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}"


# -- step texts (plain text, wrapped for reading here; `blocks` re-flows them for the screen) ------

CREATE_APP = f"""Kimaki runs as your own Discord bot. First, create a Discord application for it:

  1. Open {PORTAL_URL} and sign in.
  2. Click "New Application" (top right), give it a name (for example "Kimaki"), accept the terms
     and click "Create".
  3. In the left menu, click "Bot". The application now has a bot user."""

INTENTS = """Let the bot read the messages you send it:

  1. Still on the "Bot" page, scroll to "Privileged Gateway Intents".
  2. Turn on "MESSAGE CONTENT INTENT" (required: without it the bot sees empty messages).
  3. "SERVER MEMBERS INTENT" is optional. Click "Save Changes"."""

TOKEN = """Give kimaki the bot's token:

  1. On the "Bot" page, click "Reset Token", confirm, and copy the token Discord shows once.
  2. Paste it below. It is checked with Discord right away and stored in your OS keyring,
     never in a file or the database."""

TOKEN_IN_FILE = """Give kimaki the bot's token:

  1. On the "Bot" page, click "Reset Token", confirm, and copy the token Discord shows once.
  2. Paste it below. It is checked with Discord right away and stored in {path}
     (plain text, readable only by you): this machine has no OS keyring and the secrets file
     is turned on (--secrets-file)."""

TOKEN_NO_KEYRING = """Give kimaki the bot's token:

  1. On the "Bot" page, click "Reset Token", confirm, and copy the token Discord shows once.
  2. Paste it below. It is checked with Discord right away. This machine has no OS keyring,
     so once Discord accepts it you choose where it goes: {path}
     (plain text, readable only by you), or the KIMAKI_BOT_TOKEN environment variable."""

NO_KEYRING_CHOICE = """Discord accepted the token, but there is no OS keyring to keep it in.
Keep it in {path} (plain text, readable only by you; later runs read it too, as with
--secrets-file), or set KIMAKI_BOT_TOKEN in kimaki's environment and start it again."""


def token_text(*, keyring: bool, file_allowed: bool, path: str) -> str:
    """The token step's words, true to where the token will go: the OS keyring when there is one;
    else the secrets file at `path` when that fallback is on; else the choice offered after the
    check."""
    if keyring:
        return TOKEN
    if file_allowed:
        return TOKEN_IN_FILE.format(path=path)
    return TOKEN_NO_KEYRING.format(path=path)


INSTALL = """Add the bot to a Discord server you manage with this link (it asks for the permissions
kimaki needs: read and send messages and threads, create the project channels, manage its
role, attach files, react):"""

WAIT_GUILD = "Waiting for the bot to join a server… (open the link above and pick a server)"

PROJECTS = """Pick the projects to drive from Discord. Each gets its own text channel under a
"Kimaki" category; messages there start OpenCode sessions in that directory."""

GEMINI = """Optional: a Gemini API key lets kimaki transcribe voice messages
(https://aistudio.google.com/apikey). Leave it empty to skip; you can add it later."""

MESSAGE_CONTENT_OFF = (
    'The Message Content intent looks off for this application: turn on "MESSAGE CONTENT INTENT" '
    "on the Bot page (Privileged Gateway Intents), or the bot will see empty messages."
)

PUBLIC_BOT = (
    "The bot is Public: anyone with its invite link or application id can add it to their own "
    "server. kimaki only serves servers you (or your team) own or allow (`kimaki guild list`), but "
    'turn it off: Developer Portal → your application → "Bot" → untick "PUBLIC BOT" → "Save Changes" '
    '(if Discord refuses, first set "Installation" → "Install Link" to "None").'
)


def identity_warnings(message_content: bool | None, public: bool | None) -> list[str]:
    """What to warn about once the token is checked (the same lines in both wizards)."""
    warnings = [MESSAGE_CONTENT_OFF] if message_content is False else []
    return [*warnings, PUBLIC_BOT] if public else warnings


TOKEN_HELP = 'Copy the token again from the "Bot" page ("Reset Token") and paste the whole value.'


# -- re-flowing the step texts to the reader's width ---------------------------------------------

_ITEM = re.compile(r"^(\s*(?:\d+\.|-)\s+)(.*)$")


@dataclass(frozen=True, slots=True)
class GuideBlock:
    """A paragraph (`marker` "") or a list item (`marker` "  1. "), its text on one line; `gap`:
    a blank line comes before it."""

    marker: str
    text: str
    gap: bool = False


def blocks(text: str) -> list[GuideBlock]:
    """`text` as paragraphs and list items whose wrapped lines are joined again, so a front end
    can wrap them to its own width (list items with a hanging indent)."""
    found: list[GuideBlock] = []
    for number, chunk in enumerate(text.strip("\n").split("\n\n")):
        current: GuideBlock | None = None
        for line in chunk.splitlines():
            item = _ITEM.match(line)
            if item or current is None:
                first_of_chunk = current is None
                if current is not None:
                    found.append(current)
                marker, body = (item.group(1), item.group(2)) if item else ("", line.strip())
                current = GuideBlock(marker, body, gap=first_of_chunk and number > 0)
            else:
                current = GuideBlock(current.marker, f"{current.text} {line.strip()}", current.gap)
        if current is not None:
            found.append(current)
    return found


def wrap(text: str, width: int) -> str:
    """`text` wrapped to `width` columns, list items with a hanging indent (for the CLI)."""
    lines: list[str] = []
    for block in blocks(text):
        if block.gap:
            lines.append("")
        indent = " " * len(block.marker)
        lines += textwrap.wrap(
            block.text,
            max(width, 20),
            initial_indent=block.marker,
            subsequent_indent=indent,
            break_long_words=False,  # a link stays whole (and clickable)
            break_on_hyphens=False,
        ) or [block.marker.rstrip()]
    return "\n".join(lines)
