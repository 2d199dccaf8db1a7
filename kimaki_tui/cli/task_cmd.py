"""`kimaki task list|edit|delete`: the scheduled sends (`kimaki send --send-at`) kept in the database."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli.local import CliError, add_data_dir, out, run, settings_of, table
from kimaki_tui.root.offline import open_core

if TYPE_CHECKING:
    from kimaki_tui.core.api import ScheduledTask
    from kimaki_tui.settings import Settings


def register(subparsers: Any) -> None:
    task = subparsers.add_parser("task", help="list, edit or delete scheduled sends (kimaki send --send-at)")
    actions = task.add_subparsers(dest="task_command", metavar="ACTION", title="actions")
    task.set_defaults(handler=lambda args: _usage(task))
    listing = actions.add_parser("list", help="the scheduled tasks, soonest first")
    listing.add_argument("--all", action="store_true", help="also the finished ones (done, missed, failed)")
    add_data_dir(listing)
    listing.set_defaults(handler=run_list)
    _register_edit(actions)
    delete = actions.add_parser("delete", help="cancel a scheduled task")
    delete.add_argument("id", type=int, metavar="ID", help="the task id (see `kimaki task list`)")
    add_data_dir(delete)
    delete.set_defaults(handler=run_delete)


def _register_edit(actions: Any) -> None:
    edit = actions.add_parser(
        "edit",
        help="change a scheduled task (an empty value clears it)",
        description="Change what a scheduled task sends or when. An empty value ('') clears --agent, "
        "--model or --pre-run. A finished task is scheduled again by giving --send-at.",
    )
    edit.add_argument("id", type=int, metavar="ID", help="the task id (see `kimaki task list`)")
    edit.add_argument("-p", "--prompt", metavar="TEXT", help="the new prompt (- reads stdin)")
    edit.add_argument(
        "--send-at", metavar="WHEN", help="a new time: a UTC date ending with Z or a cron expression"
    )
    edit.add_argument("--agent", metavar="NAME", help="the agent ('' for the default)")
    edit.add_argument("--model", metavar="PROVIDER/MODEL", help="the model ('' for the default)")
    edit.add_argument("--pre-run", metavar="CMD", help="the command run before each send ('' for none)")
    edit.add_argument(
        "--allow-concurrency",
        choices=("true", "false"),
        help="whether a run may start while the previous one is still busy",
    )
    add_data_dir(edit)
    edit.set_defaults(handler=run_edit)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_list(args: argparse.Namespace) -> int:
    def main() -> int:
        with open_core(settings_of(args)) as core:
            rows = core.tasks.all(all_states=args.all)
        if not rows:
            out("No scheduled tasks." if not args.all else "No tasks.")
            return 0
        out(table(("ID", "STATUS", "NEXT RUN", "SCHEDULE", "TARGET", "PROMPT"), [_row(t) for t in rows]))
        return 0

    return run(main)


def _row(task: ScheduledTask) -> tuple[object, ...]:
    from kimaki_tui.scheduling.request import SendRequest

    request = SendRequest.from_json(task.payload)
    where = f"{request.target} {request.target_id}"
    status = task.status + (f" ({task.last_error})" if task.last_error and task.status != "done" else "")
    return (task.id, status, when_text(task.next_run_at), task.schedule_text, where, task.prompt_preview[:60])


def when_text(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment.astimezone():%Y-%m-%d %H:%M %Z}"


def run_delete(args: argparse.Namespace) -> int:
    async def main() -> int:

        settings = settings_of(args)
        with open_core(settings) as core:
            deleted = core.tasks.delete(args.id)
        if not deleted:
            raise CliError(f"no task {args.id} (see `kimaki task list --all`)")
        await _tell_running(settings)
        out(f"Deleted task {args.id}.")
        return 0

    return run(main)


def run_edit(args: argparse.Namespace) -> int:
    async def main() -> int:
        import dataclasses

        from kimaki_tui.scheduling.request import SendRequest

        changes = edit_changes(args)
        timing = _timing(args.send_at) if args.send_at is not None else None
        if not changes and timing is None:
            raise CliError("nothing to change: give --prompt, --send-at, --agent, --model, --pre-run "
                           "or --allow-concurrency", 2)  # fmt: skip
        settings = settings_of(args)
        with open_core(settings) as core:
            task = core.tasks.get(args.id)
            if task is None:
                raise CliError(f"no task {args.id} (see `kimaki task list --all`)")
            request = dataclasses.replace(SendRequest.from_json(task.payload), **changes)
            edited = core.tasks.edit(args.id, request, timing)
        await _tell_running(settings)
        out(f"Updated task {edited.id}: {edited.schedule_text}; next run {when_text(edited.next_run_at)}.")
        return 0

    return run(main)


def edit_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The payload fields `task edit` sets ('' clears agent, model and pre-run)."""
    import re

    changes: dict[str, Any] = {}
    if args.prompt is not None:
        text = sys.stdin.read() if args.prompt == "-" else args.prompt
        if not text.strip():
            raise CliError("--prompt is empty", 2)
        changes["prompt"] = text
    if args.model and not re.fullmatch(r"[^/\s]+/\S+", args.model):
        raise CliError(f"--model must look like provider/model, got {args.model!r}", 2)
    for flag in ("agent", "model", "pre_run"):
        value = getattr(args, flag)
        if value is not None:
            changes[flag] = value.strip() or None
    if args.allow_concurrency is not None:
        changes["allow_concurrency"] = args.allow_concurrency == "true"
    return changes


def _timing(when: str) -> Any:
    from datetime import UTC, datetime

    from kimaki_tui.scheduling.when import WhenError, parse_when

    try:
        return parse_when(when, now=datetime.now(UTC))
    except WhenError as exc:
        raise CliError(str(exc), 2) from None


async def _tell_running(settings: Settings) -> None:
    from kimaki_tui.cli.local import running_control
    from kimaki_tui.control_api import ControlError

    control = await running_control(settings)
    if control is not None:
        try:
            await control.tasks_changed()
        except ControlError:
            pass  # the running kimaki re-reads its tasks every few seconds anyway
