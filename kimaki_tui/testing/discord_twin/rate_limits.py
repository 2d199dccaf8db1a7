"""Discord's rate limits, modelled for load tests (off unless a twin is built with them).

Discord limits a bot globally (50 requests a second, interaction callbacks and webhooks aside)
and per route bucket: sending, editing or deleting messages, typing and starting threads are
each limited per channel, about 5 requests per 5 seconds. Every limited response says where the
bucket stands (`X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket`), so a well-behaved client
waits before it is refused; a request over the limit gets a 429 with `retry_after`.

`floor_seconds` is the least time Discord would need to accept a given set of requests under
these limits: what a load test compares its wall time with.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

GLOBAL_PER_SECOND = 50
_UNLIMITED_PREFIXES = ("/interactions/", "/webhooks/")


@dataclass(frozen=True, slots=True)
class BucketRule:
    """Requests matching `method` and `pattern` share a bucket per `{channel}` value."""

    name: str
    method: str
    pattern: re.Pattern[str]
    limit: int
    window: float


def rule(name: str, method: str, pattern: str, limit: int = 5, window: float = 5.0) -> BucketRule:
    return BucketRule(name, method, re.compile(pattern), limit, window)


RULES: tuple[BucketRule, ...] = (
    rule("message-create", "POST", r"^/channels/(?P<channel>\d+)/messages$"),
    rule("message-edit", "PATCH", r"^/channels/(?P<channel>\d+)/messages/\d+$"),
    rule("message-delete", "DELETE", r"^/channels/(?P<channel>\d+)/messages/\d+$"),
    rule("typing", "POST", r"^/channels/(?P<channel>\d+)/typing$"),
    rule("thread-create", "POST", r"^/channels/(?P<channel>\d+)(/messages/\d+)?/threads$"),
)


def bucket_of(
    method: str, api_path: str, rules: tuple[BucketRule, ...] = RULES
) -> tuple[BucketRule, str] | None:
    """The rule and bucket key (rule name + channel) a request counts against, if any."""
    for rule in rules:
        if rule.method == method and (match := rule.pattern.match(api_path)):
            return rule, f"{rule.name}:{match.group('channel')}"
    return None


def counts_globally(api_path: str) -> bool:
    return not api_path.startswith(_UNLIMITED_PREFIXES)


@dataclass(slots=True)
class _Window:
    remaining: int
    reset_at: float


@dataclass
class RateLimits:
    """The twin's limiter: `check` refuses a request over a limit (a 429's retry delay and scope)
    or counts it and returns the headers to send with its response."""

    rules: tuple[BucketRule, ...] = RULES
    global_per_second: int = GLOBAL_PER_SECOND
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    buckets: dict[str, _Window] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    _global: _Window = field(default_factory=lambda: _Window(0, 0.0))

    def check(self, method: str, api_path: str) -> tuple[dict[str, str], float | None, bool]:
        """(headers, retry_after or None when allowed, whether the refusal is global)."""
        now = self.clock()
        if counts_globally(api_path):
            window = self._global
            if now >= window.reset_at:
                window.remaining, window.reset_at = self.global_per_second, now + 1.0
            if window.remaining <= 0:
                self.refused.append(f"global {method} {api_path}")
                return {}, window.reset_at - now, True
        found = bucket_of(method, api_path, self.rules)
        if found is None:
            self._take_global(api_path)
            return {}, None, False
        rule, key = found
        bucket = self.buckets.get(key)
        if bucket is None or now >= bucket.reset_at:
            bucket = self.buckets[key] = _Window(rule.limit, now + rule.window)
        if bucket.remaining <= 0:
            self.refused.append(f"{key} {method} {api_path}")
            return self._headers(rule, key, bucket, now), bucket.reset_at - now, False
        bucket.remaining -= 1
        self._take_global(api_path)
        return self._headers(rule, key, bucket, now), None, False

    def _take_global(self, api_path: str) -> None:
        if counts_globally(api_path):
            self._global.remaining -= 1

    def _headers(self, rule: BucketRule, key: str, bucket: _Window, now: float) -> dict[str, str]:
        after = max(bucket.reset_at - now, 0.0)
        return {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Remaining": str(bucket.remaining),
            "X-RateLimit-Reset": f"{self.wall() + after:.3f}",
            "X-RateLimit-Reset-After": f"{after:.3f}",
            "X-RateLimit-Bucket": key.split(":", 1)[0],
        }


_THREAD_FROM_MESSAGE = re.compile(r"^/channels/\d+/messages/(?P<thread>\d+)/threads$")


def floor_seconds(
    requests: Iterable[tuple[str, str]],
    rules: tuple[BucketRule, ...] = RULES,
    global_per_second: int = GLOBAL_PER_SECOND,
) -> float:
    """The least time Discord needs to accept `requests` ((method, api path) pairs, in the order
    they were made) under these limits: each bucket lets `limit` through per window, all of them
    share the global rate, and a thread started from a message (it takes the message's id) takes
    no post before Discord created it, so its bucket starts no earlier than that."""
    per_bucket: Counter[str] = Counter()
    rule_of: dict[str, BucketRule] = {}
    created_at: dict[str, float] = {}  # thread id → the earliest its creation can be accepted
    total = 0
    for method, path in requests:
        total += counts_globally(path)
        found = bucket_of(method, path, rules)
        if found is None:
            continue
        rule, key = found
        slot = per_bucket[key]  # this request's place in its bucket: windows before it
        rule_of[key] = rule
        per_bucket[key] += 1
        if method == "POST" and (thread := _THREAD_FROM_MESSAGE.match(path)):
            created_at[thread.group("thread")] = (slot // rule.limit) * rule.window
    floors = [(math.ceil(total / global_per_second) - 1) * 1.0 if total else 0.0]
    for key, n in per_bucket.items():
        rule = rule_of[key]
        start = created_at.get(key.split(":", 1)[1], 0.0)
        floors.append(start + (math.ceil(n / rule.limit) - 1) * rule.window)
    return max(floors)
