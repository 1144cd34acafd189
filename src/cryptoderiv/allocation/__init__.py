"""Portfolio optimisation: mean-variance, minimum-CVaR (linear program), risk parity, hierarchical risk parity.

Inputs are expected returns (e.g. from the forecasts) and a matrix of historical scenario returns or a
covariance; outputs are weight vectors (decimals of capital; negative = short) and an efficient frontier.
"""

from cryptoderiv.allocation.constraints import AllocationError, WeightConstraints
from cryptoderiv.allocation.cvar import MinCVaRResult, empirical_cvar, min_cvar
from cryptoderiv.allocation.frontier import efficient_frontier
from cryptoderiv.allocation.hrp import hrp_weights
from cryptoderiv.allocation.mean_variance import mean_variance, min_variance_for_return
from cryptoderiv.allocation.risk_parity import risk_contributions, risk_parity

__all__ = [
    "AllocationError",
    "MinCVaRResult",
    "WeightConstraints",
    "efficient_frontier",
    "empirical_cvar",
    "hrp_weights",
    "mean_variance",
    "min_cvar",
    "min_variance_for_return",
    "risk_contributions",
    "risk_parity",
]
