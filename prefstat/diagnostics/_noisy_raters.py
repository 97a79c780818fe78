"""A noisy-rater mixture on top of the Bradley–Terry consensus, fitted by EM.

Each judgement ``t`` by rater ``r`` of ``a`` (shown first) against ``b`` on unit
``u`` is, with probability ``rho_r``, a draw from the *consensus* and otherwise
a *random* answer that ignores the items: first-shown, second-shown or tie
with the rater's own probabilities ``q_r`` (so a rater who clicks "first"
without reading is a random rater with ``q_r(first)`` near 1). This is Chen et
al.'s (2013) Crowd-BT with the adversarial flip replaced by a content-blind
answer; for two outcomes and ``q_r = 1/2`` it is the same model as a flip with
probability ``(1 - rho_r) / 2``.

The consensus of a unit. Bradley–Terry (with an order effect, and Davidson
ties when the data have ties) gives the item-level probability ``b_t`` of the
recorded verdict. A unit (a prompt, say) may depart from the item-level
preference, so each unit's verdict distribution is Dirichlet around the
Bradley–Terry probabilities with concentration ``kappa``, and a judgement is
scored by its leave-one-out predictive given the unit's other judgements::

    p_t = (kappa * b_t + s_t) / (kappa + o_t),

where ``o_t`` is the consensus weight of the unit's other judgements and
``s_t`` that of those with the same verdict. A unit judged once has
``p_t = b_t`` (plain Crowd-BT); ``kappa`` is estimated, so on data whose units
agree far more than the item-level model predicts (LLM answers to different
prompts) the unit's own judgements dominate.

Fitting alternates the posterior probability that each judgement follows the
consensus (E-step) with closed-form updates of ``rho_r`` and ``q_r``, a
weighted Bradley–Terry fit and a one-dimensional search for ``kappa``
(M-step). Because ``p_t`` uses the other judgements' current weights, this is
EM on a pseudo-likelihood.

Priors. The likelihood alone cannot tell a sharper consensus with less
reliable raters from a flatter one with more reliable raters (a ridge along
which EM creeps towards a deterministic ranking and low ``rho`` for
everyone). ``rho_r`` is therefore a posterior mode under a Beta prior that
presumes raters reliable until their labels show otherwise: worth
``RELIABLE_PRIOR + RANDOM_PRIOR`` judgements, ``RELIABLE_PRIOR`` of them
following the consensus. ``q_r`` has a uniform Dirichlet prior worth
``PRIOR_STRENGTH`` answers. A rater with one judgement gets a finite estimate
near the prior.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import optimize

from .._encoding import A_WINS, B_WINS, TIE, TIE_BOTHBAD
from ..data import ComparisonData
from ..exceptions import PrefstatWarning
from ..models import BradleyTerry

# Beta prior of rho_r, in pseudo-judgements: 9 following the consensus, 1 random (prior mode
# 0.9). It outweighs the likelihood ridge, which is nearly flat, and costs a rater with the
# 20 judgements needed to be flagged at most 9 / 30 of reliability.
RELIABLE_PRIOR = 9.0
RANDOM_PRIOR = 1.0
# Pseudo-answers behind the uniform prior of q_r (the random answers' distribution).
PRIOR_STRENGTH = 2.0
# Reliability every rater starts from; the consensus starts from an unweighted fit.
RHO_START = 0.8
# Search range of log(kappa): from "the unit's own judgements decide" to "Bradley–Terry
# decides" (1e4 pseudo-judgements outweigh any unit's few real ones).
_LOG_KAPPA = (np.log(1e-2), np.log(1e4))
# EM stops when no row's posterior moves by more than this in one step. The likelihood is
# flat along a ridge (a sharper consensus with less reliable raters), where EM creeps: a
# tighter tolerance buys iterations, not better suspect rankings.
_W_TOL = 1e-4


@dataclass(frozen=True)
class NoisyRaterFit:
    """Posteriors and parameters of the mixture (row arrays follow the data's rows)."""

    p_random: np.ndarray
    p_consensus: np.ndarray
    reliability: np.ndarray
    reliability_se: np.ndarray
    random_answers: np.ndarray
    kappa: float
    model: BradleyTerry
    n_iter: int
    converged: bool
    loglik: float
    warnings: list[str]


def fit_noisy_raters(d: ComparisonData, unit: np.ndarray, verdict: np.ndarray,
                     penalty: float, max_iter: int) -> NoisyRaterFit:
    """Fit the mixture to a nominal, rater-coded ComparisonData.

    ``unit`` is each row's unit code and ``verdict`` its verdict in the unit's own
    orientation (equal codes mean the same verdict on the unit).
    """
    assert d.rater is not None and d.raters is not None and d.grade is None
    y = np.where(d.outcome == TIE_BOTHBAD, TIE, d.outcome).astype(np.intp)
    has_ties = bool((y == TIE).any())
    n_out = 3 if has_ties else 2
    r = d.rater
    n_raters = d.n_raters
    n_r = np.bincount(r, minlength=n_raters).astype(float)
    cells = _Cells.build(d, y)
    units = _UnitVotes.build(unit, verdict)
    q_prior = np.zeros(3)
    q_prior[:n_out] = 1.0 / n_out
    rho = np.full(n_raters, RHO_START)
    q = np.tile(q_prior, (n_raters, 1))
    caught: list[str] = []
    # Only point estimates are used: the approximate SEs skip a dense inverse per EM step.
    model = BradleyTerry(order_effect=True, ties="davidson" if has_ties else None,
                         penalty=penalty, se_method="approx")
    w = np.ones(d.n_rows)
    bt = cells.consensus(model, w, caught)
    kappa = units.fit_kappa(bt, w, rho[r], q[r, y])
    n_iter = 0
    converged = False
    while n_iter < max_iter and not converged:
        n_iter += 1
        p = units.predictive(bt, w, kappa)
        follow = rho[r] * p
        w_new = follow / (follow + (1 - rho[r]) * q[r, y])
        converged = bool(np.max(np.abs(w_new - w)) < _W_TOL)
        w = w_new
        rho = (np.bincount(r, w, n_raters) + RELIABLE_PRIOR) / (
            n_r + RELIABLE_PRIOR + RANDOM_PRIOR)
        random_mass = np.zeros((n_raters, 3))
        np.add.at(random_mass, (r, y), 1 - w)
        q = (random_mass + PRIOR_STRENGTH * q_prior) / (
            random_mass.sum(axis=1, keepdims=True) + PRIOR_STRENGTH)
        bt = cells.consensus(model, w, caught)
        kappa = units.fit_kappa(bt, w, rho[r], q[r, y])
    p = units.predictive(bt, w, kappa)
    random = (1 - rho[r]) * q[r, y]
    total = rho[r] * p + random
    # Observed information of each rho_r with everything else held at its estimate.
    info = np.bincount(r, ((p - q[r, y]) / total) ** 2, n_raters)
    with np.errstate(divide="ignore"):
        se = np.where(info > 0, 1 / np.sqrt(info), np.inf)
    return NoisyRaterFit(
        p_random=random / total, p_consensus=p, reliability=rho, reliability_se=se,
        random_answers=q[:, :n_out], kappa=kappa, model=model, n_iter=n_iter,
        converged=converged, loglik=float(np.log(total).sum()),
        warnings=list(dict.fromkeys(caught)),
    )


@dataclass(frozen=True)
class _UnitVotes:
    """The leave-one-out weight of each row's unit, in total and on the row's verdict."""

    unit: np.ndarray
    cell: np.ndarray
    n_units: int
    n_cells: int
    shared: bool

    @classmethod
    def build(cls, unit: np.ndarray, verdict: np.ndarray) -> _UnitVotes:
        n_units = int(unit.max()) + 1
        cell = unit * 3 + verdict
        return cls(unit, cell, n_units, n_units * 3,
                   bool(np.bincount(unit).max() > 1))

    def loo(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weight of each row's unit without the row: on its verdict, and in total."""
        same = np.bincount(self.cell, w, self.n_cells)[self.cell] - w
        others = np.bincount(self.unit, w, self.n_units)[self.unit] - w
        return same, others

    def predictive(self, bt: np.ndarray, w: np.ndarray, kappa: float) -> np.ndarray:
        if not self.shared or not np.isfinite(kappa):
            return bt
        same, others = self.loo(w)
        return (kappa * bt + same) / (kappa + others)

    def fit_kappa(self, bt: np.ndarray, w: np.ndarray, rho: np.ndarray,
                  random: np.ndarray) -> float:
        """Maximise the pseudo-likelihood in log(kappa); +inf when no unit is shared."""
        if not self.shared:
            return float("inf")
        same, others = self.loo(w)

        def loss(log_kappa: float) -> float:
            kappa = np.exp(log_kappa)
            p = (kappa * bt + same) / (kappa + others)
            return -float(np.log(rho * p + (1 - rho) * random).sum())

        best = optimize.minimize_scalar(loss, bounds=_LOG_KAPPA, method="bounded")
        return float(np.exp(best.x))


@dataclass(frozen=True)
class _Cells:
    """Rows pooled into (first item, second item, outcome) cells: weights change, cells not.

    The consensus is refitted at every EM step; fitting it to the cells' summed
    weights instead of the rows gives the same estimate at a fraction of the cost.
    """

    data: ComparisonData
    row_cell: np.ndarray
    row_pair: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    y: np.ndarray

    @classmethod
    def build(cls, d: ComparisonData, y: np.ndarray) -> _Cells:
        n = d.n_items
        key = (d.a * n + d.b) * 3 + y
        cell_key, row_cell = np.unique(key, return_inverse=True)
        pair_key, row_pair = np.unique(d.a * n + d.b, return_inverse=True)
        data = ComparisonData(
            items=d.items, a=cell_key // 3 // n, b=cell_key // 3 % n,
            outcome=(cell_key % 3).astype(np.int8), weight=np.ones(cell_key.size),
            rows=pd.RangeIndex(cell_key.size), weighted=True,
        )
        return cls(data, row_cell, row_pair, pair_key // n, pair_key % n, y)

    def consensus(self, model: BradleyTerry, weight: np.ndarray, caught: list[str]
                  ) -> np.ndarray:
        """Refit on weighted rows; return each row's probability of its outcome."""
        pooled = np.bincount(self.row_cell, weight, self.data.n_rows)
        with warnings.catch_warnings(record=True) as found:
            warnings.simplefilter("always", PrefstatWarning)
            model.fit(replace(self.data, weight=pooled))
        for w in found:
            if issubclass(w.category, PrefstatWarning):
                caught.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        items = self.data.items
        proba = model.predict_proba(items[self.pair_a], items[self.pair_b])
        columns = proba[["a", "b", "tie"]].to_numpy()
        assert A_WINS == 0 and B_WINS == 1 and TIE == 2
        return columns[self.row_pair, self.y]
