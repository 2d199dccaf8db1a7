"""The settings tree: flags > environment > config.toml > defaults, clear errors for values that do not
fit, and a README that lists every setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki_tui.settings import Settings, SettingsError, load_settings, options
from kimaki_tui.settings.table import END, START, render, replace_table

ROOT = Path(__file__).resolve().parent.parent


def _config(data: Path, text: str) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    (data / "config.toml").write_text(text)
    return data


def test_defaults_without_flags_env_or_config(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": str(tmp_path / "d")}, {})
    assert settings == Settings(data_dir=tmp_path / "d")
    assert settings.discord.verbosity == "text_and_essential_tools" and not settings.discord.allow_all_users
    assert settings.projects_path == tmp_path / "d" / "projects"
    assert settings.db_path == tmp_path / "d" / "discord-sessions.db"


def test_flags_beat_env_beat_config_beat_defaults(tmp_path: Path) -> None:
    data = _config(
        tmp_path / "d",
        'log_level = "DEBUG"\n'
        "[discord]\nverbosity = \"text_only\"\nallow_all_users = true\ntyping_interval = 2\n"
        "[sessions]\nbusy_policy = \"queue\"\ninterrupt_delay = 1.5\n",
    )
    env = {
        "KIMAKI_DATA_DIR": str(data),
        "KIMAKI_VERBOSITY": "tools_and_text",
        "KIMAKI_BUSY_POLICY": "interrupt",
    }
    settings = load_settings({"discord.verbosity": "text_and_essential_tools"}, env)
    assert settings.data_dir == data
    assert settings.discord.verbosity == "text_and_essential_tools"  # the flag
    assert settings.sessions.busy_policy == "interrupt"  # the environment over config.toml
    assert settings.discord.allow_all_users is True and settings.log_level == "DEBUG"  # config.toml
    assert settings.discord.typing_interval == 2.0 and settings.sessions.interrupt_delay == 1.5
    assert settings.sessions.permission_timeout_minutes == 10.0  # the default


def test_environment_text_becomes_the_fields_type(tmp_path: Path) -> None:
    env = {
        "KIMAKI_ALLOW_ALL_USERS": "yes",
        "KIMAKI_LOCK_PORT": "41234",
        "KIMAKI_PERMISSION_TIMEOUT_MINUTES": "30",
        "KIMAKI_LOG_LEVEL": "debug",
        "KIMAKI_PROJECTS_DIR": str(tmp_path / "p"),
        "OPENCODE_PATH": "/opt/opencode",
        "KIMAKI_DISCORD_API_URL": "http://127.0.0.1:9/api/v10",
        "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:8",
        "KIMAKI_SECRETS_FILE": "1",
        "KIMAKI_NO_TUI": "off",
    }
    settings = load_settings({"data_dir": str(tmp_path / "d")}, env)
    assert settings.discord.allow_all_users is True and settings.lock_port == 41234
    assert settings.sessions.permission_timeout_minutes == 30.0 and settings.log_level == "DEBUG"
    assert settings.projects_path == tmp_path / "p" and settings.opencode.path == "/opt/opencode"
    assert settings.discord.api_url == "http://127.0.0.1:9/api/v10"
    assert settings.voice.gemini_base_url == "http://127.0.0.1:8"
    assert settings.secrets_file is True and settings.no_tui is False


CONFIG = "config.toml"
MISFITS = [
    ({}, {"KIMAKI_VERBOSITY": "loud"}, "", ["'loud'", "discord.verbosity", "KIMAKI_VERBOSITY", "text_only"]),
    ({}, {}, "[sessions]\ninterrupt_delay = -1\n", ["sessions.interrupt_delay", CONFIG, "at least 0"]),
    (
        {"sessions.permission_timeout_minutes": "-5"}, {}, "",
        ["permission_timeout_minutes", "--permission-timeout-minutes", "at least 0"],
    ),
    ({}, {"KIMAKI_LOCK_PORT": "99999"}, "", ["lock_port", "KIMAKI_LOCK_PORT", "from 1 to 65535"]),
    ({}, {"KIMAKI_TYPING_INTERVAL": "soon"}, "", ["typing_interval", "KIMAKI_TYPING_INTERVAL", "number"]),
    ({}, {"KIMAKI_ALLOW_ALL_USERS": "maybe"}, "", ["allow_all_users", "true or false"]),
    ({}, {}, '[discord]\nallow_all_users = "yes"\n', ["discord.allow_all_users in config.toml"]),
    ({}, {}, "[discord\nverbosity=", ["config.toml is not valid TOML"]),
    ({}, {}, '[discord]\nverbositty = "text_only"\n', ["unknown setting 'discord.verbositty'"]),
]


@pytest.mark.parametrize(("flags", "env", "config", "says"), MISFITS)
def test_a_value_that_does_not_fit_names_the_setting_and_its_source(
    tmp_path: Path, flags: dict[str, str], env: dict[str, str], config: str, says: list[str]
) -> None:
    data = _config(tmp_path / "d", config)
    with pytest.raises(SettingsError) as raised:
        load_settings({"data_dir": str(data), **flags}, env)
    for words in says:
        assert words in str(raised.value), str(raised.value)
    assert raised.value.hint


def test_every_setting_has_its_own_flag_and_variable_and_documented_choices() -> None:
    every = list(options())
    assert len({o.flag for o in every}) == len(every) and len({o.env for o in every}) == len(every)
    assert all(o.help.endswith(".") or o.help.endswith(")") for o in every)
    verbosity = next(o for o in every if o.key == "discord.verbosity")
    assert verbosity.choices == ("tools_and_text", "text_and_essential_tools", "text_only")
    # What the issue asked to be reachable:
    keys = {o.key for o in every}
    for key in (
        "data_dir", "projects_dir", "no_tui", "log_level", "lock_port", "secrets_file", "opencode.path",
        "discord.verbosity", "discord.allow_all_users", "discord.api_url", "discord.gateway_url",
        "discord.typing_interval", "discord.max_inline_text", "discord.max_attachment",
        "sessions.busy_policy", "sessions.interrupt_delay", "sessions.permission_timeout_minutes",
        "voice.gemini_model", "voice.transcription_timeout", "voice.max_voice_seconds",
    ):  # fmt: skip
        assert key in keys


def test_the_readme_lists_every_setting_as_rendered() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme
    assert replace_table(readme) == readme, "run `python -m kimaki_tui.settings.table README.md`"
    table = render()
    for option in options():
        assert f"`{option.flag}" in table and f"`{option.env}`" in table


def test_skill_lists_come_from_repeated_flags_a_comma_variable_or_a_toml_list(tmp_path: Path) -> None:
    from kimaki_tui.cli.local import settings_of
    from kimaki_tui.cli.main import build_parser

    data = tmp_path / "d"
    args = build_parser().parse_args(
        ["--data-dir", str(data), "--enable-skill", "tidy", "--enable-skill", "lint", "task", "list"]
    )
    assert settings_of(args).discord.enable_skill == ("tidy", "lint")
    from_env = load_settings({"data_dir": str(data)}, {"KIMAKI_DISABLE_SKILL": "a, b,"})
    assert from_env.discord.disable_skill == ("a", "b")
    from_toml = load_settings({"data_dir": str(_config(data, '[discord]\nenable_skill = ["x"]\n'))}, {})
    assert from_toml.discord.enable_skill == ("x",) and from_toml.discord.disable_skill == ()


def test_enabling_and_disabling_skills_together_is_refused(tmp_path: Path) -> None:
    data = _config(tmp_path / "d", '[discord]\nenable_skill = ["x"]\n')
    with pytest.raises(SettingsError) as raised:
        load_settings({"data_dir": str(data)}, {"KIMAKI_DISABLE_SKILL": "y"})
    assert "--enable-skill and --disable-skill" in str(raised.value) and raised.value.hint
    with pytest.raises(SettingsError, match="a list of names"):
        load_settings({"data_dir": str(_config(tmp_path / "e", '[discord]\nenable_skill = "x"\n'))}, {})


def test_the_agent_tools_limits_come_from_the_settings(tmp_path: Path) -> None:
    from datetime import timedelta

    from kimaki_tui.root.agent_tools import tool_limits

    env = {"KIMAKI_UPLOAD_TIMEOUT": "30", "KIMAKI_MAX_SEND_FILE": "1000", "KIMAKI_LONGEST_SLEEP_DAYS": "2"}
    limits = tool_limits(load_settings({"data_dir": str(tmp_path / "d")}, env).agent_tools)
    assert limits.upload_timeout == 30 and limits.buttons_timeout == 600 and limits.max_file_bytes == 1000
    assert limits.longest_sleep == timedelta(days=2)
    with pytest.raises(SettingsError, match="max_send_file"):
        load_settings({"data_dir": str(tmp_path / "d")}, {"KIMAKI_MAX_SEND_FILE": str(26 * 1024 * 1024)})


def test_a_turn_routing_model_must_name_its_provider(tmp_path: Path) -> None:
    data = _config(tmp_path / "d", '[discord]\nturn_routing = "ai"\nturn_routing_model = "haiku"\n')
    with pytest.raises(SettingsError) as raised:
        load_settings({"data_dir": str(data)}, {})
    assert "provider/model" in str(raised.value) and "'haiku'" in str(raised.value) and raised.value.hint
    fine = _config(tmp_path / "e", '[discord]\nturn_routing_model = "anthropic/claude-haiku-4-5"\n')
    model = load_settings({"data_dir": str(fine)}, {}).discord.turn_routing_model
    assert model == "anthropic/claude-haiku-4-5"
