"""Alerts: rules (YAML or the ``alert_rules`` table), live evaluation on the tick stream, pipeline alerts
(data quality, failed tasks), notifiers (e-mail, webhook, dashboard channel), de-duplication and cool-down.
Every alert is stored in ``alerts``. See ``docs/streaming.md``.
"""

from cryptoderiv.alerts.engine import LiveAlertEngine
from cryptoderiv.alerts.notify import AlertDispatcher, send_email
from cryptoderiv.alerts.pipeline import evaluate_dq_alerts, raise_pipeline_alert
from cryptoderiv.alerts.rules import AlertRule, load_rules_db, load_rules_yaml, save_rules_db
from cryptoderiv.alerts.store import Alert, record_alert

__all__ = [
    "Alert",
    "AlertDispatcher",
    "AlertRule",
    "LiveAlertEngine",
    "evaluate_dq_alerts",
    "load_rules_db",
    "load_rules_yaml",
    "raise_pipeline_alert",
    "record_alert",
    "save_rules_db",
    "send_email",
]
