"""`kimaki task list|delete`: the scheduled sends (`kimaki send --send-at`) kept in the database."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli.local import CliError, add_data_dir, out, run, settings_of, table
from kimaki_tui.root.offline import open_core

if TYPE_CHECKING:
    from kimaki_tui.core.api import ScheduledTask


def register(subparsers: Any) -> None:
    task = subparsers.add_parser("task", help="list or delete scheduled sends (kimaki send --send-at)")
    actions = task.add_subparsers(dest="task_command", metavar="ACTION", title="actions")
    task.set_defaults(handler=lambda args: _usage(task))
    listing = actions.add_parser("list", help="the scheduled tasks, soonest first")
    listing.add_argument("--all", action="store_true", help="also the finished ones (done, missed, failed)")
    add_data_dir(listing)
    listing.set_defaults(handler=run_list)
    delete = actions.add_parser("delete", help="cancel a scheduled task")
    delete.add_argument("id", type=int, metavar="ID", help="the task id (see `kimaki task list`)")
    add_data_dir(delete)
    delete.set_defaults(handler=run_delete)


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
        from kimaki_tui.cli.local import running_control
        from kimaki_tui.control_api import ControlError

        settings = settings_of(args)
        with open_core(settings) as core:
            deleted = core.tasks.delete(args.id)
        if not deleted:
            raise CliError(f"no task {args.id} (see `kimaki task list --all`)")
        control = await running_control(settings)
        if control is not None:
            try:
                await control.tasks_changed()
            except ControlError:
                pass  # it would not fire anyway: a task is read from the database when due
        out(f"Deleted task {args.id}.")
        return 0

    return run(main)
