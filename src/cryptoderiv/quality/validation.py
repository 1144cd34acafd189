"""Run a table's suite on a batch with Great Expectations and read the verdict per rule and per row.

:func:`validate_frame` builds an ephemeral GX context (no files, no analytics, no progress bars),
registers the batch as a pandas dataframe asset, runs the table's suite through a
``ValidationDefinition`` with the ``COMPLETE`` result format (so row rules name their rows) and the
load window as suite parameters, and returns a :class:`SuiteRun`: one :class:`RuleOutcome` per rule,
with the failing row positions, plus the GX context so :mod:`cryptoderiv.quality.docs` can build the
run's Data Docs from the stored result.

The frame must follow the input contract (:mod:`cryptoderiv.quality.frames`) and have positions
0..n-1 as its index (:func:`~cryptoderiv.quality.frames.prepare` and
:func:`~cryptoderiv.quality.frames.prepare_offline` ensure it).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptoderiv.quality.errors import SuiteConfigurationError
from cryptoderiv.quality.frames import TIME_SERIES_TABLES, check_table
from cryptoderiv.quality.policy import DEFAULT_POLICY, Dimension, QualityPolicy, Severity
from cryptoderiv.quality.suites import Rule, build_suite, rules_for, suite_name, suite_version

log = logging.getLogger(__name__)

Window = tuple[Any, Any]
_EMPTY_ROWS = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class RuleOutcome:
    """The verdict of one rule on one batch."""

    rule: Rule
    expectation_type: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    #: positions (0-based) of the failing rows; set for row rules, None for batch rules
    failed_rows: npt.NDArray[np.int64] | None = None
    exception: str | None = None

    @property
    def name(self) -> str:
        """The rule's stable name."""
        return self.rule.name

    @property
    def severity(self) -> Severity:
        """Hard or soft."""
        return self.rule.severity

    @property
    def dimension(self) -> Dimension:
        """Structure, domain, time or derivatives."""
        return self.rule.dimension

    @property
    def row_level(self) -> bool:
        """Whether the failure names rows (it can be quarantined row by row)."""
        return self.failed_rows is not None and self.exception is None

    @property
    def blocks_batch(self) -> bool:
        """A failed hard rule that cannot name rows rejects the whole batch."""
        return not self.success and self.severity is Severity.HARD and not self.row_level


@dataclass
class SuiteRun:
    """A validated batch: the outcome per rule and the GX objects the Data Docs are built from."""

    table: str
    suite_name: str
    suite_version: str
    rows: int
    window: Window | None
    outcomes: tuple[RuleOutcome, ...]
    seconds: float
    run_name: str
    context: Any = field(repr=False, default=None)
    gx_result: Any = field(repr=False, default=None)

    @property
    def success(self) -> bool:
        """Every rule passed."""
        return all(o.success for o in self.outcomes)

    @property
    def failures(self) -> tuple[RuleOutcome, ...]:
        """The rules that failed."""
        return tuple(o for o in self.outcomes if not o.success)

    @property
    def blocked(self) -> bool:
        """A batch-level hard rule failed: nothing of the batch may be published."""
        return any(o.blocks_batch for o in self.outcomes)

    def hard_failed_rows(self) -> dict[int, list[RuleOutcome]]:
        """Row position -> the hard row rules it failed (the rows to quarantine)."""
        found: dict[int, list[RuleOutcome]] = {}
        for outcome in self.outcomes:
            if outcome.success or outcome.severity is not Severity.HARD or outcome.failed_rows is None:
                continue
            for row in outcome.failed_rows.tolist():
                found.setdefault(int(row), []).append(outcome)
        return found

    def outcome(self, rule_name: str) -> RuleOutcome:
        """The outcome of the rule called ``rule_name``."""
        for o in self.outcomes:
            if o.name == rule_name:
                return o
        raise KeyError(rule_name)


