"""Thinking levels (OpenCode model variants, e.g. low/high): `/model-variant` and the level step of
`/model`.

/model-variant: level of the model the next prompt uses → scope (session, channel, global). /model:
after a model that has levels, a level menu, then the scope, which stores both. A level is kept
beside the model choice of its scope (`core.preferences`); "the model's default" forgets it.
custom_ids: `kimaki:variant:v`, `kimaki:variant:scope:<level>`, `kimaki:model:v:<provider/model>`,
`kimaki:model:vs:<level>:<provider/model>`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import Place, enter, say
from kimaki_tui.bot.commands.picker import VALUE_MAX, Choice, guarded, one_item_view, select
from kimaki_tui.bot.commands.prefs import apply_choice, done_view, scope_options
from kimaki_tui.core.api import PreferenceScope

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

DEFAULT = "-"  # the menu value of "the model's own level" (None to the core)
STEP_PREFIX = "kimaki:model:v:"
STEP_SCOPE_PREFIX = "kimaki:model:vs:"
RERUN_TEXT = "⏩ The running answer was stopped; its prompt runs again at this level."


def level_choices(levels: tuple[str, ...]) -> list[Choice]:
    return [
        Choice("Model's default", DEFAULT, "No thinking level of its own"),
        *(Choice(v, v) for v in levels),
    ]


def level_text(level: str | None) -> str:
    return f"`{level}`" if level and level != DEFAULT else "the model's default"


def _scope_of(picked: str) -> PreferenceScope:
    return "session" if picked == "session" else "global" if picked == "global" else "channel"


def _in_session(bot: KimakiBot, place: Place) -> bool:
    return place.thread_id is not None and bot.core.conversations.get(place.thread_id) is not None


def step_fits(ref: str, levels: tuple[str, ...]) -> bool:
    """Whether the level step's menus can carry this model and its levels in their custom_ids."""
    longest = max((len(v) for v in (*levels, DEFAULT)), default=0)
    return len(STEP_SCOPE_PREFIX) + longest + 1 + len(ref) <= VALUE_MAX and all(":" not in v for v in levels)


# ---- /model's level step -------------------------------------------------------------------------


async def offer_levels(interaction: discord.Interaction, bot: KimakiBot, place: Place, ref: str) -> bool:
    """After /model's model menu: when the model has thinking levels, ask for one (True)."""
    catalog = await bot.core.preferences.providers(place.directory)
    model = catalog.model(ref)
    levels = model.variants if model is not None else ()
    if not levels or not step_fits(ref, levels):
        return False
    menu = select(STEP_PREFIX + ref, level_choices(levels), 0, "Thinking level")
    text = f"Model `{ref}` has thinking levels — pick one:"
    await interaction.edit_original_response(content=text, view=one_item_view(LevelStepSelect(menu, ref)))
    return True


class LevelStepSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"kimaki:model:v:(?P<ref>.+)"):
    def __init__(self, menu: discord.ui.Select[Any], ref: str) -> None:
        super().__init__(menu)
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LevelStepSelect:
        return cls(cast("discord.ui.Select[Any]", item), match["ref"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        level = self.item.values[0]
        options = scope_options("model", _in_session(bot, place))
        menu: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"{STEP_SCOPE_PREFIX}{level}:{self.ref}", placeholder="Use it for…", options=options
        )
        text = f"Where should model `{self.ref}` at {level_text(level)} apply?"
        await interaction.response.edit_message(content=text, view=one_item_view(LevelStepScopeSelect(menu)))


class LevelStepScopeSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"kimaki:model:vs:(?P<level>[^:]+):(?P<ref>.+)",
):
    def __init__(self, menu: discord.ui.Select[Any]) -> None:
        super().__init__(menu)
        level, _, self.ref = menu.custom_id.removeprefix(STEP_SCOPE_PREFIX).partition(":")
        self.level = None if level == DEFAULT else level

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LevelStepScopeSelect:
        return cls(cast("discord.ui.Select[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        await interaction.response.defer()
        scope = _scope_of(self.item.values[0])
        done = await apply_choice(bot, place, "model", self.ref, scope, level_step=True, variant=self.level)
        await interaction.edit_original_response(content=done, view=done_view("model", scope))


# ---- /model-variant ------------------------------------------------------------------------------


class LevelSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"kimaki:variant:v"):
    def __init__(self, menu: discord.ui.Select[Any]) -> None:
        super().__init__(menu)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LevelSelect:
        return cls(cast("discord.ui.Select[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        level = self.item.values[0]
        options = scope_options("model", _in_session(bot, place))
        menu: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"kimaki:variant:scope:{level}", placeholder="Use it for…", options=options
        )
        text = f"Where should thinking level {level_text(level)} apply?"
        await interaction.response.edit_message(
            content=text, view=one_item_view(LevelScopeSelect(menu, level))
        )


class LevelScopeSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"kimaki:variant:scope:(?P<level>.+)"
):
    def __init__(self, menu: discord.ui.Select[Any], level: str) -> None:
        super().__init__(menu)
        self.level = None if level == DEFAULT else level

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LevelScopeSelect:
        return cls(cast("discord.ui.Select[Any]", item), match["level"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        await interaction.response.defer()
        done = await apply_level(bot, place, self.level, _scope_of(self.item.values[0]))
        await interaction.edit_original_response(content=done, view=None)


async def apply_level(bot: KimakiBot, place: Place, level: str | None, scope: PreferenceScope) -> str:
    """Store the level and say so; a change for this thread's running turn runs its prompt again."""
    preferences = bot.core.preferences
    before = preferences.variant(channel_id=place.channel_id, thread_id=place.thread_id)
    used = await preferences.choose_variant(
        level, scope, channel_id=place.channel_id, thread_id=place.thread_id
    )
    after = preferences.variant(channel_id=place.channel_id, thread_id=place.thread_id)
    thread_id, conversations = place.thread_id, bot.core.conversations
    rerun = (
        after != before
        and thread_id is not None
        and conversations.get(thread_id) is not None
        and await conversations.rerun(thread_id, by="a thinking level change", origin="discord")
    )
    where = {"session": "this session", "global": "every channel", "channel": f"<#{place.channel_id}>"}[used]
    text = f"✅ Thinking level {level_text(level)} for {where}"
    if rerun:
        return f"{text}.\n{RERUN_TEXT}"
    if used == "global":
        return f"{text} — unless a channel or session has its own."
    return f"{text} — the next message uses it."


class VariantCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="model-variant", description="Choose the thinking level (variant) of the current model"
    )
    @app_commands.guild_only()
    async def model_variant(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        await interaction.response.defer(ephemeral=True, thinking=True)
        preferences, channel_id, thread_id = bot.core.preferences, place.channel_id, place.thread_id
        levels = await preferences.variants(place.directory, channel_id=channel_id, thread_id=thread_id)
        model = preferences.current("model", channel_id=channel_id, thread_id=thread_id)
        named = f"`{model}`" if model else "OpenCode's default model"
        if not levels:
            await say(
                interaction, f"{named} has no thinking levels (variants) to choose from in this OpenCode."
            )
            return
        now = level_text(preferences.variant(channel_id=channel_id, thread_id=thread_id))
        menu = select("kimaki:variant:v", level_choices(levels), 0, "Thinking level")
        text = f"Model {named}, thinking level: {now}. Pick a level:"
        await interaction.followup.send(text, view=one_item_view(LevelSelect(menu)), ephemeral=True)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    LevelStepSelect,
    LevelStepScopeSelect,
    LevelSelect,
    LevelScopeSelect,
)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(VariantCog(bot))
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
