"""Report rendering without a database: number formats, table checks, the MIME tree, the PDF."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from cryptoderiv.config import Settings
from cryptoderiv.errors import ConfigurationError, ContractViolation
from cryptoderiv.reports import charts
from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Chart, DailyReport, Section, Table
from cryptoderiv.reports.mail import build_message, content_id, recipients, subject
from cryptoderiv.reports.pdf import render_pdf
from cryptoderiv.reports.render import render_html, render_text


def test_number_formats() -> None:
    assert fmt.usd(48213.37) == "48,213"
    assert fmt.usd(-0.4) == "0"
    assert fmt.usd(float("nan")) == fmt.MISSING
    assert fmt.signed_usd(1911.6) == "+1,912" and fmt.signed_usd(-187654.3) == "-187,654"
    assert fmt.percent(0.0742) == "7.4%"
    assert fmt.vol(0.5512) == "55.1"
    assert fmt.level(0.99) == "99%" and fmt.level(0.975) == "97.5%"
    assert fmt.pnl_tone(-1.0) == "bad" and fmt.pnl_tone(2.0) == "good" and fmt.pnl_tone(None) is None


def test_tables_refuse_ragged_rows_and_unknown_tones() -> None:
    with pytest.raises(ContractViolation, match="row 1 has 1 cells"):
        Table(("a", "b"), (("1", "2"), ("3",)), (False, True))
    with pytest.raises(ContractViolation, match="tone row 0"):
        Table(("a",), (("1",),), (False,), (("purple",),))
    with pytest.raises(ContractViolation, match="slug"):
        Chart("Bad Name", "t", b"\x89PNG")


def small_report(with_data: bool = True) -> DailyReport:
    if not with_data:
        return DailyReport(date(2026, 11, 22), "book", (Section("var", "Value at risk", ("No VaR figures yet.",)),))
    png = charts.var_es_bars(["HS", "FHS"], {"VaR 99%": [100.0, 120.0], "ES 99%": [130.0, 150.0]}, "t")
    table = Table(("Method", "VaR (USD)"), (("HS", "48,213"), ("FHS <b>", "53,999")), (False, True),
                  ((None, "bad"), (None, None)))
    return DailyReport(date(2026, 11, 22), "book",
                       (Section("var", "Value at risk", ("Figures as of 2026-11-22.",), (table,),
                                (Chart("var-es", "VaR by method", png),)),),
                       (("1d 99% VaR (HS)", "48,213 USD"),))


def test_text_part_aligns_numbers_right_and_html_escapes_cells() -> None:
    report = small_report()
    text = render_text(report)
    assert "Method   VaR (USD)\n-------  ---------\nHS          48,213\nFHS <b>     53,999" in text
    html = render_html(report, lambda chart: f"cid:{chart.name}")
    assert "FHS &lt;b&gt;" in html and 'src="cid:var-es"' in html
    assert "background:#f8d7da" in html  # the highlighted cell


def test_message_tree_links_every_chart_by_content_id() -> None:
    report = small_report()
    pdf = render_pdf(report)
    message = build_message(report, pdf, Settings(report_recipients="a@example.com,b@example.com",
                                                  report_sender="reports@example.com"))
    assert message["Subject"] == subject(report) == (
        "[cryptoderiv] Daily risk report 2026-11-22 - portfolio book - 1d 99% VaR (HS) 48,213 USD")
    assert message["To"] == "a@example.com, b@example.com"
    tree = [(part.get_content_type(), part.get_content_disposition()) for part in message.walk()]
    assert tree == [("multipart/mixed", None), ("multipart/alternative", None), ("text/plain", None),
                    ("multipart/related", None), ("text/html", None), ("image/png", "inline"),
                    ("application/pdf", "attachment")]
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    cid = content_id(report.charts[0], report)
    assert image["Content-ID"] == f"<{cid}>"
    assert f'src="cid:{cid}"' in message.get_body(preferencelist=("html",)).get_content()
    assert build_message(report, pdf, Settings(report_recipients="a@example.com,b@example.com",
                                               report_sender="reports@example.com")).as_bytes() == message.as_bytes()


def test_pdf_has_the_figures_and_grows_with_the_content() -> None:
    small = render_pdf(small_report(with_data=False))
    full = render_pdf(small_report())
    assert small.startswith(b"%PDF-") and full.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(full))
    assert "48,213" in "".join(page.extract_text() for page in reader.pages)
    assert len(full) > len(small)
    assert render_pdf(small_report()) == full  # invariant: no timestamps or random ids


def test_recipients_must_hold_an_address() -> None:
    assert recipients(Settings(report_recipients="Risk <risk@example.com>, desk@example.com")) == [
        "risk@example.com", "desk@example.com"]
    with pytest.raises(ConfigurationError, match="REPORT_RECIPIENTS"):
        recipients(Settings(report_recipients=" , nobody"))
