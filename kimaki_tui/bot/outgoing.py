"""The last filter on what the bot sends to Discord: known secrets are masked in every request
body, whichever code path built it (thread posts, edits, command replies, follow-ups, modals).

This is the second line of defence: OpenCode never gets kimaki's secrets in its environment
(opencode/environment.py), but an answer can still quote one it found elsewhere. Masked are the
secret values kimaki has read (kimaki_tui.logs.register_secret: the bot token, the Gemini key),
at least MIN_MASKED characters long so a short value cannot blank out ordinary text, and
anything shaped like a Discord bot token.

discord.py sends through two doors, and both are wrapped here: `HTTPClient.request` (channel
messages, edits, threads) and the webhook adapter (interaction responses and follow-ups), which
discord.py reads from a context variable that every task of the bot inherits from the one that
runs `setup_hook`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from kimaki_tui.logs import MASK, TOKEN_PATTERN, known_secrets

if TYPE_CHECKING:
    from discord.ext.commands import Bot

MIN_MASKED = 12
_cache: tuple[frozenset[str], re.Pattern[str] | None] = (frozenset(), None)


def mask_text(text: str) -> str:
    pattern = _secrets_pattern()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return TOKEN_PATTERN.sub(MASK, text)


def mask_payload(value: Any) -> Any:
    """A JSON body with every string masked (keys are ours and left alone)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_payload(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_payload(item) for item in value]
    return value


def mask_form(form: Any) -> Any:
    """A multipart body: its `payload_json` part is masked; files are left as they are."""
    if not form:
        return form
    masked = []
    for field in form:
        if isinstance(field, dict) and field.get("name") == "payload_json":
            body = json.dumps(mask_payload(json.loads(field["value"])), separators=(",", ":"))
            field = {**field, "value": body}
        masked.append(field)
    return masked


class MaskingWebhookAdapter(AsyncWebhookAdapter):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["payload"] = mask_payload(kwargs.get("payload"))
        kwargs["multipart"] = mask_form(kwargs.get("multipart"))
        return await super().request(*args, **kwargs)


def install_outgoing_filter(bot: Bot) -> None:
    """Wrap this client's HTTP requests; `use_masking_webhooks()` does the webhook half."""
    send: Callable[..., Coroutine[Any, Any, Any]] = bot.http.request

    async def request(route: Any, **kwargs: Any) -> Any:
        if "json" in kwargs:
            kwargs["json"] = mask_payload(kwargs["json"])
        if "form" in kwargs:
            kwargs["form"] = mask_form(kwargs["form"])
        return await send(route, **kwargs)

    bot.http.request = request  # type: ignore[method-assign]


def use_masking_webhooks() -> None:
    """Interaction replies go through discord.py's webhook adapter, read from a context variable:
    set it in the task every bot task descends from (the one running `setup_hook`)."""
    if not isinstance(async_context.get(), MaskingWebhookAdapter):
        async_context.set(MaskingWebhookAdapter())


def _secrets_pattern() -> re.Pattern[str] | None:
    global _cache
    secrets = known_secrets()
    if secrets != _cache[0]:
        long_enough = sorted((s for s in secrets if len(s) >= MIN_MASKED), key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(s) for s in long_enough)) if long_enough else None
        _cache = (secrets, pattern)
    return _cache[1]
