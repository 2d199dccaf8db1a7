"""The environment `opencode serve` (and so every tool the agent runs) gets: the user's variables
minus kimaki's secrets, plus what OpenCode itself needs.

The agent's bash tool inherits the server's environment, so anything left here is one prompt
(or one prompt-injected web page) away from being posted in a thread. What is dropped:
- kimaki's own secret variables (`SECRET_VARIABLES`: the bot token and the Gemini key),
- any `KIMAKI_*` variable whose name says it holds a secret (TOKEN, KEY, SECRET, PASSWORD),
- any variable, whatever its name, whose value contains a secret kimaki knows (a token read
  from the keyring and also exported under another name, for instance).
Everything else passes unchanged (PATH, HOME, proxies, the user's model provider keys...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from kimaki_tui.secrets import ENV_VARS

SECRET_VARIABLES = frozenset(ENV_VARS.values())
_KIMAKI_SECRET_NAME = re.compile(r"^KIMAKI_\w*(TOKEN|KEY|SECRET|PASSWORD|PASSWD)\w*$")
# A known secret shorter than this is not searched for in values (it would match by chance).
MIN_SECRET_LENGTH = 8


def is_secret_variable(name: str) -> bool:
    return name in SECRET_VARIABLES or bool(_KIMAKI_SECRET_NAME.match(name.upper()))


def agent_environment(
    base: Mapping[str, str],
    *,
    secret_values: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`base` without secrets (see the module docstring), then `extra` (what OpenCode needs)."""
    known = [value for value in secret_values if value and len(value) >= MIN_SECRET_LENGTH]
    env = {
        name: value
        for name, value in base.items()
        if not is_secret_variable(name) and not any(secret in value for secret in known)
    }
    env.update(extra or {})
    return env
