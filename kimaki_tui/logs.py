"""Process logging: a log file truncated at each start, an in-memory ring for the TUI, no secrets.

Nothing is ever logged to stdout or stderr, because the TUI owns the terminal. Every handler
installed here masks Discord bot tokens (and anything registered with `register_secret`)
before a record is written, including tracebacks. The file is text, or JSON lines
(`--log-format json`) carrying the ids bound with `log_context` (thread, session, request).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

from kimaki_tui.private_files import open_private, private_dir
from kimaki_tui.settings.tree import LogFormat

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
MASK = "[redacted]"
# A Discord bot token: base64 user id . timestamp . HMAC (JWT-like strings are masked too).
TOKEN_PATTERN = re.compile(r"(?<![\w-])[\w-]{23,28}\.[\w-]{6,7}\.[\w-]{27,40}(?![\w-])")
_MIN_SECRET = 6
# Libraries that log every request at INFO.
_CHATTY = ("httpx", "httpcore")
# Third-party records that are routine, not news: (logger name prefix, message start or "" for
# every INFO record). They are kept at DEBUG: the scheduler's "Running job …" on every run, and
# discord.py's notice that voice *channels* need PyNaCl (voice messages work without it).
_ROUTINE: tuple[tuple[str, str], ...] = (
    ("apscheduler", ""),
    ("discord.client", "PyNaCl is not installed"),
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secrets_pattern: re.Pattern[str] | None = None
_ring: RingHandler | None = None
_installed: list[logging.Handler] = []
_context: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("kimaki_log_context", default=())

JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}


@contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    """Records logged inside the block (and in tasks it starts) carry these ids, e.g.
    `log_context(thread_id=..., session_id=...)`; empty ones are left out."""
    bound = {**dict(_context.get()), **{key: value for key, value in ids.items() if value}}
    token = _context.set(tuple(bound.items()))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record (the JSON formatter writes a record's extra fields)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def file_formatter(file_format: LogFormat) -> logging.Formatter:
    if file_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES)
    return logging.Formatter(LOG_FORMAT)


def register_secret(*secrets: str | None) -> None:
    """Mask these values wherever they would appear in a log line (short values are ignored)."""
    global _secrets_pattern
    with _secrets_lock:
        _secrets.update(s for s in secrets if s and len(s) >= _MIN_SECRET)
        if _secrets:
            ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
            _secrets_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def known_secrets() -> frozenset[str]:
    """Every secret value registered so far (for filtering what leaves this process)."""
    with _secrets_lock:
        return frozenset(_secrets)


def mask_secrets(text: str) -> str:
    pattern = _secrets_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return TOKEN_PATTERN.sub(MASK, text)


class SecretFilter(logging.Filter):
    """Formats the message once, masks it, and masks the traceback text too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask_secrets(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


class RoutineToDebug(logging.Filter):
    """Re-levels third-party routine records (`_ROUTINE`) to DEBUG, then drops them unless the
    log's level is DEBUG (the logger let them through at their original level)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and _routine(record):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


def _routine(record: logging.LogRecord) -> bool:
    for prefix, start in _ROUTINE:
        if record.name == prefix or record.name.startswith(prefix + "."):
            if start == "" and record.levelno == logging.INFO:
                return True
            if start and record.levelno <= logging.WARNING and str(record.msg).startswith(start):
                return True
    return False


class QuietFileHandler(logging.FileHandler):
    """A log file that never prints "--- Logging error ---" and a traceback to stderr (the TUI owns
    the terminal) when a record cannot be written, e.g. on a full disk: the record is dropped."""

    def handleError(self, record: logging.LogRecord) -> None:
        return  # nowhere left to report it: stderr may be the control center's screen


def file_logging_active() -> bool:
    """True once `setup_logging` installed the log file in this process."""
    return any(isinstance(handler, QuietFileHandler) for handler in _installed)


class RingHandler(logging.Handler):
    """Keeps the last `capacity` formatted lines; listeners get each new line as it is logged.

    Listeners run in the logging thread; a UI must hop to its own thread/loop itself.
    """

    def __init__(self, capacity: int = 1000) -> None:
        super().__init__()
        self._lines: deque[str] = deque(maxlen=capacity)
        self._listeners: list[Callable[[str], None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # logging's own convention: a bad record is reported, never raised
            self.handleError(record)
            return
        self._lines.append(line)
        for listener in list(self._listeners):
            try:
                listener(line)
            except Exception:  # a broken view must not break logging (nor log recursively)
                continue

    def lines(self) -> list[str]:
        return list(self._lines)

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(line)` for every new line; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None


def setup_logging(
    log_path: Path,
    level: int | str = logging.INFO,
    *,
    ring_capacity: int = 1000,
    file_format: LogFormat = "text",
) -> RingHandler:
    """Log to `log_path` (truncated, with a start header unless JSON) and to a ring (always text,
    for the Logs screen); returns the ring.

    Calling it again replaces the handlers it installed before.
    """
    global _ring
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler in _installed or _writes_to_terminal(handler):
            root.removeHandler(handler)
            handler.close()
    private_dir(log_path.parent)
    # Truncate (one run per log, like kimaki) and start with a header, then append records. The
    # file is created 0600: it holds prompts, paths and session ids.
    with os.fdopen(open_private(log_path), "w", encoding="utf-8") as log_file:
        if file_format == "text":  # a JSON-lines file holds nothing but records
            log_file.write(f"--- kimaki log started at {datetime.now().astimezone().isoformat()} ---\n")
    file_handler = QuietFileHandler(log_path, mode="a", encoding="utf-8")
    file_handler.setFormatter(file_formatter(file_format))
    ring = RingHandler(ring_capacity)
    ring.setFormatter(logging.Formatter(LOG_FORMAT))
    _installed[:] = [file_handler, ring]
    root.setLevel(level)
    for handler in _installed:
        handler.addFilter(RoutineToDebug(root.level))
        handler.addFilter(SecretFilter())
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings would otherwise print to stderr, under the TUI
    _ring = ring
    return ring


def ring_handler() -> RingHandler | None:
    """The ring installed by the last `setup_logging` call (None before it)."""
    return _ring


def _writes_to_terminal(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    terminal = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    return isinstance(handler, logging.StreamHandler) and any(stream is s for s in terminal if s is not None)
