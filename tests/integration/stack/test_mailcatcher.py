"""The mail catcher: a real SMTP session in, the stored .eml and the web view out."""

from __future__ import annotations

import asyncio
import json
import smtplib
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from cryptoderiv.stack.mailcatcher import MailCatcher


@pytest.fixture()
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    """A catcher on free ports, running in its own event loop thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    mail = MailCatcher(tmp_path / "mail", smtp_port=0, web_port=0)
    asyncio.run_coroutine_threadsafe(mail.start(), loop).result(timeout=10)
    try:
        yield mail
    finally:
        asyncio.run_coroutine_threadsafe(mail.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def _get(mail: MailCatcher, path: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{mail.web_port}{path}", timeout=5) as answer:
        return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode()


def _report() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "airflow@cryptoderiv.local"
    msg["To"] = "risk@example.com"
    msg["Subject"] = "Daily risk <report>"
    msg.set_content("VaR 99% 1d: 12,345 USD")
    msg.add_alternative("<html><body><h1>VaR</h1><script>alert(1)</script></body></html>", subtype="html")
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="risk.csv")
    return msg


def test_message_sent_over_smtp_is_stored_and_shown(catcher: MailCatcher) -> None:
    with smtplib.SMTP("127.0.0.1", catcher.smtp_port, timeout=10) as smtp:
        smtp.send_message(_report(), to_addrs=["risk@example.com", "hidden@example.com"])

    stored = list((catcher.store.directory).glob("*.eml"))
    assert len(stored) == 1
    assert b"X-Mailcatcher-Rcpt-To: risk@example.com, hidden@example.com" in stored[0].read_bytes()

    status, _, listing = _get(catcher, "/api/messages")
    messages = json.loads(listing)
    assert status == 200 and [m["subject"] for m in messages] == ["Daily risk <report>"]
    message_id = messages[0]["id"]

    _, content_type, index = _get(catcher, "/")
    assert content_type.startswith("text/html")
    assert "Daily risk &lt;report&gt;" in index and f"/messages/{message_id}" in index

    _, _, page = _get(catcher, f"/messages/{message_id}")
    assert "VaR 99% 1d: 12,345 USD" in page and "risk.csv" in page and "<iframe sandbox" in page

    detail = json.loads(_get(catcher, f"/api/messages/{message_id}")[2])
    assert detail["text"].strip() == "VaR 99% 1d: 12,345 USD"
    html_index = next(p["index"] for p in detail["parts"] if p["content_type"] == "text/html")
    with urllib.request.urlopen(f"http://127.0.0.1:{catcher.web_port}/messages/{message_id}/parts/{html_index}",
                                timeout=5) as answer:
        assert answer.headers["Content-Security-Policy"].startswith("sandbox")
        assert b"<h1>VaR</h1>" in answer.read()

    health = json.loads(_get(catcher, "/health")[2])
    assert health == {"status": "ok", "smtp_port": catcher.smtp_port, "messages": 1}


def test_login_is_accepted_and_unknown_ids_are_404(catcher: MailCatcher) -> None:
    with smtplib.SMTP("127.0.0.1", catcher.smtp_port, timeout=10) as smtp:
        smtp.login("reports", "any-password")
        smtp.send_message(_report())
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(catcher, "/messages/../../etc/passwd")
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as unknown:
        _get(catcher, "/messages/20260101T000000000000-deadbeef")
    assert unknown.value.code == 404
    request = urllib.request.Request(f"http://127.0.0.1:{catcher.web_port}/api/messages", method="DELETE")
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert json.loads(answer.read()) == {"deleted": 1}
    assert json.loads(_get(catcher, "/api/messages")[2]) == []
