"""How OpenCode learns about kimaki's MCP server: an `mcp.kimaki` entry in its config.

The entry goes into `OPENCODE_CONFIG_CONTENT` in the environment `opencode serve` starts with
(merged into any content already there). That survives OpenCode restarts, since the supervisor
respawns with the same environment and the MCP server keeps its port and secret for the whole
run; `POST /mcp` would add it to one project instance until the next restart only.

Do not register the MCP secret with `logs.register_secret`: the supervisor drops every variable
whose value contains a registered secret from OpenCode's environment, this one included.

`timeout` is OpenCode's limit for one tool call (ms): it must outlast the longest wait for the
user, since OpenCode 1.2 sends no progress token that could keep a call alive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimaki_tui.agent_tools.toolkit import SERVER_NAME, ToolLimits
from kimaki_tui.opencode.config_content import config_content, with_content

_MARGIN_SECONDS = 60


def request_timeout_ms(limits: ToolLimits) -> int:
    return int((limits.longest_wait + _MARGIN_SECONDS) * 1000)


def server_entry(url: str, headers: Mapping[str, str], limits: ToolLimits) -> dict[str, Any]:
    """OpenCode's remote MCP config for kimaki's server (no OAuth probing: the secret is the auth)."""
    return {
        "type": "remote",
        "url": url,
        "headers": dict(headers),
        "enabled": True,
        "oauth": False,
        "timeout": request_timeout_ms(limits),
    }


def with_agent_tools(
    env: Mapping[str, str], url: str, headers: Mapping[str, str], limits: ToolLimits
) -> dict[str, str]:
    """`env` with kimaki's MCP server added to OPENCODE_CONFIG_CONTENT (other content kept)."""
    content = config_content(env)
    servers = content.get("mcp")
    servers = dict(servers) if isinstance(servers, dict) else {}
    content["mcp"] = {**servers, SERVER_NAME: server_entry(url, headers, limits)}
    return with_content(env, content)
