"""The host end of the way into a sandbox without network: a loopback TCP port forwarded to the
unix socket that `netshim.py` serves inside the sandbox (see there for why)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kimaki_tui.sandbox.netshim import splice


class SocketBridge:
    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self.port: int | None = None

    async def start(self) -> int:
        """Listen on a free 127.0.0.1 port; return it."""

        async def far() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await asyncio.open_unix_connection(str(self.socket_path))

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._clients.add(writer)
            try:
                await splice(reader, writer, far)
            finally:
                self._clients.discard(writer)

        self._server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._clients):  # open streams end with the server they reach
                writer.close()
            await self._server.wait_closed()
            self._server = None
