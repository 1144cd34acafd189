"""Channel fan-out to WebSocket clients with a bounded buffer per client.

A message is encoded once and queued for every subscriber of its channel. Each client has its own queue of
``buffer`` messages drained by its own sender task; when a client's queue is full (it reads more slowly than
the stream flows) it is closed with code 1013 ("try again later") and forgotten, so one slow reader never
holds up the others or the feeds.

Channels (``docs/streaming.md``): ``ticker:<venue>:<symbol>``, ``trades:<venue>:<symbol>``,
``option_marks:<venue>:<base>:<YYYY-MM-DD>``, ``alerts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from typing import Any

import orjson
from aiohttp import web

from cryptoderiv.streaming.metrics import StreamMetrics

logger = logging.getLogger(__name__)

TRY_AGAIN_LATER = 1013
CHANNEL_PATTERN = re.compile(
    r"^(?:alerts"
    r"|(?:ticker|trades):(?:binance|bybit|deribit):[A-Z0-9]+/[A-Z0-9]+(?::[A-Z0-9]+(?:-[0-9A-Z]+)*)?"
    r"|option_marks:deribit:[A-Z]+:\d{4}-\d{2}-\d{2})$"
)


class Client:
    """One connected WebSocket client: its subscriptions, bounded queue and sender task."""

    def __init__(self, ws: web.WebSocketResponse, buffer: int, peer: str) -> None:
        self.ws = ws
        self.peer = peer
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=buffer)
        self.channels: set[str] = set()
        self.dropped = False
        self.sender: asyncio.Task[None] | None = None

    async def send_loop(self) -> None:
        """Send queued messages until the connection ends."""
        while True:
            text = await self.queue.get()
            try:
                await self.ws.send_str(text)
            except (ConnectionResetError, RuntimeError):
                return


class Hub:
    """Channel subscriptions and fan-out.

    Parameters
    ----------
    buffer : int
        Messages a client may have queued before it is dropped.
    metrics : StreamMetrics
        Updated in place.
    socket_send_buffer : int, default 65536
        Kernel send buffer of each client socket, bytes (fixed, so a stalled reader is noticed within a
        bounded amount of data rather than after the kernel's auto-tuned megabytes).
    """

    def __init__(self, buffer: int, metrics: StreamMetrics, socket_send_buffer: int = 65536) -> None:
        self.buffer = buffer
        self.socket_send_buffer = socket_send_buffer
        self.metrics = metrics
        self.clients: set[Client] = set()
        self.subscribers: dict[str, set[Client]] = {}
        self.known_channels: set[str] = set()
        self._closing: set[asyncio.Future[Any]] = set()

    def has_subscribers(self, channel: str) -> bool:
        """Whether anyone listens to ``channel`` (lets producers skip encoding)."""
        return bool(self.subscribers.get(channel))

    def publish(self, channel: str, data: dict[str, Any]) -> int:
        """Queue ``{"type": "data", "channel": channel, "data": data}`` for every subscriber.

        Returns
        -------
        int
            Clients the message was queued for.
        """
        self.known_channels.add(channel)
        subs = self.subscribers.get(channel)
        if not subs:
            return 0
        text = orjson.dumps({"type": "data", "channel": channel, "data": data}).decode()
        sent = 0
        for client in list(subs):
            try:
                client.queue.put_nowait(text)
                sent += 1
            except asyncio.QueueFull:
                self.drop(client)
        self.metrics.messages_out += sent
        return sent

    def drop(self, client: Client) -> None:
        """Close a client that fell behind with 1013 and forget it."""
        if client.dropped:
            return
        client.dropped = True
        self.metrics.clients_dropped += 1
        logger.warning("dropping slow WebSocket client %s (%d messages queued)", client.peer, client.queue.qsize())
        self._forget(client)
        if client.sender is not None:
            client.sender.cancel()
        closing = asyncio.ensure_future(client.ws.close(code=TRY_AGAIN_LATER, message=b"client too slow"))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    def _forget(self, client: Client) -> None:
        self.clients.discard(client)
        for channel in client.channels:
            subs = self.subscribers.get(channel)
            if subs is not None:
                subs.discard(client)
        self.metrics.clients = len(self.clients)

    async def _reply(self, client: Client, message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            client.queue.put_nowait(orjson.dumps(message).decode())

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The ``/ws`` endpoint (see the module docstring for the protocol)."""
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=1 << 16)
        await ws.prepare(request)
        sock = request.transport.get_extra_info("socket") if request.transport is not None else None
        if sock is not None and self.socket_send_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.socket_send_buffer)
        client = Client(ws, self.buffer, request.remote or "?")
        client.sender = asyncio.create_task(client.send_loop())
        self.clients.add(client)
        self.metrics.clients = len(self.clients)
        try:
            async for msg in ws:
                if msg.type != web.WSMsgType.TEXT:
                    continue
                await self._on_message(client, msg.data)
        finally:
            self._forget(client)
            if client.sender is not None:
                client.sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await client.sender
        return ws

    async def _on_message(self, client: Client, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            await self._reply(client, {"type": "error", "message": "not JSON"})
            return
        op = message.get("op") if isinstance(message, dict) else None
        channels = message.get("channels") if isinstance(message, dict) else None
        if op not in ("subscribe", "unsubscribe") or not isinstance(channels, list):
            await self._reply(client, {"type": "error", "message": 'expected {"op": "subscribe" or "unsubscribe",'
                                                                   ' "channels": [...]}'})
            return
        bad = [c for c in channels if not isinstance(c, str) or not CHANNEL_PATTERN.match(c)]
        if bad:
            await self._reply(client, {"type": "error", "message": f"invalid channels: {bad}"})
        good = [c for c in channels if c not in bad]
        if op == "subscribe":
            for c in good:
                client.channels.add(c)
                self.subscribers.setdefault(c, set()).add(client)
            if good:
                await self._reply(client, {"type": "subscribed", "channels": good})
        else:
            for c in good:
                client.channels.discard(c)
                self.subscribers.get(c, set()).discard(client)
            await self._reply(client, {"type": "unsubscribed", "channels": good})

    async def close_all(self) -> None:
        """Close every client (shutdown)."""
        for client in list(self.clients):
            self._forget(client)
            if client.sender is not None:
                client.sender.cancel()
            with contextlib.suppress(Exception):
                await client.ws.close(code=1001, message=b"server shutdown")
