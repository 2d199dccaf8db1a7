"""Filling the settings tree: flags > environment > `<data-dir>/config.toml` > defaults, each value
checked against its field (type, choices, bounds); a misfit is a `SettingsError` naming the setting
and where the value came from."""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kimaki_tui.errors import KimakiError
from kimaki_tui.settings.tree import CONFIG_FILE, DATA_DIR_ENV, DEFAULT_DATA_DIR, Settings


class SettingsError(KimakiError):
    """A setting's value does not fit; the message names the setting and its source."""


@dataclass(frozen=True, slots=True)
class Option:
    """One leaf of the tree: `key` is its dotted config.toml key (`discord.verbosity`)."""

    key: str
    flag: str
    env: str
    help: str
    default: Any
    kind: Any  # the annotation: bool, int, float, str, Path, a Literal, one of those | None, tuple[str, ...]
    minimum: float | None
    maximum: float | None

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @property
    def choices(self) -> tuple[str, ...]:
        return _choices(self.kind)

    @property
    def metavar(self) -> str:
        """What the flag takes: `{a,b}` for choices, else the name in capitals."""
        if self.choices:
            return "{" + ",".join(self.choices) + "}"
        if self.repeatable:
            return "NAME"
        return "PATH" if _base(self.kind) is Path else self.name.upper()

    @property
    def repeatable(self) -> bool:
        """A list of names (`tuple[str, ...]`): the flag may be given several times, the variable
        is comma-separated, config.toml has a list."""
        return typing.get_origin(self.kind) is tuple

    @property
    def in_config(self) -> bool:
        return self.key != "data_dir"  # config.toml lives in the data dir


def options(tree: type = Settings, prefix: str = "") -> Iterator[Option]:
    """Every leaf of the settings tree, in declaration order."""
    hints = typing.get_type_hints(tree)
    for f in dataclasses.fields(tree):
        kind = hints[f.name]
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            yield from options(kind, f"{prefix}{f.name}.")
            continue
        meta = f.metadata
        yield Option(
            key=prefix + f.name,
            flag=meta["flag"] or "--" + f.name.replace("_", "-"),
            env=meta["env"] or "KIMAKI_" + f.name.upper(),
            help=meta["help"],
            default=DEFAULT_DATA_DIR if f.default is dataclasses.MISSING else f.default,
            kind=kind,
            minimum=meta["minimum"],
            maximum=meta["maximum"],
        )


def load_settings(
    flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None, *, create: bool = True
) -> Settings:
    """The settings from `flags` (dotted keys; None = not given), `env` and config.toml.

    The data dir is created (mode 0700) unless `create` is False. Raises SettingsError.
    """
    flags = flags or {}
    environ = os.environ if env is None else env
    data_dir = resolve_data_dir(flags.get("data_dir"), env=environ, create=create)
    config = read_config(data_dir / CONFIG_FILE)
    values: dict[str, Any] = {"data_dir": data_dir}
    for option in options():
        if option.key == "data_dir":
            continue
        value, source = _pick(option, flags, environ, config)
        if source is not None:
            values[option.key] = _check(option, value, source)
    unknown = set(_flatten(config)) - {o.key for o in options() if o.in_config}
    if unknown:
        raise SettingsError(
            f"unknown setting {sorted(unknown)[0]!r} in {data_dir / CONFIG_FILE}.",
            "See the settings table in the README for the keys kimaki knows.",
        )
    settings: Settings = _build(Settings, values)
    _check_values(settings)
    return settings


def _check_values(settings: Settings) -> None:
    discord = settings.discord
    if discord.turn_routing_model is not None:
        provider, _, model = discord.turn_routing_model.partition("/")
        if not provider or not model:
            raise SettingsError(
                f"--turn-routing-model must name provider/model, not {discord.turn_routing_model!r}.",
                "For example --turn-routing-model anthropic/claude-haiku-4-5 (see /model for the names).",
            )
    if discord.enable_skill and discord.disable_skill:
        raise SettingsError(
            "--enable-skill and --disable-skill cannot be used together.",
            "Name the only skills to offer (--enable-skill) or the ones to leave out (--disable-skill).",
        )


