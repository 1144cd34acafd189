"""Real network pieces the streaming tests control: a TCP proxy in front of PostgreSQL that can be cut, and
a webhook receiver. Both run an asyncio loop in a background thread and bind port 0."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
from aiohttp import web

from cryptoderiv.ingest.pipelines import sync_catalog


class _LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def call(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def shutdown(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; :meth:`cut` closes every connection and stops listening
    (clients get ECONNREFUSED, as when the database is stopped), :meth:`restore` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._lt = _LoopThread("tcp-proxy")

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                w.transport.abort()
        self._writers.clear()

    def start(self) -> TcpProxy:
        self._lt.call(self._listen())
        return self

    def cut(self) -> None:
        self._lt.call(self._cut())

    def restore(self) -> None:
        self._lt.call(self._listen())

    def close(self) -> None:
        self._lt.call(self._cut())
        self._lt.shutdown()

    def url_for(self, database_url: str) -> str:
        """``database_url`` routed through the proxy."""
        parts = urlsplit(database_url)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


class WebhookReceiver:
    """An HTTP server on 127.0.0.1:<port 0> that keeps every JSON body POSTed to ``/hook``."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._lt = _LoopThread("webhook")

    async def _start(self) -> None:
        async def hook(request: web.Request) -> web.Response:
            self.bodies.append(await request.json())
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_post("/hook", hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> WebhookReceiver:
        self._lt.call(self._start())
        return self

    def close(self) -> None:
        if self._runner is not None:
            self._lt.call(self._runner.cleanup())
        self._lt.shutdown()


def sync_venues(database_url: str, simulator_url: str, venues: tuple[str, ...] = ("binance", "bybit", "deribit"),
                kinds: dict[str, list[str]] | None = None) -> None:
    """Load the simulator's instrument catalog into ``instruments`` (the sidecar resolves ids from it)."""
    now = pd.Timestamp.now(tz="UTC")
    for venue in venues:
        sync_catalog(database_url, venue, "streaming-test", now, kinds=(kinds or {}).get(venue),
                     source="simulator", simulator_url=simulator_url)


class StalledWebSocketClient:
    """A WebSocket client on a plain blocking socket with a tiny receive buffer that, after subscribing, reads
    nothing until :meth:`close_code` drains the socket looking for the server's close frame (RFC 6455)."""

    def __init__(self, port: int, channels: list[str]) -> None:
        import base64
        import json
        import os
        import socket

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self._send_text(json.dumps({"op": "subscribe", "channels": channels}))

    def _send_text(self, text: str) -> None:
        import os

        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
        frame = header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(frame)

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed before the close frame")
            out += chunk
        return out

    def close_code(self, timeout_s: float = 30.0) -> tuple[int, int]:
        """Read frames until the close frame; ``(close code, data frames read before it)``."""
        self.sock.settimeout(timeout_s)
        frames = 0
        try:
            while True:
                b0, b1 = self._read(2)
                length = b1 & 0x7F
                if length == 126:
                    length = int.from_bytes(self._read(2), "big")
                elif length == 127:
                    length = int.from_bytes(self._read(8), "big")
                payload = self._read(length)
                if b0 & 0x0F == 0x8:
                    return int.from_bytes(payload[:2], "big"), frames
                frames += 1
        finally:
            self.sock.close()
