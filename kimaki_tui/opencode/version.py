"""Which OpenCode versions kimaki supports, and the check of the one it runs.

`OLDEST_SUPPORTED` is the oldest line whose API and events kimaki understands (the test suite
runs the 1.2 line for real); `NEWEST_TESTED` is the release the suite pins. An older OpenCode
is refused with an error that says how to upgrade; a newer one runs with one warning. The
version comes from the server's health answer, or from `opencode --version` when the server
gives none (or never starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

_LEADING_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?!\d)")
# What `opencode --version` may need from the environment (it creates its config dirs).
_PROBE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


@dataclass(frozen=True, slots=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version | None:
        """`1.2.27`, `v1.2.27` or `1.2.27-beta.1` (the pre-release part is ignored)."""
        match = _LEADING_VERSION.match(text.strip())
        return cls(*(int(group) for group in match.groups())) if match else None

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


OLDEST_SUPPORTED = Version(1, 2, 0)
NEWEST_TESTED = Version(1, 18, 33)
SUPPORTED_RANGE = f"{OLDEST_SUPPORTED} to {NEWEST_TESTED}"

Verdict = Literal["supported", "too_old", "newer_than_tested", "unknown"]


@dataclass(frozen=True, slots=True)
class VersionCheck:
    """The verdict on one OpenCode version (None: it could not be told)."""

    version: Version | None
    verdict: Verdict

    @property
    def ok(self) -> bool:
        """False only for a version kimaki cannot work with."""
        return self.verdict != "too_old"

    @property
    def message(self) -> str:
        """One line for the log and the control center; empty when all is well."""
        if self.verdict == "too_old":
            return f"OpenCode {self.version} is older than the oldest supported {OLDEST_SUPPORTED}."
        if self.verdict == "newer_than_tested":
            return (
                f"OpenCode {self.version} is newer than the newest tested {NEWEST_TESTED}; "
                "kimaki runs anyway (report anything odd)."
            )
        if self.verdict == "unknown":
            return f"Could not tell the OpenCode version; kimaki supports {SUPPORTED_RANGE}."
        return ""

    @property
    def short(self) -> str:
        """The message without its advice, for a status line."""
        return self.message.split(";", 1)[0].rstrip(".")


def check_version(version: Version | None) -> VersionCheck:
    if version is None:
        return VersionCheck(None, "unknown")
    if version < OLDEST_SUPPORTED:
        return VersionCheck(version, "too_old")
    if version > NEWEST_TESTED:
        return VersionCheck(version, "newer_than_tested")
    return VersionCheck(version, "supported")


def parse_version_output(output: str) -> Version | None:
    """The version in `opencode --version`'s output: the last line that starts with one.

    Offline, some releases log an error about models.dev around it, so the output is not only
    the version.
    """
    for line in reversed(output.splitlines()):
        version = Version.parse(line)
        if version is not None:
            return version
    return None


async def probe_binary_version(
    binary: str, env: Mapping[str, str], *, timeout: float = 20.0
) -> Version | None:
    """Run `binary --version` (with `env` over a few basics of ours); None if that fails."""
    base = {key: os.environ[key] for key in _PROBE_ENV if key in os.environ}
    base.update({key: value for key, value in os.environ.items() if key.startswith("XDG_")})
    try:
        proc = await asyncio.create_subprocess_exec(
            binary,
            "--version",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**base, **env},
        )
    except OSError:
        return None
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return None
    return parse_version_output(output.decode(errors="replace"))


async def judge_version(reported: object, binary: str | None, env: Mapping[str, str]) -> VersionCheck:
    """The verdict on the version a server reported, or on its binary's when it reported none."""
    version = Version.parse(reported) if isinstance(reported, str) else None
    if version is None and binary is not None:
        version = await probe_binary_version(binary, env)
    return check_version(version)
