"""Turn one kimaki scheduled task into kimaki-tui's (a `Schedule` and a `SendRequest`), or say why not.

Only tasks still to come move over: kimaki's `planned` ones, and `running` ones (kimaki was
firing it when it stopped; kimaki itself would run it again). Finished tasks (`completed`,
`cancelled`, `failed`) stay behind: kimaki-tui's history would be an empty shell of them.

A one-shot task keeps its time, even if past: kimaki-tui's scheduler then sends it if it is
only a few minutes late and otherwise records it as missed, as for its own tasks. A cron task
gets its next time from kimaki-tui's cron rules, in the task's time zone.

kimaki's send options move over as `kimaki send` takes them: a working directory (`cwd`), a
pre-run command, session permissions (`tool:action` or `tool:pattern:action`) and injection-guard
patterns (`tool:glob`) — a rule or pattern kimaki-tui cannot read skips the task rather than run
it with less protection than asked —, a parent session and `allowConcurrency`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kimaki_tui.errors import KimakiError
from kimaki_tui.migrate_kimaki.source import KimakiTask
from kimaki_tui.scheduling.cron import CronError, parse_cron
from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.scheduling.when import Schedule

ACTIVE = frozenset({"planned", "running"})


class TaskSkipped(KimakiError):
    """The task cannot move over; the message says why."""


def convert_task(task: KimakiTask, now: datetime) -> tuple[Schedule, SendRequest]:
    """kimaki-tui's schedule and request for `task`; TaskSkipped says why there is none."""
    if task.status not in ACTIVE:
        detail = f": {task.last_error}" if task.status == "failed" and task.last_error else ""
        raise TaskSkipped(f"finished in kimaki ({task.status}{detail})")
    request = _request(_payload(task.payload_json))
    return _schedule(task, now), request


def _payload(text: str) -> Mapping[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError:
        raise TaskSkipped("its payload is not JSON") from None
    if not isinstance(payload, dict):
        raise TaskSkipped("its payload is not a JSON object")
    return payload


def _request(payload: Mapping[str, Any]) -> SendRequest:
    kind = payload.get("kind")
    if kind not in ("channel", "thread"):
        raise TaskSkipped(f"unknown payload kind {kind!r}")
    target_id = _text(payload.get("channelId" if kind == "channel" else "threadId"))
    prompt = _text(payload.get("prompt"))
    if not target_id or not prompt:
        raise TaskSkipped(f"its payload has no {'channelId' if kind == 'channel' else 'threadId'} or prompt")
    model = _text(payload.get("model"))
    if model is not None and "/" not in model.strip("/"):
        raise TaskSkipped(f"its model {model!r} is not 'provider/model'")
    return SendRequest(
        target=kind,
        target_id=target_id,
        prompt=prompt,
        name=_text(payload.get("name")),
        agent=_text(payload.get("agent")),
        model=model,
        worktree=_text(payload.get("worktreeName")),
        user_id=_text(payload.get("userId")),
        notify_only=payload.get("notifyOnly") is True,
        cwd=_text(payload.get("cwd")),
        permissions=_rules(payload.get("permissions"), "permission", "tool:action"),
        injection_guard=_rules(payload.get("injectionGuardPatterns"), "injection-guard", "tool:glob"),
        parent_session=_text(payload.get("parentSessionId")),
        pre_run=_text(payload.get("preRunCommand")),
        allow_concurrency=payload.get("allowConcurrency") is True,
    )


def _rules(value: object, flag: str, shape: str) -> tuple[str, ...]:
    """kimaki's `--permission` rules or `--injection-guard` patterns, checked as `kimaki send` does."""
    from kimaki_tui.core.session_setup import SetupError, parse_guard, parse_permission

    if not value:
        return ()
    if not isinstance(value, list) or not all(isinstance(rule, str) for rule in value):
        raise TaskSkipped(f"its {flag} rules are not a list of {shape} strings")
    parse = parse_permission if flag == "permission" else parse_guard
    for rule in value:
        try:
            parse(rule)
        except SetupError as exc:
            raise TaskSkipped(f"kimaki-tui cannot read its {flag} rule: {exc}") from None
    return tuple(rule.strip() for rule in value)


def _schedule(task: KimakiTask, now: datetime) -> Schedule:
    if task.schedule_kind == "at":
        moment = task.run_at or task.next_run_at
        if moment is None:
            raise TaskSkipped("a one-shot task without a time")
        return Schedule("at", moment, run_at=moment)
    if task.schedule_kind != "cron" or not task.cron_expr:
        raise TaskSkipped(f"unknown schedule kind {task.schedule_kind!r}")
    zone = task.timezone or "UTC"
    try:
        cron = parse_cron(task.cron_expr, zone)
    except CronError as exc:
        raise TaskSkipped(f"kimaki-tui cannot read its cron expression {task.cron_expr!r}: {exc}") from None
    first = cron.next_after(now)
    if first is None:
        raise TaskSkipped(f"its cron expression {task.cron_expr!r} never fires again")
    return Schedule("cron", first, cron=cron.expression, timezone=zone)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
