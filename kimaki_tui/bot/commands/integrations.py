"""/mcp and /login: what OpenCode is connected to, from Discord.

/mcp lists the project's MCP servers with their status and a Connect/Disconnect button each
(custom_id `kimaki:mcp:<on|off>:<name>`). /login (the server owner, Administrators and Manage
Server holders only) picks a provider (`kimaki:login:p`), then a way in: an API key typed in a
modal (`kimaki:login:key:<provider>`; stored by OpenCode, never echoed or logged), or one of the
provider's OAuth methods (`kimaki:login:oauth:<index>:<provider>`), which shows the login link and,
for a "code" method, a button to paste the code (`kimaki:login:code:<index>:<provider>`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot import errors
from kimaki_tui.bot.access import check, subject_of
from kimaki_tui.bot.commands.common import Place, bot_of, enter, locate, say
from kimaki_tui.bot.commands.picker import Choice, clip, guarded, one_item_view, select, turned_page
from kimaki_tui.opencode.catalog import AuthMethod, McpServer

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

ADMINS_ONLY_TEXT = (
    "Only the server owner, an Administrator or someone with Manage Server can log in to providers."
)
BUTTONS_MAX = 25
NAME_MAX = 80  # custom_id room for a server or provider name
_STATUS_TEXT = {
    "connected": "🟢 connected",
    "disabled": "⚪ disconnected",
    "failed": "🔴 failed",
    "needs_auth": "🟠 needs authentication (`opencode mcp auth NAME` on this machine)",
    "needs_client_registration": "🟠 needs client registration",
}


def admin_refusal(bot: KimakiBot, user: discord.User | discord.Member) -> str | None:
    decision = check(user, bot.user, bot.settings.discord)
    if not decision.allowed:
        return decision.reply or ADMINS_ONLY_TEXT
    subject = subject_of(user, bot.user)
    return None if subject.is_owner or subject.administrator or subject.manage_guild else ADMINS_ONLY_TEXT


# ---- /mcp ------------------------------------------------------------------------------------------


def mcp_text(servers: Sequence[McpServer]) -> str:
    if not servers:
        return "This project has no MCP servers (add them to its `opencode.json`)."
    lines = ["**MCP servers of this project**"]
    for server in servers:
        state = _STATUS_TEXT.get(server.status, server.status or "unknown").replace("NAME", server.name)
        error = f": {clip(server.error, 200)}" if server.error else ""
        lines.append(f"• `{server.name}` — {state}{error}")
    return "\n".join(lines)[:2000]


def mcp_view(servers: Sequence[McpServer]) -> discord.ui.View | None:
    view = discord.ui.View(timeout=None)
    for server in [s for s in servers if len(s.name) <= NAME_MAX][:BUTTONS_MAX]:
        view.add_item(McpToggle(server.name, connect=server.status != "connected"))
    return view if view.children else None


class McpToggle(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kimaki:mcp:(?P<action>on|off):(?P<name>.+)"
):
    def __init__(self, name: str, *, connect: bool) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=clip(f"{'Connect' if connect else 'Disconnect'} {name}", 80),
            style=discord.ButtonStyle.primary if connect else discord.ButtonStyle.secondary,
            custom_id=f"kimaki:mcp:{'on' if connect else 'off'}:{name}",
        )
        super().__init__(button)
        self.name, self.connect = name, connect

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> McpToggle:
        return cls(match["name"], connect=match["action"] == "on")

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._toggle(interaction, bot, place))

    async def _toggle(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        await interaction.response.defer()
        servers = await bot.core.integrations.set_mcp_connected(place.directory, self.name, self.connect)
        await interaction.edit_original_response(content=mcp_text(servers), view=mcp_view(servers))


# ---- /login ----------------------------------------------------------------------------------------


async def login_guard(interaction: discord.Interaction) -> tuple[KimakiBot, Place] | None:
    """This instance's place and an admin, else None (refusals answered, privately)."""
    bot = bot_of(interaction)
    place = locate(bot, interaction.channel)
    if place is None:
        return None
    refusal = admin_refusal(bot, interaction.user)
    if refusal is not None:
        await say(interaction, refusal)
        return None
    return bot, place


def method_view(provider: str, methods: Sequence[AuthMethod]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for index, method in enumerate(methods[:BUTTONS_MAX]):
        if method.type == "api":
            view.add_item(ApiKeyButton(provider))
        elif method.type == "oauth":
            view.add_item(OAuthButton(provider, index, method.label))
    return view


class ProviderSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"kimaki:login:p"):
    def __init__(self, menu: discord.ui.Select[Any]) -> None:
        super().__init__(menu)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ProviderSelect:
        return cls(cast("discord.ui.Select[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            guard = await login_guard(interaction)
            if guard is not None:
                await self._picked(interaction, *guard)
        except Exception as exc:  # a component's boundary: the one handler explains it or logs the bug
            await errors.report(interaction, exc)

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        await interaction.response.defer()
        value = self.item.values[0]
        page = turned_page(value)
        if page is not None:
            providers = await bot.core.integrations.providers(place.directory)
            await interaction.edit_original_response(view=provider_view(providers_choices(providers), page))
            return
        methods = await bot.core.integrations.login_methods(place.directory, value)
        text = f"Log in to **{discord.utils.escape_markdown(value)}**:"
        await interaction.edit_original_response(content=text, view=method_view(value, methods))


class ApiKeyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kimaki:login:key:(?P<provider>.+)"
):
    def __init__(self, provider: str) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Enter an API key",
            style=discord.ButtonStyle.primary,
            custom_id=f"kimaki:login:key:{provider}",
        )
        super().__init__(button)
        self.provider = provider

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ApiKeyButton:
        return cls(match["provider"])

    async def callback(self, interaction: discord.Interaction) -> None:
        if await login_guard(interaction) is not None:
            await interaction.response.send_modal(ApiKeyModal(self.provider))


