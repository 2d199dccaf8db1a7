"""/tasks [all]: the scheduled sends of this project channel (`kimaki send --send-at`; `all` adds
finished ones), each with persistent Run now and Delete buttons (custom_ids
`kimaki:task:run:<task id>` and `kimaki:task:del:<task id>`, valid across restarts).

Tasks are read from the shared database each time (through the core); a deleted task never fires,
since the scheduler reads its row when it falls due.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.commands.common import bot_of, enter, locate, permitted
from kimaki_tui.scheduling.request import SendRequest

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot
    from kimaki_tui.core.api import ScheduledTask

QUIET = discord.AllowedMentions.none()
SHOWN = 10  # two buttons for each of at most 10 tasks (Discord allows 25 per message)
PER_ROW = 2  # tasks per row of buttons
NONE_TEXT = "No scheduled tasks in this channel. Schedule one with `kimaki send --send-at …`."


def task_line(task: ScheduledTask) -> str:
    request = SendRequest.from_json(task.payload)
    when = f"<t:{int(task.next_run_at.timestamp())}:f>" if task.next_run_at else "—"
    schedule = f"cron `{task.cron}` ({task.timezone})" if task.kind == "cron" else "once"
    where = "new thread" if request.target == "channel" else f"<#{request.target_id}>"
    prompt = discord.utils.escape_markdown(task.prompt_preview[:80])
    status = "" if task.status == "scheduled" else f" · **{task.status}**"
    return f"`#{task.id}` {when} · {schedule} · {where}{status} · {prompt}"


def tasks_text(tasks: list[ScheduledTask]) -> str:
    if not tasks:
        return NONE_TEXT
    lines = [f"**Scheduled tasks** ({len(tasks)})"]
    lines += [task_line(task) for task in tasks[:SHOWN]]
    if len(tasks) > SHOWN:
        lines.append(f"… and {len(tasks) - SHOWN} more (`kimaki task list` shows them all)")
    return "\n".join(lines)[:2000]


def tasks_view(tasks: list[ScheduledTask]) -> discord.ui.View | None:
    if not tasks:
        return None
    view = discord.ui.View(timeout=None)
    for i, task in enumerate(tasks[:SHOWN]):
        if task.status == "scheduled":
            view.add_item(RunTaskButton(task.id, row=i // PER_ROW))
        view.add_item(DeleteTaskButton(task.id, row=i // PER_ROW))
    return view


def channel_tasks(bot: KimakiBot, channel_id: str, *, all_states: bool = False) -> list[ScheduledTask]:
    return bot.core.tasks.all(channel_id=channel_id, all_states=all_states)


class RunTaskButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kimaki:task:run:(?P<task_id>[0-9]+)"
):
    def __init__(self, task_id: int, row: int | None = None) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=f"Run #{task_id} now",
            style=discord.ButtonStyle.primary,
            custom_id=f"kimaki:task:run:{task_id}",
            row=row,
        )
        super().__init__(button)
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RunTaskButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        place = locate(bot, interaction.channel)
        if place is None:
            return  # another machine's channel: it may answer
        refusal = permitted(bot, interaction.user)
        if refusal is not None:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        await interaction.response.defer()  # posting and starting the session takes a moment
        problem = await bot.core.tasks.run_now(self.task_id, channel_id=place.channel_id)
        tasks = channel_tasks(bot, place.channel_id)
        who = discord.utils.escape_markdown(display_name(interaction.user))
        note = (
            f"Ran task #{self.task_id} ({who})."
            if not problem
            else f"Task #{self.task_id} did not run: {problem}"
        )
        await interaction.edit_original_response(
            content=f"{note}\n{tasks_text(tasks)}"[:2000], view=tasks_view(tasks), allowed_mentions=QUIET
        )


class DeleteTaskButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kimaki:task:del:(?P<task_id>[0-9]+)"
):
    def __init__(self, task_id: int, row: int | None = None) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=f"Delete #{task_id}",
            style=discord.ButtonStyle.danger,
            custom_id=f"kimaki:task:del:{task_id}",
            row=row,
        )
        super().__init__(button)
        self.task_id = task_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DeleteTaskButton:
        return cls(int(match["task_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        place = locate(bot, interaction.channel)
        if place is None:
            return  # another machine's channel: it may answer
        refusal = permitted(bot, interaction.user)
        if refusal is not None:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        deleted = bot.core.tasks.delete(self.task_id, channel_id=place.channel_id)
        tasks = channel_tasks(bot, place.channel_id)
        who = discord.utils.escape_markdown(display_name(interaction.user))
        note = (
            f"Deleted task #{self.task_id} ({who})." if deleted else f"Task #{self.task_id} was already gone."
        )
        await interaction.response.edit_message(
            content=f"{note}\n{tasks_text(tasks)}"[:2000], view=tasks_view(tasks), allowed_mentions=QUIET
        )


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (RunTaskButton, DeleteTaskButton)


class TasksCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="tasks", description="This channel's scheduled sends, with Run now and Delete buttons"
    )
    @app_commands.describe(all="Also the finished ones (done, missed, failed)")
    @app_commands.guild_only()
    async def tasks(self, interaction: discord.Interaction, all: bool = False) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        tasks = channel_tasks(bot, place.channel_id, all_states=all)
        view = tasks_view(tasks)
        text = tasks_text(tasks)
        if view is None:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=QUIET)
        else:
            await interaction.response.send_message(text, view=view, ephemeral=True, allowed_mentions=QUIET)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(TasksCog(bot))
