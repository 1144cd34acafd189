"""The PDF rendering of a :class:`~cryptoderiv.reports.content.DailyReport`, with ReportLab.

Why ReportLab: it is pure Python on PyPI (no system libraries, unlike WeasyPrint's Pango/Cairo), works
offline, lays out real text tables that split across pages with repeated headers, and embeds the same
PNG charts as the e-mail. matplotlib's ``PdfPages`` would only give one figure per page with tables
drawn as graphics. Built with ``invariant=1``: the same report gives the same bytes (no creation date or
random document id).
"""

from __future__ import annotations

import io
import struct
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable
from reportlab.platypus.flowables import Flowable

from cryptoderiv.reports.charts import DPI
from cryptoderiv.reports.content import Chart, DailyReport, Table

PAGE = landscape(A4)
MARGIN = 12 * mm
TONE_COLOURS = {"good": colors.HexColor("#e2f0d9"), "warn": colors.HexColor("#fff2cc"),
                "bad": colors.HexColor("#f8d7da")}
BLUE = colors.HexColor("#1f4e79")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=16, textColor=BLUE, alignment=0,
                                spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base["Normal"], fontSize=8.5, textColor=colors.grey),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=12.5, textColor=BLUE, spaceBefore=8,
                             spaceAfter=3),
        "note": ParagraphStyle("note", parent=base["Normal"], fontSize=8.5, leading=11, spaceAfter=2),
        "empty": ParagraphStyle("empty", parent=base["Normal"], fontSize=8.5, leading=11,
                                textColor=colors.HexColor("#8b1a1a"), fontName="Helvetica-Oblique"),
        "caption": ParagraphStyle("caption", parent=base["Normal"], fontSize=8, textColor=colors.grey,
                                  spaceAfter=4),
        "table_caption": ParagraphStyle("table_caption", parent=base["Normal"], fontSize=8.5,
                                        fontName="Helvetica-Bold", spaceBefore=4, spaceAfter=2),
    }


def _image(chart: Chart, max_width: float) -> Image:
    # PNG IHDR: width and height in pixels at bytes 16..24; the charts are rendered at DPI.
    width_px, height_px = struct.unpack(">II", chart.png[16:24])
    width, height = width_px / DPI * 72.0, height_px / DPI * 72.0
    scale = min(1.0, max_width / width)
    return Image(io.BytesIO(chart.png), width=width * scale, height=height * scale)


def _table(table: Table) -> PdfTable:
    data = [list(table.columns), *[list(row) for row in table.rows]]
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 7),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eaeef2")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#8c959f")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#d8dee4")),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for column, numeric in enumerate(table.numeric):
        if numeric:
            style.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    for r in range(len(table.rows)):
        for c in range(len(table.columns)):
            tone = table.tone(r, c)
            if tone:
                style.append(("BACKGROUND", (c, r + 1), (c, r + 1), TONE_COLOURS[tone]))
    return PdfTable(data, repeatRows=1, hAlign="LEFT", style=TableStyle(style))


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.setFillColor(colors.grey)
    canvas.drawString(MARGIN, 7 * mm, doc.title)
    canvas.drawRightString(PAGE[0] - MARGIN, 7 * mm, f"page {doc.page}")
    canvas.restoreState()


def render_pdf(report: DailyReport) -> bytes:
    """The report as a PDF (A4 landscape): headline figures, then every section with its notes, charts
    and tables; page numbers in the footer.

    Returns
    -------
    bytes
        The PDF document (starts with ``%PDF``).
    """
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=14 * mm, title=report.title, author="cryptoderiv",
                            subject=f"risk__daily_report {report.report_date.isoformat()}", invariant=1)
    story: list[Flowable] = [
        Paragraph(escape(report.title), styles["title"]),
        Paragraph(escape(f"cryptoderiv - UTC calendar date {report.report_date.isoformat()} - figures are the "
                         "latest on or before that date. Units: USD unless stated; vols in vol points."),
                  styles["subtitle"]),
        Spacer(1, 4 * mm),
    ]
    if report.headline:
        headline = PdfTable([[label for label, _ in report.headline], [value for _, value in report.headline]],
                            hAlign="LEFT", style=TableStyle([
                                ("FONT", (0, 0), (-1, 0), "Helvetica", 7.5),
                                ("TEXTCOLOR", (0, 0), (-1, 0), colors.grey),
                                ("FONT", (0, 1), (-1, 1), "Helvetica-Bold", 12),
                                ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#d8dee4")),
                                ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#d8dee4")),
                                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f6f8fa"))]))
        story += [headline, Spacer(1, 2 * mm)]
    width = PAGE[0] - 2 * MARGIN
    for section in report.sections:
        note_style = styles["note"] if section.has_data else styles["empty"]
        story.append(KeepTogether([Paragraph(escape(section.title), styles["h2"]),
                                   *(Paragraph(escape(note), note_style) for note in section.notes)]))
        for chart in section.charts:
            story.append(KeepTogether([_image(chart, 0.85 * width), Paragraph(escape(chart.title), styles["caption"])]))
        for table in section.tables:
            if table.caption:
                story.append(Paragraph(escape(table.caption), styles["table_caption"]))
            story += [_table(table), Spacer(1, 2 * mm)]
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
