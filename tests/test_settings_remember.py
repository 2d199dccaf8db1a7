"""`settings.remember`: a choice made in the wizard lands in config.toml as a top-level key, and the
rest of the file is kept."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kimaki_tui.settings import SettingsError, load_settings
from kimaki_tui.settings.remember import remember


def test_a_new_file_holds_the_key_and_is_private(tmp_path: Path) -> None:
    path = remember(tmp_path, "secrets_file", True, "why")
    assert path.read_text() == "secrets_file = true  # why\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings({"data_dir": str(tmp_path)}, env={}).secrets_file


def test_the_key_goes_before_the_first_table_and_replaces_an_old_value(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    table = '[discord]\nverbosity = "text_only"\n'
    config.write_text(f'# mine\nlog_level = "DEBUG"\nsecrets_file = false\n\n{table}')
    remember(tmp_path, "secrets_file", True, "chosen")
    assert config.read_text() == f'# mine\nlog_level = "DEBUG"\nsecrets_file = true  # chosen\n\n{table}'

    config.write_text(table)
    remember(tmp_path, "secrets_file", True, "chosen")
    settings = load_settings({"data_dir": str(tmp_path)}, env={})
    assert settings.secrets_file and settings.discord.verbosity == "text_only"


def test_a_broken_file_is_not_touched(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("this is = = not toml\n")
    with pytest.raises(SettingsError):
        remember(tmp_path, "secrets_file", True, "chosen")
    assert config.read_text() == "this is = = not toml\n"
