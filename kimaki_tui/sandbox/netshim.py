"""Byte forwarding between a unix socket and a loopback TCP port, for sandboxes without network.

A sandbox with its own (empty) network namespace cannot be reached on any port from outside,
so two forwarders meet at a unix socket in a directory both sides see: inside the sandbox this
file runs as a script (`python -I -S netshim.py SOCKET PORT`, standard library only) and
forwards the socket to the server's port there; outside, `bridge.py` forwards a host loopback
port to the socket. A connection the far end refuses (the server is still starting) is closed
at once, which an HTTP client sees as "not yet up" and retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable

_CHUNK = 1 << 16

Opener = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def splice(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, open_far: Opener) -> None:
    """Connect to the far end and pump bytes both ways until either side closes."""
    try:
        far_reader, far_writer = await open_far()
    except OSError:
        writer.close()
        return
    await asyncio.gather(_pump(reader, far_writer), _pump(far_reader, writer))


async def _serve(socket_path: str, port: int) -> None:
    async def far() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", port)

    server = await asyncio.start_unix_server(lambda r, w: splice(r, w, far), socket_path)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(sys.argv[1], int(sys.argv[2])))
