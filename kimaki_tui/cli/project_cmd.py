"""`kimaki project add|remove`: link project folders to Discord channels from the command line
(`list` and `create` live in project_more).

`add` creates the channel over REST (only the bot token is needed) under the "Kimaki" category
and records the link in the database; `remove` forgets the link and leaves the channel alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli import project_more
from kimaki_tui.cli.local import CliError, add_data_dir, bot_token, out, run, settings_of
from kimaki_tui.root.offline import open_core

if TYPE_CHECKING:
    from kimaki_tui.core.api import ChannelLink
    from kimaki_tui.discord_rest import DiscordRest


def register(subparsers: Any) -> None:
    project = subparsers.add_parser("project", help="link project folders to Discord channels")
    actions = project.add_subparsers(dest="project_command", metavar="ACTION", title="actions")
    project.set_defaults(handler=lambda args: _usage(project))
    add = actions.add_parser("add", help="create a channel for a folder and link it")
    add.add_argument(
        "directory", nargs="?", default=".", metavar="DIR", help="the project folder (default: .)"
    )
    add.add_argument(
        "-g", "--guild", metavar="ID", help="the server (default: the one already used, else the first)"
    )
    add.add_argument("-a", "--app-id", metavar="ID", help="the bot application (default: from the token)")
    add_data_dir(add)
    add.set_defaults(handler=run_add)
    listing = actions.add_parser("list", help="the linked folders and their channels")
    project_more.add_list_flags(listing)
    add_data_dir(listing)
    listing.set_defaults(handler=project_more.run_list)
    project_more.add_create(actions)
    remove = actions.add_parser("remove", help="unlink a channel (the Discord channel is kept)")
    remove.add_argument("channel_id", metavar="CHANNEL_ID")
    add_data_dir(remove)
    remove.set_defaults(handler=run_remove)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_add(args: argparse.Namespace) -> int:
    def main() -> Coroutine[Any, Any, int]:
        from kimaki_tui.core.projects import system_directory_problem

        path = Path(args.directory).expanduser().resolve()
        if not path.is_dir():
            raise CliError(f"{args.directory} is not a folder", 2)
        problem = system_directory_problem(path)
        if problem is not None:
            raise CliError(problem.replace("`", ""), 2)
        return add_project(args, path)

    return run(main)


async def add_project(args: argparse.Namespace, path: Path) -> int:
    from kimaki_tui.discord_rest import DiscordRest
    from kimaki_tui.secrets import app_id_from_token
    from kimaki_tui.setup.channels import create_channels_over_rest

    settings = settings_of(args)
    token = bot_token(settings)
    async with DiscordRest(token, base_url=settings.discord.api_url) as rest:
        with open_core(settings) as core:
            projects = core.projects
            guild_id = args.guild or await _default_guild(rest, projects.links())
            linked = [c for c in projects.links_for(str(path)) if c.guild_id == guild_id]
            if linked:
                raise CliError(
                    f"{path} is already linked to channel {linked[0].channel_id} in server {guild_id}"
                )
            app_id = args.app_id or app_id_from_token(token)
            created = await create_channels_over_rest(
                rest, guild_id, [str(path)], app_id=app_id, link=projects.link
            )
    channel = created[0]
    out(f"Linked {path} to #{channel.name} ({channel.channel_id}) in server {guild_id}: {channel.url}")
    return 0


async def _default_guild(rest: DiscordRest, links: list[ChannelLink]) -> str:
    """The server of the most recently linked channel, else the bot's only (or first) server."""
    if links:
        return str(max(links, key=lambda link: link.created_at).guild_id)
    guilds = await rest.guilds()
    if not guilds:
        raise CliError("the bot is in no server yet: invite it first (`kimaki setup` shows the link)")
    return str(guilds[0]["id"])


def run_remove(args: argparse.Namespace) -> int:
    def main() -> int:
        with open_core(settings_of(args)) as core:
            directory = core.projects.directory_of(args.channel_id)
            if directory is None or not core.projects.unlink(args.channel_id):
                raise CliError(
                    f"channel {args.channel_id} is not linked to a project (see `kimaki project list`)"
                )
        out(f"Unlinked channel {args.channel_id} from {directory}; the Discord channel was left as it is.")
        return 0

    return run(main)
