"""Write, audit, publish: the data-quality gate every load goes through.

One call per batch::

    from cryptoderiv.quality.gate import audit_and_publish
    audit_and_publish(database_url, "option_quotes", frame, run_id, window=(start, end), notify=alert)

:func:`audit_and_publish` completes the batch from the instrument catalog, validates it with the
table's suite (:mod:`cryptoderiv.quality.suites`, Great Expectations), builds the run's offline Data
Docs, and then, in one transaction: records every rule's result in ``dq_results``, moves the rows that
failed a hard rule to ``quarantine`` (with the rule, what it saw and the row as JSON) and publishes the
other rows with :func:`cryptoderiv.storage.write_frame` (all or nothing). A failed batch-level hard
rule (missing columns, wrong types) publishes nothing and raises :class:`BatchRejected` after the
verdict is recorded. Soft failures never stop the publish; ``notify`` is called with the result when
anything needs attention (soft failures or quarantined rows), which is how an Airflow task alerts.

Every failed expectation also raises a ``dq_failure`` alert (:func:`alert_failures`, which calls
:func:`cryptoderiv.alerts.evaluate_dq_alerts`: stored in ``alerts``, pushed to the dashboard, cooled down per
rule and at most once per run id) once the batch is committed: by the gate when it owns the connection,
by the caller after its commit otherwise (the ingest pipelines do). A failing alert is logged and never
undoes the published load.

Re-running the same run id for the same table replaces its records (no duplicates) and upserts the
same rows, so the gate is idempotent like every stage.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.quality.errors import BatchRejected, SoftQualityWarning, SuiteConfigurationError
from cryptoderiv.quality.policy import DEFAULT_POLICY, QualityPolicy, Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpectationSummary:
    """How one rule went on the batch."""

    rule: str
    expectation_type: str
    severity: Severity
    dimension: str
    success: bool
    passed: int | None  # rows (or bars) that satisfied it; None for batch rules
    failed: int | None  # rows (or bars) that did not
    quarantined: int  # rows this rule sent to quarantine
    observed_value: Any = None
    exception: str | None = None


@dataclass(frozen=True)
class GateResult:
    """What the gate did with a batch."""

    run_id: str
    table: str
    rows_in: int
    rows_published: int
    rows_changed: int  # of the published rows, those inserted or changed (0 when re-publishing the same batch)
    rows_quarantined: int
    blocked: bool
    expectations: tuple[ExpectationSummary, ...]
    docs_path: Path | None
    suite_version: str
    validation_seconds: float

    @property
    def soft_failures(self) -> tuple[ExpectationSummary, ...]:
        """Soft rules that failed (recorded and notified; rows published)."""
        return tuple(e for e in self.expectations if not e.success and e.severity is Severity.SOFT)

    @property
    def hard_failures(self) -> tuple[ExpectationSummary, ...]:
        """Hard rules that failed (their rows quarantined, or the batch rejected)."""
        return tuple(e for e in self.expectations if not e.success and e.severity is Severity.HARD)

    @property
    def needs_attention(self) -> bool:
        """Anything failed: a soft rule, a quarantined row or a rejected batch."""
        return self.blocked or self.rows_quarantined > 0 or bool(self.soft_failures) or bool(self.hard_failures)

    def summary(self) -> str:
        """A few lines for logs, notifications and e-mails."""
        head = (f"{self.table} run {self.run_id}: {self.rows_in} rows in, {self.rows_published} published, "
                f"{self.rows_quarantined} quarantined" + (" - BATCH REJECTED" if self.blocked else ""))
        lines = [head]
        for e in (*self.hard_failures, *self.soft_failures):
            count = f"{e.failed} failing" if e.failed is not None else f"observed {e.observed_value!r:.200}"
            lines.append(f"  [{e.severity.value}] {e.rule}: {count}" + (f" ({e.exception})" if e.exception else ""))
        if self.docs_path:
            lines.append(f"  Data Docs: {self.docs_path}")
        return "\n".join(lines)

    def raise_for_status(self) -> GateResult:
        """Raise :class:`BatchRejected` when the batch was rejected; else return ``self``."""
        if self.blocked:
            raise BatchRejected(self.summary(), self)
        return self


Notifier = Callable[[GateResult], None]


def audit_and_publish(conn_or_url: psycopg.Connection | str, table: str, frame: pd.DataFrame, run_id: str,
                      window: tuple[Any, Any] | None = None, *, notify: Notifier | None = None,
                      build_docs: bool = True, docs_root: Path | None = None,
                      raise_on_rejection: bool = True, policy: QualityPolicy = DEFAULT_POLICY) -> GateResult:
    """Validate ``frame`` with ``table``'s suite, quarantine what fails hard rules, publish the rest.

    Parameters
    ----------
    conn_or_url
        A database URL (the gate opens, commits and closes its own connection) or an open connection
        (the gate works in a transaction block on it, a savepoint when one is open; the caller commits).
    table
        The target table (``instruments``, ``ohlcv``, ``trades``, ``funding_rates``, ``open_interest``,
        ``futures_quotes`` or ``option_quotes``).
    frame
        The batch in the table's input contract (:mod:`cryptoderiv.quality.frames`): the table's columns
        with ``exchange`` + ``symbol`` (or ``instrument_id``); instrument fields missing from an options
        or futures batch are joined from the catalog.
    run_id
        Identifies the batch across retries (e.g. ``f"{dag_run.run_id}.{task_id}"``); re-running it
        replaces the records of the earlier attempt.
    window
        ``(start, end)``, timezone-aware: the half-open window being loaded. Required except for
        ``instruments``.
    notify
        Called with the result when it :attr:`~GateResult.needs_attention` (after the commit when the
        gate owns the connection). Exceptions it raises are logged, not propagated.
        With a URL, the gate also fires the ``dq_failure`` alerts after its commit; with a caller's
        connection it cannot (the results are not committed yet): the caller commits, then calls
        :func:`alert_failures` with the result.
    build_docs
        Build the run's Data Docs (offline-readable) under ``docs_root`` (default
        ``<local_dir>/data_docs``) in ``<run_id>/<table>/``.
    raise_on_rejection
        Raise :class:`BatchRejected` when a batch-level hard rule failed (after recording the verdict).
    policy
        The rules' thresholds.

    Returns
    -------
    GateResult

    Raises
    ------
    BatchRejected
        The batch failed a batch-level hard rule; nothing of it was published.
    UnknownTableError, SuiteConfigurationError
        No suite for ``table``, no window for a time-series table, or an empty run id.
    ContractViolation
        The storage writer refused the rows that passed the gate (then nothing was recorded either).
    """
    from cryptoderiv.quality import docs, frames, results
    from cryptoderiv.quality.validation import validate_frame
    from cryptoderiv.storage import write_frame

    frames.check_table(table)
    if not run_id or not run_id.strip():
        raise SuiteConfigurationError("give the gate a run id (it keys dq_results and quarantine)")
    with _connection(conn_or_url) as (conn, owned):
        batch = frames.prepare(conn, table, frame)
        run = validate_frame(table, batch, window, policy=policy, run_name=run_id)
        plan = results.quarantine_plan(run, batch)
        quarantined_rows = sorted({item.batch_row for item in plan})
        docs_path = None
        if build_docs:
            docs_path = docs.build_data_docs(run, docs.run_docs_dir(run_id, table, docs_root))
        checked_at = datetime.now(UTC)
        published = changed = 0
        with conn.transaction():
            results.replace_run(conn, run_id, run, batch, plan, checked_at, str(docs_path) if docs_path else None)
            if not run.blocked:
                keep = np.ones(len(batch), dtype=bool)
                keep[quarantined_rows] = False
                good = frames.publishable(table, batch.loc[keep])
                if frames.references_instruments(table):
                    good = good.astype({"instrument_id": "int64"})
                if not good.empty:
                    changed = write_frame(conn, table, good.reset_index(drop=True)).rows_changed
                published = len(good)
        result = _result(run_id, run, len(batch), published, changed, len(quarantined_rows), plan, docs_path)
        if owned:
            conn.commit()
            alert_failures(conn, result)
    _report(result, notify)
    if result.blocked and raise_on_rejection:
        raise BatchRejected(result.summary(), result)
    return result


def alert_failures(conn: psycopg.Connection, result: GateResult) -> list[int]:
    """Fire the ``dq_failure`` alerts of a committed batch; never raises.

    Calls :func:`cryptoderiv.alerts.evaluate_dq_alerts` for the batch's run id and table (one alert per
    failed expectation and rule, subject ``table:expectation``, cool-down per rule, at most once per run
    id, so re-running a batch does not alert again). It commits the alert rows on ``conn``: call it after
    the batch's own commit, outside any transaction of the caller's.

    Parameters
    ----------
    conn : psycopg.Connection
        The connection the batch was committed on (or any to the same database).
    result : GateResult
        What :func:`audit_and_publish` returned.

    Returns
    -------
    list of int
        Ids of the alerts stored; empty when nothing failed, when every alert was suppressed, or when
        alerting failed (logged with its traceback; the published load stands).
    """
    if all(e.success for e in result.expectations):
        return []
    try:
        from cryptoderiv.alerts.pipeline import evaluate_dq_alerts

        ids = evaluate_dq_alerts(conn, result.run_id, table=result.table, once_per_run=True)
    except Exception:  # an alert must never undo or fail a recorded, published load
        log.exception("%s run %s: raising the data-quality alerts failed", result.table, result.run_id)
        try:
            conn.rollback()  # only the alerts' work: the batch was committed before
        except psycopg.Error:
            log.warning("%s run %s: could not roll back after the failed alert", result.table, result.run_id)
        return []
    if ids:
        log.info("%s run %s: %d data-quality alerts raised", result.table, result.run_id, len(ids))
    return ids


@contextmanager
def _connection(conn_or_url: psycopg.Connection | str) -> Iterator[tuple[psycopg.Connection, bool]]:
    if isinstance(conn_or_url, str):
        from cryptoderiv.storage.database import connect

        with connect(conn_or_url) as conn:
            yield conn, True
    else:
        yield conn_or_url, False


def _result(run_id: str, run: Any, rows_in: int, published: int, changed: int, quarantined: int,
            plan: list[Any], docs_path: Path | None) -> GateResult:
    per_rule: dict[str, int] = {}
    for item in plan:
        per_rule[item.outcome.name] = per_rule.get(item.outcome.name, 0) + 1
    summaries = []
    for o in run.outcomes:
        failed = o.unexpected_count
        passed = None if failed is None or o.element_count is None else o.element_count - failed
        summaries.append(ExpectationSummary(
            rule=o.name, expectation_type=o.expectation_type, severity=o.severity, dimension=o.dimension.value,
            success=o.success, passed=passed, failed=failed, quarantined=per_rule.get(o.name, 0),
            observed_value=o.observed_value, exception=o.exception))
    return GateResult(run_id=run_id, table=run.table, rows_in=rows_in, rows_published=published,
                      rows_changed=changed, rows_quarantined=quarantined, blocked=run.blocked,
                      expectations=tuple(summaries), docs_path=docs_path, suite_version=run.suite_version,
                      validation_seconds=run.seconds)


def _report(result: GateResult, notify: Notifier | None) -> None:
    if not result.needs_attention:
        log.info("%s run %s: %d rows, all rules passed, published", result.table, result.run_id, result.rows_in)
        return
    log.warning("%s", result.summary())
    if result.soft_failures:
        warnings.warn(SoftQualityWarning(result.summary()), stacklevel=3)
    if notify is None:
        return
    try:
        notify(result)
    except Exception:  # a broken notifier must not undo a recorded, published load
        log.exception("%s run %s: the quality notifier failed", result.table, result.run_id)
