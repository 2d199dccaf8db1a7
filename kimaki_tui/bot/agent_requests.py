"""The bot's side of the agent's Discord tools: the buttons, upload prompts and files an agent asks
for in its session's thread, and the waits for a person's answer.

Each waiting request has a short token; its components carry it in namespaced custom_ids:
`kimaki:tool:<token>:b<index>` (a button), `kimaki:tool:<token>:up` (the "Upload files" button,
which opens a modal with a file field) and `kimaki:tool:<token>:modal` (that modal). The first
answer from someone with access wins; the message then says who chose what and loses its buttons.
Waits live in memory only: after a restart OpenCode's tool call is gone too, so a click on a
leftover button just says the request expired. Plain values cross back to the caller (a label, a
list of saved paths, None for "nobody answered in time"); the composition root turns them into
the agent tools' results.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import secrets
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, cast

import discord

from kimaki_tui.bot import errors
from kimaki_tui.bot.access import check, display_name
from kimaki_tui.errors import KimakiError
from kimaki_tui.private_files import write_private

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

UPLOAD_DIR = "uploads"  # inside the project: where files the agent asked for land
EXPIRED_TEXT = "This request has expired or was already answered."
_TOKEN = r"[A-Za-z0-9_\-]{6,32}"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\-]+")


class RequestFailed(KimakiError):
    """Discord refused to show the request (the thread is gone, no permission...): the agent is told."""


class _Waiting:
    """One request waiting for a person: what it offers and the future its answer resolves."""

    def __init__(self, labels: Sequence[str], directory: Path | None, max_files: int) -> None:
        self.labels = tuple(labels)
        self.directory = directory
        self.max_files = max_files
        self.answer: asyncio.Future[str | list[Path]] = asyncio.get_running_loop().create_future()


class AgentRequests:
    """The requests one bot has shown and not yet seen answered, by token."""

    def __init__(self, bot: KimakiBot) -> None:
        self._bot = bot
        self._waiting: dict[str, _Waiting] = {}

    def get(self, token: str) -> _Waiting | None:
        waiting = self._waiting.get(token)
        return waiting if waiting is not None and not waiting.answer.done() else None

    async def offer_buttons(
        self, thread_id: str, prompt: str, labels: Sequence[str], timeout: float
    ) -> str | None:
        """The label a person clicked, or None when `timeout` passed first."""
        token, waiting = self._new(labels, None, 0)
        view = discord.ui.View(timeout=None)
        for index, label in enumerate(labels):
            view.add_item(ToolButton(token, f"b{index}", label))
        answer = await self._show_and_wait(thread_id, token, waiting, prompt, view, timeout)
        return answer if isinstance(answer, str) else None

    async def ask_files(
        self, thread_id: str, directory: Path, prompt: str, max_files: int, timeout: float
    ) -> list[Path] | None:
        """The files a person uploaded, saved under <directory>/uploads/, or None after `timeout`."""
        token, waiting = self._new((), directory, max_files)
        view = discord.ui.View(timeout=None)
        view.add_item(ToolButton(token, "up", "Upload files"))
        text = f"📎 {prompt}\n-# Up to {max_files} file(s)."
        answer = await self._show_and_wait(thread_id, token, waiting, text, view, timeout)
        return answer if isinstance(answer, list) else None

    async def send_file(self, thread_id: str, name: str, data: bytes, caption: str) -> None:
        thread = await self._thread(thread_id)
        try:
            await thread.send(caption or None, file=discord.File(io.BytesIO(data), filename=name))
        except discord.HTTPException as exc:
            raise RequestFailed(f"Discord refused the file: {exc.text or exc}") from None

    def _new(self, labels: Sequence[str], directory: Path | None, max_files: int) -> tuple[str, _Waiting]:
        token = secrets.token_urlsafe(9)
        waiting = self._waiting[token] = _Waiting(labels, directory, max_files)
        return token, waiting

    async def _show_and_wait(
        self, thread_id: str, token: str, waiting: _Waiting, text: str, view: discord.ui.View, timeout: float
    ) -> str | list[Path] | None:
        try:
            thread = await self._thread(thread_id)
            try:
                message = await thread.send(text, view=view)
            except discord.HTTPException as exc:
                raise RequestFailed(f"Discord refused the request: {exc.text or exc}") from None
            try:
                async with asyncio.timeout(timeout):
                    return await asyncio.shield(waiting.answer)
            except TimeoutError:
                await _close(message, f"{text}\n-# ⌛ Expired: nobody answered in time.")
                return None
            except asyncio.CancelledError:
                await _close(message, f"{text}\n-# The agent stopped waiting.")
                raise
        finally:
            self._waiting.pop(token, None)

    async def _thread(self, thread_id: str) -> discord.Thread:
        channel = self._bot.get_channel(int(thread_id))
        if channel is None:
            try:
                channel = await self._bot.fetch_channel(int(thread_id))
            except discord.HTTPException as exc:
                raise RequestFailed(f"cannot reach the session's thread: {exc.text or exc}") from None
        if not isinstance(channel, discord.Thread):
            raise RequestFailed(f"{thread_id} is not a thread")
        return channel


async def _close(message: discord.Message, text: str) -> None:
    """Take the request's buttons down (best effort: the thread may be gone)."""
    with contextlib.suppress(discord.HTTPException):
        await message.edit(content=text[:2000], view=None)


