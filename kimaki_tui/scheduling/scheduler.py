"""TaskScheduler: fires scheduled tasks on time with apscheduler 3's AsyncIOScheduler.

The database (the shared Store's task slice) is the truth; apscheduler only keeps the timers.
Each active task has one date job at its `next_run_at` (a cron task gets the next one after each
run, computed by `scheduling.cron` with standard cron semantics). A periodic sync picks up tasks
added or deleted by other processes (`kimaki send --send-at`, `kimaki task delete`); the control
API triggers one at once. A due task is handed to the injected `TaskSubmitter` (in kimaki, the
bot's: it starts the thread and the session itself), only while `online` (the bot connected to
Discord); due tasks wait for it, within the grace.

Every firing goes through `run_due(now)`: a task due for longer than `grace` is not sent late —
a one-shot task is marked "missed", a cron task records a missed run and moves on. That covers
a kimaki that was down: at start-up, what fell due less than `grace` ago is sent once. A task is
claimed in the database before it is submitted, so it never fires twice.

Before a send, the injected `TaskGate` may hold it back: unless the task allows concurrency, a
run is skipped while the session of the task's previous run is still busy; a `--pre-run` command
runs in the project folder and a failure skips the run. A skipped run is recorded with its reason
(a cron task moves on to its next time, a one-shot task ends as missed).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from kimaki_tui.scheduling.cron import CronError, parse_cron
from kimaki_tui.scheduling.pre_run import run_pre, with_output
from kimaki_tui.scheduling.request import PostedStarter, SendRequest
from kimaki_tui.store.retry import until_stored

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from kimaki_tui.store.records import ScheduledTask
    from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)


class TaskSubmitter(Protocol):
    """Sends a due task's request: posts its starter message and starts or prompts the session.

    Raises (any exception, its text meant for the user) when it could not; the task records it.
    """

    async def submit_task(self, request: SendRequest) -> PostedStarter: ...


class TaskGate(Protocol):
    """What the scheduler asks the running kimaki before a send."""

    def busy(self, thread_id: str) -> bool:
        """Whether the session shown in this thread is still working (or waiting for an answer)."""
        ...

    def directory_for(self, request: SendRequest) -> str | None:
        """The project folder a request's pre-run command runs in (None: not known here)."""
        ...


class _OpenGate:
    def busy(self, thread_id: str) -> bool:
        return False

    def directory_for(self, request: SendRequest) -> str | None:
        return None


Outcome = Literal["done", "missed", "failed"]
DEFAULT_GRACE = timedelta(minutes=10)
SYNC_JOB = "tasks-sync"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def job_id(task_id: int) -> str:
    return f"task-{task_id}"


