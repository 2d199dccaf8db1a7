"""Start-up's objects set aside from the garbage collector: when the composition root does it,
and what it does to an object that later dies in a reference cycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kimaki_tui.core.events import ChatStatus
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.root.build import Services
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.settings import Settings

# In a process of its own: freezing this test worker's heap would keep its garbage for good.
SETTLING = """
import gc, weakref
from kimaki_tui.root.heap import set_start_up_objects_aside

class Node:
    pass

node = Node()
node.me = node  # a reference cycle: only the garbage collector can free it
alive = weakref.ref(node)
set_start_up_objects_aside()
assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
del node
gc.collect()
assert alive() is not None, "a full pass freed an object set aside"
set_start_up_objects_aside()
assert alive() is None, "the next settling did not free it"
print("ok")
"""


def test_a_set_aside_object_dying_in_a_cycle_is_freed_at_the_next_settling() -> None:
    done = subprocess.run([sys.executable, "-c", SETTLING], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.opencode
async def test_the_root_settles_the_heap_each_time_discord_connects(
    tmp_path: Path, opencode_binary: str, spare_opencode_env: dict[str, str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    supervisor = OpenCodeSupervisor(binary=opencode_binary, env=spare_opencode_env)
    settled: list[str] = []
    services = Services(
        settings, open_secrets(settings, env={}), supervisor, settle_heap=lambda: settled.append("x")
    )
    async with services:
        for state in ("connecting", "connected", "connected", "disconnected", "connected"):
            services.bus.publish(ChatStatus(state))
            if state == "connected":
                assert settled, "not settled at the first connection"
    assert len(settled) == 2  # the first connection and the reconnection, not each status
