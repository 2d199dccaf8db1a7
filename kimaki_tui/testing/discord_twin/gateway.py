"""The twin's Gateway: HELLO, IDENTIFY/READY, GUILD_CREATE, per-session sequence numbers, intents,
RESUME with replay, optional zlib-stream, and injectable disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import intents, serialize
from .errors import UnexpectedRequest
from .model import JSON

if TYPE_CHECKING:
    from .guild import Guild
    from .world import World

log = logging.getLogger(__name__)
HEARTBEAT_INTERVAL_MS = 41250
# Discord acks a heartbeat after a network round trip. discord.py stamps the heartbeat's send time
# only after the send returned, in its keep-alive thread; an instant local ack can beat that stamp,
# and the bot then measures a whole interval ("websocket is 41.3s behind"). So the twin waits this long.
HEARTBEAT_ACK_DELAY = 0.1
_LOG_SIZE = 5000


@dataclass
class Session:
    id: str
    intents: int
    seq: int = 0
    frames: deque[JSON] = field(default_factory=lambda: deque(maxlen=_LOG_SIZE))
    conn: Connection | None = None
    invalid: bool = False


@dataclass
class ConnectionRecord:
    """One accepted gateway connection: how it authenticated and on which URL path."""

    path: str
    kind: str = "pending"  # identify | resume | resume-rejected | refused
    session_id: str | None = None


class Connection:
    def __init__(self, ws: web.WebSocketResponse, compress: bool, record: ConnectionRecord) -> None:
        self.ws = ws
        self.record = record
        self.session: Session | None = None
        self._zlib = zlib.compressobj() if compress else None
        self._queue: asyncio.Queue[JSON] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer = asyncio.create_task(self._write_loop(), name="discord-twin-gateway-writer")

    def send(self, frame: JSON) -> None:
        self._idle.clear()
        self._queue.put_nowait(frame)

    async def _write_loop(self) -> None:
        while True:
            frame = await self._queue.get()
            text = json.dumps(frame, separators=(",", ":"))
            try:
                if self._zlib is not None:
                    packed = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(packed)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return  # the socket went away; resume replays from the session log
            if self._queue.empty():
                self._idle.set()

    async def flush(self) -> None:
        """Wait (briefly) until queued frames are written, or the writer has given up."""
        idle = asyncio.ensure_future(self._idle.wait())
        await asyncio.wait([idle, self._writer], timeout=2.0, return_when=asyncio.FIRST_COMPLETED)
        idle.cancel()

    def stop(self) -> None:
        self._writer.cancel()

    async def close(self, code: int) -> None:
        await self.flush()
        self.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        await self.ws.close(code=code)


class Gateway:
    def __init__(self, world: World) -> None:
        self.world = world
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.records: list[ConnectionRecord] = []
        self.resume_url = ""
        self._open = asyncio.Event()
        self._open.set()
        self.heartbeat_interval_ms = HEARTBEAT_INTERVAL_MS
        self.heartbeat_ack_delay = HEARTBEAT_ACK_DELAY

    # -- dispatch -------------------------------------------------------------------------------

    def dispatch(self, event: str, data: JSON, *, guild_id: int | None, channel_id: int | None) -> None:
        if channel_id is not None and not self._bot_sees(channel_id):
            return
        for session in self.sessions.values():
            if session.invalid or not intents.wants(session.intents, event):
                continue
            payload = data
            if (
                event in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
                and not session.intents & intents.MESSAGE_CONTENT
            ):
                payload = intents.blank_content(data, self.world.bot_user.id)
            self._send(session, event, payload)

    def forget_delivered(self) -> None:
        """Drop what no resume can ask for any more: sessions that can never resume, and the
        replay log of connected ones (for long runs that measure the bot's memory, not the twin's)."""
        for key, session in list(self.sessions.items()):
            if session.invalid:
                del self.sessions[key]
            elif session.conn is not None:
                session.frames.clear()

    def has_session(self) -> bool:
        return any(not s.invalid for s in self.sessions.values())

    def announce_guild(self, guild: Guild) -> None:
        """GUILD_CREATE for a guild the bot joins while connected (members only with the members intent)."""
        for session in self.sessions.values():
            if not session.invalid:
                all_members = bool(session.intents & intents.GUILD_MEMBERS)
                self._send(
                    session, "GUILD_CREATE", serialize.guild_create_json(guild, all_members=all_members)
                )
        self.world.changes.notify()

    def _bot_sees(self, channel_id: int) -> bool:
        channel = self.world.channels.get(channel_id)
        return channel is None or self.world.bot_perms(channel) != 0

    def _send(self, session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.frames.append(frame)
        if session.conn is not None:
            session.conn.send(frame)

    # -- connections ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        record = ConnectionRecord(path=request.path)
        self.records.append(record)
        if request.query.get("v") != "10" or request.query.get("encoding", "json") != "json":
            self._unexpected(request.path, f"unsupported gateway query {dict(request.query)}")
            await ws.close(code=4012)
            return ws
        await self._open.wait()
        conn = Connection(ws, request.query.get("compress") == "zlib-stream", record)
        self.connections.append(conn)
        conn.send({"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            await self._read_loop(conn)
        finally:
            self._detach(conn)
        return ws

    async def _read_loop(self, conn: Connection) -> None:
        async for msg in conn.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
            except ValueError:
                await conn.close(4002)
                return
            code = self._on_frame(conn, frame)
            if code is not None:
                await conn.close(code)
                return

    def _on_frame(self, conn: Connection, frame: Any) -> int | None:
        """Handle one client frame; returns a close code when the connection must end."""
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            asyncio.get_running_loop().call_later(self.heartbeat_ack_delay, self._ack, conn)
            return None
        if op == 2:
            return self._identify(conn, data or {})
        if op == 6:
            return self._resume(conn, data or {})
        if conn.session is None:
            return 4003  # not authenticated
        if op == 3:
            self.world.presence = data
            self.world.changes.notify()
            return None
        if op == 8:
            self._request_members(conn.session, data or {})
            return None
        self._unexpected(conn.record.path, f"gateway opcode {op} is not modelled: {frame}")
        return 4001

    def _identify(self, conn: Connection, data: JSON) -> int | None:
        if conn.session is not None:
            return 4005
        if data.get("token") != self.world.token:
            conn.record.kind = "refused"
            return 4004
        wanted = data.get("intents")
        if not isinstance(wanted, int) or wanted & ~intents.ALL_INTENTS:
            return 4013
        if wanted & self._disallowed():
            conn.record.kind = "refused"
            return 4014
        session = Session(id=secrets.token_hex(16), intents=wanted, conn=conn)
        self.sessions[session.id] = session
        conn.session = session
        conn.record.kind, conn.record.session_id = "identify", session.id
        if isinstance(data.get("presence"), dict):  # the presence a client identifies with
            self.world.presence = _identify_presence(data["presence"])
        self._send(session, "READY", self._ready(session))
        for guild in self.world.guilds.values():
            all_members = bool(wanted & intents.GUILD_MEMBERS)
            self._send(session, "GUILD_CREATE", serialize.guild_create_json(guild, all_members=all_members))
        self.world.changes.notify()
        return None

    def _disallowed(self) -> int:
        allowed = intents.GUILD_PRESENCES
        if self.world.message_content_enabled:
            allowed |= intents.MESSAGE_CONTENT
        if self.world.members_intent_enabled:
            allowed |= intents.GUILD_MEMBERS
        return intents.PRIVILEGED & ~allowed

    def _ready(self, session: Session) -> JSON:
        world = self.world
        flags = (1 << 18 if world.message_content_enabled else 0) | (
            1 << 14 if world.members_intent_enabled else 0
        )
        user = serialize.user_json(world.bot_user) | {"verified": True, "mfa_enabled": False, "email": None}
        return {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(g), "unavailable": True} for g in world.guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url,
            "application": {"id": str(world.app_id), "flags": flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["discord-twin"],
        }

    def _resume(self, conn: Connection, data: JSON) -> int | None:
        if data.get("token") != self.world.token:
            return 4004
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        oldest = session.frames[0]["s"] if session is not None and session.frames else 1
        if session is None or session.invalid or not isinstance(seq, int) or seq < oldest - 1:
            conn.record.kind = "resume-rejected"
            conn.send({"op": 9, "s": None, "t": None, "d": False})
            return None
        if session.conn is not None and session.conn is not conn:
            session.conn.session = None
        session.conn, conn.session = conn, session
        conn.record.kind, conn.record.session_id = "resume", session.id
        for frame in session.frames:
            if frame["s"] > seq:
                conn.send(frame)
        self._send(session, "RESUMED", {"_trace": ["discord-twin"]})
        self.world.changes.notify()
        return None

    def _request_members(self, session: Session, data: JSON) -> None:
        guild = self.world.guilds.get(int(data.get("guild_id") or 0))
        if guild is None or not session.intents & intents.GUILD_MEMBERS:
            return
        chunk = {
            "guild_id": str(guild.id),
            "members": [serialize.member_json(m) for m in guild.members.values()],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    def _ack(self, conn: Connection) -> None:
        if conn in self.connections:  # not after the connection ended
            conn.send({"op": 11, "s": None, "t": None, "d": None})

    def _detach(self, conn: Connection) -> None:
        conn.stop()
        if conn in self.connections:
            self.connections.remove(conn)
        if conn.session is not None and conn.session.conn is conn:
            conn.session.conn = None
        self.world.changes.notify()

    def _unexpected(self, path: str, reason: str) -> None:
        log.error("Discord twin: %s", reason)
        self.world.unexpected.append(UnexpectedRequest("WS", path, reason))

    # -- faults ---------------------------------------------------------------------------------

    async def drop(self, *, resumable: bool = True) -> None:
        """Close every live connection; a resumable drop lets the client RESUME, otherwise INVALID_SESSION."""
        for conn in list(self.connections):
            if resumable:
                await conn.close(4000)
            elif conn.session is not None:
                conn.session.invalid = True
                conn.send({"op": 9, "s": None, "t": None, "d": False})
                await conn.flush()

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT, as Discord does before moving a session."""
        for conn in self.connections:
            conn.send({"op": 7, "s": None, "t": None, "d": None})

    @contextlib.asynccontextmanager
    async def outage(self, *, resumable: bool = True) -> AsyncIterator[None]:
        """Drop connections and hold new ones until the block ends; events meanwhile replay on resume
        (not `resumable`: the session is invalidated and what the gap held is never delivered)."""
        self._open.clear()
        try:
            await self.drop(resumable=resumable)
            yield
        finally:
            self._open.set()

    async def close_all(self) -> None:
        self._open.set()
        for conn in list(self.connections):
            await conn.close(1001)


def _identify_presence(presence: JSON) -> JSON:
    """IDENTIFY's presence as an op 3 update: discord.py still sends the activity as the legacy
    `game` field, which Discord reads as a one-item `activities`."""
    game = presence.get("game")
    activities = presence.get("activities") or ([game] if isinstance(game, dict) else [])
    return {**{k: v for k, v in presence.items() if k != "game"}, "activities": activities}
