"""Failures and warnings of the data-quality gate."""

from __future__ import annotations

from cryptoderiv.errors import CryptoderivError


class QualityError(CryptoderivError):
    """Base class of the quality gate's errors."""


class UnknownTableError(QualityError):
    """No suite exists for the table asked for."""


class SuiteConfigurationError(QualityError):
    """A suite or the arguments of a validation are unusable (unknown expectation, missing window)."""


class BatchRejected(QualityError):  # noqa: N818 - a verdict on the data, not a malfunction
    """A batch-level hard expectation failed (wrong columns or types): nothing of the batch was
    published. The results and the Data Docs of the run are recorded; ``result`` holds them."""

    def __init__(self, message: str, result: object | None = None) -> None:
        super().__init__(message)
        self.result = result


class SoftQualityWarning(UserWarning):
    """Soft expectations failed: the rows were published, the failures recorded in ``dq_results``.

    Remediation: read the run's Data Docs (``GateResult.docs_path``) and the failed expectations'
    observed values; a market feature calls for a tuned rule (docs/data-quality.md), a feed problem
    for a fix upstream and a re-run of the window."""
