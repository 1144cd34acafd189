"""Reference values for cryptoderiv.risk.var_backtest (Kupiec POF, Christoffersen independence and conditional
coverage), computed independently of the library: the likelihoods are written as sums of binomial /
Bernoulli log-pmfs with scipy.stats, transitions are counted with a Python loop over pairs, and p-values come
from scipy.stats.chi2.

    .venv/bin/python tests/reference/generate_var_backtest_reference.py

Writes tests/reference/var_backtest_reference.json: a list of cases (hits as a 0/1 string, coverage,
LR_uc, p_uc, LR_ind, LR_cc, p_cc).  Formulas: Kupiec (1995), J. Derivatives 3, 73-84; Christoffersen (1998),
International Economic Review 39, 841-862, eqs. for LR_uc, LR_ind, LR_cc.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
from scipy import stats

OUT = Path(__file__).with_name("var_backtest_reference.json")


def bernoulli_loglik(successes: int, failures: int, p: float) -> float:
    """log of p^successes (1-p)^failures, via scipy's Bernoulli log-pmf (0 log 0 = 0 handled by scipy)."""
    total = 0.0
    if successes:
        total += successes * float(stats.bernoulli.logpmf(1, p)) if p > 0 else -np.inf
    if failures:
        total += failures * float(stats.bernoulli.logpmf(0, p)) if p < 1 else -np.inf
    return total


def reference(hits: list[int], coverage: float) -> dict[str, float]:
    t, x = len(hits), sum(hits)
    lr_uc = -2 * (bernoulli_loglik(x, t - x, coverage) - bernoulli_loglik(x, t - x, x / t))
    counts = {(0, 0): 0, (0, 1): 0, (1, 0): 0, (1, 1): 0}
    for a, b in pairwise(hits):
        counts[(a, b)] += 1
    n00, n01, n10, n11 = counts[(0, 0)], counts[(0, 1)], counts[(1, 0)], counts[(1, 1)]
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    l_restricted = bernoulli_loglik(n01 + n11, n00 + n10, pi)
    l_markov = bernoulli_loglik(n01, n00, pi01) + bernoulli_loglik(n11, n10, pi11)
    lr_ind = -2 * (l_restricted - l_markov)
    lr_cc = lr_uc + lr_ind
    return {"lr_uc": lr_uc, "p_uc": float(stats.chi2.sf(lr_uc, 1)), "lr_ind": lr_ind, "lr_cc": lr_cc,
            "p_cc": float(stats.chi2.sf(lr_cc, 2))}


def main() -> None:
    rng = np.random.default_rng(20261124)
    cases = []
    for t, p_true, coverage, clustered in ((250, 0.01, 0.01, False), (250, 0.03, 0.01, False),
                                           (500, 0.05, 0.05, False), (500, 0.08, 0.05, True),
                                           (1000, 0.012, 0.01, True), (2563, 0.05, 0.05, False),
                                           (300, 0.02, 0.01, True), (100, 0.1, 0.05, False)):
        hits = (rng.random(t) < p_true).astype(int)
        if clustered:  # exceptions tend to follow exceptions
            for i in range(1, t):
                if hits[i - 1] and rng.random() < 0.3:
                    hits[i] = 1
        h = hits.tolist()
        cases.append({"hits": "".join(map(str, h)), "coverage": coverage, **reference(h, coverage)})
    OUT.write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
