"""The bubblewrap backend: each thread's `opencode serve` in its own bwrap sandbox.

The sandbox starts from an empty root and sees only: the system paths in `system_paths` (read-only;
/usr, the merged-/usr links and a short list of /etc files), fresh /proc, /dev and /tmp, the
OpenCode binary and the tools it needs (`rg`) read-only, OPENCODE_CONFIG and the injection guard's
plugin and patterns read-only, and read-write: the worktree, the repository's shared git dir (to
commit) and the sandbox's data dir (its HOME). Every host path keeps its name inside. It runs in new
user, PID, IPC, UTS and cgroup namespaces with every capability dropped, in a new session, and dies
with kimaki; with the network off it also gets an empty network namespace, reached through a unix
socket (netshim.py). File descriptors and file size are capped with prlimit; memory and process
counts cannot be capped per sandbox this way (see `check_limits`).
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kimaki_tui.opencode.injection_guard import GUARD_DIR_ENV, PLUGIN_FILE
from kimaki_tui.opencode.launcher import GracefulStop, LaunchCommand
from kimaki_tui.sandbox.api import Bind, Limits, SandboxError, SandboxHandle, SandboxSpec
from kimaki_tui.sandbox.local import SANDBOX_PORT, SOCKET_NAME, LaunchContext, LocalBackend

# Read-only from the host when present. Symlinks among the top-level ones (merged /usr) are
# recreated as symlinks; the rest of /etc (secrets such as /etc/shadow, host keys) stays hidden.
DEFAULT_SYSTEM_PATHS: tuple[str, ...] = (
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/etc/alternatives", "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/resolv.conf",
    "/etc/hosts", "/etc/host.conf", "/etc/gai.conf", "/etc/nsswitch.conf", "/etc/passwd",
    "/etc/group", "/etc/localtime", "/etc/timezone", "/etc/gitconfig", "/etc/ld.so.cache",
    "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/mime.types", "/etc/protocols", "/etc/services",
    "/etc/os-release",
)  # fmt: skip
# Tools OpenCode runs that may live outside the system paths (a venv, ~/.local/bin...).
DEFAULT_TOOLS: tuple[str, ...] = ("rg",)
# Variables that lead out of the sandbox (agent sockets, the session bus, the display).
HOST_ONLY_VARIABLES = frozenset(
    {"SSH_AUTH_SOCK", "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "DISPLAY",
     "WAYLAND_DISPLAY", "XAUTHORITY", "KRB5CCNAME"}
)  # fmt: skip
RUNTIME_INSIDE = Path("/run/kimaki")
_MB = 1 << 20


def _binds(binds: Iterable[Bind]) -> list[str]:
    args: list[str] = []
    for bind in binds:
        option = "--bind" if bind.writable else "--ro-bind"
        args += [f"{option}-try" if bind.optional else option, str(bind.source), str(bind.inside)]
    return args


def system_args(paths: Iterable[str]) -> list[str]:
    """Read-only binds of the system paths that exist; top-level symlinks stay symlinks."""
    args: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_symlink() and path.parent == Path("/"):
            args += ["--symlink", os.readlink(path), raw]
        elif path.exists():
            args += ["--ro-bind", raw, raw]
    return args


def _outside(path: Path, system_paths: Iterable[str]) -> bool:
    return not any(path.is_relative_to(p) for p in system_paths if Path(p).is_dir())


def guard_binds(env: Mapping[str, str]) -> list[Bind]:
    """The injection guard's plugin and pattern directory, read-only, when the server has them.
    The directory is made first: a bind must exist when the sandbox starts, and patterns written
    later must show through it."""
    guard_dir = env.get(GUARD_DIR_ENV)
    if not guard_dir:
        return []
    Path(guard_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    return [Bind(PLUGIN_FILE.resolve()), Bind(Path(guard_dir))]


def tool_binds(env: Mapping[str, str], tools: Iterable[str], system_paths: Sequence[str]) -> list[Bind]:
    """The directories of `tools` found on env's PATH that the system binds do not cover."""
    found: list[Bind] = []
    for tool in tools:
        located = shutil.which(tool, path=env.get("PATH", os.defpath))
        if located is None:
            continue
        for directory in {Path(located).parent, Path(os.path.realpath(located)).parent}:
            if _outside(directory, system_paths):
                found.append(Bind(directory))
    return found


