"""The OpenCode access layer's error tree: every failure the client or supervisor raises.

aiohttp and httpx exceptions never leave `kimaki_tui.opencode`: the client translates them here
(`raise ... from exc`), so callers catch one family and can show `.hint` to the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from kimaki_tui.errors import KimakiError

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class OpenCodeError(KimakiError):
    """Base of everything the OpenCode layer raises. `hint` says what the user can do."""


class OpenCodeUnavailable(OpenCodeError):
    hint = "The OpenCode server is not running or not reachable; it is restarted automatically."


class OpenCodeTimeout(OpenCodeError):
    hint = "The OpenCode server did not answer in time."


class OpenCodeHTTPError(OpenCodeError):
    """The server answered with an error status. `name` is OpenCode's error name or `_tag`."""

    def __init__(self, status: int, name: str, message: str, body: Any = None) -> None:
        super().__init__(f"OpenCode {status} {name}: {message}" if message else f"OpenCode {status} {name}")
        self.status = status
        self.name = name
        self.message = message
        self.body = body


class OpenCodeAuthError(OpenCodeHTTPError):
    hint = "The OpenCode server rejected our password (OPENCODE_SERVER_PASSWORD)."


class OpenCodeBadRequest(OpenCodeHTTPError):
    pass


class OpenCodeNotFound(OpenCodeHTTPError):
    pass


class SessionNotFound(OpenCodeNotFound):
    hint = "That OpenCode session does not exist (it may have been deleted)."


class OpenCodeBusy(OpenCodeHTTPError):
    hint = "The session is busy; wait for the current turn or abort it."


class OpenCodeServerError(OpenCodeHTTPError):
    pass


class OpenCodeNotInstalled(OpenCodeError):
    hint = "Install it with `npm install -g opencode-ai`, or set OPENCODE_PATH to the opencode binary."

    def __init__(self, message: str = "") -> None:
        super().__init__(f"{message or 'opencode was not found on PATH.'} {self.hint}")


class OpenCodeTooOld(OpenCodeError):
    """The opencode binary is older than the oldest version kimaki supports."""

    hint = "Upgrade it with `npm install -g opencode-ai@latest`, or set OPENCODE_PATH to a newer opencode."


class OpenCodeStartError(OpenCodeError):
    """The server never became healthy or exited while starting. `output` is its last lines."""

    hint = "Check the OpenCode output below; run `opencode serve` by hand to see the full log."

    def __init__(self, message: str, output_lines: Iterable[str] = ()) -> None:
        lines = [strip_ansi(line).rstrip() for line in output_lines][-30:]
        self.output = "\n".join(lines)
        full = f"{message}\n--- last opencode output ---\n{self.output}" if lines else message
        super().__init__(full)


class OpenCodeCrashLoop(OpenCodeError):
    hint = "OpenCode keeps crashing; see the log, then use /restart-opencode-server."


def error_from_response(status: int, body: Any, path: str = "") -> OpenCodeHTTPError:
    """Map an error status and decoded body (either shape) to the typed error."""
    name, message = _name_and_message(body)
    if status == 401:
        return OpenCodeAuthError(status, name or "Unauthorized", message or "authentication failed", body)
    if status == 404 or name in ("PermissionNotFoundError", "QuestionNotFoundError"):
        cls = SessionNotFound if _is_session_path(path) and name == "NotFoundError" else OpenCodeNotFound
        return cls(status, name or "NotFound", message, body)
    if status == 409 or name == "SessionBusyError":
        return OpenCodeBusy(status, name or "Conflict", message, body)
    if status == 400:
        return OpenCodeBadRequest(status, name or "BadRequest", message, body)
    if status >= 500:
        return OpenCodeServerError(status, name or "ServerError", message, body)
    return OpenCodeHTTPError(status, name or "HTTPError", message, body)


def _name_and_message(body: Any) -> tuple[str, str]:
    if isinstance(body, Mapping):
        name = body.get("name") or body.get("_tag") or ""
        data = body.get("data")
        message = body.get("message")
        if not message and isinstance(data, Mapping):
            message = data.get("message")
        return str(name), str(message or "")
    if isinstance(body, str):
        return "", body[:500]
    return "", ""


def _is_session_path(path: str) -> bool:
    return path.startswith("/session/") and not path.startswith("/session/status")