class ApiKeyModal(discord.ui.Modal):
    def __init__(self, provider: str) -> None:
        super().__init__(
            title=clip(f"API key for {provider}", 45), custom_id=f"kimaki:login:keymodal:{provider}"
        )
        self.provider = provider
        self.key: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="API key", style=discord.TextStyle.short, min_length=1, max_length=4000, custom_id="key"
        )
        self.add_item(self.key)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        guard = await login_guard(interaction)
        if guard is None:
            return
        bot, _place = guard
        await interaction.response.defer(ephemeral=True, thinking=True)
        await bot.core.integrations.set_api_key(self.provider, self.key.value)
        await say(interaction, f"✅ API key saved for `{self.provider}` (OpenCode keeps it).")

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await errors.report(interaction, error)


class OAuthButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"kimaki:login:oauth:(?P<index>[0-9]+):(?P<provider>.+)",
):
    def __init__(self, provider: str, index: int, label: str = "") -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=clip(label or "Log in with the browser", 80),
            style=discord.ButtonStyle.secondary,
            custom_id=f"kimaki:login:oauth:{index}:{provider}",
        )
        super().__init__(button)
        self.provider, self.index = provider, index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OAuthButton:
        return cls(match["provider"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            guard = await login_guard(interaction)
            if guard is not None:
                await self._start(interaction, *guard)
        except Exception as exc:  # a component's boundary: the one handler explains it or logs the bug
            await errors.report(interaction, exc)

    async def _start(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        integrations = bot.core.integrations
        start = await integrations.start_oauth(place.directory, self.provider, self.index)
        text = f"Log in to `{self.provider}`: <{start.url}>\n{start.instructions}".strip()
        if start.method == "code":
            view = one_item_view(OAuthCodeButton(self.provider, self.index))
            await interaction.followup.send(text[:2000], view=view, ephemeral=True)
            return
        await say(interaction, text)
        done = await integrations.finish_oauth(place.directory, self.provider, self.index, None)
        await say(
            interaction, f"✅ Logged in to `{self.provider}`." if done else "The login did not complete."
        )


class OAuthCodeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"kimaki:login:code:(?P<index>[0-9]+):(?P<provider>.+)",
):
    def __init__(self, provider: str, index: int) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Paste the code",
            style=discord.ButtonStyle.primary,
            custom_id=f"kimaki:login:code:{index}:{provider}",
        )
        super().__init__(button)
        self.provider, self.index = provider, index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OAuthCodeButton:
        return cls(match["provider"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if await login_guard(interaction) is not None:
            await interaction.response.send_modal(OAuthCodeModal(self.provider, self.index))


class OAuthCodeModal(discord.ui.Modal):
    def __init__(self, provider: str, index: int) -> None:
        super().__init__(
            title=clip(f"Log in to {provider}", 45), custom_id=f"kimaki:login:codemodal:{provider}"
        )
        self.provider, self.index = provider, index
        self.code: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Authorization code or callback URL",
            style=discord.TextStyle.short,
            max_length=4000,
            custom_id="code",
        )
        self.add_item(self.code)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        guard = await login_guard(interaction)
        if guard is None:
            return
        bot, place = guard
        await interaction.response.defer(ephemeral=True, thinking=True)
        done = await bot.core.integrations.finish_oauth(
            place.directory, self.provider, self.index, self.code.value
        )
        await say(
            interaction, f"✅ Logged in to `{self.provider}`." if done else "OpenCode refused that code."
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await errors.report(interaction, error)


def providers_choices(providers: Sequence[Any]) -> list[Choice]:
    return [
        Choice(p.name or p.id, p.id, "✓ connected" if p.connected else "")
        for p in providers
        if len(p.id) <= NAME_MAX
    ]


def provider_view(choices: list[Choice], page: int) -> discord.ui.View:
    return one_item_view(ProviderSelect(select("kimaki:login:p", choices, page, "Provider")))


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    McpToggle,
    ProviderSelect,
    ApiKeyButton,
    OAuthButton,
    OAuthCodeButton,
)


class IntegrationsCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(name="mcp", description="This project's MCP servers: status, connect, disconnect")
    @app_commands.guild_only()
    async def mcp(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        await interaction.response.defer(ephemeral=True, thinking=True)
        servers = await bot.core.integrations.mcp_servers(place.directory)
        view = mcp_view(servers)
        if view is None:
            await say(interaction, mcp_text(servers))
        else:
            await interaction.followup.send(mcp_text(servers), view=view, ephemeral=True)

    @app_commands.command(name="login", description="Log OpenCode in to an AI provider (admins only)")
    @app_commands.guild_only()
    async def login(self, interaction: discord.Interaction) -> None:
        guard = await login_guard(interaction)
        if guard is None:
            return
        bot, place = guard
        await interaction.response.defer(ephemeral=True, thinking=True)
        choices = providers_choices(await bot.core.integrations.providers(place.directory))
        if not choices:
            await say(interaction, "OpenCode offers no providers here.")
            return
        await interaction.followup.send("Pick a provider:", view=provider_view(choices, 0), ephemeral=True)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(IntegrationsCog(bot))
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
