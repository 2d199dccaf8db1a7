"""`OPENCODE_CONFIG_CONTENT`: the JSON config kimaki adds to the environment `opencode serve` starts
with (OpenCode merges it over the user's config files). Reading and writing it in one place keeps
every addition (kimaki's MCP server, its plugins) from dropping the others or the user's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kimaki_tui.errors import KimakiError

CONFIG_CONTENT = "OPENCODE_CONFIG_CONTENT"


def config_content(env: Mapping[str, str]) -> dict[str, Any]:
    """The config object in `env` (empty when unset); a clear error when it is not JSON."""
    raw = env.get(CONFIG_CONTENT, "").strip()
    try:
        content = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise KimakiError(f"{CONFIG_CONTENT} is not valid JSON ({exc}).", "Fix or unset it.") from None
    if not isinstance(content, dict):
        raise KimakiError(f"{CONFIG_CONTENT} must hold a JSON object.", "Fix or unset it.")
    return content


def with_content(env: Mapping[str, str], content: Mapping[str, Any]) -> dict[str, str]:
    """`env` with `content` as its config."""
    return {**env, CONFIG_CONTENT: json.dumps(content)}
