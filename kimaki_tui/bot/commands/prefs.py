"""/model and /agent: pick what the next prompts use, for this session, this channel or (models)
every channel.

/model: provider → model → thinking level (when the model has levels, `commands.variants`) →
scope (session, channel, global default); /agent: agent → scope
(OpenCode's primary, visible agents). In a project channel (no session) an agent applies to the
channel directly. A model's confirmation carries a button that clears the choice again. The core
keeps the choices (`core.preferences`) and reads them for every prompt (session first). The menus
are persistent components: custom_ids `kimaki:model:p`, `kimaki:model:m:<provider>`,
`kimaki:agent:a`, `kimaki:<model|agent>:scope:<value>`, `kimaki:model:clear:<scope>`.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import Place, enter, say
from kimaki_tui.bot.commands.picker import (
    VALUE_MAX,
    Choice,
    clip,
    guarded,
    one_item_view,
    select,
    turned_page,
)
from kimaki_tui.core.api import PreferenceKind as Kind
from kimaki_tui.core.api import PreferenceScope
from kimaki_tui.opencode.catalog import Agent, ProviderCatalog

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

SCOPE_PREFIX = {"model": "kimaki:model:scope:", "agent": "kimaki:agent:scope:"}
NO_PROVIDER_TEXT = "No AI provider is connected in OpenCode; connect one (`opencode auth login`) first."
QUIET = discord.AllowedMentions.none()
RERUN_TEXT = "⏩ The running answer was stopped; its prompt runs again with this model."


# ---- what OpenCode offers ------------------------------------------------------------------------


def provider_choices(catalog: ProviderCatalog) -> list[Choice]:
    found = []
    for provider in catalog.providers:
        count = len(provider.models)
        label = provider.name or provider.id
        found.append(Choice(label, provider.id, f"{count} model{'s' if count != 1 else ''}"))
    return found


def model_choices(catalog: ProviderCatalog, provider_id: str) -> list[Choice]:
    """The provider's models whose `provider/model` fits in a custom_id (all real ones do)."""
    provider = catalog.provider(provider_id)
    default = catalog.default_model(provider_id)
    room = VALUE_MAX - len(SCOPE_PREFIX["model"])
    found = []
    for model in provider.models if provider else ():
        ref = f"{provider_id}/{model.id}"
        if len(ref) > room:
            log.debug("model %s has too long an id for a menu; skipped", ref)
            continue
        note = "default" if model.id == default else ""
        found.append(Choice(model.name or model.id, ref, note or ref))
    return found


def agent_choices(agents: list[Agent]) -> list[Choice]:
    """Primary agents people pick from (OpenCode's hidden helpers and subagents are left out)."""
    room = VALUE_MAX - len(SCOPE_PREFIX["agent"])
    return [
        Choice(a.name, a.name, a.description or a.mode) for a in agents if a.pickable and len(a.name) <= room
    ]


# ---- applying a choice ---------------------------------------------------------------------------


async def apply_choice(
    bot: KimakiBot,
    place: Place,
    kind: Kind,
    value: str,
    scope: PreferenceScope,
    *,
    level_step: bool = False,
    variant: str | None = None,
) -> str:
    """Store the preference and say what changed; after /model's level step, the model's thinking
    level `variant` too (None: the model's own). A model that changes what this thread's running
    turn uses stops that turn and runs its prompt again with the new model."""
    preferences = bot.core.preferences
    before = (
        current(bot, place, kind),
        preferences.variant(channel_id=place.channel_id, thread_id=place.thread_id),
    )
    used = await preferences.choose(
        kind, value, scope, channel_id=place.channel_id, thread_id=place.thread_id
    )
    if kind == "model" and level_step:
        await preferences.choose_variant(
            variant, used, channel_id=place.channel_id, thread_id=place.thread_id
        )
    thread_id = place.thread_id
    conversations = bot.core.conversations
    rerun = (
        kind == "model"
        and (
            current(bot, place, kind),
            preferences.variant(channel_id=place.channel_id, thread_id=place.thread_id),
        )
        != before
        and thread_id is not None
        and conversations.get(thread_id) is not None
        and await conversations.rerun(thread_id, by="a model change", origin="discord")
    )
    return _applied_text(place, kind, value, used, rerun, variant)