def limit_prefix(limits: Limits, prlimit: str | None) -> list[str]:
    """`prlimit --nofile=... --fsize=... --` (inherited by every process in the sandbox)."""
    options = []
    if limits.open_files is not None:
        options.append(f"--nofile={limits.open_files}:{limits.open_files}")
    if limits.file_size_mb is not None:
        size = limits.file_size_mb * _MB
        options.append(f"--fsize={size}:{size}")
    if not options:
        return []
    if prlimit is None:
        raise SandboxError("prlimit is needed for sandbox limits.", "Install util-linux.")
    return [prlimit, *options, "--"]


def _serve_on_fixed_port(args: Sequence[str]) -> list[str]:
    """`opencode serve ...` listening on SANDBOX_PORT (free: the network namespace is new)."""
    out = list(args)
    index = out.index("--port") if "--port" in out else -1
    if index >= 0:
        out[index + 1] = str(SANDBOX_PORT)
    else:
        out += ["--port", str(SANDBOX_PORT)]
    return out


def shim_command(python: str, shim: Path, socket: Path, server: Sequence[str]) -> list[str]:
    """Run the unix-socket forwarder in the background, then become the server."""
    forwarder = shlex.join([python, "-I", "-S", str(shim), str(socket), str(SANDBOX_PORT)])
    script = f'{forwarder} & exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *server]


class BwrapLauncher:
    """Wraps `opencode serve` in bwrap for one sandbox (see the module docstring)."""

    # bwrap dies at once on SIGTERM and its children with it (--die-with-parent): the
    # server must get the SIGTERM itself to exit cleanly.
    graceful_stop: GracefulStop = "descendants"

    def __init__(
        self,
        context: LaunchContext,
        *,
        bwrap: str,
        prlimit: str | None,
        system_paths: Sequence[str],
        tools: Sequence[str],
        disable_userns: bool,
    ) -> None:
        self._context = context
        self._bwrap = bwrap
        self._prlimit = prlimit
        self._system_paths = system_paths
        self._tools = tools
        self._disable_userns = disable_userns

    def command(
        self, binary: str, args: Sequence[str], env: Mapping[str, str], cwd: Path | None
    ) -> LaunchCommand:
        spec = self._context.spec
        server = [os.path.realpath(binary), *args]
        inner_env = {k: v for k, v in env.items() if k not in HOST_ONLY_VARIABLES}
        argv = [
            *limit_prefix(spec.limits, self._prlimit),
            self._bwrap,
            *self._namespace_args(),
            *system_args(self._system_paths),
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp",
            *_binds(self._read_only(server[0], env)),
            *_binds(self._writable()),
            *_binds(spec.binds),
            # The directories bwrap made on the way to the binds must not be writable.
            "--remount-ro", "/",
            "--chdir", str(spec.worktree),
            "--",
            *self._inner_command(server),
        ]  # fmt: skip
        return LaunchCommand(tuple(argv), inner_env, cwd)

    def _namespace_args(self) -> list[str]:
        spec = self._context.spec
        args = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if self._disable_userns:
            args.append("--disable-userns")  # no nested namespaces to escape the limits through
        if not spec.network:
            args.append("--unshare-net")
        hostname = re.sub(r"[^A-Za-z0-9-]", "-", f"kimaki-{spec.key}")[:63]
        return [*args, "--hostname", hostname, "--cap-drop", "ALL", "--die-with-parent", "--new-session"]

    def _read_only(self, binary: str, env: Mapping[str, str]) -> list[Bind]:
        binds = [Bind(Path(binary)), *tool_binds(env, self._tools, self._system_paths)]
        config = env.get("OPENCODE_CONFIG")
        if config:
            binds.append(Bind(Path(config), optional=True))
        binds += guard_binds(env)
        if not self._context.spec.network:
            binds.append(Bind(Path(__file__).with_name("netshim.py")))
            prefix = Path(sys.base_prefix)
            if _outside(Path(os.path.realpath(sys.executable)), self._system_paths):
                binds.append(Bind(prefix))
        return binds

    def _writable(self) -> list[Bind]:
        context = self._context
        binds = [Bind(context.spec.data_dir, writable=True)]
        if context.git_dir is not None:
            binds.append(Bind(context.git_dir, writable=True))
        binds.append(Bind(context.spec.worktree, writable=True))
        if context.runtime_dir is not None:
            binds.append(Bind(context.runtime_dir, RUNTIME_INSIDE, writable=True))
        return binds

    def _inner_command(self, server: list[str]) -> list[str]:
        if self._context.spec.network:
            return server
        python = os.path.realpath(sys.executable)
        shim = Path(__file__).with_name("netshim.py")
        return shim_command(python, shim, RUNTIME_INSIDE / SOCKET_NAME, _serve_on_fixed_port(server))

    def public_url(self, listening_url: str) -> str:
        port = self._context.bridge_port
        return listening_url if port is None else f"http://127.0.0.1:{port}"


