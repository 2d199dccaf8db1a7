"""Upgrade kimaki-tui the way it was installed, then restart the running kimaki.

How it was installed is read from the package metadata and the environment: `uv tool` (a
uv-receipt.toml in the tool's prefix), pipx (pipx_metadata.json), an editable git checkout (PEP 610
direct_url.json with `editable`: `git pull --ff-only` then reinstall), or pip / `uv pip` (the
INSTALLER file). Commands run through an injected runner, so tests never touch the network.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from kimaki_tui.errors import KimakiError

log = logging.getLogger(__name__)

DIST = "kimaki-tui"
RUN_TIMEOUT = 900.0
InstallKind = Literal["uv-tool", "pipx", "editable", "uv-pip", "pip"]


class UpgradeRefused(KimakiError):
    """kimaki cannot upgrade itself for this kind of installation; the message says what to do."""


@dataclass(frozen=True, slots=True)
class InstallFacts:
    """What the running interpreter says about the installed package."""

    prefix: Path
    executable: str
    installer: str | None
    direct_url: Mapping[str, Any] | None
    version: str


@dataclass(frozen=True, slots=True)
class InstallPlan:
    kind: InstallKind
    commands: tuple[tuple[str, ...], ...]
    description: str
    checkout: Path | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    code: int
    output: str


@dataclass(frozen=True, slots=True)
class UpgradeOutcome:
    plan: InstallPlan
    ok: bool
    before: str
    after: str
    output: str = ""

    @property
    def changed(self) -> bool:
        return self.ok and self.before != self.after


Runner = Callable[[Sequence[str]], Awaitable[RunResult]]


def current_facts() -> InstallFacts:
    """Facts about this interpreter's kimaki-tui (the installed dist-info, not a source tree's egg-info)."""
    import importlib.metadata as metadata

    found = list(metadata.distributions(name=DIST))
    if not found:
        raise UpgradeRefused(f"{DIST} is not installed in {sys.prefix}; upgrade it the way you run it.")
    dist = next((d for d in found if d.read_text("INSTALLER") is not None), found[0])
    raw = dist.read_text("direct_url.json")
    return InstallFacts(
        prefix=Path(sys.prefix),
        executable=sys.executable,
        installer=(dist.read_text("INSTALLER") or "").strip() or None,
        direct_url=json.loads(raw) if raw else None,
        version=dist.version,
    )


def _local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def plan_upgrade(facts: InstallFacts) -> InstallPlan:
    """The commands that upgrade this installation, or UpgradeRefused saying why not."""
    exe = facts.executable
    if facts.direct_url is not None:
        return _plan_direct(facts, facts.direct_url)
    if (facts.prefix / "uv-receipt.toml").is_file():
        return InstallPlan("uv-tool", (("uv", "tool", "upgrade", DIST),), "installed with `uv tool`")
    if (facts.prefix / "pipx_metadata.json").is_file():
        return InstallPlan("pipx", (("pipx", "upgrade", DIST),), "installed with pipx")
    if facts.installer == "uv":
        command = ("uv", "pip", "install", "--upgrade", "--python", exe, DIST)
        return InstallPlan("uv-pip", (command,), "installed with `uv pip`")
    return InstallPlan("pip", ((exe, "-m", "pip", "install", "--upgrade", DIST),), "installed with pip")


def _plan_direct(facts: InstallFacts, direct: Mapping[str, Any]) -> InstallPlan:
    url = str(direct.get("url") or "")
    path = _local_path(url)
    editable = bool((direct.get("dir_info") or {}).get("editable"))
    if not editable or path is None:
        raise UpgradeRefused(
            f"{DIST} was installed from {url or 'a direct reference'}; upgrade it the same way you "
            "installed it, then restart kimaki."
        )
    if not (path / ".git").exists():
        raise UpgradeRefused(
            f"{DIST} runs from the folder {path} (an editable install that is not a git checkout); "
            "update that folder yourself and reinstall it."
        )
    if facts.installer == "uv":
        reinstall: tuple[str, ...] = ("uv", "pip", "install", "--python", facts.executable, "-e", str(path))
    else:
        reinstall = (facts.executable, "-m", "pip", "install", "-e", str(path))
    pull = ("git", "-C", str(path), "pull", "--ff-only")
    return InstallPlan("editable", (pull, reinstall), f"an editable git checkout at {path}", checkout=path)


async def subprocess_runner(args: Sequence[str]) -> RunResult:
    """Run a command, stdout and stderr together; a missing program is exit code 127."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except FileNotFoundError:
        return RunResult(127, f"{args[0]}: command not found")
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return RunResult(124, f"{' '.join(args)} timed out after {RUN_TIMEOUT:g} s")
    return RunResult(proc.returncode or 0, out.decode(errors="replace"))


_VERSION_CODE = f"import importlib.metadata as m; print(m.version({DIST!r}))"


@dataclass
class Upgrader:
    """Upgrade, then restart the running kimaki through its control API (both injectable)."""

    runner: Runner = subprocess_runner
    facts: Callable[[], InstallFacts] = current_facts
    restarter: Callable[[Path], Awaitable[bool]] | None = None
    lock_port: int | None = None  # the running kimaki's (settings.lock_port; None: from the data dir)
    commands_run: list[tuple[str, ...]] = field(default_factory=list)

    def plan(self) -> InstallPlan:
        return plan_upgrade(self.facts())

    async def upgrade(self) -> UpgradeOutcome:
        """Run the plan (raises UpgradeRefused); `changed` says whether a new version came in."""
        facts = self.facts()
        plan = plan_upgrade(facts)
        before = await self._marker(plan, facts)
        output: list[str] = []
        for command in plan.commands:
            result = await self._run(command)
            output.append(result.output)
            if result.code != 0:
                return UpgradeOutcome(plan, False, before, before, "\n".join(output))
        after = await self._marker(plan, facts)
        return UpgradeOutcome(plan, True, before, after, "\n".join(output))

    async def _run(self, command: Sequence[str]) -> RunResult:
        self.commands_run.append(tuple(command))
        log.info("upgrade: running %s", " ".join(command))
        return await self.runner(command)

    async def _marker(self, plan: InstallPlan, facts: InstallFacts) -> str:
        """What changes when an upgrade did something: the version, plus the commit for a checkout."""
        version = await self._run((facts.executable, "-c", _VERSION_CODE))
        marker = version.output.strip() if version.code == 0 else facts.version
        if plan.checkout is not None:
            head = await self._run(("git", "-C", str(plan.checkout), "rev-parse", "--short", "HEAD"))
            marker += f" ({head.output.strip()})" if head.code == 0 else ""
        return marker

    async def restart(self, data_dir: Path) -> bool:
        """Ask the kimaki running for `data_dir` to restart in place; False when none runs."""
        if self.restarter is not None:
            return await self.restarter(data_dir)
        return await restart_running(data_dir, self.lock_port)


async def restart_running(data_dir: Path, port: int | None = None) -> bool:
    from kimaki_tui.control_api import ControlError
    from kimaki_tui.instance import control_client

    client = control_client(data_dir, port)
    if await client.health() is None:
        return False
    try:
        await client.restart()
    except ControlError as exc:
        log.warning("could not restart the running kimaki: %s", exc)
        return False
    return True
