"""Turn a Discord message's attachments into prompt material: images and PDFs become OpenCode file
parts, text files are inlined (or saved and referenced when large), and the rest is refused with a
reason the user sees. Discord's "send long message as file" (a lone message.txt) is the message.

Every attachment, message.txt included, is checked against the size limits before it is
downloaded (Discord says its size up front), and a refusal names the file and its size, never
what is in it. A download that fails (twice) or a file that cannot be saved is left out with a
reason, never silently.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import aiohttp
import discord

from kimaki_tui.core.prompts import FileInput
from kimaki_tui.private_files import write_private

log = logging.getLogger(__name__)

IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-yaml",
    "application/yaml",
    "application/toml",
    "application/x-sh",
    "application/typescript",
)
# Source and text files OpenCode can read (a long word list reads better as one string).
_TEXT_EXTENSION_WORDS = (
    "txt md markdown rst csv tsv log json jsonl yaml yml toml ini cfg conf xml html htm css scss js mjs "
    "cjs ts tsx jsx py pyi rb go rs java kt kts c h cc cpp hpp cs swift php pl lua sh bash zsh fish ps1 "
    "sql graphql proto vue svelte dart scala clj ex exs erl hs ml tex diff patch env gitignore dockerfile "
    "makefile"
)
TEXT_EXTENSIONS = frozenset(_TEXT_EXTENSION_WORDS.split())
# Audio is transcribed by bot/voice.py (the format is then told by the bytes, not the name).
AUDIO_EXTENSIONS = frozenset(["ogg", "oga", "opus", "wav", "mp3", "flac", "aac", "aiff", "aif", "m4a"])
LONG_MESSAGE_NAME = "message.txt"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\-]+")


@dataclass
class Prepared:
    """The prompt text with inlined files, the file parts, and what was refused (one line each)."""

    text: str
    files: list[FileInput] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not self.files

    def left_out(self) -> str:
        """The refusals as one line for the user (2000 characters at most)."""
        return ("⚠️ Left out: " + "; ".join(self.problems))[:2000]


def kind_of(filename: str, content_type: str | None) -> str:
    """One of "image", "pdf", "text", "audio" or "other" — by content type, else by extension (discord.py
    uploads everything as application/octet-stream)."""
    mime = (content_type or "").split(";")[0].strip().lower()
    ext = PurePath(filename.lower()).suffix.lstrip(".") or PurePath(filename.lower()).name
    if mime in IMAGE_TYPES.values() or (ext in IMAGE_TYPES and not mime.startswith("text/")):
        return "image"
    if mime == "application/pdf" or ext == "pdf":
        return "pdf"
    if mime.startswith("text/") or mime in TEXT_TYPES or ext in TEXT_EXTENSIONS:
        return "text"
    if mime.startswith("audio/") or ext in AUDIO_EXTENSIONS:
        return "audio"
    return "other"


def is_audio(attachment: discord.Attachment) -> bool:
    return attachment.is_voice_message() or kind_of(attachment.filename, attachment.content_type) == "audio"


async def prepare(
    message: discord.Message,
    text: str,
    *,
    save_dir: Path,
    max_inline: int,
    max_size: int,
    exclude: str | None = None,
) -> Prepared:
    """`text` is the message text already cleaned of mentions; `save_dir` receives large text files;
    the attachment named `exclude` (a CLI message's prompt file) is not material."""
    attachments = [a for a in message.attachments if not is_audio(a) and a.filename != exclude]
    result = Prepared(text)
    audio = [a.filename for a in message.attachments if is_audio(a)]
    if len(audio) > 1:  # bot/voice.py transcribes the first one
        result.problems.append(f"only `{audio[0]}` was transcribed (send one audio file per message)")
    lone = attachments[0] if len(attachments) == 1 and not text.strip() else None
    if lone is not None and lone.filename == LONG_MESSAGE_NAME and lone.size <= max_inline:
        body = await _read_text(lone, max_size, result)
        if body is not None:
            result.text = body
            return result
    # A larger message.txt is handled like any text file below: refused over max_size, else saved.
    for attachment in attachments:
        await _add(attachment, result, save_dir=save_dir, max_inline=max_inline, max_size=max_size)
    return result


def _too_large(attachment: discord.Attachment, max_size: int, result: Prepared) -> bool:
    if attachment.size <= max_size:
        return False
    size, limit = _size(attachment.size), _size(max_size)
    result.problems.append(f"`{attachment.filename}` is too large ({size}; the limit is {limit})")
    return True


async def _add(
    attachment: discord.Attachment, result: Prepared, *, save_dir: Path, max_inline: int, max_size: int
) -> None:
    name = attachment.filename
    if _too_large(attachment, max_size, result):
        return
    kind = kind_of(name, attachment.content_type)
    if kind == "other":
        result.problems.append(f"`{name}` is not supported (only images, PDFs and text files are)")
        return
    if kind == "text":
        body = await _read_text(attachment, max_size, result)
        if body is None:
            return
        try:
            result.text = _append(result.text, _text_block(name, body, save_dir, max_inline))
        except OSError as exc:  # a full disk, for one
            log.warning("could not save attachment %s: %s", name, exc)
            result.problems.append(f"`{name}` could not be saved ({exc.strerror or exc})")
        return
    data = await _download(attachment, result)
    if data is None:
        return
    mime = "application/pdf" if kind == "pdf" else _image_mime(name, attachment.content_type)
    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    result.files.append(FileInput(url=url, mime=mime, filename=name))


async def _read_text(attachment: discord.Attachment, max_size: int, result: Prepared) -> str | None:
    if _too_large(attachment, max_size, result):
        return None
    data = await _download(attachment, result)
    if data is None:
        return None
    if len(data) > max_size:  # Discord's size was wrong: still never keep more than the limit
        result.problems.append(f"`{attachment.filename}` is larger than it said; it was left out")
        return None
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError:
        result.problems.append(f"`{attachment.filename}` is not UTF-8 text, so it was left out")
        return None
    if "\x00" in body:
        result.problems.append(f"`{attachment.filename}` looks binary, so it was left out")
        return None
    return body


async def _download(attachment: discord.Attachment, result: Prepared, attempts: int = 2) -> bytes | None:
    """The attachment's bytes; None (and a problem the user is told) when Discord would not give them."""
    reason = ""
    for attempt in range(1, attempts + 1):
        try:
            return await attachment.read()
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            reason = _download_error(exc)
            log.warning("download of %s failed (attempt %d): %s", attachment.filename, attempt, reason)
            if isinstance(exc, discord.NotFound | discord.Forbidden):
                break  # gone or not ours: trying again cannot help
            if attempt < attempts:
                await asyncio.sleep(0.5 * attempt)
    name = attachment.filename
    result.problems.append(f"`{name}` could not be downloaded from Discord ({reason}); send it again")
    return None


def _download_error(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"{exc.status} {exc.response.reason or ''}".strip()
    return str(exc) or type(exc).__name__


def _text_block(name: str, body: str, save_dir: Path, max_inline: int) -> str:
    if len(body.encode()) <= max_inline:
        longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
        fence = "`" * max(3, longest + 1)
        lang = PurePath(name).suffix.lstrip(".")
        return f"Attached file `{name}`:\n{fence}{lang}\n{body.rstrip()}\n{fence}"
    path = save_dir / (_SAFE_NAME.sub("_", PurePath(name).name) or "attachment.txt")
    write_private(path, body)
    return (
        f"Attached file `{name}` ({_size(len(body.encode()))}) is too long to include; "
        f"it was saved at {path} — read it from there."
    )


def _append(text: str, block: str) -> str:
    return f"{text.rstrip()}\n\n{block}" if text.strip() else block


def _image_mime(name: str, content_type: str | None) -> str:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime.startswith("image/"):
        return mime
    return IMAGE_TYPES.get(PurePath(name.lower()).suffix.lstrip("."), "image/png")


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.1f} MB"
    return f"{count / 1024:.0f} KB" if count >= 1024 else f"{count} bytes"
