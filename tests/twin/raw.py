"""Raw HTTP and gateway clients for checking the twin's wire behaviour without discord.py."""

from __future__ import annotations

import json
import zlib
from typing import Any

import aiohttp

from kimaki_tui.testing.discord_twin import DiscordTwin

DEFAULT_INTENTS = (1 << 0) | (1 << 9) | (1 << 15)  # GUILDS, GUILD_MESSAGES, MESSAGE_CONTENT


class RawApi:
    def __init__(self, twin: DiscordTwin, session: aiohttp.ClientSession) -> None:
        self.twin = twin
        self.session = session

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bot {token or self.twin.bot_token}"}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = content_type
        async with self.session.request(method, self.twin.api_url + path, data=data, headers=headers) as resp:
            text = await resp.text()
            if resp.headers.get("Content-Type") == "application/json":
                return resp.status, json.loads(text)
            return resp.status, text


class RawGateway:
    """A minimal gateway client: IDENTIFY or RESUME, then read dispatches (inflating zlib-stream)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, compressed: bool) -> None:
        self.ws = ws
        self._inflate = zlib.decompressobj() if compressed else None
        self.session_id = ""
        self.seq = 0

    @classmethod
    async def connect(
        cls, session: aiohttp.ClientSession, url: str, *, compressed: bool = True
    ) -> RawGateway:
        query = "?v=10&encoding=json" + ("&compress=zlib-stream" if compressed else "")
        gateway = cls(await session.ws_connect(url + query), compressed)
        hello = await gateway.receive()
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        return gateway

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
            assert (msg.type == aiohttp.WSMsgType.BINARY) == (self._inflate is not None), (
                "zlib-stream mismatch"
            )
        if msg.type == aiohttp.WSMsgType.BINARY:
            assert self._inflate is not None and msg.data.endswith(b"\x00\x00\xff\xff")
            frame: dict[str, Any] = json.loads(self._inflate.decompress(msg.data))
        elif msg.type == aiohttp.WSMsgType.TEXT:
            frame = json.loads(msg.data)
        else:
            return {"op": -1, "close_code": self.ws.close_code, "type": str(msg.type)}
        if frame.get("s") is not None:
            assert frame["s"] == self.seq + 1, f"sequence jumped from {self.seq} to {frame['s']}"
            self.seq = frame["s"]
        return frame

    async def identify(self, token: str, intents: int = DEFAULT_INTENTS) -> dict[str, Any]:
        await self.ws.send_json({"op": 2, "d": {"token": token, "intents": intents, "properties": {}}})
        ready = await self.receive()
        if ready.get("t") == "READY":
            self.session_id = ready["d"]["session_id"]
        return ready

    async def next_event(self, name: str, timeout: float = 5.0) -> dict[str, Any]:
        while True:
            frame = await self.receive(timeout)
            if frame.get("t") == name:
                return dict(frame["d"])
            if frame["op"] == -1:
                raise AssertionError(f"socket closed before {name}: {frame}")

    async def close(self) -> None:
        await self.ws.close()
