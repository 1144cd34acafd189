"""Champion/challenger: the rule that moves the ``champion`` alias of a registered forecasting model.

The rule (:func:`decide`), evaluated on the walk-forward evaluation window of a training run, where every
model kind -- including the champion's -- has just been re-evaluated on the same rows:

1. No champion yet: the model with the lowest mean loss becomes champion.
2. Otherwise the challenger is the best (lowest mean loss) model of another kind. It replaces the
   champion only if its mean loss is lower AND the one-sided Diebold-Mariano test (HLN correction,
   autocovariances up to h - 1) of ``loss(challenger) - loss(champion)`` rejects equal accuracy in its
   favour at ``alpha`` (0.05). The loss is QLIKE for variance targets (robust to the noisy realised
   variance proxy, Patton 2011) and squared error for funding.
3. If not, the champion's kind stays; the alias moves to the champion kind's fit of this run (the same
   model refitted on the newer data), which is a refresh, not a change of model.

A lower mean alone is not enough: on two years of daily data small differences are mostly noise, and a
model swap has costs (new behaviour for the traders, forecast discontinuities). The decision and its
reason are logged as tags on the training run and the model version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cryptoderiv.forecast.evaluation import diebold_mariano

ALIAS = "champion"
ALPHA = 0.05


@dataclass(frozen=True)
class ChampionDecision:
    """Outcome of the rule for one target."""

    winner_kind: str
    promoted: bool           # True when the champion kind changed (or the first champion was chosen)
    reason: str
    champion_kind: str | None
    challenger_kind: str | None
    champion_loss: float | None
    challenger_loss: float | None
    dm_stat: float | None
    p_value: float | None    # one-sided, challenger better


def decide(losses: Mapping[str, npt.ArrayLike], champion_kind: str | None, horizon: int,
           alpha: float = ALPHA) -> ChampionDecision:
    """Apply the champion/challenger rule.

    Parameters
    ----------
    losses : mapping
        Per-row losses on the common evaluation rows, one array per model kind (same rows, same order).
    champion_kind : str or None
        Kind of the current champion version; None when there is none.
    horizon : int
        Target horizon in periods (for the DM test's autocovariances).
    alpha : float
        Significance level of the one-sided test.

    Returns
    -------
    ChampionDecision
    """
    means = {k: float(np.mean(np.asarray(v, dtype=np.float64))) for k, v in losses.items()}
    ranked = sorted(means, key=lambda k: (means[k], k))
    if champion_kind is None:
        best = ranked[0]
        return ChampionDecision(best, True, f"no champion yet: {best} has the lowest mean loss ({means[best]:.6g})",
                                None, best, None, means[best], None, None)
    if champion_kind not in means:
        return ChampionDecision(champion_kind, False, f"champion kind {champion_kind} was not evaluated in this run:"
                                " kept", champion_kind, None, None, None, None, None)
    others = [k for k in ranked if k != champion_kind]
    if not others:
        return ChampionDecision(champion_kind, False, "no challenger evaluated: champion kept", champion_kind, None,
                                means[champion_kind], None, None, None)
    challenger = others[0]
    c_loss, ch_loss = means[champion_kind], means[challenger]
    if ch_loss >= c_loss:
        return ChampionDecision(champion_kind, False,
                                f"champion {champion_kind} kept: best challenger {challenger} has no lower mean loss"
                                f" ({ch_loss:.6g} >= {c_loss:.6g})", champion_kind, challenger, c_loss, ch_loss,
                                None, None)
    stat, p = diebold_mariano(np.asarray(losses[challenger]), np.asarray(losses[champion_kind]), h=horizon,
                              loss="precomputed", hln=True, alternative="less")
    if p < alpha:
        return ChampionDecision(challenger, True,
                                f"challenger {challenger} promoted: mean loss {ch_loss:.6g} < {c_loss:.6g} and"
                                f" one-sided DM p = {p:.3g} < {alpha}", champion_kind, challenger, c_loss, ch_loss,
                                stat, p)
    return ChampionDecision(champion_kind, False,
                            f"champion {champion_kind} kept: challenger {challenger} has a lower mean loss"
                            f" ({ch_loss:.6g} < {c_loss:.6g}) but one-sided DM p = {p:.3g} >= {alpha}",
                            champion_kind, challenger, c_loss, ch_loss, stat, p)