def resolve_data_dir(
    explicit: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    create: bool = True,
) -> Path:
    """The absolute data directory (created if missing and made 0700, unless `create` is False)."""
    from kimaki_tui.private_files import private_dir

    environ = os.environ if env is None else env
    raw = os.fspath(explicit) if explicit else environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    path = Path(raw).expanduser().resolve()
    if create:
        private_dir(path)
    return path


def read_config(path: Path) -> dict[str, Any]:
    """config.toml as a dict ({} when there is none); SettingsError when it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}.", "Check its permissions.") from exc
    import tomllib

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"{path} is not valid TOML ({exc}).", "Fix the file or move it aside, then start again."
        ) from exc


def _pick(
    option: Option, flags: Mapping[str, Any], env: Mapping[str, str], config: Mapping[str, Any]
) -> tuple[Any, str | None]:
    """The value and a description of where it came from; (None, None) for the default."""
    given = flags.get(option.key)
    if given is not None:
        return (_from_text(option, given, option.flag) if isinstance(given, str) else given), option.flag
    raw = env.get(option.env)
    if raw is not None and raw.strip():
        return _from_text(option, raw.strip(), option.env), option.env
    node: Any = config
    for part in option.key.split("."):
        node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
    if node is not _MISSING:
        return node, f"{option.key} in {CONFIG_FILE}"
    return None, None


_MISSING = object()
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _from_text(option: Option, text: str, source: str) -> Any:
    """An environment variable's text as the option's type (bool, int, float; else the text)."""
    base = _base(option.kind)
    if option.repeatable:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    try:
        if base is bool:
            if text.lower() not in _TRUE + _FALSE:
                raise ValueError
            return text.lower() in _TRUE
        if base is int:
            return int(text)
        if base is float:
            return float(text)
    except ValueError:
        raise _invalid(option, text, source, _expected(option)) from None
    return text


def _check(option: Option, value: Any, source: str) -> Any:
    """`value` as the option's type, or SettingsError naming the setting and `source`."""
    if option.repeatable:
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            raise _invalid(option, value, source, "a list of names")
        return tuple(item.strip() for item in value if item.strip())
    base = _base(option.kind)
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if base is Path and isinstance(value, str | os.PathLike):
        return Path(value).expanduser().resolve()
    if option.choices:
        text = value.lower() if isinstance(value, str) else None
        match = next((c for c in option.choices if c.lower() == text), None)
        if match is None:
            raise _invalid(option, value, source, _expected(option))
        return match
    if not isinstance(value, base) or (base is not bool and isinstance(value, bool)):
        raise _invalid(option, value, source, _expected(option))
    low, high = option.minimum, option.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        expected = f"at least {low:g}" if high is None else f"from {low:g} to {high:g}"
        raise _invalid(option, value, source, expected)
    return value


def _invalid(option: Option, value: Any, source: str, expected: str) -> SettingsError:
    return SettingsError(
        f"invalid value {value!r} for the setting {option.key} (from {source}): expected {expected}.",
        f"Fix {source}, or leave it out for the default ({_show_default(option)}).",
    )


def _expected(option: Option) -> str:
    if option.choices:
        return "one of " + ", ".join(option.choices)
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text", Path: "a path"}
    return names[_base(option.kind)]


def _show_default(option: Option) -> str:
    default = option.default
    return "none" if default is None else str(default).lower() if isinstance(default, bool) else str(default)


def _base(kind: Any) -> Any:
    """bool, int, float, str or Path: what a value must be once parsed."""
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) is Literal:
        return str
    if args and typing.get_origin(args[0]) is Literal:
        return str
    return args[0] if args else kind


def _choices(kind: Any) -> tuple[str, ...]:
    if typing.get_origin(kind) is Literal:
        return tuple(typing.get_args(kind))
    return ()


def _flatten(config: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in config.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield prefix + key


def _build(tree: type, values: Mapping[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(tree)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(tree):
        key = prefix + f.name
        if dataclasses.is_dataclass(hints[f.name]):
            kwargs[f.name] = _build(hints[f.name], values, key + ".")
        elif key in values:
            kwargs[f.name] = values[key]
    return tree(**kwargs)
