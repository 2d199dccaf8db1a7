"""An isolated, offline OpenCode setup: a config with only the scripted "fake" model and a private
HOME/XDG tree, so `opencode serve` never reads the user's configuration or reaches the network.

Used by the test suite and by `kimaki demo`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# The @opencode-ai/plugin version the config dir claims by default (the pinned OpenCode's own).
OPENCODE_VERSION = "1.18.33"


def offline_config(model_base_url: str) -> dict[str, Any]:
    """OpenCode config with only the scripted "fake" provider (no network, bash asks)."""
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "fake": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Fake LLM",
                "options": {"baseURL": model_base_url, "apiKey": "sk-fake"},
                "models": {
                    "fake-model": {
                        "name": "Fake Model",
                        "tool_call": True,
                        "limit": {"context": 128000, "output": 4096},
                        # Images and PDFs reach the scripted model, as with a real multimodal model.
                        "modalities": {"input": ["text", "image", "pdf"], "output": ["text"]},
                    }
                },
            }
        },
        "model": "fake/fake-model",
        "small_model": "fake/fake-model",
        "enabled_providers": ["fake"],
        "autoupdate": False,
        "share": "disabled",
        "permission": {"bash": "ask"},
    }


def make_opencode_env(
    root: Path, model_base_url: str, *, bin_dir: Path | None = None, version: str = OPENCODE_VERSION
) -> dict[str, str]:
    """An isolated HOME/XDG tree under `root` plus the env vars `opencode serve` needs offline.

    OpenCode `npm install`s @opencode-ai/plugin (63 MB, ~10 s, network) into each config dir
    whose node_modules is missing or which does not name the dependency at its own `version`
    (1.18 reads package-lock.json, 1.2 package.json). An empty node_modules and both files naming
    the package make it skip that; the plugin package is only needed for custom TypeScript tools,
    which the scripted model never calls. Default plugins (provider logins, which 1.2 installs
    from npm) are turned off. `bin_dir` (default: this Python's bin directory, where the `rg`
    wheel lives) goes first on PATH for OpenCode's grep.
    """
    home = root / "home"
    xdg = {
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local/share",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_STATE_HOME": home / ".local/state",
    }
    for path in xdg.values():
        path.mkdir(parents=True, exist_ok=True)
    config_dir = xdg["XDG_CONFIG_HOME"] / "opencode"
    (config_dir / "node_modules").mkdir(parents=True, exist_ok=True)
    dependencies = {"@opencode-ai/plugin": version}
    lock = {"packages": {"": {"dependencies": dependencies}}}
    (config_dir / "package-lock.json").write_text(json.dumps(lock))
    (config_dir / "package.json").write_text(json.dumps({"dependencies": dependencies}))
    config_file = root / "opencode.json"
    config_file.write_text(json.dumps(offline_config(model_base_url), indent=2))
    first = bin_dir or Path(sys.executable).parent
    return {
        "HOME": str(home),
        **{key: str(path) for key, path in xdg.items()},
        "OPENCODE_CONFIG": str(config_file),
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
        "PATH": f"{first}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
    }
