"""The command lines the sandbox backends build (bubblewrap, podman) and the specs they refuse.

No process runs here: what each backend isolates is read off its command line. The end-to-end
tests (test_bwrap.py) show that bubblewrap enforces it; podman is not installed on the test
machines, so this is where its backend is checked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kimaki_tui.opencode.injection_guard import GUARD_DIR_ENV, PLUGIN_FILE
from kimaki_tui.sandbox.api import Bind, Limits, SandboxError, SandboxSpec
from kimaki_tui.sandbox.bwrap import BwrapBackend, BwrapLauncher, system_args
from kimaki_tui.sandbox.local import SANDBOX_PORT, LaunchContext
from kimaki_tui.sandbox.podman import PodmanBackend, PodmanLauncher
from kimaki_tui.sandbox.shared import SharedBackend

SERVE = ["serve", "--hostname", "127.0.0.1", "--port", "0", "--print-logs"]


def spec(tmp_path: Path, **changes: object) -> SandboxSpec:
    values: dict[str, object] = {
        "key": "thread-1",
        "worktree": tmp_path / "wt",
        "data_dir": tmp_path / "data",
    }
    values.update(changes)
    return SandboxSpec(**values)  # type: ignore[arg-type]


def bwrap_argv(context: LaunchContext, env: dict[str, str] | None = None) -> list[str]:
    launcher = BwrapLauncher(
        context, bwrap="bwrap", prlimit="prlimit", system_paths=("/usr", "/etc/passwd"), tools=(),
        disable_userns=True,
    )  # fmt: skip
    return list(launcher.command("/opt/oc/opencode", SERVE, env or {}, None).argv)


def pairs(argv: list[str], option: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, arg in enumerate(argv) if arg == option]


def test_bwrap_isolates_everything_but_the_worktree_and_data_dir(tmp_path: Path) -> None:
    git_dir = tmp_path / "repo/.git"
    argv = bwrap_argv(LaunchContext(spec(tmp_path), git_dir, None, None), {"OPENCODE_CONFIG": "/cfg.json"})
    for option in ("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                   "--new-session", "--disable-userns"):  # fmt: skip
        assert option in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert "--unshare-net" not in argv  # network on by default
    writable = pairs(argv, "--bind")
    assert writable == [(str(p), str(p)) for p in (tmp_path / "data", git_dir, tmp_path / "wt")]
    read_only = pairs(argv, "--ro-bind")
    assert ("/usr", "/usr") in read_only and ("/opt/oc/opencode", "/opt/oc/opencode") in read_only
    assert ("/cfg.json", "/cfg.json") in pairs(argv, "--ro-bind-try")
    assert argv[argv.index("--remount-ro") + 1] == "/"  # the empty root bwrap builds stays read-only
    assert argv[argv.index("--chdir") + 1] == str(tmp_path / "wt")
    assert argv[argv.index("--") + 1 :] == ["/opt/oc/opencode", *SERVE]
    assert argv[0] == "bwrap"  # no limits: no prlimit


def test_bwrap_extra_binds_and_limits(tmp_path: Path) -> None:
    extra = (Bind(Path("/srv/cache"), writable=True), Bind(Path("/opt/sdk"), Path("/sdk"), optional=True))
    limits = Limits(open_files=256, file_size_mb=10)
    argv = bwrap_argv(LaunchContext(spec(tmp_path, binds=extra, limits=limits), None, None, None))
    assert argv[:4] == ["prlimit", "--nofile=256:256", f"--fsize={10 << 20}:{10 << 20}", "--"]
    assert ("/srv/cache", "/srv/cache") in pairs(argv, "--bind")
    assert ("/opt/sdk", "/sdk") in pairs(argv, "--ro-bind-try")


def test_bwrap_without_network_serves_through_a_socket(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    context = LaunchContext(spec(tmp_path, network=False), None, runtime, 40123)
    launcher = BwrapLauncher(
        context, bwrap="bwrap", prlimit=None, system_paths=("/usr",), tools=(), disable_userns=False
    )
    argv = list(launcher.command("/opt/oc/opencode", SERVE, {}, None).argv)
    assert "--unshare-net" in argv and "--disable-userns" not in argv
    assert (str(runtime), "/run/kimaki") in pairs(argv, "--bind")
    inner = argv[argv.index("--") + 1 :]
    assert inner[:2] == ["/bin/sh", "-c"] and "netshim.py /run/kimaki/opencode.sock 4096 &" in inner[2]
    assert inner[4:] == ["/opt/oc/opencode", "serve", "--hostname", "127.0.0.1", "--port", str(SANDBOX_PORT),
                         "--print-logs"]  # fmt: skip
    assert launcher.public_url("http://127.0.0.1:4096") == "http://127.0.0.1:40123"


def test_bwrap_hides_variables_that_lead_outside(tmp_path: Path) -> None:
    launcher = BwrapLauncher(
        LaunchContext(spec(tmp_path), None, None, None), bwrap="bwrap", prlimit=None, system_paths=(),
        tools=(), disable_userns=True,
    )  # fmt: skip
    env = {"SSH_AUTH_SOCK": "/run/user/1/ssh", "DBUS_SESSION_BUS_ADDRESS": "unix:abstract=x", "LANG": "C"}
    assert dict(launcher.command("/oc", SERVE, env, None).env) == {"LANG": "C"}


def test_system_paths_keep_merged_usr_symlinks() -> None:
    args = system_args(["/bin", "/usr", "/no/such/path"])
    if Path("/bin").is_symlink():
        assert args[:3] == ["--symlink", "usr/bin", "/bin"]
    assert args[-3:] == ["--ro-bind", "/usr", "/usr"]
    assert "/no/such/path" not in args


async def test_bwrap_refuses_limits_it_cannot_enforce(tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    backend = BwrapBackend(bwrap=sys.executable)  # any executable: create fails before running it
    with pytest.raises(SandboxError, match="cannot limit memory_mb, processes") as caught:
        await backend.create(spec(tmp_path, limits=Limits(memory_mb=512, processes=64)))
    assert "podman" in caught.value.hint
    assert not (tmp_path / "data").exists()  # nothing was prepared


async def test_a_missing_worktree_or_bwrap_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="does not exist"):
        await BwrapBackend(bwrap=sys.executable).create(spec(tmp_path))
    (tmp_path / "wt").mkdir()
    backend = BwrapBackend()
    backend._bwrap = None  # as on a machine without bubblewrap
    with pytest.raises(SandboxError, match="bubblewrap") as caught:
        await backend.create(spec(tmp_path))
    assert "apt-get install bubblewrap" in caught.value.hint


def test_bad_sandbox_keys_and_relative_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="cannot name a sandbox"):
        spec(tmp_path, key="../etc")
    with pytest.raises(SandboxError, match="absolute"):
        spec(tmp_path, worktree=Path("relative/wt"))


def test_podman_command(tmp_path: Path) -> None:
    git_dir = tmp_path / "repo/.git"
    limits = Limits(memory_mb=1024, processes=128, cpus=1.5, open_files=512, file_size_mb=5)
    context = LaunchContext(spec(tmp_path, limits=limits), git_dir, None, None)
    launcher = PodmanLauncher(context, podman="podman", image="img:1", rootless=True)
    env = {"OPENCODE_SERVER_PASSWORD": "pw", "HOME": str(tmp_path / "data/home"), "PATH": "/usr/bin"}
    command = launcher.command("opencode", SERVE, env, None)
    argv = list(command.argv)
    assert argv[:8] == ["podman", "run", "--rm", "--replace", "--init", "--name", "kimaki-sbx-thread-1",
                        "--hostname"]  # fmt: skip
    expected = {"--cap-drop": "all", "--security-opt": "no-new-privileges", "--network": "host",
                "--userns": "keep-id", "--memory": "1024m", "--pids-limit": "128", "--cpus": "1.5",
                "--workdir": str(tmp_path / "wt")}  # fmt: skip
    for option, value in expected.items():
        assert argv[argv.index(option) + 1] == value
    assert "--read-only" in argv
    volumes = [argv[i + 1] for i, a in enumerate(argv) if a == "--volume"]
    assert volumes == [f"{tmp_path / 'data'}:{tmp_path / 'data'}:rw", f"{git_dir}:{git_dir}:rw",
                       f"{tmp_path / 'wt'}:{tmp_path / 'wt'}:rw"]  # fmt: skip
    passed = [argv[i + 1] for i, a in enumerate(argv) if a == "--env"]
    assert passed == ["HOME", "OPENCODE_SERVER_PASSWORD"]  # by name: values stay out of `ps`
    assert "pw" not in argv and command.env["OPENCODE_SERVER_PASSWORD"] == "pw"
    assert argv[argv.index("img:1") + 1 :] == ["opencode", *SERVE]


def test_podman_without_network(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    context = LaunchContext(spec(tmp_path, network=False), None, runtime, 40999)
    argv = list(PodmanLauncher(context, podman="podman", image="img", rootless=False).command(
        "opencode", SERVE, {}, None).argv)  # fmt: skip
    assert argv[argv.index("--network") + 1] == "none" and "--userns" not in argv
    volumes = [argv[i + 1] for i, a in enumerate(argv) if a == "--volume"]
    assert f"{runtime}:/run/kimaki:rw" in volumes
    assert any(v.endswith("netshim.py:/opt/kimaki/netshim.py:ro") for v in volumes)
    inner = argv[argv.index("img") + 1 :]
    assert "python3 -I -S /opt/kimaki/netshim.py /run/kimaki/opencode.sock 4096 &" in inner[2]
    assert inner[4:] == ["opencode", "serve", "--hostname", "127.0.0.1", "--port", "4096", "--print-logs"]


async def test_podman_missing_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    backend = PodmanBackend()
    backend._podman = None
    with pytest.raises(SandboxError, match="podman is not installed") as caught:
        await backend.create(spec(tmp_path))
    assert "podman build" in caught.value.hint


async def test_shared_server_refuses_isolation_it_cannot_give(tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    backend = SharedBackend(server=None)  # type: ignore[arg-type]  # never reached: create refuses first
    for changes in ({"network": False}, {"limits": Limits(open_files=10)}):
        with pytest.raises(SandboxError, match="shared OpenCode server cannot"):
            await backend.create(spec(tmp_path, **changes))


def test_podman_mounts_the_injection_guard_read_only(tmp_path: Path) -> None:
    """A guarded session in a container reads its plugin and patterns where the config names them."""
    guard_dir = tmp_path / "guard"
    context = LaunchContext(spec(tmp_path), None, None, None)
    launcher = PodmanLauncher(context, podman="podman", image="img", rootless=False)
    argv = list(launcher.command("opencode", SERVE, {GUARD_DIR_ENV: str(guard_dir)}, None).argv)
    volumes = [argv[i + 1] for i, a in enumerate(argv) if a == "--volume"]
    plugin = PLUGIN_FILE.resolve()
    assert f"{plugin}:{plugin}:ro" in volumes and f"{guard_dir}:{guard_dir}:ro" in volumes
    assert GUARD_DIR_ENV in [argv[i + 1] for i, a in enumerate(argv) if a == "--env"]
