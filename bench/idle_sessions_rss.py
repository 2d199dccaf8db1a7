"""RSS of the kimaki Python process with 50 idle sessions loaded (OpenCode's own process excluded).

Starts the real runtime (store, supervisor, core, event stream) against the real `opencode serve`
and the scripted model, opens 50 threads, gives each session one answered turn so it is really
loaded (mapping, reducer state, footer facts), waits until all are idle, then reads the RSS of
this process. Target: ≤ 80 MB.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tempfile
from pathlib import Path

import psutil
from _common import ROOT, result

sys.path.insert(0, str(ROOT))

from kimaki_tui.core.events import TurnFinished
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.root.build import Services
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.settings import Settings
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import DEFAULT_OPENCODE, git_init, make_opencode_env, wait_until

SESSIONS = 50


async def measure(tmp: Path) -> float:
    model = ScriptedModel()
    await model.start()
    env = make_opencode_env(tmp / "opencode", model.base_url)
    settings = Settings(data_dir=tmp / "data")
    settings.data_dir.mkdir()
    project = git_init(tmp / "project")
    binary = os.environ.get("OPENCODE_PATH") or str(DEFAULT_OPENCODE)
    finished: list[TurnFinished] = []
    supervisor = OpenCodeSupervisor(binary=binary, env=env)
    runtime = Services(settings, open_secrets(settings, env={}), supervisor)
    runtime.bus.add_callback(lambda e: finished.append(e) if isinstance(e, TurnFinished) else None)
    try:
        async with runtime:
            await runtime.wait_ready(60)
            for index in range(SESSIONS):
                runtime.core.sessions.open(str(10_000 + index), "1", str(project))
            for start in range(0, SESSIONS, 10):
                batch = range(start, start + 10)
                await asyncio.gather(
                    *(
                        runtime.core.conversations.submit(str(10_000 + i), PromptInput(f"REPLY: hello {i}"))
                        for i in batch
                    )
                )
                await wait_until(lambda n=start + 10: len(finished) >= n, 60, 0.05, "a batch of turns")
            assert all(s.state != "busy" for s in runtime.core.conversations.all())
            gc.collect()
            await asyncio.sleep(0.5)
            return float(psutil.Process().memory_info().rss) / 2**20
    finally:
        await model.stop()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        rss = asyncio.run(measure(Path(tmp)))
    print(f"{SESSIONS} idle sessions loaded; RSS of the kimaki process: {rss:.1f} MB")
    result("idle_sessions_rss", rss, "MB", "<=80")


if __name__ == "__main__":
    main()
