"""The injection guard's two ends on kimaki's side: the plugin in OpenCode's config, and the
per-session pattern files the plugin reads.

`kimaki send --injection-guard tool:glob` asks that the new session's matching tool outputs be
handed to the model as untrusted data (plugins/injection-guard.js does the wrapping inside
`opencode serve`). The patterns are per session, while a plugin lives as long as its server, so
they travel as files: `<guard dir>/<session id>.json`, the directory named by
KIMAKI_INJECTION_GUARD_DIR in the server's environment. The file is written right after OpenCode
creates the session and before its first prompt, so no tool of that session runs unguarded.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from kimaki_tui.opencode.config_content import config_content, with_content

GUARD_DIR_ENV = "KIMAKI_INJECTION_GUARD_DIR"
PLUGIN_FILE = Path(__file__).with_name("plugins") / "injection-guard.js"
log = logging.getLogger(__name__)


def with_injection_guard(env: Mapping[str, str], guard_dir: Path) -> dict[str, str]:
    """`env` with the guard plugin added to OpenCode's config and its pattern directory named."""
    content = config_content(env)
    plugins = content.get("plugin")
    plugins = [p for p in plugins if isinstance(p, str)] if isinstance(plugins, list) else []
    url = PLUGIN_FILE.resolve().as_uri()
    content["plugin"] = plugins if url in plugins else [*plugins, url]
    return {**with_content(env, content), GUARD_DIR_ENV: str(guard_dir)}


def guard_files(server_env: Mapping[str, str] | None) -> GuardFiles | None:
    """The pattern files of a server started with `server_env`; None when it has no guard plugin
    (then a session asking for the guard is refused rather than run unguarded)."""
    directory = (server_env or {}).get(GUARD_DIR_ENV)
    return GuardFiles(Path(directory)) if directory else None


def guard_flags(metadata: object) -> int | None:
    """What the plugin recorded in a tool's metadata: None when it left the output alone, else
    how many lines of the output read like instructions to the model."""
    guard = metadata.get("kimakiInjectionGuard") if isinstance(metadata, Mapping) else None
    if not isinstance(guard, Mapping):
        return None
    flagged = guard.get("flagged")
    return max(flagged, 0) if isinstance(flagged, int) else 0


class GuardFiles:
    """The pattern files in one directory (the one the OpenCode server was told about)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, session_id: str) -> Path:
        return self.directory / f"{session_id}.json"

    def write(self, session_id: str, patterns: Sequence[str]) -> None:
        """Guard `session_id`'s tool outputs matching `patterns` (tool:glob); atomic, owner-only."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.path(session_id)
        partial = target.with_suffix(".json.partial")
        partial.write_text(json.dumps({"patterns": list(patterns)}))
        os.replace(partial, target)
        log.info("session %s: injection guard on for %s", session_id, ", ".join(patterns))

    def read(self, session_id: str) -> tuple[str, ...]:
        """The patterns guarding `session_id` (none when it has no file)."""
        try:
            data = json.loads(self.path(session_id).read_text())
        except (OSError, ValueError):
            return ()
        patterns = data.get("patterns") if isinstance(data, dict) else None
        return tuple(p for p in patterns if isinstance(p, str)) if isinstance(patterns, list) else ()
