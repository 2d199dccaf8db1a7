"""The podman backend: each thread's `opencode serve` in its own container.

The image (built from the Containerfile next to this module) brings OpenCode, git, rg and
python3; the container sees only the image and, mounted at their host paths, the worktree and
the repository's shared git dir and the sandbox's data dir (read-write), OPENCODE_CONFIG, the
injection guard's plugin and patterns (read-only) and the spec's extra binds. Its root file system
is read-only, every capability is dropped, and it cannot gain privileges. Network on shares the
host's network (the model on 127.0.0.1 stays reachable); off is `--network none`, reached through
the same unix-socket bridge as bubblewrap. Memory, processes, CPUs, open files and file size are
all enforced by podman.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kimaki_tui.opencode.launcher import GracefulStop, LaunchCommand
from kimaki_tui.sandbox.api import Bind, Limits, SandboxError, SandboxHandle
from kimaki_tui.sandbox.bwrap import HOST_ONLY_VARIABLES, RUNTIME_INSIDE, guard_binds, shim_command
from kimaki_tui.sandbox.local import SANDBOX_PORT, SOCKET_NAME, LaunchContext, LocalBackend

DEFAULT_IMAGE = "localhost/kimaki-opencode:1.18.33"
CONTAINERFILE = Path(__file__).with_name("Containerfile")
SHIM_INSIDE = Path("/opt/kimaki/netshim.py")
# The host's own variables that make no sense in the image (its PATH, its interpreters).
_NOT_PASSED = frozenset(
    {"PATH", "HOSTNAME", "PWD", "OLDPWD", "SHLVL", "_", "TERM", "TERMCAP", "SHELL", "MAIL",
     "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH", "LD_PRELOAD"}
)  # fmt: skip
_MB = 1 << 20


def container_name(key: str) -> str:
    return f"kimaki-sbx-{key}"


def _volume(bind: Bind) -> list[str]:
    return ["--volume", f"{bind.source}:{bind.inside}:{'rw' if bind.writable else 'ro'}"]


def limit_args(limits: Limits) -> list[str]:
    args: list[str] = []
    if limits.memory_mb is not None:
        args += ["--memory", f"{limits.memory_mb}m"]
    if limits.processes is not None:
        args += ["--pids-limit", str(limits.processes)]
    if limits.cpus is not None:
        args += ["--cpus", f"{limits.cpus:g}"]
    if limits.open_files is not None:
        args += ["--ulimit", f"nofile={limits.open_files}:{limits.open_files}"]
    if limits.file_size_mb is not None:
        size = limits.file_size_mb * _MB
        args += ["--ulimit", f"fsize={size}:{size}"]
    return args


class PodmanLauncher:
    """`podman run ... <image> opencode serve ...` for one sandbox."""

    # `podman run` passes SIGTERM on to the container (--sig-proxy, the default).
    graceful_stop: GracefulStop = "leader"

    def __init__(self, context: LaunchContext, *, podman: str, image: str, rootless: bool) -> None:
        self._context = context
        self._podman = podman
        self._image = image
        self._rootless = rootless

    def command(
        self, binary: str, args: Sequence[str], env: Mapping[str, str], cwd: Path | None
    ) -> LaunchCommand:
        """`binary` (the host's OpenCode) is not used: the image has its own `opencode`."""
        spec = self._context.spec
        name = container_name(spec.key)
        passed = sorted(k for k in env if k not in _NOT_PASSED and k not in HOST_ONLY_VARIABLES)
        argv = [
            self._podman, "run", "--rm", "--replace", "--init", "--name", name,
            "--hostname", re.sub(r"[^A-Za-z0-9-]", "-", name)[:63],
            "--cap-drop", "all", "--security-opt", "no-new-privileges",
            "--read-only", "--tmpfs", "/tmp", "--network", "host" if spec.network else "none",
            *(["--userns", "keep-id"] if self._rootless else []),
            *[arg for bind in self._volumes(env) for arg in _volume(bind)],
            # Values come from podman's own environment: the password never shows in `ps`.
            *[arg for key in passed for arg in ("--env", key)],
            *limit_args(spec.limits),
            "--workdir", str(spec.worktree),
            self._image,
            *self._inner_command(list(args)),
        ]  # fmt: skip
        return LaunchCommand(tuple(argv), dict(env), cwd)

    def _volumes(self, env: Mapping[str, str]) -> list[Bind]:
        context = self._context
        binds = [Bind(context.spec.data_dir, writable=True)]
        if context.git_dir is not None:
            binds.append(Bind(context.git_dir, writable=True))
        binds.append(Bind(context.spec.worktree, writable=True))
        config = env.get("OPENCODE_CONFIG")
        if config and os.path.exists(config):
            binds.append(Bind(Path(config)))
        binds += guard_binds(env)  # read-only, at their host paths, as the config names them
        if context.runtime_dir is not None:
            binds.append(Bind(context.runtime_dir, RUNTIME_INSIDE, writable=True))
            binds.append(Bind(Path(__file__).with_name("netshim.py"), SHIM_INSIDE))
        binds += [b for b in context.spec.binds if not b.optional or b.source.exists()]
        return binds

    def _inner_command(self, args: list[str]) -> list[str]:
        if self._context.spec.network:
            return ["opencode", *args]
        index = args.index("--port")
        args[index + 1] = str(SANDBOX_PORT)
        return shim_command("python3", SHIM_INSIDE, RUNTIME_INSIDE / SOCKET_NAME, ["opencode", *args])

    def public_url(self, listening_url: str) -> str:
        port = self._context.bridge_port
        return listening_url if port is None else f"http://127.0.0.1:{port}"


class PodmanBackend(LocalBackend):
    name = "podman"

    def __init__(self, *, podman: str | None = None, image: str = DEFAULT_IMAGE, **options: Any) -> None:
        """`image`: an image with OpenCode (see CONTAINERFILE). Other options: LocalBackend."""
        # The supervisor needs a name to report; the image's own `opencode` is what runs.
        options.setdefault("binary", "opencode")
        super().__init__(**options)
        self._podman = podman or shutil.which("podman")
        self._image = image

    def check_limits(self, limits: Limits) -> None:
        """Podman enforces every limit; it only has to be installed."""
        if self._podman is None:
            raise SandboxError(
                "podman is not installed.",
                f"Install podman and build the image: podman build -t {DEFAULT_IMAGE} -f {CONTAINERFILE} .",
            )

    def launcher(self, context: LaunchContext) -> PodmanLauncher:
        assert self._podman is not None  # check_limits ran at create
        return PodmanLauncher(context, podman=self._podman, image=self._image, rootless=os.getuid() != 0)

    async def after_stop(self, handle: SandboxHandle) -> None:
        """Remove the container even if `podman run` died without taking it down."""
        assert self._podman is not None
        proc = await asyncio.create_subprocess_exec(
            self._podman, "rm", "--force", "--ignore", "--time", "0", container_name(handle.key),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await proc.wait()
