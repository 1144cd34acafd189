"""Weight constraints shared by the optimisers: a budget and per-asset bounds (long/short allowed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cryptoderiv.errors import CryptoderivError

__all__ = ["AllocationError", "WeightConstraints", "as_covariance", "as_vector"]

FloatArray = npt.NDArray[np.float64]


class AllocationError(CryptoderivError, ValueError):
    """Optimiser inputs are invalid or the problem is infeasible / did not converge."""


@dataclass(frozen=True)
class WeightConstraints:
    """``sum(w) == budget`` and ``lower <= w <= upper`` (decimals of capital).

    Parameters
    ----------
    budget : float
        Sum of the weights: 1 = fully invested, 0 = dollar-neutral long/short.
    lower, upper : float or None
        Bound on every weight (``None`` = unbounded); e.g. ``lower=-0.5`` allows shorts up to 50 %.
    """

    budget: float = 1.0
    lower: float | None = 0.0
    upper: float | None = 1.0

    def __post_init__(self) -> None:
        if not np.isfinite(self.budget):
            raise AllocationError(f"budget must be finite, got {self.budget!r}")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise AllocationError(f"lower bound {self.lower} is above upper bound {self.upper}")

    def bounds(self, n: int) -> list[tuple[float | None, float | None]]:
        """``n`` copies of ``(lower, upper)`` for scipy."""
        return [(self.lower, self.upper)] * n

    def check_feasible(self, n: int) -> None:
        """Raise :class:`AllocationError` when no weight vector of ``n`` assets can meet the budget."""
        lo = -np.inf if self.lower is None else n * self.lower
        hi = np.inf if self.upper is None else n * self.upper
        if not lo - 1e-12 <= self.budget <= hi + 1e-12:
            raise AllocationError(f"budget {self.budget} is outside [{lo}, {hi}] for {n} assets with "
                                  f"bounds [{self.lower}, {self.upper}]")

    @property
    def unbounded(self) -> bool:
        """Only the budget binds."""
        return self.lower is None and self.upper is None


def as_vector(name: str, values: npt.ArrayLike, n: int | None = None) -> FloatArray:
    """A finite 1-D float vector (of length ``n`` if given) or :class:`AllocationError` naming the entry."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or (n is not None and v.shape[0] != n):
        raise AllocationError(f"{name} must be a vector of length {n}, got shape {v.shape}")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise AllocationError(f"{name}[{int(bad[0])}] is not finite")
    return v


def as_covariance(cov: npt.ArrayLike) -> FloatArray:
    """A symmetric positive-definite covariance matrix, or :class:`AllocationError`."""
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise AllocationError(f"covariance must be a square matrix, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise AllocationError("covariance has non-finite entries")
    if not np.allclose(c, c.T, rtol=1e-10, atol=1e-14):
        raise AllocationError("covariance is not symmetric")
    try:
        np.linalg.cholesky(c)
    except np.linalg.LinAlgError as exc:
        raise AllocationError("covariance is not positive definite") from exc
    return c
