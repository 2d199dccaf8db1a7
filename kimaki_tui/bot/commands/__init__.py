"""The slash commands: one cog per command group, registered by the bot's setup_hook.

register() also installs the tree's gate (commands.common.owns_interaction): commands and
autocompletes in channels this instance does not own get no answer at all, since another machine
sharing the guild may own them (an interaction can be answered only once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot


async def register(bot: KimakiBot) -> None:
    from kimaki_tui.bot.commands import (
        abort,
        btw,
        channel_settings,
        history,
        insight,
        integrations,
        new_project,
        prefs,
        projects,
        queue,
        resume,
        server,
        session,
        shell,
        tasks,
        variants,
        workflows,
        worktrees,
    )
    from kimaki_tui.bot.commands.common import owns_interaction

    async def gate(interaction: discord.Interaction) -> bool:
        return await owns_interaction(bot, interaction)

    # CommandTree.interaction_check is the documented hook run before every command and
    # autocomplete; the tree is created by discord.py's Bot, so it is set on the instance.
    setattr(bot.tree, "interaction_check", gate)  # noqa: B010
    for module in (session, resume, abort, queue, projects):
        await module.setup(bot)
    for module in (new_project, worktrees, prefs, variants, history, btw, server, insight, shell):
        await module.setup(bot)
    await channel_settings.setup(bot)
    await tasks.setup(bot)
    await workflows.setup(bot)
    await integrations.setup(bot)
    bot.add_dynamic_items(*queue.DYNAMIC_ITEMS)
    bot.add_dynamic_items(*tasks.DYNAMIC_ITEMS)
