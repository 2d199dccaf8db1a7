"""The flags of `kimaki send` and the rules for combining them (checked before anything is sent)."""

from __future__ import annotations

import argparse
import re

USER_REF = re.compile(r"^(?:<@!?)?(?P<id>\d{15,21})>?$")  # a user id or a <@id> mention
MAX_FILES = 10  # Discord's attachments per message


def add_send_flags(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where (one of; default: the project of the current folder)")
    where.add_argument(
        "-c", "--channel", metavar="ID", help="a project channel: start a thread and a session"
    )
    where.add_argument("-d", "--project", metavar="DIR", help="the channel linked to this folder or a parent")
    where.add_argument("--thread", metavar="ID", help="an existing thread: prompt its session")
    where.add_argument("--session", metavar="ID", help="the thread showing this OpenCode session")
    parser.add_argument(
        "-p",
        "--prompt",
        required=True,
        metavar="TEXT",
        help="the prompt; - reads it from stdin (over 2000 characters it travels as prompt.md)",
    )
    new = parser.add_argument_group("new threads (--channel / --project)")
    new.add_argument("-n", "--name", metavar="NAME", help="the thread's name (default: from the prompt)")
    new.add_argument(
        "-a", "--app-id", metavar="ID", help="with --project: the channel of this bot application"
    )
    new.add_argument(
        "--notify-only", action="store_true", help="only post; the first reply starts the session"
    )
    new.add_argument(
        "--worktree",
        metavar="NAME",
        nargs="?",
        const="",
        help="run the session in a new git worktree (branch kimaki/NAME; NAME defaults to the prompt's)",
    )
    new.add_argument("--cwd", metavar="DIR", help="run the session in this subfolder of the project")
    new.add_argument(
        "--permission",
        action="append",
        default=[],
        dest="permissions",
        metavar="RULE",
        help="a permission rule for the session: tool:action or tool:pattern:action, action allow, ask or "
        "deny (repeatable), e.g. bash:deny or 'bash:git *:allow'",
    )
    new.add_argument(
        "--injection-guard",
        action="append",
        default=[],
        dest="injection_guard",
        metavar="TOOL:GLOB",
        help="treat the new session's output of this tool as untrusted when its command, URL or path "
        "matches GLOB: the model gets it wrapped as data, with a warning (repeatable), e.g. webfetch:* "
        "or 'bash:curl *'",
    )
    new.add_argument(
        "--parent-session", metavar="ID", help="make the new session a child of this OpenCode session"
    )
    session = parser.add_argument_group("session")
    session.add_argument("--agent", metavar="NAME", help="the OpenCode agent (e.g. build, plan)")
    session.add_argument(
        "--model", metavar="PROVIDER/MODEL", help="the model, e.g. anthropic/claude-sonnet-4"
    )
    session.add_argument("-u", "--user", metavar="ID", help="act for this Discord user (id or <@id> mention)")
    session.add_argument(
        "-f",
        "--file",
        action="append",
        default=[],
        dest="files",
        metavar="PATH",
        help=f"a file posted with the prompt and given to the session (repeatable, at most {MAX_FILES})",
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait for the session to finish and print the answer"
    )
    parser.add_argument(
        "--send-at",
        metavar="WHEN",
        help="schedule it: a UTC date like 2030-01-31T09:00:00Z, or a cron expression in local time",
    )
    scheduled = parser.add_argument_group("scheduled sends (--send-at)")
    scheduled.add_argument(
        "--pre-run",
        metavar="CMD",
        help="a shell command run in the project folder before each send: its output is appended to the "
        "prompt; if it fails, that run is skipped and the task records why",
    )
    scheduled.add_argument(
        "--allow-concurrency",
        action="store_true",
        help="let a run start while the previous run's session is still busy (by default it is skipped)",
    )


def check_flags(args: argparse.Namespace) -> str | None:
    """The first conflict among the flags, as a message; None when they make sense together."""
    targets = [flag for flag in ("channel", "project", "thread", "session") if getattr(args, flag)]
    if len(targets) > 1:
        return (
            f"--{targets[0]} and --{targets[1]} cannot be combined: give one of --channel, --project, "
            "--thread or --session"
        )
    existing = args.thread or args.session
    for flag in ("name", "notify_only", "worktree", "app_id", "cwd", "parent_session"):
        if existing and getattr(args, flag) not in (None, False):
            option = "--" + flag.replace("_", "-")
            return (
                f"{option} only applies when starting a new thread (--channel or --project), "
                f"not with --{targets[0]}"
            )
    if args.app_id and args.channel:
        return "--app-id only chooses the channel of a --project; --channel already names one"
    for flag in ("permissions", "injection_guard"):
        if existing and getattr(args, flag):
            return (
                f"--{_flag(flag)} only applies when starting a new session (--channel or --project), "
                f"not with --{targets[0]}"
            )
    for flag in ("pre_run", "allow_concurrency"):
        if getattr(args, flag) and not args.send_at:
            return f"--{flag.replace('_', '-')} only applies to scheduled sends: add --send-at"
    pairs = (
        ("wait", "send_at", "a scheduled send has no answer to wait for yet"),
        ("wait", "notify_only", "--notify-only starts no session until someone replies"),
        ("worktree", "notify_only", "--notify-only starts nothing, so there is no worktree to run in"),
        ("cwd", "worktree", "a worktree is a folder of its own"),
        ("cwd", "notify_only", "--notify-only starts no session to run in it"),
        ("files", "send_at", "files are posted now; a scheduled send carries only its prompt"),
    )
    for first, second, why in pairs:
        if getattr(args, first) not in (None, False, []) and getattr(args, second) not in (None, False, []):
            return f"--{_flag(first)} cannot be combined with --{_flag(second)}: {why}"
    if args.model and not re.fullmatch(r"[^/\s]+/\S+", args.model):
        return f"--model must look like provider/model, got {args.model!r}"
    if args.user and not USER_REF.match(args.user.strip()):
        return f"--user must be a Discord user id or a <@id> mention, got {args.user!r}"
    from kimaki_tui.core.api import SessionSetup, SetupError

    try:
        SessionSetup.parse(args.permissions, args.parent_session, args.injection_guard)
    except SetupError as exc:
        return str(exc)
    return None


def _flag(dest: str) -> str:
    return {"files": "file", "permissions": "permission"}.get(dest, dest.replace("_", "-"))
