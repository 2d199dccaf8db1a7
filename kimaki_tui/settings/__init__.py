"""Every option kimaki has, in one typed tree, and where each one is read from.

`Settings` (tree.py) is a frozen tree of dataclasses; each leaf says its help, its command-line
flag, its environment variable and its `config.toml` key. `load_settings` (load.py) fills it with,
for each field, the first value found in: flags > environment > `<data-dir>/config.toml` > the
default. The data dir itself comes from `--data-dir` > `KIMAKI_DATA_DIR` > `~/.kimaki` (the config
file lives in it). A value that does not fit (an unknown verbosity, a negative timeout, a
malformed config.toml) raises `SettingsError`, naming the setting and where the value came from.
The README's settings table is rendered from the tree (table.py); a test keeps it true.

The environment is read here and only here, except where the raw environment is what is needed:
the environment handed to child processes (OpenCode, git, `opencode --version`) and the `PATH`
searched for `opencode`; whether a browser can open (`DISPLAY`, `WAYLAND_DISPLAY`,
`SSH_CONNECTION`); and the secrets (`KIMAKI_BOT_TOKEN`, `GEMINI_API_KEY`), which the SecretStore
reads so they never sit in this tree. Importing this package stays cheap (`kimaki --help`).
"""

from kimaki_tui.settings.load import Option, SettingsError, load_settings, options, resolve_data_dir
from kimaki_tui.settings.tree import (
    CONFIG_FILE,
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    AgentToolSettings,
    BusyPolicy,
    DiscordSettings,
    LogLevel,
    OpenCodeSettings,
    SandboxSettings,
    SessionSettings,
    Settings,
    TaskSettings,
    Verbosity,
    VoiceSettings,
)

__all__ = [
    "CONFIG_FILE",
    "DATA_DIR_ENV",
    "DEFAULT_DATA_DIR",
    "AgentToolSettings",
    "BusyPolicy",
    "DiscordSettings",
    "LogLevel",
    "OpenCodeSettings",
    "Option",
    "SandboxSettings",
    "SessionSettings",
    "Settings",
    "SettingsError",
    "TaskSettings",
    "Verbosity",
    "VoiceSettings",
    "load_settings",
    "options",
    "resolve_data_dir",
]
