"""The suites as code: well-formed rules, GX suites built from them, clean batches passing, every defect
injector caught by its named rule on exactly its rows (Great Expectations, no database)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

from cryptoderiv.config import PROJECT_ROOT
from cryptoderiv.quality import defects, frames, suites, synthetic
from cryptoderiv.quality.errors import SuiteConfigurationError, UnknownTableError
from cryptoderiv.quality.policy import DEFAULT_POLICY, Severity
from cryptoderiv.quality.validation import validate_frame

START = pd.Timestamp("2026-03-02T09:00:00Z")


def test_importing_the_gate_does_not_import_great_expectations() -> None:
    code = ("import sys, cryptoderiv.quality.gate, cryptoderiv.quality.suites, cryptoderiv.quality.defects;"
            "sys.exit(1 if 'great_expectations' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


@pytest.mark.parametrize("table", frames.TABLES)
def test_rules_are_named_after_their_table_and_every_input_column_is_covered(table: str) -> None:
    rules = suites.rules_for(table)
    assert all(r.name.startswith(f"{table}.") and r.rationale for r in rules)
    assert not [r.name for r in rules if set(r.rationale) & set("<>&")]  # Data Docs show it as HTML
    assert {r.severity for r in rules} <= {Severity.HARD, Severity.SOFT}
    structure = {r.name for r in rules if r.dimension.value == "structure"}
    assert {f"{table}.columns_present", f"{table}.column_kinds", f"{table}.unique_key"} <= structure
    suite = suites.build_suite(table)
    assert len(suite.expectations) == len(rules)
    assert {e.meta["rule"] for e in suite.expectations} == {r.name for r in rules}
    assert {e.severity.value for e in suite.expectations} <= {"critical", "warning"}


def test_suite_version_changes_with_a_threshold() -> None:
    tuned = suites.suite_version("option_quotes")
    looser = suites.suite_version("option_quotes", replace(DEFAULT_POLICY, parity_mark_band=0.02))
    assert tuned.startswith(suites.SUITE_VERSION + "+") and tuned != looser
    assert suites.suite_version("ohlcv") == suites.suite_version("ohlcv", replace(DEFAULT_POLICY,
                                                                                  parity_mark_band=0.02))


def test_unknown_tables_and_missing_windows_are_refused() -> None:
    with pytest.raises(UnknownTableError, match="ticks"):
        suites.rules_for("ticks")
    frame, _ = synthetic.clean_batch("ohlcv", START)
    with pytest.raises(SuiteConfigurationError, match="window"):
        validate_frame("ohlcv", frames.prepare_offline("ohlcv", frame), None)
    with pytest.raises(SuiteConfigurationError, match="timezone-aware"):
        validate_frame("ohlcv", frames.prepare_offline("ohlcv", frame), (pd.Timestamp("2026-03-02"),
                                                                         pd.Timestamp("2026-03-03")))


@pytest.mark.parametrize("table", frames.TABLES)
def test_clean_synthetic_batches_pass_every_rule(table: str) -> None:
    frame, window = synthetic.clean_batch(table, START)
    run = validate_frame(table, frames.prepare_offline(table, frame), window)
    assert not run.failures, [(o.name, o.unexpected_count, o.exception) for o in run.failures]
    assert len(run.outcomes) == len(suites.rules_for(table))


@pytest.mark.parametrize("name", sorted(defects.INJECTORS))
def test_each_defect_is_caught_by_its_named_rule_on_exactly_its_rows(name: str) -> None:
    table = defects.INJECTORS[name][0]
    frame, window = synthetic.clean_batch(table, START)
    defect = defects.inject(name, frame, seed=5)
    run = validate_frame(table, frames.prepare_offline(table, defect.frame), window)
    for rule in defect.rules:
        outcome = run.outcome(rule)
        assert not outcome.success, f"{rule} did not catch {defect.name}"
        assert outcome.severity is defect.severity
        if defect.severity is Severity.HARD:
            assert outcome.failed_rows is not None and sorted(outcome.failed_rows.tolist()) == list(defect.rows)
    hard_rows = set(run.hard_failed_rows())
    assert hard_rows == set(defect.rows)  # nothing else is quarantined: the clean rows stay clean
    assert not run.blocked


def test_a_batch_without_a_required_column_is_rejected_as_a_whole() -> None:
    frame, window = synthetic.clean_batch("option_quotes", START)
    run = validate_frame("option_quotes", frames.prepare_offline("option_quotes", frame.drop(columns=["quote_ts"])),
                         window)
    assert run.blocked
    assert not run.outcome("option_quotes.columns_present").success
    assert run.outcome("option_quotes.columns_present").observed_value is not None


def test_naive_timestamps_are_a_kind_mismatch() -> None:
    frame, window = synthetic.clean_batch("ohlcv", START)
    naive = frames.prepare_offline("ohlcv", frame.assign(ts=frame["ts"].dt.tz_localize(None)))
    run = validate_frame("ohlcv", naive, window)
    kinds = run.outcome("ohlcv.column_kinds")
    assert run.blocked and not kinds.success and kinds.observed_value["ts"]["expected"] == "utc_timestamp"


def test_the_methodology_lists_every_rule_with_its_severity() -> None:
    text = (PROJECT_ROOT / "docs" / "data-quality.md").read_text(encoding="utf-8")
    missing = [r.name for t in frames.TABLES for r in suites.rules_for(t)
               if f"| `{r.name}` | {r.severity.value} |" not in text]
    assert not missing, f"docs/data-quality.md's appendix is stale; regenerate it: {missing}"
