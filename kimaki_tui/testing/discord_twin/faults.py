"""REST faults a test can inject: Discord unreachable for a while (every REST request has its
connection dropped unanswered), 5xx answers, answers lost after the request took effect (the
case a nonce exists for), and failing attachment downloads. The gateway is not affected."""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass

from aiohttp import web


@dataclass
class _Rule:
    pattern: str
    remaining: int
    status: int = 0


class ConnectionDropped(Exception):
    """Raised to the middleware: close the connection without an answer."""


class RestFaults:
    def __init__(self) -> None:
        self._unreachable_until = 0.0
        self._server_errors: list[_Rule] = []
        self._lost_answers: list[_Rule] = []
        self._download_errors: list[_Rule] = []
        self.dropped: list[str] = []

    def unreachable_for(self, seconds: float) -> None:
        self._unreachable_until = time.monotonic() + seconds

    @property
    def unreachable(self) -> bool:
        return time.monotonic() < self._unreachable_until

    def add_server_errors(self, pattern: str, count: int, status: int) -> None:
        self._server_errors.append(_Rule(pattern, count, status))

    def add_lost_answers(self, pattern: str, count: int) -> None:
        self._lost_answers.append(_Rule(pattern, count))

    def add_download_errors(self, count: int, status: int) -> None:
        self._download_errors.append(_Rule("*", count, status))

    def download_status(self, path: str) -> int | None:
        """An error status to answer this CDN download with, if one is injected."""
        rule = _take(self._download_errors, path)
        return None if rule is None else rule.status

    def before(self, method: str, api_path: str) -> int | None:
        """Before handling: raises ConnectionDropped while unreachable; a 5xx status to answer."""
        target = f"{method} {api_path}"
        if self.unreachable:
            self.dropped.append(target)
            raise ConnectionDropped(target)
        rule = _take(self._server_errors, target)
        return None if rule is None else rule.status

    def after(self, method: str, api_path: str) -> None:
        """After handling: raises ConnectionDropped if this answer is to be lost."""
        target = f"{method} {api_path}"
        if _take(self._lost_answers, target) is not None:
            self.dropped.append(target)
            raise ConnectionDropped(target)


def _take(rules: list[_Rule], target: str) -> _Rule | None:
    for rule in rules:
        if rule.remaining > 0 and fnmatch.fnmatchcase(target, rule.pattern):
            rule.remaining -= 1
            return rule
    return None


def drop_connection(request: web.Request) -> web.Response:
    """Close the client's connection without answering (what a refused or reset connection looks
    like to it); the returned response is never written."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)
