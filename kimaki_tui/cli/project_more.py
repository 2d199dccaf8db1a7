"""`kimaki project list --json|--all|--prune` and `kimaki project create NAME`.

`--all` also reads the "Kimaki" category of each server over REST (only the bot token is needed):
channels there that this machine has not linked are other machines' projects, their folder read
from the channel's `<kimaki>` topic. `--prune` forgets links that cannot work any more: the folder
is gone, or (with `--all`, which knows) the Discord channel is gone. `create` makes the folder
under the projects folder (`git init`ed), then links it like `project add`.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli.local import CliError, add_data_dir, discord_rest, out, run, settings_of, table
from kimaki_tui.root.offline import open_core

if TYPE_CHECKING:
    from kimaki_tui.core.api import ChannelLink
    from kimaki_tui.discord_rest import DiscordRest

_TOPIC_DIRECTORY = re.compile(r"<directory>(.*?)</directory>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ProjectRow:
    directory: str
    channel_id: str | None
    guild_id: str | None
    linked: bool  # linked on this machine (False: seen in Discord only, or a folder without channel)
    folder_exists: bool
    channel_exists: bool | None  # None: Discord was not asked (without --all)


def add_list_flags(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument(
        "--all", action="store_true", help="also the Kimaki category's channels in Discord (other machines')"
    )
    listing.add_argument("-g", "--guild", metavar="ID", help="with --all: only this server")
    listing.add_argument(
        "--prune", action="store_true", help="forget links whose folder (or, with --all, channel) is gone"
    )


def run_list(args: argparse.Namespace) -> int:
    async def main() -> int:
        if args.guild and not args.all:
            raise CliError("--guild only applies with --all", 2)
        settings = settings_of(args)
        with open_core(settings) as core:
            links = core.projects.links()
            bare = [p.directory for p in core.projects.known() if not core.projects.links_for(p.directory)]
        rows = [_local(link, None) for link in links]
        if args.all:
            async with discord_rest(settings) as rest:
                channels = await _kimaki_channels(rest, args.guild, links)
            rows = [_local(link, link.channel_id in channels) for link in links]
            linked = {link.channel_id for link in links}
            rows += [row for cid, row in channels.items() if cid not in linked]
        rows += [_bare(directory) for directory in bare]
        rows.sort(key=lambda row: (row.directory, row.channel_id or ""))
        pruned = _prune(settings, rows) if args.prune else []
        _print(rows, pruned, as_json=args.json)
        return 0

    return run(main)


def _local(link: ChannelLink, channel_exists: bool | None) -> ProjectRow:
    exists = Path(link.directory).is_dir()
    return ProjectRow(link.directory, link.channel_id, link.guild_id, True, exists, channel_exists)


def _bare(directory: str) -> ProjectRow:
    return ProjectRow(directory, None, None, False, Path(directory).is_dir(), None)


async def _kimaki_channels(
    rest: DiscordRest, guild: str | None, links: list[ChannelLink]
) -> dict[str, ProjectRow]:
    """The text channels under each server's Kimaki category, by id (as unlinked rows)."""
    from kimaki_tui.setup.channel_plan import kimaki_category
    from kimaki_tui.setup.channels import existing_channels

    guild_ids = [guild] if guild else [str(g["id"]) for g in await rest.guilds()]
    guild_ids += [link.guild_id for link in links if not guild and link.guild_id not in guild_ids]
    found: dict[str, ProjectRow] = {}
    for guild_id in guild_ids:
        channels = await rest.guild_channels(guild_id)
        category = kimaki_category(existing_channels(channels))
        for channel in channels:
            if category is None or str(channel.get("parent_id")) != category or channel.get("type") != 0:
                continue
            topic = _TOPIC_DIRECTORY.search(str(channel.get("topic") or ""))
            directory = html.unescape(topic[1]) if topic else f"#{channel.get('name', '')}"
            channel_id = str(channel["id"])
            found[channel_id] = ProjectRow(directory, channel_id, guild_id, False, False, True)
    return found


def _prune(settings: Any, rows: list[ProjectRow]) -> list[ProjectRow]:
    stale = [r for r in rows if r.linked and (not r.folder_exists or r.channel_exists is False)]
    with open_core(settings) as core:
        for row in stale:
            if row.channel_id is not None:
                core.projects.unlink(row.channel_id)
    for row in stale:
        rows.remove(row)
    return stale


def _print(rows: list[ProjectRow], pruned: list[ProjectRow], *, as_json: bool) -> None:
    if as_json:
        body: Any = [asdict(row) for row in rows]
        if pruned:
            body = {"projects": body, "pruned": [asdict(row) for row in pruned]}
        out(json.dumps(body, indent=2, ensure_ascii=False))
        return
    for row in pruned:
        why = "folder gone" if not row.folder_exists else "channel gone"
        out(f"Pruned {row.directory} (channel {row.channel_id}, {why}).")
    if not rows:
        out("No projects. Add one with `kimaki project add DIR`.")
        return
    lines = [(r.directory, r.channel_id or "—", r.guild_id or "—", _state(r)) for r in rows]
    out(table(("FOLDER", "CHANNEL", "SERVER", "STATE"), lines))


def _state(row: ProjectRow) -> str:
    if not row.linked:
        return "other machine" if row.channel_id else "no channel"
    if not row.folder_exists:
        return "folder gone"
    return "channel gone" if row.channel_exists is False else "ok"


def add_create(actions: Any) -> None:
    create = actions.add_parser("create", help="make a project folder (git init) and link a channel to it")
    create.add_argument("name", metavar="NAME", help="the project's name (a plain name, not a path)")
    create.add_argument("-g", "--guild", metavar="ID", help="the server (default: the one already used)")
    create.add_argument(
        "--projects-dir",
        dest="projects_dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="where the folder is made (default: the projects_dir setting, else <data-dir>/projects)",
    )
    add_data_dir(create)
    create.set_defaults(handler=run_create, app_id=None)


def run_create(args: argparse.Namespace) -> int:
    async def main() -> int:
        from kimaki_tui.cli.project_cmd import add_project
        from kimaki_tui.core.projects import ProjectNameError, project_slug

        settings = settings_of(args)
        try:
            project_slug(args.name)
        except ProjectNameError as exc:
            raise CliError(str(exc).replace("`", ""), 2) from None
        with open_core(settings) as core:
            try:
                folder = await core.projects.create(settings.projects_path, args.name)
            except ProjectNameError as exc:
                raise CliError(str(exc).replace("`", "")) from None
        out(f"Created {folder} (git repository).")
        return await add_project(args, folder)

    return run(main)