async def bwrap_version(bwrap: str) -> tuple[int, ...]:
    """bwrap's version as numbers, (0,) if it cannot be told."""
    try:
        proc = await asyncio.create_subprocess_exec(
            bwrap, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
    except (OSError, TimeoutError):
        return (0,)
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out.decode(errors="replace"))
    return tuple(int(g or 0) for g in match.groups()) if match else (0,)


class BwrapBackend(LocalBackend):
    name = "bwrap"

    def __init__(
        self,
        *,
        bwrap: str | None = None,
        system_paths: Sequence[str] = DEFAULT_SYSTEM_PATHS,
        tools: Sequence[str] = DEFAULT_TOOLS,
        **options: Any,
    ) -> None:
        """`system_paths`: the host paths visible read-only (the bind list); `tools`: programs
        found on PATH whose directories are made visible too. Other options: LocalBackend."""
        super().__init__(**options)
        self._bwrap = bwrap or shutil.which("bwrap")
        self._system_paths = tuple(system_paths)
        self._tools = tuple(tools)
        self._disable_userns = False

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        handle = await super().create(spec)
        assert self._bwrap is not None  # check_limits (in create) refuses a missing bwrap
        # --disable-userns (no nested namespaces) exists from bwrap 0.8.
        self._disable_userns = await bwrap_version(self._bwrap) >= (0, 8)
        return handle

    def check_limits(self, limits: Limits) -> None:
        if self._bwrap is None:
            raise SandboxError(
                "bubblewrap (bwrap) is not installed.",
                "Install it (apt-get install bubblewrap, or KIMAKI_SANDBOX=bwrap scripts/setup.sh).",
            )
        unsupported = [
            name for name, value in (("memory_mb", limits.memory_mb), ("processes", limits.processes),
                                     ("cpus", limits.cpus)) if value is not None
        ]  # fmt: skip
        if unsupported:
            raise SandboxError(
                f"the bwrap sandbox cannot limit {', '.join(unsupported)}: OpenCode reserves ~70 GB "
                "of address space, and process limits count every process of the user.",
                "Leave them unset with bwrap, or use the podman backend, which enforces them.",
            )

    def launcher(self, context: LaunchContext) -> BwrapLauncher:
        assert self._bwrap is not None  # check_limits ran at create
        return BwrapLauncher(
            context,
            bwrap=self._bwrap,
            prlimit=shutil.which("prlimit"),
            system_paths=self._system_paths,
            tools=self._tools,
            disable_userns=self._disable_userns,
        )
