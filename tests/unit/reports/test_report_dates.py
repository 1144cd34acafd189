"""Which date a ``risk__daily_report`` run reports on (plugins/cryptoderiv_airflow/reporting.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from cryptoderiv_airflow.reporting import report_date_for_run

RUN_AFTER = datetime(2026, 11, 23, 0, 45, tzinfo=UTC)


def event(ts: datetime, **extra: str) -> SimpleNamespace:
    return SimpleNamespace(timestamp=ts, extra=extra)


def test_param_wins_then_event_as_of_then_the_day_before_the_event() -> None:
    events = {"risk_metrics": [event(RUN_AFTER, as_of="2026-11-20"), event(RUN_AFTER, as_of="2026-11-21")]}
    assert report_date_for_run({"params": {"report_date": "2026-11-19"}, "triggering_asset_events": events}) == \
        date(2026, 11, 19)
    assert report_date_for_run({"params": {}, "triggering_asset_events": events}) == date(2026, 11, 21)
    bare = {"risk_metrics": [event(RUN_AFTER), event(datetime(2026, 11, 22, 0, 40, tzinfo=UTC))]}
    assert report_date_for_run({"triggering_asset_events": bare}) == date(2026, 11, 22)


def test_interval_start_else_the_day_before_the_logical_date() -> None:
    start, end = datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)
    assert report_date_for_run({"data_interval_start": start, "data_interval_end": end}) == date(2026, 11, 22)
    assert report_date_for_run({"data_interval_start": RUN_AFTER, "data_interval_end": RUN_AFTER,
                                "logical_date": RUN_AFTER}) == date(2026, 11, 22)
    assert report_date_for_run({"logical_date": None, "dag_run": SimpleNamespace(run_after=RUN_AFTER)}) == \
        date(2026, 11, 22)
