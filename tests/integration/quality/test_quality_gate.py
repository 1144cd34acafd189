"""Write-audit-publish against the real test database: each defect is quarantined (or recorded as a soft
failure) by its named rule, none reaches a published table, the clean rows of the same batch are all
published, results are recorded once per run, and re-running a run changes nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from cryptoderiv.quality import defects, synthetic
from cryptoderiv.quality.errors import BatchRejected
from cryptoderiv.quality.gate import GateResult, audit_and_publish
from cryptoderiv.quality.policy import Severity
from cryptoderiv.quality.results import load_quarantine, load_results
from cryptoderiv.quality.suites import rules_for
from cryptoderiv.storage.migrations import dashboard_url

pytestmark = pytest.mark.db

START = pd.Timestamp("2026-03-02T09:00:00Z")

#: Published rows of each table, by natural key, with one value column that a defect would change.
PUBLISHED = {
    "ohlcv": ("SELECT i.exchange, i.symbol, t.timeframe, t.ts, t.close FROM ohlcv t JOIN instruments i USING "
              "(instrument_id)", ["exchange", "symbol", "timeframe", "ts"], "close"),
    "option_quotes": ("SELECT i.exchange, i.symbol, t.ts, t.mark FROM option_quotes t JOIN instruments i USING "
                      "(instrument_id)", ["exchange", "symbol", "ts"], "mark"),
    "futures_quotes": ("SELECT i.exchange, i.symbol, t.ts, t.bid FROM futures_quotes t JOIN instruments i USING "
                       "(instrument_id)", ["exchange", "symbol", "ts"], "bid"),
    "funding_rates": ("SELECT i.exchange, i.symbol, t.ts, t.rate FROM funding_rates t JOIN instruments i USING "
                      "(instrument_id)", ["exchange", "symbol", "ts"], "rate"),
}


@pytest.fixture()
def catalog(db: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    """The synthetic instrument catalog, published through the gate itself."""
    result = audit_and_publish(db, "instruments", synthetic.instruments(START), new_run(), docs_root=tmp_path)
    db.commit()
    assert result.rows_published == result.rows_in and not result.needs_attention
    return db


def new_run() -> str:
    return f"test__{uuid.uuid4().hex[:12]}"


def published(conn: psycopg.Connection, table: str) -> pd.DataFrame:
    query, key, value = PUBLISHED[table]
    frame = pd.DataFrame(conn.execute(query).fetchall(), columns=[*key, value])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame.sort_values(key, ignore_index=True)


def expected_rows(frame: pd.DataFrame, table: str, excluded: tuple[int, ...]) -> pd.DataFrame:
    _, key, value = PUBLISHED[table]
    duplicated = frame.duplicated(subset=key, keep=False).to_numpy()
    keep = ~frame.index.isin(excluded) & ~duplicated
    rows = frame.loc[keep, [*key, value]].astype({value: "float64"})
    return rows.sort_values(key, ignore_index=True)


@pytest.mark.parametrize("name", sorted(set(defects.INJECTORS) - {"partial_last_bar", "usd_columns_in_coin",
                                                                   "funding_in_local_time"}))
def test_each_defect_is_quarantined_by_its_rule_and_the_clean_rows_are_published(
        catalog: psycopg.Connection, tmp_path: Path, name: str) -> None:
    table = defects.INJECTORS[name][0]
    frame, window = synthetic.clean_batch(table, START)
    defect = defects.inject(name, frame, seed=11)
    run_id = new_run()
    notified: list[GateResult] = []
    result = audit_and_publish(catalog, table, defect.frame, run_id, window, docs_root=tmp_path,
                               notify=notified.append)
    catalog.commit()

    # the named rule caught it, with the right severity
    failed = {e.rule: e for e in result.expectations if not e.success}
    assert defect.rules <= failed.keys()
    assert all(failed[r].severity is defect.severity for r in defect.rules)
    assert notified == [result] and result.needs_attention and not result.blocked
    if defect.severity is Severity.SOFT:
        assert {e.rule for e in result.soft_failures} >= defect.rules

    # quarantine holds exactly the defect's rows, each with the rule, a reason and the row itself
    quarantine = load_quarantine(catalog, run_id, table)
    assert sorted(set(quarantine["batch_row"])) == list(defect.rows)
    if defect.rows:
        caught = quarantine[quarantine["rule"].isin(defect.rules)]
        assert sorted(set(caught["batch_row"])) == list(defect.rows)
        assert caught["reason"].str.len().min() > 10 and caught["observed_value"].notna().all()
        first = caught.iloc[0]
        assert first["row_data"]["symbol"] == defect.frame["symbol"].iloc[first["batch_row"]]

    # no defective row is published; every clean row is, unchanged
    assert result.rows_quarantined == len(defect.rows)
    assert result.rows_published == len(defect.frame) - len(defect.rows)
    pd.testing.assert_frame_equal(published(catalog, table), expected_rows(defect.frame, table, defect.rows),
                                  check_dtype=False)

    # every rule's result is recorded once, the failure with its counts and the docs path
    results = load_results(catalog, run_id, table)
    assert len(results) == len(rules_for(table)) and results["rule"].is_unique
    recorded = results.set_index("rule")
    for rule in defect.rules:
        assert not recorded.at[rule, "success"]
        assert recorded.at[rule, "severity"] == defect.severity.value
        if defect.rows:
            assert recorded.at[rule, "rows_quarantined"] == len(defect.rows)
    assert Path(recorded["data_docs_path"].iloc[0]).is_file()


def test_a_clean_batch_is_published_whole_and_rerunning_the_run_changes_nothing(
        catalog: psycopg.Connection, tmp_path: Path) -> None:
    frame, window = synthetic.clean_batch("option_quotes", START, size="medium")
    run_id = new_run()
    first = audit_and_publish(catalog, "option_quotes", frame, run_id, window, docs_root=tmp_path)
    catalog.commit()
    assert (first.rows_published, first.rows_quarantined, first.needs_attention) == (len(frame), 0, False)
    defect = defects.inject("iv_in_percent", frame)
    second_run = new_run()
    for _ in range(2):  # the same run twice: same records, no duplicates, the table unchanged
        audit_and_publish(catalog, "option_quotes", defect.frame, second_run, window, docs_root=tmp_path)
        catalog.commit()
        assert len(load_results(catalog, second_run)) == len(rules_for("option_quotes"))
        assert load_quarantine(catalog, second_run)["batch_row"].tolist() == [defect.rows[0]] * 2
        count = catalog.execute("SELECT count(*) FROM option_quotes").fetchone()
        assert count == (len(frame),)  # the earlier clean copy of the quarantined row stays
    assert len(load_results(catalog, run_id)) == len(rules_for("option_quotes"))


def test_a_batch_missing_a_column_is_rejected_and_recorded(catalog: psycopg.Connection, tmp_path: Path,
                                                            database_url: str) -> None:
    frame, window = synthetic.clean_batch("futures_quotes", START)
    run_id = new_run()
    with pytest.raises(BatchRejected, match="BATCH REJECTED") as caught:
        audit_and_publish(database_url, "futures_quotes", frame.drop(columns=["quote_ts"]), run_id, window,
                          docs_root=tmp_path)
    result = caught.value.result
    assert isinstance(result, GateResult) and result.blocked and result.rows_published == 0
    assert catalog.execute("SELECT count(*) FROM futures_quotes").fetchone() == (0,)
    recorded = load_results(catalog, run_id).set_index("rule")
    assert not recorded.at["futures_quotes.columns_present", "success"]
    assert recorded.at["futures_quotes.columns_present", "observed_value"]  # what the batch had


def test_rows_of_unknown_instruments_are_quarantined(catalog: psycopg.Connection, tmp_path: Path) -> None:
    frame, window = synthetic.clean_batch("funding_rates", START)
    frame.loc[0, "symbol"] = "DOGE/USDT:USDT"
    run_id = new_run()
    result = audit_and_publish(catalog, "funding_rates", frame, run_id, window, docs_root=tmp_path)
    catalog.commit()
    assert result.rows_quarantined == 1 and result.rows_published == len(frame) - 1
    assert load_quarantine(catalog, run_id)["rule"].tolist() == ["funding_rates.instrument_known"]


def test_option_fields_are_joined_from_the_catalog_when_missing(catalog: psycopg.Connection,
                                                                tmp_path: Path) -> None:
    frame, window = synthetic.clean_batch("option_quotes", START)
    result = audit_and_publish(catalog, "option_quotes", frame.drop(columns=["base", "expiry", "strike",
                                                                             "option_type"]),
                               new_run(), window, docs_root=tmp_path)
    catalog.commit()
    assert result.rows_published == len(frame) and not result.needs_attention


def test_the_dashboard_reads_results_and_the_summary_but_not_quarantined_rows(
        catalog: psycopg.Connection, tmp_path: Path, database_url: str) -> None:
    frame, window = synthetic.clean_batch("funding_rates", START)
    defect = defects.inject("funding_spike", frame)
    run_id = new_run()
    with pytest.warns(UserWarning, match="rate_within_usual_regime"):  # a soft failure warns
        audit_and_publish(database_url, "funding_rates", defect.frame, run_id, window, docs_root=tmp_path)
    with psycopg.connect(dashboard_url(database_url), autocommit=True) as reader:
        assert reader.execute("SELECT count(*) FROM dq_results WHERE run_id = %s", (run_id,)).fetchone()[0] > 0
        assert reader.execute("SELECT rule, rows_quarantined FROM quarantine_summary WHERE run_id = %s"
                              " AND rule LIKE %s", (run_id, "%venue_cap")).fetchall() == [
            ("funding_rates.rate_within_venue_cap", 1)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("SELECT row_data FROM quarantine")
