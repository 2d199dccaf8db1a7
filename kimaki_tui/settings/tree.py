"""The settings tree: frozen dataclasses, each leaf documented by `setting(default, help, flag=,
env=, minimum=, maximum=)`. The flag defaults to `--<name>`, the variable to `KIMAKI_<NAME>`, the
config.toml key to the field's dotted path (`discord.verbosity`, in a `[discord]` table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_DATA_DIR = "~/.kimaki"
DATA_DIR_ENV = "KIMAKI_DATA_DIR"
CONFIG_FILE = "config.toml"

Verbosity = Literal["tools_and_text", "text_and_essential_tools", "text_only"]
BusyPolicy = Literal["interrupt", "queue"]
TurnRouting = Literal["off", "heuristic", "ai"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LogFormat = Literal["text", "json"]
SandboxMode = Literal["none", "bwrap", "podman"]


def setting(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    env: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Any:
    """A documented leaf: `flag` and `env` default to `--<name>` and `KIMAKI_<NAME>`."""
    meta = {"help": help, "flag": flag, "env": env, "minimum": minimum, "maximum": maximum}
    return field(default=default, metadata=meta)


@dataclass(frozen=True, slots=True)
class OpenCodeSettings:
    path: str | None = setting(
        None, "The opencode binary (default: the first `opencode` on PATH).", flag="--opencode-path",
        env="OPENCODE_PATH",
    )  # fmt: skip
    log_level: Literal["DEBUG", "INFO", "WARN", "ERROR"] = setting(
        "WARN", "OpenCode's own log level (its output goes to kimaki's log).",
        flag="--opencode-log-level", env="KIMAKI_OPENCODE_LOG_LEVEL",
    )  # fmt: skip
    restrict_directories: bool = setting(
        False, "Outside its project the agent may use only the temporary directory, OpenCode's "
        "config and kimaki's data dir without asking; any other folder needs a permission answer "
        "(default: it may use any folder).", flag="--restrict-directories", env="KIMAKI_RESTRICT_DIRECTORIES",
    )  # fmt: skip
    release_idle_after: float = setting(
        1800.0, "Seconds a project's conversations must all be idle before OpenCode's in-memory "
        "instance of it is released (it holds one of the user's inotify instances; sessions stay on "
        "disk). 0: never.", minimum=0,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    api_url: str | None = setting(
        None, "Discord's REST API base (a local Discord twin in tests), e.g. http://127.0.0.1:PORT/api/v10.",
        flag="--discord-api-url", env="KIMAKI_DISCORD_API_URL",
    )  # fmt: skip
    gateway_url: str | None = setting(
        None, "Discord's gateway (a local Discord twin in tests), e.g. ws://127.0.0.1:PORT/gateway.",
        flag="--discord-gateway-url", env="KIMAKI_DISCORD_GATEWAY_URL",
    )  # fmt: skip
    allow_all_users: bool = setting(
        False, "Let every member of an allowed server use the bot (default: owners, admins, "
        "Manage Server, or the \"Kimaki\" role)."
    )  # fmt: skip
    allowed_channels: str = setting(
        "", "Comma-separated ids of the only channels kimaki answers in (and their threads); "
        "empty: every linked channel."
    )  # fmt: skip
    category: str | None = setting(
        None, "The id of the only channel category kimaki answers in (its channels and their threads)."
    )
    required_role: str | None = setting(
        None, "The id of a role every user needs, besides the Kimaki role rules (`allow_all_users` "
        "included)."
    )  # fmt: skip
    mention_mode: bool = setting(
        False, "Default for channels without their own /mention-mode: in a project channel only "
        "messages that mention the bot (or its role) or start with `!` start a thread."
    )  # fmt: skip
    use_worktrees: bool = setting(
        False, "Default for channels without their own /auto-worktrees: each new thread started by a "
        "channel message gets its own git worktree (branch `kimaki/<name>`, thread marked ⬦)."
    )  # fmt: skip
    turn_routing: TurnRouting = setting(
        "off", "Default for channels without their own /turn-routing: which messages in a bot thread "
        "get an answer: off (all), heuristic (not \"thanks!\", not messages that start by mentioning "
        "someone else), or ai (the heuristic, then a small model asked whether the rest is for the "
        "agent). Skipped messages reach the session as context."
    )  # fmt: skip
    turn_routing_model: str | None = setting(
        None, "The model (provider/model) `ai` turn routing asks; default: OpenCode's default model. "
        "A small, fast one keeps replies quick."
    )  # fmt: skip
    turn_routing_timeout: float = setting(
        8.0, "Seconds `ai` turn routing waits for the model's verdict; then the message is answered.",
        minimum=0.5,
    )  # fmt: skip
    verbosity: Verbosity = setting(
        "text_and_essential_tools", "Which tool lines the bot posts: tools_and_text, "
        "text_and_essential_tools or text_only (a channel's /verbosity overrides it there)."
    )  # fmt: skip
    typing_interval: float = setting(
        7.0, "Seconds between typing indicators while a turn runs.", minimum=0.5
    )
    max_inline_text: int = setting(
        64 * 1024, "Text attachments up to this many bytes go inline into the prompt; larger "
        "ones are saved and passed by path.", minimum=0,
    )  # fmt: skip
    max_attachment: int = setting(
        25 * 1024 * 1024, "The largest attachment (bytes) kimaki downloads.", minimum=0
    )
    guild_ready_timeout: float = setting(
        0.5, "Seconds discord.py waits for the last server before it reports ready.", minimum=0
    )
    members_intent: bool = setting(
        False, "Ask Discord for the privileged Server Members intent (enable it in the Developer Portal too)."
    )
    catch_up_messages: int = setting(
        50, "After downtime (or a gateway session that could not resume), answer up to this many "
        "missed messages per channel and thread (0: no catch-up).", minimum=0, maximum=100,
    )  # fmt: skip
    catch_up_hours: float = setting(
        24.0, "Missed messages older than this many hours are not answered after downtime.", minimum=0
    )
    enable_skill: tuple[str, ...] = setting(
        (), "Offer only these OpenCode skills as /<name>-skill commands (repeat the flag; comma-separated "
        "in the variable). Not with disable_skill."
    )  # fmt: skip
    disable_skill: tuple[str, ...] = setting(
        (), "Offer every OpenCode skill as a /<name>-skill command except these (repeat the flag; "
        "comma-separated in the variable). Not with enable_skill."
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SessionSettings:
    busy_policy: BusyPolicy = setting(
        "interrupt", "A message while a turn runs: interrupt (abort the turn after interrupt_delay, "
        "then send) or queue (send when the turn ends)."
    )  # fmt: skip
    interrupt_delay: float = setting(
        3.0, "Seconds a running turn may finish by itself before a new message interrupts it.", minimum=0
    )
    idle_wait: float = setting(
        3.0, "Seconds to wait for OpenCode to report a session idle after an abort.", minimum=0
    )
    memory_idle_gap: float = setting(
        600.0, "After this many idle seconds, the next prompt reminds the agent of MEMORY.md.", minimum=0
    )
    permission_timeout_minutes: float = setting(
        10.0, "Minutes a permission prompt waits for an answer before it is rejected (0: wait "
        "forever). Questions the agent asks never time out.", minimum=0,
    )  # fmt: skip
    disable_sync: bool = setting(
        False, "Do not give Discord threads to sessions started outside kimaki (e.g. `opencode` in a "
        "terminal) in linked projects."
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    gemini_model: str = setting("gemini-2.5-flash", "The Gemini model that transcribes voice messages.")
    transcription_timeout: float = setting(
        90.0, "Seconds a transcription may take before it is given up.", minimum=1
    )
    max_voice_seconds: float = setting(420.0, "The longest voice message (seconds) transcribed.", minimum=1)
    gemini_base_url: str | None = setting(
        None, "Another Gemini endpoint (a local fake in tests).", env="GOOGLE_GEMINI_BASE_URL"
    )


@dataclass(frozen=True, slots=True)
class TaskSettings:
    pre_run_timeout: float = setting(
        60.0, "Seconds a scheduled send's --pre-run command may take; longer, the run is skipped.", minimum=1
    )


@dataclass(frozen=True, slots=True)
class AgentToolSettings:
    """The Discord tools kimaki serves the agent (kimaki_file_upload, kimaki_action_buttons...)."""

    upload_timeout: float = setting(
        600.0, "Seconds kimaki_file_upload waits for files before telling the agent nobody sent any.",
        minimum=1,
    )  # fmt: skip
    buttons_timeout: float = setting(
        600.0, "Seconds kimaki_action_buttons waits for a click before telling the agent nobody chose.",
        minimum=1,
    )  # fmt: skip
    max_send_file: int = setting(
        25 * 1024 * 1024, "The largest file (bytes) kimaki_send_file posts (Discord's limit: 25 MB).",
        minimum=1, maximum=25 * 1024 * 1024,
    )  # fmt: skip
    longest_sleep_days: float = setting(
        30.0, "The longest kimaki_sleep, in days.", minimum=0.001
    )


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """Where each new thread's OpenCode runs: the shared server, or a sandbox of its own."""

    mode: SandboxMode = setting(
        "none", "none: every thread on the one shared OpenCode server; bwrap: each new thread gets "
        "its own `opencode serve` in a bubblewrap sandbox over its own git worktree; podman: the same "
        "in a podman container (see --sandbox-image). A channel may override it with /sandbox.",
        flag="--sandbox", env="KIMAKI_SANDBOX",
    )  # fmt: skip
    image: str = setting(
        "localhost/kimaki-opencode:1.18.33", "The image podman sandboxes run (OpenCode, git, rg; "
        "build it from kimaki_tui/sandbox/Containerfile).", flag="--sandbox-image",
        env="KIMAKI_SANDBOX_IMAGE",
    )  # fmt: skip
    network: Literal["on", "off"] = setting(
        "on", "off: sandboxed servers get an empty network namespace (kimaki reaches them through a "
        "unix socket); the agent's tools reach no network.", flag="--sandbox-network",
        env="KIMAKI_SANDBOX_NETWORK",
    )  # fmt: skip
    idle_minutes: float = setting(
        30.0, "Minutes a sandboxed thread may idle before its server stops (paused: its sessions "
        "stay on disk; the next message resumes it).", flag="--sandbox-idle-minutes",
        env="KIMAKI_SANDBOX_IDLE_MINUTES", minimum=0.001,
    )  # fmt: skip
    ttl_minutes: float = setting(
        180.0, "Minutes after which a paused sandbox and its worktree are destroyed (a branch with "
        "unmerged or uncommitted work is kept and reported).", flag="--sandbox-ttl-minutes",
        env="KIMAKI_SANDBOX_TTL_MINUTES", minimum=0.001,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    """One run's settings. `data_dir` holds the database, the log and config.toml."""

    data_dir: Path = field(
        metadata={"help": "Where the database, the log and config.toml live.", "flag": None,
                  "env": DATA_DIR_ENV, "minimum": None, "maximum": None}
    )  # fmt: skip
    projects_dir: Path | None = setting(
        None, "Where /create-new-project makes folders (default: <data-dir>/projects)."
    )
    no_tui: bool = setting(False, "Run headless, without the control center (automatic without a terminal).")
    log_level: LogLevel = setting("INFO", "The log's level: DEBUG, INFO, WARNING or ERROR.")
    log_format: LogFormat = setting(
        "text", "The log file's format: text (one line per record) or json (one JSON object per line "
        "with time, level, logger, message and the thread, session and request ids it concerns)."
    )  # fmt: skip
    lock_port: int | None = setting(
        None, "The lock port on 127.0.0.1 (default: derived from the data dir; 29988 for ~/.kimaki).",
        minimum=1, maximum=65535,
    )  # fmt: skip
    secrets_file: bool = setting(
        False, "Without a working OS keyring, keep secrets in <data-dir>/secrets.json (mode 0600, "
        "plain text)."
    )  # fmt: skip
    opencode: OpenCodeSettings = field(default_factory=OpenCodeSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    sessions: SessionSettings = field(default_factory=SessionSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    tasks: TaskSettings = field(default_factory=TaskSettings)
    agent_tools: AgentToolSettings = field(default_factory=AgentToolSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)

    @property
    def projects_path(self) -> Path:
        """Where projects go: `projects_dir`, else `<data-dir>/projects`."""
        return self.projects_dir or self.data_dir / "projects"

    @property
    def db_path(self) -> Path:
        """`discord-sessions.db`, or `kimaki-tui.db` beside kimaki's own database (database_file)."""
        from kimaki_tui.database_file import choose_database

        return choose_database(self.data_dir).path

    @property
    def log_path(self) -> Path:
        return self.data_dir / "kimaki.log"

    @property
    def injection_guard_dir(self) -> Path:
        """Sessions' --injection-guard patterns, read by OpenCode's guard plugin."""
        return self.data_dir / "injection-guard"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_FILE
