"""kimaki's MCP server: serves the agent tools to OpenCode over Streamable HTTP on 127.0.0.1.

Started once per run, before OpenCode (whose config names its URL), on a free port, behind a
per-run secret that OpenCode sends as `Authorization: Bearer <secret>`; any other request gets
401. The `mcp` library, Starlette and uvicorn (about 0.45 s of imports) load in `start()` only.

uvicorn runs embedded in kimaki's loop: it must not take the process's signals (the root owns
SIGINT/SIGTERM) nor configure logging (nothing may write to the terminal the TUI owns).
Each MCP connection is one OpenCode instance, i.e. one project directory: OpenCode 1.18 answers
`roots/list` with it, which narrows which session made a call (see calls.py); 1.2 does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from kimaki_tui.agent_tools.arguments import SCHEMAS
from kimaki_tui.agent_tools.toolkit import DESCRIPTIONS, SERVER_NAME, AgentToolkit, ToolResult

if TYPE_CHECKING:
    from mcp import types
    from mcp.server.context import ServerRequestContext

    from kimaki_tui.agent_tools.embedded_http import EmbeddedServer

log = logging.getLogger(__name__)

PATH = "/mcp"
_ROOTS_TIMEOUT = 5.0
_REMEMBERED_CONNECTIONS = 256

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def require_bearer(app: ASGIApp, secret: str) -> ASGIApp:
    """Wrap an ASGI app so HTTP requests without `Authorization: Bearer <secret>` get 401."""
    expected = f"Bearer {secret}".encode()

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, expected):
                body = json.dumps({"error": "missing or wrong kimaki MCP secret"}).encode()
                length = str(len(body)).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", length)]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


def reserve_listener(host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on a free port, cheap and import-free: the root takes it before spawning
    OpenCode (whose config names the port) and serves on it once the core exists. Connections made
    in between wait in the backlog instead of being refused."""
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every response on a kept-alive connection waited 40 ms (Nagle + delayed ACK).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind((host, 0))
    listener.listen(64)
    return listener


def import_libraries() -> None:
    """Import what `start()` needs (mcp, Starlette, uvicorn): callable from a worker thread."""
    import mcp.server.lowlevel  # noqa: F401

    import kimaki_tui.agent_tools.embedded_http  # noqa: F401


class AgentToolServer:
    """`await start()`, then give OpenCode `url` and `headers`; `await stop()` at shutdown.

    Given a `listener` (reserve_listener) and a `secret`, `url` and `headers` are known before
    `start()`; otherwise `start()` picks a port."""

    def __init__(
        self,
        toolkit: AgentToolkit,
        *,
        secret: str | None = None,
        host: str = "127.0.0.1",
        listener: socket.socket | None = None,
    ) -> None:
        self.toolkit = toolkit
        self.secret = secret or secrets.token_urlsafe(32)
        self.host = host
        self._listener = listener
        self.port: int | None = listener.getsockname()[1] if listener is not None else None
        self._http: EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._directories: OrderedDict[str, str | None] = OrderedDict()

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the kimaki MCP server is not started")
        return f"http://{self.host}:{self.port}{PATH}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    @property
    def project_directories(self) -> frozenset[str]:
        """The directories OpenCode instances said they serve when they called a tool (1.18+)."""
        return frozenset(d for d in self._directories.values() if d is not None)

    async def start(self) -> None:
        from kimaki_tui.agent_tools.embedded_http import EmbeddedServer

        listener = self._listener or reserve_listener(self.host)
        self._listener = None  # uvicorn listens on this socket and closes it when it stops
        self.port = listener.getsockname()[1]
        server = self._http = EmbeddedServer(require_bearer(self._mcp_app(), self.secret))
        self._task = asyncio.create_task(server.serve(sockets=[listener]), name="kimaki-mcp-server")
        ready = asyncio.create_task(server.ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if not server.ready.is_set():
            await self.stop()
            listener.close()
            raise RuntimeError("the kimaki MCP server failed to start (see kimaki.log)")
        log.info("kimaki MCP server listening on %s", self.url)

    async def stop(self) -> None:
        if self._listener is not None:  # reserved, never served
            self._listener.close()
            self._listener = None
        if self._http is not None:
            self._http.should_exit = True
        if self._task is not None:
            # uvicorn exits with SystemExit when its start-up fails; it has logged why.
            with contextlib.suppress(Exception, SystemExit):
                await self._task
        self._http = self._task = None
        self.port = None

    def _mcp_app(self) -> ASGIApp:
        from mcp.server.lowlevel import Server

        server: Server[Any] = Server(
            SERVER_NAME, on_list_tools=self._list_tools, on_call_tool=self._call_tool
        )
        # OpenCode keeps one MCP connection per project instance for as long as it runs: never
        # reap an idle one (its next call would get 404 for an unknown MCP session).
        app: ASGIApp = server.streamable_http_app(
            streamable_http_path=PATH, session_idle_timeout=None, host=self.host
        )
        return app

    async def _list_tools(self, ctx: ServerRequestContext[Any], params: object) -> types.ListToolsResult:
        from mcp import types

        tools = [
            types.Tool(name=name, description=DESCRIPTIONS[name], input_schema=schema)
            for name, schema in SCHEMAS.items()
        ]
        return types.ListToolsResult(tools=tools)

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        from mcp import types

        directory = await self._directory(ctx)
        result: ToolResult = await self.toolkit.call(params.name, params.arguments or {}, directory)
        return types.CallToolResult(content=[types.TextContent(text=result.text)], is_error=result.error)

    async def _directory(self, ctx: ServerRequestContext[Any]) -> str | None:
        """The project directory of the OpenCode instance behind this MCP connection, if it says."""
        headers = getattr(ctx.request, "headers", None)
        connection = headers.get("mcp-session-id") if headers is not None else None
        if connection is not None and connection in self._directories:
            return self._directories[connection]
        directory = await _ask_root(ctx)
        if connection is not None:
            self._directories[connection] = directory
            while len(self._directories) > _REMEMBERED_CONNECTIONS:
                self._directories.popitem(last=False)
        return directory


async def _ask_root(ctx: ServerRequestContext[Any]) -> str | None:
    from mcp import MCPError, types

    capabilities = ctx.session.client_capabilities
    if capabilities is None or capabilities.roots is None:
        return None
    try:
        async with asyncio.timeout(_ROOTS_TIMEOUT):
            # The request `session.list_roots()` sends, without its deprecation warning: roots are
            # deprecated by the newest protocol revision, but they are what OpenCode 1.18 answers.
            roots = await ctx.session.send_request(types.ListRootsRequest(), types.ListRootsResult)
    except (MCPError, TimeoutError) as exc:
        log.debug("the MCP client gave no roots: %s", exc)
        return None
    files = [urlparse(str(root.uri)) for root in roots.roots]
    paths = [unquote(url.path) for url in files if url.scheme == "file"]
    return paths[0] if len(paths) == 1 else None
