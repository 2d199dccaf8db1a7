"""Discord-shaped API errors the twin raises, and the records it keeps of what went wrong."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

FieldError = tuple[str, str, str]  # (dotted path, code, message)


class ApiError(Exception):
    """An error response with Discord's body: `{message, code, errors?}`.

    `kind` says which record it belongs to: "limit" and "permission" are violations by the bot,
    "resource" (unknown channel/message...) is ordinary and not recorded as a violation.
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        fields: list[FieldError] | None = None,
        kind: str = "resource",
    ) -> None:
        super().__init__(f"{status} {code} {message} {fields or ''}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.kind = kind

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.fields:
            body["errors"] = nest_errors(self.fields)
        return body


def nest_errors(fields: list[FieldError]) -> dict[str, Any]:
    """Discord nests field errors by path: `{"content": {"_errors": [{code, message}]}}`."""
    root: dict[str, Any] = {}
    for path, code, message in fields:
        node = root
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return root


def invalid_form(fields: list[FieldError]) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", fields=fields, kind="limit")


def missing_permissions(what: str = "") -> ApiError:
    return ApiError(403, 50013, "Missing Permissions" + (f" ({what})" if what else ""), kind="permission")


def missing_access(what: str = "") -> ApiError:
    return ApiError(403, 50001, "Missing Access" + (f" ({what})" if what else ""), kind="permission")


def unknown(kind: str) -> ApiError:
    codes = {
        "Channel": 10003,
        "Guild": 10004,
        "Member": 10007,
        "Message": 10008,
        "Role": 10011,
        "Webhook": 10015,
        "User": 10013,
        "Interaction": 10062,
        "Application Command": 10063,
        "Emoji": 10014,
    }
    return ApiError(404, codes.get(kind, 0), f"Unknown {kind}")


@dataclass
class Violation:
    """A request the twin refused because real Discord would have refused it."""

    method: str
    path: str
    status: int
    code: int
    message: str
    fields: list[str] = field(default_factory=list)
    kind: str = "limit"

    def __str__(self) -> str:
        where = f" [{', '.join(self.fields)}]" if self.fields else ""
        return f"{self.method} {self.path} -> {self.status} {self.code} {self.message}{where}"


@dataclass
class UnexpectedRequest:
    """A request the twin does not model (unknown route, method or opcode): a test should fail."""

    method: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.reason}"


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    answered_at: float = field(default_factory=time.monotonic)  # when the twin answered it