def gx_context() -> Any:
    """An ephemeral GX context: in memory, analytics and progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    import cryptoderiv.quality.expectations  # noqa: F401 - registers the custom expectations

    config = DataContextConfig(analytics_enabled=False, progress_bars=ProgressBarsConfig(globally=False),
                               store_backend_defaults=InMemoryStoreBackendDefaults())
    return gx.get_context(mode="ephemeral", project_config=config)


def validate_frame(table: str, frame: pd.DataFrame, window: Window | None = None, *,
                   policy: QualityPolicy = DEFAULT_POLICY, run_name: str | None = None) -> SuiteRun:
    """Validate ``frame`` (the input contract of ``table``, index 0..n-1) with ``table``'s suite.

    Parameters
    ----------
    table
        One of :data:`cryptoderiv.quality.frames.TABLES`.
    frame
        The batch, prepared by :func:`~cryptoderiv.quality.frames.prepare` (gate) or
        :func:`~cryptoderiv.quality.frames.prepare_offline` (no database).
    window
        ``(start, end)``, timezone-aware, the half-open load window ``[start, end)``; required for the
        time-series tables, ignored for ``instruments``.
    policy
        Thresholds; :data:`~cryptoderiv.quality.policy.DEFAULT_POLICY` unless a test or a study changes one.
    run_name
        Name of the run in the Data Docs (defaults to a timestamp).

    Returns
    -------
    SuiteRun

    Raises
    ------
    UnknownTableError
        No suite for ``table``.
    SuiteConfigurationError
        A time-series table without a window, or a frame whose index is not 0..n-1.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    check_table(table)
    start_time = time.perf_counter()
    bounds = _window(table, window)
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        raise SuiteConfigurationError(f"{table}: the frame's index must be 0..n-1 (use frames.prepare)")
    context = gx_context()
    suite = context.suites.add(build_suite(table, policy, context))
    asset = context.data_sources.add_pandas(f"batches.{table}").add_dataframe_asset(table)
    definition = context.validation_definitions.add(gx.ValidationDefinition(
        name=f"{table}.batch", data=asset.add_batch_definition_whole_dataframe("batch"), suite=suite))
    name = run_name or datetime.now().astimezone().strftime("%Y%m%dT%H%M%S")
    parameters = {"window_start": bounds[0], "window_end": bounds[1]} if bounds else {}
    result = definition.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
                            result_format="COMPLETE", run_id=RunIdentifier(run_name=name))
    rules = {r.name: r for r in rules_for(table, policy)}
    outcomes = tuple(sorted((_outcome(r, rules) for r in result.results), key=lambda o: list(rules).index(o.name)))
    seconds = time.perf_counter() - start_time
    run = SuiteRun(table=table, suite_name=suite_name(table), suite_version=suite_version(table, policy),
                   rows=len(frame), window=bounds, outcomes=outcomes, seconds=seconds, run_name=name,
                   context=context, gx_result=result)
    log.info("%s: %d rows, %d rules, %d failed (%s), %.2fs", table, len(frame), len(outcomes),
             len(run.failures), ", ".join(o.name for o in run.failures) or "none", seconds)
    return run


def _window(table: str, window: Window | None) -> Window | None:
    if table not in TIME_SERIES_TABLES:
        return None
    if window is None:
        raise SuiteConfigurationError(f"{table}: give the load window (start, end)")
    start, end = (pd.Timestamp(w) for w in window)
    if start.tzinfo is None or end.tzinfo is None:
        raise SuiteConfigurationError(f"{table}: the window must be timezone-aware, got {window!r}")
    if not start < end:
        raise SuiteConfigurationError(f"{table}: the window [{start}, {end}) is empty or reversed")
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def _outcome(result: Any, rules: Mapping[str, Rule]) -> RuleOutcome:
    config = result.expectation_config
    rule_name = str((config.meta or {}).get("rule"))
    if rule_name not in rules:
        raise SuiteConfigurationError(f"validation returned an expectation without a known rule: {config.type}")
    details: dict[str, Any] = dict(result.result or {})
    exception_info = result.exception_info or {}
    exception = None
    if exception_info.get("raised_exception"):
        exception = str(exception_info.get("exception_message") or "the expectation raised")
    failed_rows = None
    if "unexpected_index_list" in details and exception is None:
        failed_rows = np.asarray(details.get("unexpected_index_list") or [], dtype=np.int64)
    elif exception is None and "unexpected_count" not in details and "observed_value" not in details:
        failed_rows = _EMPTY_ROWS  # a row rule on an empty batch
    return RuleOutcome(
        rule=rules[rule_name], expectation_type=config.type, success=bool(result.success),
        element_count=_int(details.get("element_count")), unexpected_count=_int(details.get("unexpected_count")),
        unexpected_percent=_float(details.get("unexpected_percent")), observed_value=details.get("observed_value"),
        failed_rows=failed_rows, exception=exception)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def jsonable(value: Any) -> Any:
    """``value`` made JSON-safe for jsonb: timestamps as ISO strings, numpy scalars as Python ones,
    NaN/inf and NaT as null, tuples and sets as lists, unknown objects as their ``str``."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [jsonable(v) for v in value]
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)