def _requests(interaction: discord.Interaction) -> AgentRequests:
    return cast("KimakiBot", interaction.client).agent_requests


async def _allowed(interaction: discord.Interaction) -> bool:
    bot = cast("KimakiBot", interaction.client)
    decision = check(interaction.user, bot.user, bot.settings.discord)
    if not decision.allowed:
        text = decision.reply or "You cannot use kimaki here."
        await interaction.response.send_message(text, ephemeral=True)
    return decision.allowed


class ToolButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"kimaki:tool:(?P<token>{_TOKEN}):(?P<what>b\d|up)",
):
    def __init__(self, token: str, what: str, label: str = "") -> None:
        style = discord.ButtonStyle.primary if what == "up" else discord.ButtonStyle.secondary
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label[:80] or "…", style=style, custom_id=f"kimaki:tool:{token}:{what}"
        )
        super().__init__(button)
        self.token = token
        self.what = what

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ToolButton:
        return cls(match["token"], match["what"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if not await _allowed(interaction):
                return
            waiting = _requests(interaction).get(self.token)
            if waiting is None:
                await interaction.response.send_message(EXPIRED_TEXT, ephemeral=True)
            elif self.what == "up":
                await interaction.response.send_modal(UploadModal(self.token, waiting.max_files))
            else:
                await self._clicked(interaction, waiting)
        except Exception as exc:  # a component's boundary: the one handler explains it or logs the bug
            await errors.report(interaction, exc)

    async def _clicked(self, interaction: discord.Interaction, waiting: _Waiting) -> None:
        index = int(self.what[1:])
        if index >= len(waiting.labels):
            await interaction.response.send_message(EXPIRED_TEXT, ephemeral=True)
            return
        label = waiting.labels[index]
        waiting.answer.set_result(label)
        content = interaction.message.content if interaction.message is not None else ""
        chosen = f"{content}\n-# ✓ {display_name(interaction.user)} chose **{label}**"
        await interaction.response.edit_message(content=chosen[:2000], view=None)


class UploadModal(discord.ui.Modal):
    """The upload prompt: one file field (Discord's modal file upload)."""

    def __init__(self, token: str, max_files: int) -> None:
        super().__init__(title="Upload files for the agent", custom_id=f"kimaki:tool:{token}:modal")
        self.token = token
        self.files: discord.ui.FileUpload[Any] = discord.ui.FileUpload(
            custom_id="files", min_values=1, max_values=max(1, min(max_files, 10))
        )
        self.add_item(discord.ui.Label(text="Files", component=self.files))

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        try:
            await self._submitted(interaction)
        except Exception as exc:  # a modal's boundary: the one handler explains it or logs the bug
            await errors.report(interaction, exc)

    async def _submitted(self, interaction: discord.Interaction) -> None:
        waiting = _requests(interaction).get(self.token)
        if waiting is None or waiting.directory is None:
            await interaction.response.send_message(EXPIRED_TEXT, ephemeral=True)
            return
        await interaction.response.defer()
        saved = [await _save(a, waiting.directory) for a in self.files.values[: waiting.max_files]]
        if not waiting.answer.done():
            waiting.answer.set_result(saved)
        names = ", ".join(p.name for p in saved)
        if interaction.message is not None:
            content = f"{interaction.message.content}\n-# ✓ {display_name(interaction.user)} uploaded {names}"
            await _close(interaction.message, content)


async def _save(attachment: discord.Attachment, directory: Path) -> Path:
    """Save an upload under <project>/uploads/ with a safe, unused name; the absolute path."""
    folder = directory / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = _SAFE_NAME.sub("_", PurePath(attachment.filename).name).strip("._") or "upload"
    target = folder / stem
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{PurePath(stem).stem}-{counter}{PurePath(stem).suffix}"
    write_private(target, await attachment.read())
    return target.resolve()


DYNAMIC_TOOL_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ToolButton,)
