"""The daily risk report (``risk__daily_report``): an HTML e-mail with inline charts, a text alternative
and the same report as a PDF attachment, also written to disk.

Entry points: :func:`~cryptoderiv.reports.daily.build_daily_report` (gather + write files, used by the
DAG), :func:`~cryptoderiv.reports.daily.run_daily_report` (build + send, used by the CLI and the demo),
:func:`~cryptoderiv.reports.mail.send_via_smtp`. See ``docs/reports.md``.

The submodules import matplotlib and ReportLab: import them inside task bodies, not at DAG parse time.
"""
