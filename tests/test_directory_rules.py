"""The external_directory rule kimaki's OpenCode server starts with (--restrict-directories)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.config_content import CONFIG_CONTENT
from kimaki_tui.opencode.directory_rules import with_directory_rule
from kimaki_tui.root.run import directory_rule
from kimaki_tui.settings import load_settings


def test_the_flag_turns_allow_all_into_an_allow_list(tmp_path: Path) -> None:
    data = tmp_path / "data"
    default = load_settings({"data_dir": str(data)}, {})
    assert directory_rule(default) == {"*": "allow"}
    restricted = load_settings({"data_dir": str(data), "opencode.restrict_directories": True}, {})
    rule = directory_rule(restricted)
    assert "*" not in rule and set(rule.values()) == {"allow"}
    temp = Path(tempfile.gettempdir()).resolve()
    for folder in (temp, data.resolve(), (Path.home() / ".config" / "opencode").resolve()):
        assert rule[str(folder)] == "allow" and rule[f"{folder}/*"] == "allow"


def test_the_rule_joins_the_config_content_already_there() -> None:
    before = {CONFIG_CONTENT: json.dumps({"mcp": {"x": {}}, "permission": {"bash": "ask"}}), "A": "1"}
    after = with_directory_rule(before, {"*": "allow"})
    assert after["A"] == "1"
    assert json.loads(after[CONFIG_CONTENT]) == {
        "mcp": {"x": {}},
        "permission": {"bash": "ask", "external_directory": {"*": "allow"}},
    }
    with pytest.raises(KimakiError, match="not valid JSON"):
        with_directory_rule({CONFIG_CONTENT: "{nope"}, {})
