"""Data Docs of a run: built by GX's site builder, then made readable without a network."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from cryptoderiv.quality import defects, docs, frames, synthetic
from cryptoderiv.quality.validation import validate_frame

START = pd.Timestamp("2026-03-02T09:00:00Z")
GX_PAGE = """<html><head><link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<style>.x { background: url('https://example.com/logo.png') 0 0; }</style></head>
<body><img
  class="NO-CACHE" src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1"
  alt="Great Expectations"/><a href="https://greatexpectations.io">GX</a></body></html>"""


def test_offline_html_drops_remote_assets_and_inlines_its_own() -> None:
    assert len(docs.remote_references(GX_PAGE)) == 4
    page = docs.offline_html(GX_PAGE)
    assert docs.remote_references(page) == []
    assert "cryptoderiv data quality" in page and 'href="https://greatexpectations.io"' in page  # links stay
    assert page.index("<style>") < page.index("</head>") and "bootstrapTable" in page


def test_run_docs_are_offline_and_show_the_failed_rule(tmp_path: Path) -> None:
    frame, window = synthetic.clean_batch("option_quotes", START)
    defect = defects.inject("stale_quote", frame)
    run = validate_frame("option_quotes", frames.prepare_offline("option_quotes", defect.frame), window,
                         run_name="manual__2026-03-02T09:00:00+00:00")
    target = docs.run_docs_dir("manual__2026-03-02T09:00:00+00:00", "option_quotes", tmp_path)
    assert target == tmp_path / "manual__2026-03-02T09_00_00_00_00" / "option_quotes"
    index = docs.build_data_docs(run, target)
    pages = sorted(target.rglob("*.html"))
    assert index == target / "index.html" and len(pages) >= 3
    for page in pages:
        html = page.read_text()
        assert docs.remote_references(html) == [], page
        assert docs.OFFLINE_CSS.strip()[:40] in html
    assert not (target / "static" / "images").exists()
    validation_page = next(p for p in pages if "validations" in p.parts)
    text = validation_page.read_text()
    assert "[hard] option_quotes.quote_fresh" in text and "Unsuccessful Expectations" in text
    # the index lists the run through the inline table data the offline shim renders
    assert re.search(r"bootstrapTable\(", index.read_text()) and "validations/" in index.read_text()
    # building again for the same run replaces the site
    (target / "stray.html").write_text("old")
    docs.build_data_docs(run, target)
    assert not (target / "stray.html").exists()
