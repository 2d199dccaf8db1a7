"""A local stand-in for Gemini's `POST /{v1|v1beta}/models/MODEL:generateContent`, so tests drive the
real google-genai SDK over HTTP (its async path uses aiohttp, which respx cannot intercept).

It records every request (model, API key, prompt text, inline audio) and answers from a script:
`reply(text)`, `fail(status, message)`, each optionally after a delay; with nothing scripted it
answers `default_text`. Listens on 127.0.0.1 only.

    async with FakeGemini() as gemini:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)
        gemini.reply("fix the parser")
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass(frozen=True, slots=True)
class Scripted:
    text: str | None = None
    status: int = 200
    message: str = ""
    delay: float = 0.0


@dataclass
class GeminiRequest:
    version: str
    model: str
    action: str
    api_key: str | None
    body: dict[str, Any]

    def parts(self) -> list[dict[str, Any]]:
        return [p for c in self.body.get("contents", []) for p in c.get("parts", [])]

    @property
    def text(self) -> str:
        return "\n".join(str(p["text"]) for p in self.parts() if "text" in p)

    @property
    def system(self) -> str:
        instruction = self.body.get("systemInstruction") or self.body.get("system_instruction") or {}
        return "\n".join(str(p.get("text", "")) for p in instruction.get("parts", []))

    def _inline(self) -> dict[str, Any] | None:
        for part in self.parts():
            inline = part.get("inlineData") or part.get("inline_data")
            if inline:
                return dict(inline)
        return None

    @property
    def audio(self) -> bytes | None:
        inline = self._inline()
        if inline is None:
            return None
        data = str(inline.get("data", ""))
        # The SDK sends URL-safe base64; accept the standard alphabet too.
        return base64.urlsafe_b64decode(data.replace("+", "-").replace("/", "_") + "=" * (-len(data) % 4))

    @property
    def mime(self) -> str | None:
        inline = self._inline()
        return None if inline is None else str(inline.get("mimeType") or inline.get("mime_type"))


@dataclass
class FakeGemini:
    default_text: str = "fake transcript"
    requests: list[GeminiRequest] = field(default_factory=list)
    _script: deque[Scripted] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    # -- scripting ------------------------------------------------------------------------------
    def reply(self, text: str, *, delay: float = 0.0) -> None:
        self._script.append(Scripted(text=text, delay=delay))

    def fail(self, status: int, message: str, *, delay: float = 0.0) -> None:
        self._script.append(Scripted(status=status, message=message, delay=delay))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{version}/models/{target}", self._handle)
        self._closing.clear()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            self._closing.set()  # delayed answers end now rather than hold up the shutdown
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGemini:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the endpoint ---------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        model, _, action = request.match_info["target"].rpartition(":")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "Invalid JSON payload received.")
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        record = GeminiRequest(request.match_info["version"], model, action, key, body)
        if action != "generateContent" or not model:
            return _error(404, f"Method {action} is not found for models/{model}.")
        try:
            record.audio  # noqa: B018 — a malformed inline payload is the client's bug: say so
        except (binascii.Error, ValueError):
            return _error(400, "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES)")
        self.requests.append(record)
        scripted = self._script.popleft() if self._script else Scripted(text=self.default_text)
        if scripted.delay:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(scripted.delay):
                    await self._closing.wait()
        if scripted.status != 200:
            return _error(scripted.status, scripted.message)
        return web.json_response(_answer(scripted.text or ""))


def _answer(text: str) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": "fake-gemini",
    }


def _error(status: int, message: str) -> web.Response:
    name = _STATUS_NAMES.get(status, "UNKNOWN")
    return web.json_response({"error": {"code": status, "message": message, "status": name}}, status=status)
