"""Data Docs of a gated batch, readable offline.

Great Expectations renders Data Docs with Bootstrap, jQuery, bootstrap-table and Font Awesome loaded
from CDNs; with no network the pages come out unstyled and the index page's tables stay empty (they
are filled by bootstrap-table from inline JavaScript). :func:`build_data_docs` builds the run's site
with GX's own ``SiteBuilder`` from the validation stored in the run's context, then
:func:`make_offline` post-processes every page:

- every ``<link>``/``<script>`` pointing at a remote host is removed, remote images (the GX logo)
  are replaced by text and remote ``url(...)`` backgrounds by ``none``;
- a small stylesheet (:data:`OFFLINE_CSS`, the subset of Bootstrap 4 classes the GX templates use,
  written for this project) and a small script (:data:`OFFLINE_JS`: a jQuery-shaped shim that renders
  the index tables, and handlers for tabs, collapsibles and the "failed only" filter) are inlined
  into each page's ``<head>``;
- the copied static images and fonts are deleted (nothing references them any more).

The pages then need nothing but the files of the site, and read the same with or without a network.
The site of a run lives in ``<local_dir>/data_docs/<run_id>/<table>/index.html`` by default.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

from cryptoderiv.config import get_settings

log = logging.getLogger(__name__)

SITE_NAME = "cryptoderiv_quality"
_REMOTE = r"(?:https?:)?//"
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']" + _REMOTE + r"[^>]*>\s*", re.IGNORECASE)
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']" + _REMOTE + r"[^>]*>\s*</script>\s*", re.IGNORECASE)
_REMOTE_IMG = re.compile(r"<img\b[^>]*\bsrc=[\"']" + _REMOTE + r"[^>]*>", re.IGNORECASE | re.DOTALL)
_REMOTE_CSS_URL = re.compile(r"url\(\s*[\"']?" + _REMOTE + r"[^)]*\)", re.IGNORECASE)
_LOCAL_STATIC_LINK = re.compile(r"<link\b[^>]*\bhref=[\"'][./]*static/[^>]*>\s*", re.IGNORECASE)
_REMOTE_REFERENCE = re.compile(
    r"<(?:link|script|img)\b[^>]*\b(?:href|src)=[\"']" + _REMOTE + r"|url\(\s*[\"']?" + _REMOTE, re.IGNORECASE)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

OFFLINE_CSS = """
/* cryptoderiv: offline stand-in for the Bootstrap 4 classes the Great Expectations templates use. */
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
  color:#212529;background:#fff}
a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}
h1,h2,h3,h4,h5,h6{margin:.2em 0 .5em;font-weight:600;line-height:1.2}
h1{font-size:1.9rem}h2{font-size:1.6rem}h3{font-size:1.35rem}h4{font-size:1.15rem}h5{font-size:1rem}
p{margin:0 0 .6rem}.lead{font-size:1.05rem;font-weight:300}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;
  font-size:.85em;background:#f3f4f6;border-radius:3px;padding:.1em .3em}pre{padding:.6em;overflow:auto}
ul,ol{padding-left:1.4rem;margin:0 0 .6rem}
.container,.container-fluid{width:100%;padding:0 15px;margin:0 auto}
.row{display:flex;flex-wrap:wrap;margin:0 -15px}
[class*="col-"]{position:relative;width:100%;padding:0 15px}
.col-12,.col-xs-12,.col-sm-12{flex:0 0 100%;max-width:100%}
@media(min-width:768px){.col-md-2{flex:0 0 16.67%;max-width:16.67%}.col-md-3{flex:0 0 25%;max-width:25%}
  .col-md-4{flex:0 0 33.33%;max-width:33.33%}.col-md-6{flex:0 0 50%;max-width:50%}
  .col-md-8{flex:0 0 66.67%;max-width:66.67%}.col-md-9{flex:0 0 75%;max-width:75%}
  .col-md-10{flex:0 0 83.33%;max-width:83.33%}.d-md-block{display:block!important}
  .d-md-inline-flex{display:inline-flex!important}}
