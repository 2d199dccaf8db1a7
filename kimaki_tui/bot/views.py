"""Persistent components: permission buttons and question menus as DynamicItems, so a click still
works after a bot restart (the custom_id carries the request id; no view is kept in memory).

custom_ids: `kimaki:perm:<once|always|reject>:<request id>`, `kimaki:q:<request id>:<index>`,
`kimaki:qo:<request id>` (the "Other…" button).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import discord

from kimaki_tui.bot import errors
from kimaki_tui.bot.access import OUT_OF_SCOPE_TEXT, check, display_name, in_scope
from kimaki_tui.core.events import PermissionReply, QuestionRequest

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

MAX_SELECTS = 4  # five action rows: one per question, one for "Other…"
_ID = r"[A-Za-z0-9_\-]+"
_PERM_LABELS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "once": ("Accept", discord.ButtonStyle.success),
    "always": ("Accept Always", discord.ButtonStyle.success),
    "reject": ("Deny", discord.ButtonStyle.secondary),
}
OTHER_TEXT = "Type your answer as a message in this thread — it answers the question."
NOT_ANSWERED_TEXT = "This question was already answered or has expired."


def _bot(interaction: discord.Interaction) -> KimakiBot:
    return cast("KimakiBot", interaction.client)


async def _guarded(interaction: discord.Interaction, run: Callable[[KimakiBot], Awaitable[None]]) -> None:
    """Refuse users without access (ephemeral), route failures to the one error handler."""
    bot = _bot(interaction)
    try:
        if not in_scope(interaction.channel, bot.settings.discord):
            await interaction.response.send_message(OUT_OF_SCOPE_TEXT, ephemeral=True)
            return
        decision = check(interaction.user, bot.user, bot.settings.discord)
        if not decision.allowed:
            text = decision.reply or "You cannot use kimaki here."
            await interaction.response.send_message(text, ephemeral=True)
            return
        await run(bot)
    except Exception as exc:  # a component's boundary: the one handler explains it or logs the bug
        await errors.report(interaction, exc)


class PermissionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"kimaki:perm:(?P<reply>once|always|reject):(?P<request>{_ID})",
):
    def __init__(self, reply: str, request_id: str) -> None:
        label, style = _PERM_LABELS[reply]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, style=style, custom_id=f"kimaki:perm:{reply}:{request_id}"
        )
        super().__init__(button)
        self.reply = cast(PermissionReply, reply)
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PermissionButton:
        return cls(match["reply"], match["request"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, lambda bot: self._answer(bot, interaction))

    async def _answer(self, bot: KimakiBot, interaction: discord.Interaction) -> None:
        # The prompt message is edited when the core announces the outcome (whoever answered).
        await interaction.response.defer()
        by = display_name(interaction.user)
        result = await bot.core.approvals.answer_permission(
            self.request_id, self.reply, by=by, origin="discord"
        )
        if not result.ok:
            await interaction.followup.send(result.message or "That did not work.", ephemeral=True)


def permission_view(request_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for reply in ("once", "always", "reject"):
        view.add_item(PermissionButton(reply, request_id))
    return view


class QuestionSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"kimaki:q:(?P<request>{_ID}):(?P<index>\d+)"
):
    def __init__(self, select: discord.ui.Select[Any], request_id: str, index: int) -> None:
        super().__init__(select)
        self.request_id = request_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> QuestionSelect:
        select = cast("discord.ui.Select[Any]", item)
        return cls(select, match["request"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, lambda bot: self._answer(bot, interaction))

    async def _answer(self, bot: KimakiBot, interaction: discord.Interaction) -> None:
        approvals = bot.core.approvals
        request = approvals.question(self.request_id)
        if request is None:
            await interaction.response.send_message(NOT_ANSWERED_TEXT, ephemeral=True)
            return
        labels = _labels(request, self.index, self.item.values)
        answers = approvals.pick(self.request_id, self.index, labels)
        if answers is None:
            await interaction.response.send_message(
                f"Noted: {', '.join(labels)} — answer the other questions too.", ephemeral=True
            )
            return
        await interaction.response.defer()
        by = display_name(interaction.user)
        result = await approvals.answer_question(self.request_id, answers, by=by, origin="discord")
        if not result.ok:
            await interaction.followup.send(result.message or NOT_ANSWERED_TEXT, ephemeral=True)


class QuestionOtherButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"kimaki:qo:(?P<request>{_ID})"
):
    def __init__(self, request_id: str) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Other…", style=discord.ButtonStyle.secondary, custom_id=f"kimaki:qo:{request_id}"
        )
        super().__init__(button)
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> QuestionOtherButton:
        return cls(match["request"])

    async def callback(self, interaction: discord.Interaction) -> None:
        async def run(bot: KimakiBot) -> None:
            pending = bot.core.approvals.question(self.request_id) is not None
            text = OTHER_TEXT if pending else NOT_ANSWERED_TEXT
            await interaction.response.send_message(text, ephemeral=True)

        await _guarded(interaction, run)


def question_options(question: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    options = question.get("options")
    return [o for o in options[:25] if isinstance(o, Mapping)] if isinstance(options, list) else []


def _labels(request: QuestionRequest, index: int, values: Sequence[str]) -> list[str]:
    """Select values are option indexes (labels may exceed Discord's 100-character value limit)."""
    options = question_options(request.questions[index]) if index < len(request.questions) else []
    return [str(options[int(v)].get("label") or "") for v in values if v.isdigit() and int(v) < len(options)]


def question_view(request: QuestionRequest) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for index, question in enumerate(request.questions[:MAX_SELECTS]):
        options = question_options(question)
        if not options:
            continue
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"kimaki:q:{request.request_id}:{index}",
            placeholder=_clip(str(question.get("header") or question.get("question") or "Choose"), 150),
            min_values=1,
            max_values=len(options) if question.get("multiple") else 1,
            options=[
                discord.SelectOption(
                    label=_clip(str(o.get("label") or f"Option {i + 1}"), 100),
                    value=str(i),
                    description=_clip(str(o["description"]), 100) if o.get("description") else None,
                )
                for i, o in enumerate(options)
            ],
        )
        view.add_item(QuestionSelect(select, request.request_id, index))
    view.add_item(QuestionOtherButton(request.request_id))
    return view


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    PermissionButton,
    QuestionSelect,
    QuestionOtherButton,
)