def _applied_text(
    place: Place, kind: Kind, value: str, used: PreferenceScope, rerun: bool, variant: str | None = None
) -> str:
    what = f"{'Model' if kind == 'model' else 'Agent'} `{value}`" + (
        f" (thinking `{variant}`)" if variant else ""
    )
    if rerun:
        where = (
            "this session" if used == "session" else "every channel" if used == "global" else "this channel"
        )
        return f"✅ {what} for {where}.\n{RERUN_TEXT}"
    if used == "session":
        return f"✅ {what} for this session — the next message uses it."
    if used == "global":
        return f"✅ {what} by default in every channel — unless a channel or session has its own."
    return f"✅ {what} for <#{place.channel_id}> — new messages there use it (unless a session has its own)."


def done_view(kind: Kind, used: PreferenceScope) -> discord.ui.View | None:
    """A model's confirmation offers to clear the choice again."""
    return one_item_view(ClearModelButton(used)) if kind == "model" else None


def scope_view(kind: Kind, value: str, in_session: bool) -> discord.ui.View:
    menu: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=SCOPE_PREFIX[kind] + value,
        placeholder="Use it for…",
        options=scope_options(kind, in_session),
    )
    return one_item_view(ScopeSelect(menu, kind, value))


def scope_options(kind: Kind, in_session: bool) -> list[discord.SelectOption]:
    """Where a choice may apply: this session (in one), this channel, every channel (models)."""
    options = [
        discord.SelectOption(
            label="This channel", value="channel", description="New threads in this project channel"
        )
    ]
    if in_session:
        options.insert(
            0, discord.SelectOption(label="This session", value="session", description="Only this thread")
        )
    if kind == "model":
        options.append(
            discord.SelectOption(
                label="Global default", value="global", description="Every channel without its own"
            )
        )
    return options


async def choose_scope(
    interaction: discord.Interaction, bot: KimakiBot, place: Place, kind: Kind, value: str
) -> None:
    """Ask where the choice applies (an agent picked in a channel applies there at once).
    (The menu's interaction was deferred: the message is edited through it.)"""
    in_session = place.thread_id is not None and bot.core.conversations.get(place.thread_id) is not None
    if in_session or kind == "model":
        text = f"Where should {kind} `{value}` apply?"
        await interaction.edit_original_response(content=text, view=scope_view(kind, value, in_session))
        return
    done = await apply_choice(bot, place, kind, value, "channel")
    await interaction.edit_original_response(content=done, view=None)


def current(bot: KimakiBot, place: Place, kind: Kind) -> str:
    value = bot.core.preferences.current(kind, channel_id=place.channel_id, thread_id=place.thread_id)
    return f"`{value}`" if value else "OpenCode's default"


# ---- menus -------------------------------------------------------------------------------------


class ProviderSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"kimaki:model:p"):
    def __init__(self, menu: discord.ui.Select[Any]) -> None:
        super().__init__(menu)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ProviderSelect:
        return cls(cast("discord.ui.Select[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        # OpenCode may take longer than the 3 s Discord gives to answer: defer, then edit.
        await interaction.response.defer()
        value = self.item.values[0]
        providers = await bot.core.preferences.providers(place.directory)
        page = turned_page(value)
        if page is not None:
            await interaction.edit_original_response(view=provider_view(providers, page))
            return
        await interaction.edit_original_response(
            content=f"Provider **{clip(value, 80)}** — pick a model:", view=model_view(providers, value, 0)
        )


class ModelSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"kimaki:model:m:(?P<provider>.+)"
):
    def __init__(self, menu: discord.ui.Select[Any], provider: str) -> None:
        super().__init__(menu)
        self.provider = provider

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ModelSelect:
        return cls(cast("discord.ui.Select[Any]", item), match["provider"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        await interaction.response.defer()
        value = self.item.values[0]
        page = turned_page(value)
        if page is not None:
            providers = await bot.core.preferences.providers(place.directory)
            await interaction.edit_original_response(view=model_view(providers, self.provider, page))
            return
        # Imported here: the level step's menus apply their choice through this module.
        from kimaki_tui.bot.commands.variants import offer_levels

        if not await offer_levels(interaction, bot, place, value):
            await choose_scope(interaction, bot, place, "model", value)


class AgentSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"kimaki:agent:a"):
    def __init__(self, menu: discord.ui.Select[Any]) -> None:
        super().__init__(menu)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AgentSelect:
        return cls(cast("discord.ui.Select[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        await interaction.response.defer()
        value = self.item.values[0]
        page = turned_page(value)
        if page is not None:
            agents = agent_choices(await bot.core.preferences.agents(place.directory))
            await interaction.edit_original_response(view=agent_view(agents, page))
            return
        await choose_scope(interaction, bot, place, "agent", value)


class ScopeSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"kimaki:(?P<kind>model|agent):scope:(?P<value>.+)",
):
    def __init__(self, menu: discord.ui.Select[Any], kind: Kind, value: str) -> None:
        super().__init__(menu)
        self.kind: Kind = kind
        self.value = value

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ScopeSelect:
        return cls(cast("discord.ui.Select[Any]", item), cast(Kind, match["kind"]), match["value"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        await interaction.response.defer()
        picked = self.item.values[0]
        scope: PreferenceScope = (
            "session" if picked == "session" else "global" if picked == "global" else "channel"
        )
        done = await apply_choice(bot, place, self.kind, self.value, scope)
        await interaction.edit_original_response(content=done, view=done_view(self.kind, scope))


CLEAR_LABEL = {
    "session": "Clear session override",
    "channel": "Clear channel override",
    "global": "Clear global default",
}


class ClearModelButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"kimaki:model:clear:(?P<scope>session|channel|global)",
):
    def __init__(self, scope: PreferenceScope) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=CLEAR_LABEL[scope],
            style=discord.ButtonStyle.secondary,
            custom_id=f"kimaki:model:clear:{scope}",
        )
        super().__init__(button)
        self.scope: PreferenceScope = scope

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ClearModelButton:
        return cls(cast(PreferenceScope, match["scope"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._clicked(interaction, bot, place))

    async def _clicked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        preferences = bot.core.preferences
        preferences.clear_model(self.scope, channel_id=place.channel_id, thread_id=place.thread_id)
        cleared = CLEAR_LABEL[self.scope].replace("Clear", "Cleared", 1)
        text = f"🧹 {cleared} — the model now: {current(bot, place, 'model')}."
        await interaction.response.edit_message(content=text, view=None)


def provider_view(providers: ProviderCatalog, page: int) -> discord.ui.View:
    menu = select("kimaki:model:p", provider_choices(providers), page, "Provider")
    return one_item_view(ProviderSelect(menu))


def model_view(providers: ProviderCatalog, provider: str, page: int) -> discord.ui.View:
    menu = select(f"kimaki:model:m:{provider}", model_choices(providers, provider), page, "Model")
    return one_item_view(ModelSelect(menu, provider))


def agent_view(agents: list[Choice], page: int) -> discord.ui.View:
    return one_item_view(AgentSelect(select("kimaki:agent:a", agents, page, "Agent")))


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ProviderSelect,
    ModelSelect,
    AgentSelect,
    ScopeSelect,
    ClearModelButton,
)


class PrefsCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(name="model", description="Choose the model for this session or this channel")
    @app_commands.guild_only()
    async def model(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        await interaction.response.defer(ephemeral=True, thinking=True)
        providers = await bot.core.preferences.providers(place.directory)
        if not provider_choices(providers):
            await say(interaction, NO_PROVIDER_TEXT)
            return
        text = f"Current model: {current(bot, place, 'model')}. Pick a provider:"
        await interaction.followup.send(text, view=provider_view(providers, 0), ephemeral=True)

    @app_commands.command(name="agent", description="Choose the agent for this session or this channel")
    @app_commands.guild_only()
    async def agent(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        await interaction.response.defer(ephemeral=True, thinking=True)
        agents = agent_choices(await bot.core.preferences.agents(place.directory))
        if not agents:
            await say(interaction, "OpenCode offers no agents to choose from here.")
            return
        text = f"Current agent: {current(bot, place, 'agent')}. Pick an agent:"
        await interaction.followup.send(text, view=agent_view(agents, 0), ephemeral=True)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(PrefsCog(bot))
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
