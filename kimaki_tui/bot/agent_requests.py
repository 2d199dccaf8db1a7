"""The bot's side of the agent's Discord tools: the buttons and upload prompts an agent asks for in
its session's thread, and the files it posts there.

The requests themselves live in the core (core.tool_requests), which the control center answers
too; each shows here as a message whose components carry the request id in namespaced custom_ids:
`kimaki:tool:<id>:b<index>` (a button), `kimaki:tool:<id>:up` (the "Upload files" button, which
opens a modal with a file field) and `kimaki:tool:<id>:modal` (that modal). A click from someone
with access answers the core's request; the first answer wins, wherever it came from. When the
request ends some other way (answered in the control center, expired, the agent stopped waiting),
`settle` edits the message to say so and takes its buttons down. After a restart the core has
forgotten the request (OpenCode's tool call is gone too), so a leftover button says it expired.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import discord

from kimaki_tui.bot import errors
from kimaki_tui.bot.access import check, display_name
from kimaki_tui.core.events import ToolRequest, ToolRequestResolved
from kimaki_tui.core.tool_requests import upload_target
from kimaki_tui.errors import KimakiError
from kimaki_tui.private_files import write_private

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

EXPIRED_TEXT = "This request has expired or was already answered."
_TOKEN = r"[A-Za-z0-9_\-]{6,32}"


class RequestFailed(KimakiError):
    """Discord refused to show the request (the thread is gone, no permission...): the agent is told."""


def request_text(request: ToolRequest) -> str:
    if request.kind == "files":
        return f"📎 {request.prompt}\n-# Up to {request.max_files} file(s)."
    return request.prompt


def settled_text(resolved: ToolRequestResolved) -> str:
    """The request's message once it ended: who answered what, or why nobody did."""
    text = request_text(resolved.request)
    if resolved.outcome == "expired":
        return f"{text}\n-# ⌛ Expired: nobody answered in time."
    if resolved.outcome == "cancelled":
        return f"{text}\n-# The agent stopped waiting."
    where = " (from the kimaki control center)" if resolved.origin == "control-center" else ""
    if resolved.label is not None:
        return f"{text}\n-# ✓ {resolved.by} chose **{resolved.label}**{where}"
    names = ", ".join(Path(p).name for p in resolved.paths)
    return f"{text}\n-# ✓ {resolved.by} uploaded {names}{where}"


class AgentRequests:
    """Shows the core's tool requests in a thread and settles their messages."""

    def __init__(self, bot: KimakiBot) -> None:
        self._bot = bot

    async def show(self, request: ToolRequest) -> discord.Message:
        """Post the request's message with its buttons (RequestFailed when Discord refuses)."""
        view = discord.ui.View(timeout=None)
        if request.kind == "files":
            view.add_item(ToolButton(request.request_id, "up", "Upload files"))
        else:
            for index, label in enumerate(request.labels):
                view.add_item(ToolButton(request.request_id, f"b{index}", label))
        thread = await self._thread(request.thread_id)
        try:
            return await thread.send(request_text(request), view=view)
        except discord.HTTPException as exc:
            raise RequestFailed(f"Discord refused the request: {exc.text or exc}") from None

    async def settle(self, message: discord.Message, resolved: ToolRequestResolved) -> None:
        """Take the buttons down and say how the request ended (a Discord answer edited it already)."""
        if resolved.outcome == "answered" and resolved.origin == "discord":
            return
        await _close(message, settled_text(resolved))

    async def send_file(self, thread_id: str, name: str, data: bytes, caption: str) -> None:
        thread = await self._thread(thread_id)
        try:
            await thread.send(caption or None, file=discord.File(io.BytesIO(data), filename=name))
        except discord.HTTPException as exc:
            raise RequestFailed(f"Discord refused the file: {exc.text or exc}") from None

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


def _pending(interaction: discord.Interaction, request_id: str) -> ToolRequest | None:
    return cast("KimakiBot", interaction.client).core.tool_requests.get(request_id)


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
            request = _pending(interaction, self.token)
            if request is None:
                await interaction.response.send_message(EXPIRED_TEXT, ephemeral=True)
            elif self.what == "up":
                await interaction.response.send_modal(UploadModal(self.token, request.max_files))
            else:
                await self._clicked(interaction, request)
        except Exception as exc:  # a component's boundary: the one handler explains it or logs the bug
            await errors.report(interaction, exc)

    async def _clicked(self, interaction: discord.Interaction, request: ToolRequest) -> None:
        index = int(self.what[1:])
        if index >= len(request.labels):
            await interaction.response.send_message(EXPIRED_TEXT, ephemeral=True)
            return
        label, by = request.labels[index], display_name(interaction.user)
        core = cast("KimakiBot", interaction.client).core
        result = core.tool_requests.choose(request.request_id, label, by=by, origin="discord")
        if not result.ok:
            await interaction.response.send_message(result.message or EXPIRED_TEXT, ephemeral=True)
            return
        chosen = f"{request_text(request)}\n-# ✓ {by} chose **{label}**"
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
        request = _pending(interaction, self.token)
        if request is None:
            await interaction.response.send_message(EXPIRED_TEXT, ephemeral=True)
            return
        await interaction.response.defer()
        directory = Path(request.directory)
        saved = [await _save(a, directory) for a in self.files.values[: request.max_files]]
        by = display_name(interaction.user)
        core = cast("KimakiBot", interaction.client).core
        result = core.tool_requests.give_files(request.request_id, saved, by=by, origin="discord")
        if not result.ok:
            await interaction.followup.send(result.message or EXPIRED_TEXT, ephemeral=True)
            return
        if interaction.message is not None:
            names = ", ".join(p.name for p in saved)
            await _close(interaction.message, f"{request_text(request)}\n-# ✓ {by} uploaded {names}")


async def _save(attachment: discord.Attachment, directory: Path) -> Path:
    """Save an upload under <project>/uploads/ with a safe, unused name; the absolute path."""
    data = await attachment.read()
    target = upload_target(directory, attachment.filename)
    write_private(target, data)
    return target.resolve()


DYNAMIC_TOOL_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ToolButton,)
