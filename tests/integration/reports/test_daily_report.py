"""The daily risk report built from the real test database and sent to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import io
import math
import re
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest
from pypdf import PdfReader

from cryptoderiv.config import Settings
from cryptoderiv.reports.daily import SECTIONS, build_daily_report, send_report_files
from cryptoderiv.reports.mail import load_message, send_via_smtp
from tests.integration.reports.support import (
    FORECAST_DAYS,
    HISTORICAL_PNL,
    PORTFOLIO,
    REPORT_DATE,
    clear_report_tables,
    daily_return_size,
    fill_report_tables,
)

pytestmark = pytest.mark.db

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"

EXPECTED_CHARTS = {"var-es", "stress-grid", "surface-btc", "surface-eth", "forecast-vs-realised"}


def settings_for(database_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return Settings(database_url=database_url, reports_dir=tmp_path / "reports", smtp_port=smtp_port,
                    report_recipients="risk@example.com, trading@example.com")


def wait_for_message(smtp_server, count_before: int) -> EmailMessage:
    deadline = time.monotonic() + 10
    while len(smtp_server.messages) == count_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp_server.messages) == count_before + 1, "no message arrived at the SMTP server"
    return smtp_server.messages[-1]


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture()
def filled(db: psycopg.Connection) -> psycopg.Connection:
    clear_report_tables(db)
    fill_report_tables(db)
    return db


def test_the_report_arrives_with_html_inline_charts_text_and_the_pdf(
        filled: psycopg.Connection, database_url: str, smtp_server, tmp_path: Path) -> None:
    settings = settings_for(database_url, tmp_path, smtp_server.port)
    files = build_daily_report(database_url, REPORT_DATE, PORTFOLIO, settings)
    before = len(smtp_server.messages)
    accepted = send_report_files(files, settings)
    mail = wait_for_message(smtp_server, before)

    assert accepted == ["risk@example.com", "trading@example.com"]
    assert mail["Subject"] == ("[cryptoderiv] Daily risk report 2026-11-22 - portfolio sample"
                               " - 1d 99% VaR (HS) 48,213 USD")
    assert mail["To"] == "risk@example.com, trading@example.com"
    assert mail["Date"] is not None and mail["Message-ID"] is not None
    assert mail.get_content_type() == "multipart/mixed"

    types = [part.get_content_type() for part in mail.walk()]
    assert types[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related"]
    html = mail.get_body(preferencelist=("html",)).get_content()
    text = mail.get_body(preferencelist=("plain",)).get_content()
    images = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert {part.get_filename().removesuffix(".png") for part in images} == EXPECTED_CHARTS
    for image in images:
        assert image.get_content_disposition() == "inline"
        assert image.get_content().startswith(b"\x89PNG")
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert "data:image" not in html  # the mail refers to its parts, it does not inline them twice

    attachments = list(mail.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_filename() == "risk-report-sample-2026-11-22.pdf"
    pdf = attachments[0].get_content()
    assert pdf.startswith(b"%PDF-") and pdf == files.pdf.read_bytes()
    pages, words = pdf_text(pdf)
    assert pages >= 3

    # The figures as stored, formatted as the report documents (USD, thousands separators, no decimals).
    for figure in ("48,213", "61,878", "-231,456", f"{HISTORICAL_PNL:,.0f}", "650,412"):
        assert figure in html, figure
        assert figure in text, figure
        assert figure in words.replace("\n", " "), figure
    for _, title, _ in SECTIONS:
        assert title in html and title in text and title in words
    # Basel zones and rejected tests are highlighted; the parametric figure is labelled a comparison.
    assert re.search(r"background:#f8d7da[^>]*>red<", html)
    assert "Parametric Gaussian (comparison)" in html
    # Data quality: 3 distinct rows quarantined in option_quotes, soft failures counted.
    assert re.search(r"option_quotes\s+2\s+6\s+3\s+1\s+2\s+3", text)
    # Model status: the rejected run is the last one, the converged parameters stay in use (sqrt(v0) = 52.0).
    assert "rejected" in html and "52.0" in html and "2026-11-22 08:00 UTC" in html
    # Forecasts: the last elapsed one-day forecast (the day before the report date; the report date itself
    # is only half done) against the realised vol of that day's candles, 10 of 11 elapsed; the champion.
    size = daily_return_size(FORECAST_DAYS - 1)
    realised_vol = f"{100 * math.sqrt(24 * size**2 * 365):.1f}"
    forecast_vol = f"{100 * math.sqrt(1.1 * 24 * size**2 * 365):.1f}"
    assert re.search(rf"binance BTC/USDT\s+rv_1d\s+lstm v7 .* 2026-11-21\s+{forecast_vol}\s+{realised_vol}\s+10/11",
                     text), text
    assert re.search(r"rv_1d\s+cryptoderiv-rv_1d\s+7\s+lstm .*1\.421\s+0\.184\s+0\.021\s+180", text)


def test_files_are_written_under_the_reports_dir_and_rebuilding_gives_the_same_bytes(
        filled: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, tmp_path, 25)
    first = build_daily_report(database_url, REPORT_DATE, PORTFOLIO, settings)
    assert first.html.parent == tmp_path / "reports" / "2026-11-22"
    snapshot = {p: p.read_bytes() for p in (first.html, first.pdf, first.text, first.message)}
    second = build_daily_report(database_url, REPORT_DATE, PORTFOLIO, settings)
    assert second == first
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    html = first.html.read_text()
    assert html.count('src="data:image/png;base64,') == len(EXPECTED_CHARTS)  # opens on its own


def test_older_figures_are_labelled_with_their_date(filled: psycopg.Connection, database_url: str,
                                                     tmp_path: Path) -> None:
    later = REPORT_DATE + timedelta(days=2)
    files = build_daily_report(database_url, later, PORTFOLIO, settings_for(database_url, tmp_path, 25))
    text = files.text.read_text()
    assert "Figures as of 2026-11-22: the latest available, 2 days before the report date." in text
    assert "No data-quality checks ran on 2026-11-24 (UTC)." in text


def test_an_empty_database_gives_a_readable_line_per_section(db: psycopg.Connection, database_url: str,
                                                             smtp_server, tmp_path: Path) -> None:
    clear_report_tables(db)
    settings = settings_for(database_url, tmp_path, smtp_server.port)
    files = build_daily_report(database_url, REPORT_DATE, PORTFOLIO, settings)
    text = files.text.read_text()
    for _, title, _ in SECTIONS:
        body = text.split(f"{title}\n{'-' * len(title)}\n", 1)[1]
        first_line = body.splitlines()[0]
        assert (first_line.startswith("No ") and "yet" in first_line) or first_line.startswith("No data-quality"), (
            title, first_line)
    before = len(smtp_server.messages)
    send_via_smtp(load_message(files.message), settings)
    mail = wait_for_message(smtp_server, before)
    assert mail["Subject"] == "[cryptoderiv] Daily risk report 2026-11-22 - portfolio sample"
    assert not [p for p in mail.walk() if p.get_content_type() == "image/png"]
    pages, _ = pdf_text(next(mail.iter_attachments()).get_content())
    assert pages >= 1


def test_a_broken_section_is_reported_in_place_and_the_rest_still_renders(
        filled: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    filled.execute("ALTER TABLE position_greeks RENAME COLUMN vanna_usd TO vanna_usd_old")
    filled.commit()
    try:
        files = build_daily_report(database_url, REPORT_DATE, PORTFOLIO, settings_for(database_url, tmp_path, 25))
    finally:
        filled.execute("ALTER TABLE position_greeks RENAME COLUMN vanna_usd_old TO vanna_usd")
        filled.commit()
    text = files.text.read_text()
    assert "This section could not be built: column g.vanna_usd does not exist" in text
    assert "48,213" in text and "-231,456" in text


@pytest.mark.slow
def test_the_dag_builds_the_files_and_mails_through_the_airflow_smtp_connection(
        airflow_env: Path, filled: psycopg.Connection, smtp_server, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from airflow.dag_processing.dagbag import DagBag

    from cryptoderiv.config import get_settings

    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "airflow-reports"))
    get_settings.cache_clear()
    try:
        dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("risk__daily_report")
        before = len(smtp_server.messages)
        # A run after the risk stage of 2026-11-22 (the day before the run) finished.
        run = dag.test(logical_date=datetime(2026, 11, 23, 0, 45, tzinfo=UTC))
    finally:
        get_settings.cache_clear()
    assert run.state == "success", [(ti.task_id, ti.state) for ti in run.get_task_instances()]
    mail = wait_for_message(smtp_server, before)
    assert mail["Subject"].startswith("[cryptoderiv] Daily risk report 2026-11-22 - portfolio sample")
    assert mail["From"] == "cryptoderiv reports <airflow@cryptoderiv.local>"  # the connection's from_email
    assert mail["To"] == "risk@example.com"
    folder = tmp_path / "airflow-reports" / "2026-11-22"
    pdf = folder / "risk-report-sample-2026-11-22.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    attached = next(mail.iter_attachments()).get_content()
    assert attached == pdf.read_bytes()
    assert "48,213" in mail.get_body(preferencelist=("html",)).get_content()
    build = next(ti for ti in run.get_task_instances() if ti.task_id == "build_report")
    assert build.state == "success"
