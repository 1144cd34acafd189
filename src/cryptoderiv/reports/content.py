"""What a report is made of, independent of how it is rendered (HTML, plain text, PDF).

Sections gather their data from the database into these frozen values; the renderers only lay them out.
Numbers are formatted once, when a :class:`Table` is built (see :mod:`cryptoderiv.reports.formatting`), so
the HTML, the text part and the PDF show exactly the same figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from cryptoderiv.errors import ContractViolation

Tone = str | None
"""Highlight of a table cell: ``None``, ``"good"``, ``"warn"``, ``"bad"``."""

TONES = (None, "good", "warn", "bad")
_CHART_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells.

    Parameters
    ----------
    columns : tuple of str
        Column headers (units in the header, e.g. ``"VaR (USD)"``).
    rows : tuple of tuple of str
        Formatted cells, one tuple per row, each as long as ``columns``.
    numeric : tuple of bool
        Per column: right-align (numbers) or left-align (labels).
    tones : tuple of tuple of Tone, optional
        Per cell highlight, same shape as ``rows``; empty means no highlight.
    caption : str, optional
        One line above the table.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    tones: tuple[tuple[Tone, ...], ...] = ()
    caption: str | None = None

    def __post_init__(self) -> None:
        width = len(self.columns)
        if len(self.numeric) != width:
            raise ContractViolation(f"table {self.caption!r}: {len(self.numeric)} alignments for {width} columns")
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ContractViolation(f"table {self.caption!r}: row {i} has {len(row)} cells, expected {width}")
        if self.tones:
            if len(self.tones) != len(self.rows):
                raise ContractViolation(
                    f"table {self.caption!r}: {len(self.tones)} tone rows for {len(self.rows)} rows")
            for i, tone_row in enumerate(self.tones):
                if len(tone_row) != width or any(t not in TONES for t in tone_row):
                    raise ContractViolation(f"table {self.caption!r}: tone row {i} is invalid: {tone_row!r}")

    def tone(self, row: int, column: int) -> Tone:
        """Highlight of one cell (``None`` when the table has no tones)."""
        return self.tones[row][column] if self.tones else None


@dataclass(frozen=True)
class Chart:
    """A rendered chart.

    Parameters
    ----------
    name : str
        Stable slug (``stress-grid``, ``surface-btc``): file name stem and e-mail Content-ID stem.
    title : str
        Caption shown under the image.
    png : bytes
        The PNG image.
    """

    name: str
    title: str
    png: bytes

    def __post_init__(self) -> None:
        if not _CHART_NAME.match(self.name):
            raise ContractViolation(f"chart name {self.name!r} must be a lower-case slug")
        if not self.png.startswith(b"\x89PNG"):
            raise ContractViolation(f"chart {self.name!r} is not a PNG image")


@dataclass(frozen=True)
class Section:
    """One section of the report.

    ``notes`` are short paragraphs: what the figures are as of, their source, and, when a source has no
    data yet, the readable line that says so instead of a table.
    """

    key: str
    title: str
    notes: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()

    @property
    def has_data(self) -> bool:
        """Whether the section shows at least one table or chart."""
        return bool(self.tables or self.charts)


@dataclass(frozen=True)
class DailyReport:
    """The daily risk report of one portfolio for one UTC calendar date.

    ``headline`` holds the few figures that go into the subject and the top of the e-mail.
    """

    report_date: date
    portfolio: str
    sections: tuple[Section, ...]
    headline: tuple[tuple[str, str], ...] = field(default=())

    @property
    def title(self) -> str:
        return f"Daily risk report {self.report_date.isoformat()} - portfolio {self.portfolio}"

    @property
    def charts(self) -> tuple[Chart, ...]:
        """Every chart of every section, in order."""
        return tuple(chart for section in self.sections for chart in section.charts)