@media(min-width:992px){.col-lg-2{flex:0 0 16.67%;max-width:16.67%}.col-lg-10{flex:0 0 83.33%;max-width:83.33%}}
.navbar{display:flex;align-items:center;justify-content:space-between;padding:.5rem 1rem;background:#f8f9fa}
.navbar-brand{font-weight:600;font-size:1.1rem;margin-right:1rem}.sticky-top{position:sticky;top:0;z-index:10}
.cd-brand{font-weight:700;color:#0b5cad;font-size:1.15rem}
.breadcrumb{display:flex;flex-wrap:wrap;list-style:none;margin:0;padding:.4rem .8rem;background:#e9ecef;
  border-radius:4px}.breadcrumb-item+.breadcrumb-item::before{content:"/";padding:0 .5rem;color:#6c757d}
.nav{display:flex;flex-wrap:wrap;list-style:none;padding-left:0;margin:0}
.nav-tabs{border-bottom:1px solid #dee2e6}.nav-link{display:block;padding:.45rem .9rem;cursor:pointer}
.nav-tabs .nav-link{border:1px solid transparent;border-top-left-radius:4px;border-top-right-radius:4px;
  margin-bottom:-1px}
.nav-tabs .nav-link.active{border-color:#dee2e6 #dee2e6 #fff;background:#fff;color:#495057}
.nav-pills .nav-link.active{background:#0b5cad;color:#fff;border-radius:4px}
.flex-column{flex-direction:column!important}.tab-content>.tab-pane{display:none}
.tab-content>.active{display:block}.fade:not(.show){opacity:1}.collapse:not(.show){display:none}
.card{border:1px solid #dee2e6;border-radius:5px;margin-bottom:1rem;background:#fff}
.card-header{padding:.6rem 1rem;background:#f7f7f9;border-bottom:1px solid #dee2e6}
.card-body{padding:1rem}.card-text{margin-bottom:.5rem}
.alert{padding:.6rem 1rem;margin-bottom:1rem;border:1px solid transparent;border-radius:4px}
.alert-secondary{background:#e2e3e5;border-color:#d6d8db}.alert-danger{background:#f8d7da;border-color:#f5c6cb}
.alert-success{background:#d4edda;border-color:#c3e6cb}.alert-warning{background:#fff3cd;border-color:#ffeeba}
.table,table{width:100%;border-collapse:collapse;margin-bottom:1rem}
.table th,.table td,table th,table td{padding:.45rem .6rem;border-top:1px solid #dee2e6;vertical-align:top;
  text-align:left}.table-sm th,.table-sm td{padding:.3rem .5rem}
thead th{border-bottom:2px solid #dee2e6;background:#f8f9fa}tbody tr:nth-child(odd){background:#fbfbfc}
tr.clickable-row{cursor:pointer}tr.clickable-row:hover{background:#eef4fb}
.badge{display:inline-block;padding:.2em .45em;font-size:.78em;font-weight:600;border-radius:4px;
  background:#e9ecef;color:#212529}.badge-success{background:#28a745;color:#fff}
.badge-danger{background:#dc3545;color:#fff}.badge-warning{background:#ffc107}.badge-info{background:#17a2b8;color:#fff}
.badge-secondary{background:#6c757d;color:#fff}.badge-primary{background:#0b5cad;color:#fff}
.btn{display:inline-block;padding:.3rem .7rem;border:1px solid #0b5cad;border-radius:4px;background:#fff;
  color:#0b5cad;cursor:pointer;font-size:.9rem}.btn-sm{padding:.2rem .5rem;font-size:.8rem}
.btn.active,.btn-primary.active{background:#0b5cad;color:#fff}.btn-secondary{border-color:#6c757d;color:#6c757d}
.btn-group{display:inline-flex}.btn-group>.btn{border-radius:0}.btn-group-toggle input{position:absolute;
  clip:rect(0,0,0,0);pointer-events:none}.close{float:right;font-size:1.3rem;background:none;border:0}
.modal,.ge-walkthrough-modal{display:none!important}
.text-danger{color:#c0392b!important}.text-success{color:#1e8e3e!important}.text-warning{color:#b7791f!important}
.text-info{color:#117a8b!important}.text-muted{color:#6c757d!important}.text-center{text-align:center!important}
.bg-light{background:#f8f9fa!important}.border-bottom{border-bottom:1px solid #dee2e6!important}
.rounded{border-radius:4px!important}.d-none{display:none!important}.d-flex{display:flex!important}
@media(min-width:576px){.d-sm-block{display:block!important}.flex-sm-row{flex-direction:row!important}}
.align-items-center{align-items:center!important}.justify-content-center{justify-content:center!important}
.float-left{float:left!important}.h-100{height:100%!important}.mr-auto{margin-right:auto!important}
.m-0{margin:0!important}.m-2{margin:.5rem!important}.mt-0{margin-top:0!important}.mb-0{margin-bottom:0!important}
.mb-1{margin-bottom:.25rem!important}.mb-2{margin-bottom:.5rem!important}.mb-3{margin-bottom:1rem!important}
.mb-4{margin-bottom:1.5rem!important}.ml-1{margin-left:.25rem!important}.ml-2{margin-left:.5rem!important}
.mr-0{margin-right:0!important}.p-0{padding:0!important}.p-1{padding:.25rem!important}.p-2{padding:.5rem!important}
.p-3{padding:1rem!important}.pt-0{padding-top:0!important}.pt-4{padding-top:1.5rem!important}
.pb-0{padding-bottom:0!important}.pb-1{padding-bottom:.25rem!important}.pb-4{padding-bottom:1.5rem!important}
.pl-5{padding-left:2rem!important}.pr-5{padding-right:2rem!important}.px-0{padding-left:0!important;
  padding-right:0!important}
.fas,.far,.fa{font-style:normal;font-weight:700}.fa-check-circle::before,.fa-check::before{content:"\\2714"}
.fa-times::before,.fa-times-circle::before{content:"\\2716"}.fa-exclamation-triangle::before{content:"\\26A0"}
.fa-info-circle::before{content:"\\2139"}.fa-question-circle::before{content:"?"}
.cd-offline-note{font-size:.75rem;color:#6c757d;padding:.2rem 1rem}
"""

OFFLINE_JS = """
/* cryptoderiv: offline stand-in for the jQuery / Bootstrap / bootstrap-table calls of the GX pages. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function Q(nodes) { this.nodes = nodes; this.length = nodes.length; }
  function $(arg) {
    if (typeof arg === "function") { ready(arg); return new Q([]); }
    if (arg === document || arg === window || (arg && arg.nodeType === 1)) { return new Q([arg]); }
    if (typeof arg === "string") {
      try { return new Q(Array.prototype.slice.call(document.querySelectorAll(arg))); } catch (e) { return new Q([]); }
    }
    return new Q([]);
  }
  Q.prototype.ready = function (fn) { ready(fn); return this; };
  Q.prototype.each = function (fn) { this.nodes.forEach(function (n, i) { fn.call(n, i, n); }); return this; };
  Q.prototype.parent = function () {
    return new Q(this.nodes.map(function (n) { return n.parentElement; }).filter(Boolean));
  };
  Q.prototype.fadeIn = function () { this.nodes.forEach(function (n) { n.style.display = ""; }); return this; };
  Q.prototype.fadeOut = function () { this.nodes.forEach(function (n) { n.style.display = "none"; }); return this; };
  Q.prototype.show = Q.prototype.fadeIn;
  Q.prototype.hide = Q.prototype.fadeOut;
  Q.prototype.modal = function () { return this; };
  Q.prototype.on = function () { return this; };
  Q.prototype.data = function (key) { return this.nodes[0] ? this.nodes[0].getAttribute("data-" + key) : undefined; };
  Q.prototype.bootstrapTable = function (options) {
    if (!options || typeof options !== "object") { return this; }
    var columns = options.columns || [], rows = options.data || [];
    this.nodes.forEach(function (table) {
      var head = "<thead><tr>" + columns.map(function (c) { return "<th>" + (c.title || c.field) + "</th>"; }).join("")
        + "</tr></thead>";
      var body = rows.map(function (row) {
        var link = row._table_row_link_path;
        var cells = columns.map(function (c) { var v = row[c.field]; return "<td>" + (v == null ? "" : v) + "</td>"; });
        var attributes = link ? " class=\\"clickable-row\\" data-href=\\"" + link + "\\"" : "";
        return "<tr" + attributes + ">" + cells.join("") + "</tr>";
      }).join("");
      table.classList.add("table");
      table.innerHTML = head + "<tbody>" + body + "</tbody>";
    });
    return this;
  };
  window.$ = window.jQuery = $;
  document.addEventListener("click", function (event) {
    var row = event.target.closest("tr.clickable-row");
    if (row && row.getAttribute("data-href") && !event.target.closest("a")) {
      window.location.href = row.getAttribute("data-href");
      return;
    }
    var toggle = event.target.closest("[data-toggle]");
    if (!toggle) { return; }
    var kind = toggle.getAttribute("data-toggle");
    var target = toggle.getAttribute("href") || toggle.getAttribute("data-target");
    if (kind === "tab" && target) {
      event.preventDefault();
      var nav = toggle.closest(".nav");
      if (nav) { nav.querySelectorAll(".nav-link").forEach(function (l) { l.classList.remove("active"); }); }
      toggle.classList.add("active");
      var pane = document.querySelector(target);
      if (pane && pane.parentElement) {
        Array.prototype.forEach.call(pane.parentElement.children, function (p) {
          p.classList.remove("active", "show");
        });
        pane.classList.add("active", "show");
      }
    } else if (kind === "collapse" && target) {
      event.preventDefault();
      var body = document.querySelector(target);
      if (body) { body.classList.toggle("show"); }
    } else if (kind === "buttons") {
      var label = event.target.closest("label");
      if (label) {
        toggle.querySelectorAll("label").forEach(function (l) { l.classList.remove("active"); });
        label.classList.add("active");
      }
    }
  });
})();
"""


def docs_root() -> Path:
    """``<local_dir>/data_docs`` from the settings."""
    return get_settings().local_dir / "data_docs"


def safe_name(text: str) -> str:
    """``text`` as a file name: anything but letters, digits, ``.``, ``_`` and ``-`` becomes ``_``."""
    cleaned = _SAFE.sub("_", text).strip("._")
    return cleaned or "run"


def run_docs_dir(run_id: str, table: str, root: Path | None = None) -> Path:
    """Where the Data Docs of ``run_id``'s batch for ``table`` are written."""
    return (root or docs_root()) / safe_name(run_id) / safe_name(table)


def build_data_docs(run: Any, target: Path) -> Path:
    """Build the Data Docs of ``run`` (a :class:`~cryptoderiv.quality.validation.SuiteRun`) into
    ``target`` (emptied first, so a re-run replaces them), make them offline-readable and return the
    path of their ``index.html``."""
    if run.context is None:
        raise ValueError("the run carries no GX context to build Data Docs from")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if SITE_NAME in run.context.get_site_names():
        run.context.delete_data_docs_site(SITE_NAME)
    run.context.add_data_docs_site(SITE_NAME, {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    run.context.build_data_docs(site_names=[SITE_NAME])
    pages = make_offline(target)
    log.info("Data Docs of %s: %d pages in %s", run.table, pages, target)
    return target / "index.html"


def make_offline(site_dir: Path) -> int:
    """Rewrite every HTML page under ``site_dir`` so it needs no network (see the module docstring);
    returns the number of pages rewritten."""
    pages = sorted(site_dir.rglob("*.html"))
    for page in pages:
        page.write_text(offline_html(page.read_text(encoding="utf-8")), encoding="utf-8")
    for folder in ("images", "fonts"):
        shutil.rmtree(site_dir / "static" / folder, ignore_errors=True)
    return len(pages)


def offline_html(html: str) -> str:
    """One page made offline-readable."""
    html = _REMOTE_LINK.sub("", html)
    html = _REMOTE_SCRIPT.sub("", html)
    html = _LOCAL_STATIC_LINK.sub("", html)
    html = _REMOTE_CSS_URL.sub("none", html)
    html = _REMOTE_IMG.sub('<span class="cd-brand">cryptoderiv data quality</span>', html)
    inline = (f"<style>{OFFLINE_CSS}</style>\n<script>{OFFLINE_JS}</script>\n")
    return html.replace("</head>", inline + "</head>", 1) if "</head>" in html else inline + html


def remote_references(html: str) -> list[str]:
    """The remote ``<link>``/``<script>``/``<img>``/CSS ``url()`` references left in ``html`` (empty when
    offline; plain ``<a href>`` links to the web are not assets and stay)."""
    return [m.group(0) for m in _REMOTE_REFERENCE.finditer(html)]
