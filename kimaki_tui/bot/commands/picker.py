"""Select menus for the multi-step commands (/model, /agent, /fork): pages of at most 25 options
(with "previous/next page" entries beyond that), and the guard every menu callback runs behind
(the channel must be this instance's, the user must have access, failures get a clear reply).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from kimaki_tui.bot import errors
from kimaki_tui.bot.commands.common import Place, bot_of, locate, permitted

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

SELECT_MAX = 25
PER_PAGE = SELECT_MAX - 2  # room for the two page-turning entries
PAGE_PREFIX = "page:"
LABEL_MAX = 100
VALUE_MAX = 100


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    value: str
    description: str = ""


def clip(text: str, limit: int = LABEL_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    return 1 if total <= SELECT_MAX else -(-total // per_page)


def page_options(
    choices: Sequence[Choice], page: int, per_page: int = PER_PAGE
) -> list[discord.SelectOption]:
    """One page of options: all of them when they fit in one menu, else `per_page` plus the
    "previous page" / "next page" entries whose values are `page:<n>`."""
    if len(choices) <= SELECT_MAX:
        shown, pages, page = list(choices), 1, 0
    else:
        pages = page_count(len(choices), per_page)
        page = min(max(page, 0), pages - 1)
        shown = list(choices[page * per_page : (page + 1) * per_page])
    options = [
        discord.SelectOption(
            label=clip(c.label), value=c.value, description=clip(c.description) if c.description else None
        )
        for c in shown
    ]
    if page > 0:
        label = f"◀ Previous page ({page}/{pages})"
        options.insert(0, discord.SelectOption(label=label, value=f"{PAGE_PREFIX}{page - 1}"))
    if page < pages - 1:
        label = f"Next page ({page + 2}/{pages}) ▶"
        options.append(discord.SelectOption(label=label, value=f"{PAGE_PREFIX}{page + 1}"))
    return options


def turned_page(value: str) -> int | None:
    """The page a "previous/next page" entry leads to, or None for a real choice."""
    if value.startswith(PAGE_PREFIX) and value[len(PAGE_PREFIX) :].isdigit():
        return int(value[len(PAGE_PREFIX) :])
    return None


def select(custom_id: str, choices: Sequence[Choice], page: int, placeholder: str) -> discord.ui.Select[Any]:
    pages = page_count(len(choices))
    suffix = f" (page {min(page, pages - 1) + 1}/{pages})" if pages > 1 else ""
    return discord.ui.Select(
        custom_id=custom_id, placeholder=clip(placeholder + suffix, 150), options=page_options(choices, page)
    )


def one_item_view(item: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(item)
    return view


Handler = Callable[["KimakiBot", Place], Awaitable[None]]


async def guarded(interaction: discord.Interaction, run: Handler) -> None:
    """Run a menu callback: silent outside this instance's channels, refusal without access,
    and any failure answered through the one error handler."""
    bot = bot_of(interaction)
    place = locate(bot, interaction.channel)
    if place is None:
        return
    try:
        refusal = permitted(bot, interaction.user)
        if refusal is not None:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        await run(bot, place)
    except Exception as exc:  # a component's boundary: the one handler explains it or logs the bug
        await errors.report(interaction, exc)
