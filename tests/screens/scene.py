"""A deterministic control-center scene: five sessions built from recorded-shape OpenCode events.

`offline_model` wires a real Core and Store (in tmp_path) to an OpenCode client that is never
called; `build_scene` feeds hand-made event lists (the shapes of the recorded stream) through
`core.handle_event`, so sessions get real states: one finished turn then a bash permission, one
streaming, one asking a question with a queue, one asking to edit a file, one failed. Clocks are
frozen (`NOW`, and every runtime's `last_activity` and `turn_started_at`), so frames do not depend
on the time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import PromptDispatched
from kimaki_tui.core.service import Core
from kimaki_tui.logs import RingHandler
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.events import parse_event
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.settings import SessionSettings, Settings
from kimaki_tui.store.repo import Store

T0 = 1_795_311_000_000  # ms
NOW = T0 / 1000 + 600.0
HOME = "/home/user"
DEAD_URL = "http://127.0.0.1:9"  # nothing listens there; the scene never calls OpenCode
Raw = dict[str, Any]

EDIT_DIFF = """Index: src/config.py
===================================================================
--- src/config.py
+++ src/config.py
@@ -1,6 +1,6 @@
 import json
-def load_config(path):
+def read_settings(path: str) -> dict:
     with open(path) as handle:
-        return json.load(handle)
+        return json.load(handle) or {}
"""


async def _never() -> None:
    raise AssertionError("the offline scene must not send prompts")


def offline_model(
    tmp_path: Path, *, ring: RingHandler | None = None, data_dir: Path | None = None, **fields: Any
) -> ControlCenterModel:
    store = Store.open(tmp_path / "db.sqlite")
    core = Core(
        client=OpenCodeClient(DEAD_URL),
        store=store,
        bus=EventBus(),
        wait_stream=_never,
        options=SessionSettings(permission_timeout_minutes=0),  # no expiry timers in frames
    )
    core.start()
    fields.setdefault("clock", lambda: NOW)
    return ControlCenterModel(
        core=core, settings=Settings(data_dir=data_dir or tmp_path), log_ring=ring, **fields
    )


class Turn:
    """Builds the events of one session's turns, with times from T0 on."""

    def __init__(self, session_id: str, directory: str) -> None:
        self.sid = session_id
        self.directory = directory
        self.events: list[Raw] = []

    def ev(self, etype: str, **props: Any) -> Turn:
        self.events.append({"type": etype, "properties": {"sessionID": self.sid, **props}})
        return self

    def title(self, title: str) -> Turn:
        return self.ev("session.updated", info={"id": self.sid, "title": title, "directory": self.directory})

    def user(self, mid: str, at: int) -> Turn:
        self.ev("message.updated", info={"id": mid, "role": "user", "time": {"created": T0 + at}})
        return self.ev("session.status", status={"type": "busy"})

    def assistant(self, mid: str, at: int, *, done: int = 0, total: int = 0) -> Turn:
        info: Raw = {
            "id": mid,
            "role": "assistant",
            "agent": "build",
            "modelID": "claude-sonnet-4",
            "providerID": "anthropic",
            "path": {"cwd": self.directory, "root": self.directory},
            "time": {"created": T0 + at},
        }
        if done:
            info.update(finish="stop", time={"created": T0 + at, "completed": T0 + done})
            info["tokens"] = {
                "total": total,
                "input": total - 400,
                "output": 400,
                "reasoning": 0,
                "cache": {},
            }
        return self.ev("message.updated", info=info)

    def part(self, mid: str, **part: Any) -> Turn:
        return self.ev("message.part.updated", part={"messageID": mid, "sessionID": self.sid, **part})

    def text(self, mid: str, pid: str, body: str, *, end: bool = True, chunks: int = 4) -> Turn:
        self.part(mid, id=pid, type="text", text="", time={"start": 1})
        size = max(1, len(body) // chunks)
        for start in range(0, len(body), size):
            self.ev(
                "message.part.delta",
                messageID=mid,
                partID=pid,
                field="text",
                delta=body[start : start + size],
            )
        if end:
            self.part(mid, id=pid, type="text", text=body, time={"start": 1, "end": 2})
        return self

    def bash(self, mid: str, pid: str, command: str, *, output: str | None = None) -> Turn:
        state: Raw = {"status": "running", "input": {"command": command}, "time": {"start": 1}}
        self.part(mid, id=pid, type="tool", tool="bash", callID=f"call_{pid}", state=state)
        if output is not None:
            done = {**state, "status": "completed", "output": output, "title": command}
            self.part(mid, id=pid, type="tool", tool="bash", callID=f"call_{pid}", state=done)
        return self

    def idle(self) -> Turn:
        return self.ev("session.status", status={"type": "idle"}).ev("session.idle")


# (thread, channel, directory, session id)
THREADS = (
    ("1001", "901", f"{HOME}/demo", "ses_demo01"),
    ("1002", "902", f"{HOME}/api", "ses_api001"),
    ("1003", "903", f"{HOME}/site", "ses_site01"),
    ("1004", "901", f"{HOME}/demo", "ses_edit01"),
    ("1005", "904", f"{HOME}/docs", "ses_docs01"),
)
ANSWER = (
    "The login test raced the session cookie. I made the fixture **wait for the cookie** before "
    'asserting:\n\n```python\nawait page.wait_for_cookie("session")\n```\n\nBoth tests pass now.'
)


def scene_turns() -> list[Turn]:
    demo = Turn("ses_demo01", f"{HOME}/demo").title("Fix the flaky login test").user("msg_u1", 0)
    demo.assistant("msg_a1", 100).bash("msg_a1", "prt_t1", "pytest tests/test_login.py -q", output="2 passed")
    demo.text("msg_a1", "prt_x1", ANSWER).assistant("msg_a1", 100, done=8400, total=18_250).idle()
    demo.user("msg_u2", 60_000).assistant("msg_a2", 60_100).bash("msg_a2", "prt_t2", "rm -rf build && make")
    demo.ev(
        "permission.asked",
        id="per_demo01",
        permission="bash",
        patterns=["rm -rf build && make"],
        metadata={"command": "rm -rf build && make"},
        always=["rm *"],
    )
    api = Turn("ses_api001", f"{HOME}/api").title("Add pagination to /users").user("msg_u3", 120_000)
    api.assistant("msg_a3", 120_100).text(
        "msg_a3", "prt_x3", "I'll add `limit` and `offset` query parameters. First, the handler", end=False
    )
    site = Turn("ses_site01", f"{HOME}/site").title("Pick a colour scheme").user("msg_u4", 180_000)
    site.assistant("msg_a4", 180_100).ev(
        "question.asked",
        id="que_site01",
        questions=[
            {
                "question": "Which color do you prefer?",
                "header": "Color",
                "options": [
                    {"label": "Red", "description": "warm"},
                    {"label": "Green", "description": "calm"},
                    {"label": "Blue", "description": "cool"},
                ],
            }
        ],
    )
    edit = Turn("ses_edit01", f"{HOME}/demo").title("Rename the config loader").user("msg_u5", 240_000)
    edit.assistant("msg_a5", 240_100).ev(
        "permission.asked",
        id="per_edit01",
        permission="edit",
        patterns=["src/config.py"],
        always=["*"],
        metadata={"filepath": f"{HOME}/demo/src/config.py", "diff": EDIT_DIFF},
    )
    docs = Turn("ses_docs01", f"{HOME}/docs").title("Publish the docs").user("msg_u6", 300_000)
    docs.ev("session.error", error={"name": "APIError", "data": {"message": "Rate limit exceeded"}}).idle()
    return [demo, api, site, edit, docs]


def concrete(model: ControlCenterModel) -> Core:
    """The core behind a model, with its internals: tests set scenes up and clean up through its
    store and bus; the screens themselves see only `CoreApi`."""
    assert isinstance(model.core, Core)
    return model.core


def build_scene(model: ControlCenterModel) -> None:
    """Map the threads, feed the events, queue two prompts, link channels; freeze activity times."""
    core = concrete(model)
    store = core.store
    for thread, channel, directory, sid in THREADS:
        store.link_channel(channel, "800", directory)
        core.sessions.open(thread, channel, directory, sid)
    store.add_project(f"{HOME}/notes")
    prompts = {"ses_demo01": ["Fix the flaky login test", "Now clean the build and rebuild"]}
    for turn in scene_turns():
        spoken = iter(prompts.get(turn.sid, []))
        for raw in turn.events:
            if raw["type"] == "message.updated" and raw["properties"]["info"]["role"] == "user":
                text = next(spoken, None)
                if text:
                    core.bus.publish(
                        PromptDispatched(
                            turn.sid, text, "alice", "discord", False, thread_id=_thread(turn.sid)
                        )
                    )
            core.handle_event(parse_event(raw))
    for text in ("Use the darker blue for links", "Then update the screenshots"):
        store.enqueue("1003", text, "bob", "bob", "discord", files=[], session_id="ses_site01")
    for index, runtime in enumerate(core.sessions.all()):
        runtime.last_activity = NOW - 30 - 300 * index
        runtime.turn_started_at = NOW - 95 - 60 * index


def _thread(session_id: str) -> str:
    return next(thread for thread, _, _, sid in THREADS if sid == session_id)
