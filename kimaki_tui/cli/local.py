"""What the automation subcommands share: the settings (their flags, the environment, config.toml),
the bot token, the kimaki running for the data dir (through its control API), error reporting and
plain-text tables. The database and the secrets come from the root (kimaki_tui.root.offline).

Results go to stdout; errors go to stderr as `kimaki: <message>` with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from kimaki_tui.errors import KimakiError

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from kimaki_tui.control_api import ControlClient
    from kimaki_tui.core.offline import SessionReader
    from kimaki_tui.discord_rest import DiscordRest
    from kimaki_tui.settings import Settings

NO_TOKEN = (
    "no Discord bot token: set KIMAKI_BOT_TOKEN (e.g. in CI), or run `kimaki setup` to keep it in the "
    "OS keyring"
)


class CliError(KimakiError):
    """A failure the user can act on; reported as `kimaki: <message>` with `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", metavar="PATH", default=argparse.SUPPRESS, help="kimaki's data dir (default: ~/.kimaki)"
    )


def settings_of(args: argparse.Namespace, *, create: bool = True) -> Settings:
    """The settings of this command line: the setting flags it was given (a yes/no flag left off
    says nothing, so the environment or config.toml still decide), the environment, config.toml.
    The data dir is created unless `create` is False."""
    from kimaki_tui.settings import load_settings, options

    given = {option.key: getattr(args, option.key, None) for option in options()}
    flags = {key: value for key, value in given.items() if value is not None and value is not False}
    return load_settings(flags, create=create)


def bot_token(settings: Settings) -> str:
    from kimaki_tui.root.offline import open_secrets

    token = open_secrets(settings).get_bot_token()
    if not token:
        raise CliError(NO_TOKEN, 2)
    return token


def discord_rest(settings: Settings) -> DiscordRest:
    """A REST client speaking as the bot, to the Discord of `discord.api_url`."""
    from kimaki_tui.discord_rest import DiscordRest

    return DiscordRest(bot_token(settings), base_url=settings.discord.api_url)


def run(main: Callable[[], Coroutine[Any, Any, int] | int]) -> int:
    """Run a subcommand (a coroutine runs in its own loop); known errors become one line on stderr
    and an exit code."""
    from kimaki_tui.discord_rest import DiscordApiError
    from kimaki_tui.errors import one_line
    from kimaki_tui.settings import SettingsError

    try:
        result = main()
        return asyncio.run(result) if inspect.iscoroutine(result) else int(result)  # type: ignore[arg-type]
    except CliError as exc:
        return fail(str(exc), exc.code)
    except DiscordApiError as exc:
        return fail(f"Discord: {exc}" + (f"\n{exc.hint}" if exc.hint else ""))
    except SettingsError as exc:
        return fail(one_line(exc), 2)
    except KimakiError as exc:
        return fail(one_line(exc))
    except KeyboardInterrupt:
        return 130


def fail(message: str, code: int = 1) -> int:
    print(f"kimaki: {message}", file=sys.stderr, flush=True)
    return code


def out(text: str = "") -> None:
    print(text, flush=True)


async def running_control(settings: Settings) -> ControlClient | None:
    """A control client for the kimaki running for the settings' data dir, or None when none runs."""
    from kimaki_tui.instance import control_client, running_instance

    if await running_instance(settings.data_dir, settings.lock_port) is None:
        return None
    return control_client(settings.data_dir, settings.lock_port)


async def running_opencode(control: ControlClient) -> AbstractAsyncContextManager[SessionReader]:
    """The sessions of the running kimaki's OpenCode server (`async with` it)."""
    from kimaki_tui.core.offline import remote_sessions

    info = await control.opencode()
    url = info.get("url")
    if not isinstance(url, str):
        raise CliError("the running kimaki did not say where its OpenCode server is")
    password = info.get("password")
    username = str(info.get("username") or "opencode")
    return remote_sessions(url, str(password) if password else None, username)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain, column-aligned text table."""
    cells = [[str(h) for h in headers], *[[("" if c is None else str(c)) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])
