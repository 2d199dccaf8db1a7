"""The `external_directory` permission kimaki gives the OpenCode server it starts.

By default the agent may read and write outside the project without asking (`"*": "allow"`, as
kimaki does). With `--restrict-directories` the rule becomes an allow-list of safe places (the
temporary directory, OpenCode's own config, kimaki's data dir): any other folder outside the
project asks for permission first. Other tools' permissions are left to OpenCode and opencode.json.

The rule goes into `OPENCODE_CONFIG_CONTENT` (merged with what is already there), so it also
reaches the servers of sandboxed threads, which start with the same environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kimaki_tui.opencode.config_content import config_content, with_content


def safe_directories(*, data_dir: Path, home: Path, temp_dir: Path) -> list[Path]:
    """Where an agent may go outside its project without asking, under --restrict-directories."""
    return [temp_dir, home / ".config" / "opencode", data_dir]


def external_directory_rule(restrict: bool, safe: list[Path]) -> dict[str, str]:
    """OpenCode's `permission.external_directory` value: allow everything, or only `safe`."""
    if not restrict:
        return {"*": "allow"}
    rule: dict[str, str] = {}
    for folder in safe:
        resolved = folder.expanduser().resolve()
        rule[str(resolved)] = "allow"
        rule[f"{resolved}/*"] = "allow"
    return rule


def with_directory_rule(env: Mapping[str, str], rule: dict[str, str]) -> dict[str, str]:
    """`env` with `permission.external_directory` set in OPENCODE_CONFIG_CONTENT (the rest kept)."""
    content = config_content(env)
    permission = content.get("permission")
    permission = dict(permission) if isinstance(permission, dict) else {}
    content["permission"] = {**permission, "external_directory": rule}
    return with_content(env, content)
