"""A local SMTP catcher with a web view: where reports and alerts land when nothing real is configured.

``cryptoderiv mail serve`` runs, in one asyncio loop, an SMTP server (aiosmtpd, 127.0.0.1:1025 by
default) that accepts every message (and any AUTH credentials, over plain TCP: it is a loopback
development tool) and stores it as an ``.eml`` file under ``LOCAL_DIR/mail``, and a small aiohttp web
application (127.0.0.1:8025 by default):

=====================================  ===================================================
``GET /``                              received messages, newest first
``GET /messages/{id}``                 one message: headers, text body, parts
``GET /messages/{id}/raw``             the ``.eml`` as received
``GET /messages/{id}/parts/{n}``       one MIME part (HTML is served sandboxed)
``GET /api/messages``                  the list as JSON
``GET /api/messages/{id}``             one message as JSON (headers, text, html, parts)
``DELETE /api/messages``               delete every stored message
``GET /health``                        ``{"status": "ok", ...}``
=====================================  ===================================================

Envelope recipients (which include Bcc addresses) are kept in an ``X-Mailcatcher-Rcpt-To`` header
prepended to the stored message.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web

from cryptoderiv.errors import CryptoderivError

log = logging.getLogger(__name__)

MESSAGE_ID = re.compile(r"^\d{8}T\d{12}-[0-9a-f]{8}$")
RCPT_HEADER = "X-Mailcatcher-Rcpt-To"
UNTRUSTED_CSP = "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"


class MailCatcherError(CryptoderivError):
    """The mail catcher could not start or a stored message is unreadable."""


@dataclass(frozen=True)
class StoredMessage:
    """Summary of one received message."""

    id: str
    received: datetime
    sender: str
    recipients: str
    subject: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "received": self.received.isoformat(), "from": self.sender,
                "to": self.recipients, "subject": self.subject, "size": self.size}


class MailStore:
    """``.eml`` files in one directory, one per message, named ``<UTC time>-<random>.eml``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def save(self, content: bytes, rcpt_tos: list[str]) -> str:
        """Store a message atomically (write, then rename) and return its id."""
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        message_id = f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
        header = f"{RCPT_HEADER}: {', '.join(rcpt_tos)}\r\n".encode()
        tmp = self.directory / f".{message_id}.tmp"
        tmp.write_bytes(header + content)
        tmp.rename(self.directory / f"{message_id}.eml")
        return message_id

    def path(self, message_id: str) -> Path:
        """Path of a stored message; ids are validated so no other file can be named."""
        if not MESSAGE_ID.match(message_id):
            raise KeyError(message_id)
        path = self.directory / f"{message_id}.eml"
        if not path.is_file():
            raise KeyError(message_id)
        return path

    def load(self, message_id: str) -> EmailMessage:
        parsed = message_from_bytes(self.path(message_id).read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)  # policy.default builds EmailMessage
        return parsed

    def list(self) -> list[StoredMessage]:
        """Every stored message, newest first."""
        if not self.directory.is_dir():
            return []
        out = []
        for path in sorted(self.directory.glob("*.eml"), reverse=True):
            message_id = path.stem
            if not MESSAGE_ID.match(message_id):
                continue
            msg = message_from_bytes(path.read_bytes(), policy=policy.default)
            received = datetime.strptime(message_id[:21], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
            out.append(StoredMessage(message_id, received, str(msg.get("From", "")),
                                     str(msg.get("To", "") or msg.get(RCPT_HEADER, "")),
                                     str(msg.get("Subject", "")), path.stat().st_size))
        return out

    def clear(self) -> int:
        removed = 0
        for path in self.directory.glob("*.eml"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed


class _Handler:
    """aiosmtpd handler: store every message."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        content = envelope.original_content or envelope.content
        message_id = self.store.save(bytes(content), list(envelope.rcpt_tos))
        log.info("stored message %s from %s to %s", message_id, envelope.mail_from, envelope.rcpt_tos)
        return "250 OK"


def _accept_any_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    """Local catcher: every AUTH succeeds (so clients configured with SMTP_USER work against it)."""
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=True)


# -- the web view --------------------------------------------------------------------------------
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2rem;color:#222}}table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}}th{{background:#f4f4f4}}
pre{{white-space:pre-wrap;background:#f8f8f8;padding:1rem}}iframe{{width:100%;height:40rem;border:1px solid #ddd}}
a{{color:#0645ad}}</style></head><body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str) -> web.Response:
    return web.Response(text=PAGE.format(title=html.escape(title), body=body), content_type="text/html")


def _parts(msg: EmailMessage) -> list[EmailMessage]:
    return [part for part in msg.walk() if not part.is_multipart()]


def _text_of(msg: EmailMessage, subtype: str) -> str | None:
    body = msg.get_body(preferencelist=(subtype,))
    return None if body is None else str(body.get_content())


def build_app(store: MailStore, smtp_port: int) -> web.Application:
    """The aiohttp application of the web view."""

    def lookup(request: web.Request) -> tuple[str, EmailMessage]:
        message_id = request.match_info["id"]
        try:
            return message_id, store.load(message_id)
        except KeyError as exc:
            raise web.HTTPNotFound(text=f"no message {message_id}") from exc

    async def index(request: web.Request) -> web.Response:
        rows = "".join(
            f"<tr><td>{m.received:%Y-%m-%d %H:%M:%S} UTC</td><td>{html.escape(m.sender)}</td>"
            f"<td>{html.escape(m.recipients)}</td>"
            f"<td><a href=\"/messages/{m.id}\">{html.escape(m.subject or '(no subject)')}</a></td>"
            f"<td>{m.size:,}</td></tr>"
            for m in store.list())
        body = (f"<p>SMTP on port {smtp_port}; messages stored in <code>{html.escape(str(store.directory))}</code>."
                "</p><table><tr><th>received</th><th>from</th><th>to</th><th>subject</th><th>bytes</th></tr>"
                f"{rows or '<tr><td colspan=5>no messages yet</td></tr>'}</table>")
        return _page("Mail catcher", body)

    async def show(request: web.Request) -> web.Response:
        message_id, msg = lookup(request)
        headers = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in msg.items())
        parts = "".join(
            f"<li><a href=\"/messages/{message_id}/parts/{n}\">{n}: {html.escape(p.get_content_type())}"
            f"{' ' + html.escape(p.get_filename() or '') if p.get_filename() else ''}</a></li>"
            for n, p in enumerate(_parts(msg)))
        text = _text_of(msg, "plain")
        html_body = msg.get_body(preferencelist=("html",))
        view = ""
        if html_body is not None:
            index_of_html = next(n for n, p in enumerate(_parts(msg)) if p is html_body)
            view += f"<h2>HTML</h2><iframe sandbox src=\"/messages/{message_id}/parts/{index_of_html}\"></iframe>"
        if text is not None:
            view += f"<h2>Text</h2><pre>{html.escape(text)}</pre>"
        body = (f"<p><a href=\"/\">all messages</a> · <a href=\"/messages/{message_id}/raw\">raw .eml</a></p>"
                f"<table>{headers}</table>{view}<h2>Parts</h2><ol start=0>{parts}</ol>")
        return _page(str(msg.get("Subject", "(no subject)")), body)

    async def raw(request: web.Request) -> web.Response:
        message_id, _ = lookup(request)
        return web.Response(body=store.path(message_id).read_bytes(), content_type="message/rfc822")

    async def part(request: web.Request) -> web.Response:
        _, msg = lookup(request)
        parts = _parts(msg)
        try:
            chosen = parts[int(request.match_info["n"])]
        except (ValueError, IndexError) as exc:
            raise web.HTTPNotFound(text="no such part") from exc
        payload = chosen.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        charset = chosen.get_content_charset() if chosen.get_content_maintype() == "text" else None
        response = web.Response(body=data, content_type=chosen.get_content_type(), charset=charset)
        # Received HTML is untrusted: no scripts, no same-origin access.
        response.headers["Content-Security-Policy"] = UNTRUSTED_CSP
        if chosen.get_filename():
            response.headers["Content-Disposition"] = f'inline; filename="{chosen.get_filename()}"'
        return response

    async def api_list(request: web.Request) -> web.Response:
        return web.json_response([m.as_json() for m in store.list()])

    async def api_show(request: web.Request) -> web.Response:
        message_id, msg = lookup(request)
        return web.json_response({
            "id": message_id, "headers": {k: str(v) for k, v in msg.items()},
            "text": _text_of(msg, "plain"), "html": _text_of(msg, "html"),
            "parts": [{"index": n, "content_type": p.get_content_type(), "filename": p.get_filename()}
                      for n, p in enumerate(_parts(msg))]})

    async def api_clear(request: web.Request) -> web.Response:
        return web.json_response({"deleted": store.clear()})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "smtp_port": smtp_port, "messages": len(store.list())})

    app = web.Application()
    app.add_routes([
        web.get("/", index), web.get("/messages/{id}", show), web.get("/messages/{id}/raw", raw),
        web.get("/messages/{id}/parts/{n}", part), web.get("/api/messages", api_list),
        web.get("/api/messages/{id}", api_show), web.delete("/api/messages", api_clear), web.get("/health", health),
    ])
    return app


class MailCatcher:
    """The SMTP server and the web view in the running event loop; ``start`` then ``stop``."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", smtp_port: int = 1025, web_port: int = 8025) -> None:
        self.store = MailStore(directory)
        self.host = host
        self.smtp_port = smtp_port
        self.web_port = web_port
        self._smtp: asyncio.Server | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind both ports (0 picks a free one; the bound ports are then in ``smtp_port``/``web_port``)."""
        from aiosmtpd.smtp import SMTP

        handler = _Handler(self.store)
        loop = asyncio.get_running_loop()
        try:
            self._smtp = await loop.create_server(
                lambda: SMTP(handler, hostname="cryptoderiv-mailcatcher", auth_require_tls=False,
                             authenticator=_accept_any_login, loop=loop),
                self.host, self.smtp_port)
        except OSError as exc:
            raise MailCatcherError(f"cannot bind SMTP on {self.host}:{self.smtp_port}: {exc.strerror}") from exc
        self.smtp_port = self._smtp.sockets[0].getsockname()[1]
        self._runner = web.AppRunner(build_app(self.store, self.smtp_port), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.web_port)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise MailCatcherError(f"cannot bind the web view on {self.host}:{self.web_port}: {exc.strerror}") from exc
        server = site._server  # aiohttp keeps the asyncio server here; the bound port is needed for port 0
        assert isinstance(server, asyncio.Server)
        self.web_port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._smtp is not None:
            self._smtp.close()
            await self._smtp.wait_closed()
            self._smtp = None


def serve_forever(catcher: MailCatcher, on_ready: Callable[[MailCatcher], None] = lambda _: None) -> None:
    """Run the catcher until SIGINT/SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await catcher.start()
        on_ready(catcher)
        try:
            await stop.wait()
        finally:
            await catcher.stop()

    asyncio.run(main())


def main(argv: list[str] | None = None) -> None:
    """``python -m cryptoderiv.stack.mailcatcher``: what ``cryptoderiv mail serve`` runs, without the
    start-up cost of the whole CLI (the stack starts it this way)."""
    import argparse

    parser = argparse.ArgumentParser(prog="cryptoderiv mail serve", description=__doc__.splitlines()[0])
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--web-port", type=int, default=8025)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--dir", type=Path, required=True, help="where messages are stored (.eml)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve_forever(MailCatcher(args.dir, args.host, args.smtp_port, args.web_port),
                  on_ready=lambda c: log.info("mail catcher: SMTP %s:%d, web http://%s:%d (messages in %s)",
                                              c.host, c.smtp_port, c.host, c.web_port, c.store.directory))


__all__ = ["MailCatcher", "MailCatcherError", "MailStore", "StoredMessage", "build_app", "serve_forever"]

if __name__ == "__main__":
    main()