class TaskScheduler:
    def __init__(
        self,
        store: Store,
        submitter: TaskSubmitter,
        *,
        grace: timedelta = DEFAULT_GRACE,
        sync_interval: float = 15.0,
        clock: Callable[[], datetime] = _utc_now,
        gate: TaskGate | None = None,
        pre_run_timeout: float = 60.0,
    ) -> None:
        self.store = store
        self._gate: TaskGate = gate or _OpenGate()
        self._pre_run_timeout = pre_run_timeout
        self.grace = grace
        self._submitter = submitter
        self._sync_interval = sync_interval
        self._clock = clock
        self._aps: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self.online = False
        self.on_change: list[Callable[[], None]] = []

    async def start(self, *, online: bool = False) -> None:
        """Recover tasks a stopped process left mid-post and set the timers; post once `online`."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self._recover()
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.start(paused=True)
        self._aps.add_job(
            self.sync,
            IntervalTrigger(seconds=self._sync_interval),
            id=SYNC_JOB,
            coalesce=True,
            max_instances=1,
        )
        self._reschedule()
        await self.set_online(online)
        log.info("task scheduler started: %s", self.status_text())

    async def set_online(self, online: bool) -> None:
        """Posting allowed or not; coming online sends what fell due meanwhile (within the grace)."""
        self.online = online
        if self._aps is None:
            return
        if online:
            self._aps.resume()
            await self.sync()
        else:
            self._aps.pause()
            self._changed()

    async def stop(self) -> None:
        """Stop the timers (the store stays open: it is shared)."""
        self.online = False
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        async with self._lock:  # a firing in progress finishes its bookkeeping
            pass

    async def sync(self) -> None:
        """Send what is due, then make the timers match the database."""
        await self.run_due()
        self._reschedule()
        self._changed()

    def delete(self, task_id: int) -> bool:
        deleted = self.store.delete_task(task_id)
        self._drop_job(task_id)
        self._changed()
        return deleted

    async def run_now(self, task_id: int) -> str:
        """Fire a task at once (Run now): "" when it was sent, else why not. A cron task then goes
        on from its schedule; a one-shot task is done."""
        if not self.online:
            return "Discord is not connected"
        async with self._lock:
            task = self.store.get_task(task_id)
            if task is None:
                return f"no task {task_id}"
            if task.status != "scheduled":
                return f"task {task_id} is {task.status}"
            now = self._clock()
            sent = await self._run(task, now, slot=now)
        self._reschedule()
        self._changed()
        if sent:
            return ""
        settled = self.store.get_task(task_id)
        return (settled.last_error if settled else None) or f"task {task_id} was not sent"

    def next_job_time(self, task_id: int) -> datetime | None:
        """When apscheduler will wake up for this task (None without a timer)."""
        job = self._aps.get_job(job_id(task_id)) if self._aps is not None else None
        return None if job is None or job.next_run_time is None else job.next_run_time.astimezone(UTC)

    def status_text(self) -> str:
        if self._aps is None:
            return "stopped"
        if not self.online:
            return "waiting for Discord"
        tasks = self.store.list_tasks()
        if not tasks:
            return "running · no tasks"
        soonest = min((t.next_run_at for t in tasks if t.next_run_at), default=None)
        count = f"{len(tasks)} task" + ("" if len(tasks) == 1 else "s")
        return f"running · {count}" + (f" · next {soonest.astimezone():%H:%M}" if soonest else "")

    # -- firing -----------------------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> list[int]:
        """Handle every task due at `now` (default: the clock); returns the ids that were submitted."""
        posted: list[int] = []
        if not self.online:
            return posted
        async with self._lock:
            moment = now or self._clock()
            due = self.store.due_tasks(moment)
            for task in due:
                if await self._run(task, moment):
                    posted.append(task.id)
        if due:
            self._reschedule()
            self._changed()
        return posted

    async def _run(self, task: ScheduledTask, now: datetime, slot: datetime | None = None) -> bool:
        # A locked database delays each write (claim, run, settle) on its own: a post that went
        # out is recorded later, never sent again.
        if not await until_stored(functools.partial(self.store.claim_task, task.id), f"task {task.id}"):
            return False
        slot = slot or task.next_run_at or now
        if now - slot > self.grace:
            log.warning("task %s was due at %s, more than %s ago: skipped", task.id, slot, self.grace)
            run = functools.partial(self.store.add_task_run, task.id, slot, "missed")
            await self._settle(task, run, now, "missed", f"missed: due at {slot:%Y-%m-%d %H:%M} UTC")
            return False
        try:
            request = SendRequest.from_json(task.payload)
        except ValueError as exc:
            run = functools.partial(self.store.add_task_run, task.id, slot, "failed", error=str(exc))
            await self._settle(task, run, now, "failed", str(exc))
            return False
        request, skip = await self._hold_back(task, request)
        if skip is not None:
            log.info("task %s skipped: %s", task.id, skip)
            run = functools.partial(self.store.add_task_run, task.id, slot, "skipped", error=skip)
            await self._settle(task, run, now, "missed", f"skipped: {skip}")
            return False
        try:
            posted = await self._submitter.submit_task(request)
        except Exception as exc:  # the task records any failure; the scheduler keeps going
            log.warning("task %s failed: %s", task.id, exc)
            run = functools.partial(self.store.add_task_run, task.id, slot, "failed", error=str(exc))
            await self._settle(task, run, now, "failed", str(exc))
            return False
        log.info("task %s posted message %s in %s", task.id, posted.message_id, posted.channel_id)
        run = functools.partial(
            self.store.add_task_run, task.id, slot, "posted", message_id=posted.message_id,
            thread_id=posted.thread_id,
        )  # fmt: skip
        await self._settle(task, run, now, "done", None)
        return True

    async def _settle(
        self, task: ScheduledTask, run: Callable[[], object], now: datetime, outcome: Outcome,
        error: str | None,
    ) -> None:  # fmt: skip
        """Record the run, then move the task on (each retried alone while the database is locked)."""
        await until_stored(run, f"task {task.id}")
        await until_stored(functools.partial(self._after, task, now, outcome, error), f"task {task.id}")

    async def _hold_back(self, task: ScheduledTask, request: SendRequest) -> tuple[SendRequest, str | None]:
        """(the request to send, None) or (request, why this run is skipped)."""
        if not request.allow_concurrency:
            previous = next((r for r in reversed(self.store.task_runs(task.id)) if r.thread_id), None)
            if previous is not None and previous.thread_id and self._gate.busy(previous.thread_id):
                return request, f"the previous run (thread {previous.thread_id}) is still busy"
        if not request.pre_run:
            return request, None
        directory = self._gate.directory_for(request)
        if directory is None:
            return request, "no project folder to run the pre-run command in"
        result = await run_pre(request.pre_run, directory, self._pre_run_timeout)
        if not result.ok:
            return request, result.output
        return dataclasses.replace(request, prompt=with_output(request.prompt, result.output)), None

    def _after(self, task: ScheduledTask, now: datetime, outcome: Outcome, error: str | None = None) -> None:
        """A one-shot task ends with the outcome; a cron task moves to its next time."""
        if task.kind != "cron":
            self.store.settle_task(task.id, outcome, error=error)
            return
        following = _next_cron(task, now)
        if following is None:
            self.store.settle_task(task.id, "failed", error=error or "the cron expression never fires again")
        else:
            self.store.settle_task(task.id, "scheduled", next_run_at=following, error=error)

    def _recover(self) -> None:
        for task in self.store.stuck_tasks():
            if task.kind == "cron":
                self.store.settle_task(task.id, "scheduled", next_run_at=_next_cron(task, self._clock()))
            else:
                # It may or may not have been posted: never post twice, say so instead.
                self.store.settle_task(task.id, "failed", error="interrupted while posting")

    # -- timers -----------------------------------------------------------------------------------

    def _reschedule(self) -> None:
        aps = self._aps
        if aps is None:
            return
        from apscheduler.triggers.date import DateTrigger

        wanted = {
            job_id(t.id): t for t in self.store.list_tasks() if t.status == "scheduled" and t.next_run_at
        }
        for job in aps.get_jobs():
            if job.id != SYNC_JOB and job.id not in wanted:
                job.remove()
        for jid, task in wanted.items():
            assert task.next_run_at is not None
            job = aps.get_job(jid)
            if job is not None and job.next_run_time == task.next_run_at:
                continue
            aps.add_job(
                self.run_due,
                DateTrigger(run_date=task.next_run_at),
                id=jid,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,  # lateness is judged by run_due's grace
            )

    def _drop_job(self, task_id: int) -> None:
        from apscheduler.jobstores.base import JobLookupError

        if self._aps is not None:
            with contextlib.suppress(JobLookupError):  # no timer was set for it
                self._aps.remove_job(job_id(task_id))

    def _changed(self) -> None:
        for callback in list(self.on_change):
            try:
                callback()
            except Exception:  # one subscriber's bug must not stop the others hearing of it
                log.exception("task change callback failed")


def _next_cron(task: ScheduledTask, after: datetime) -> datetime | None:
    try:
        return parse_cron(task.cron or "", task.timezone or "UTC").next_after(after)
    except CronError as exc:
        log.warning("task %s has a bad cron expression: %s", task.id, exc)
        return None
