"""Likelihood kernels for paired comparisons, in pure numpy on aggregated counts.

Every paired-comparison model here depends on the items only through the
linear predictor of a cell, ``d = lambda[first] - lambda[second] (+ order
effect) (+ contest terms)``, and on at most one nuisance parameter ``tau``
(the tie parameter). A kernel gives, for each cell, the log-probabilities of
its K outcome categories and their derivatives with respect to ``d`` and
``tau`` (the *scores* ``d log p_k``). From those, :func:`evaluate` forms the
log-likelihood, its gradient and the expected (Fisher) information; models add
only a kernel, never a new data path.

Conventions (all verified against R, see tests/test_bradley_terry_refs.py):

* ``logit``: P(a) = 1 / (1 + exp(-d)) (Bradley–Terry).
* ``probit``: P(a) = Phi(d) (Thurstone–Mosteller Case V, unit variance of the
  difference).
* ``davidson``: with x = d / 2 and nu = exp(tau),
  P(a) = e^x / D, P(b) = e^-x / D, P(tie) = nu / D, D = e^x + e^-x + nu.
  This is Davidson (1970) with pi = exp(lambda); an order effect h enters d,
  so it multiplies the first item's worth inside the tie term's square root
  too, as in gnm's GenDavidson.
* ``rao-kupper``: with theta = exp(tau) > 1, P(a) = sigma(d - tau),
  P(b) = sigma(-d - tau), P(tie) = 1 - P(a) - P(b) (Rao & Kupper 1967).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ._encoding import A_WINS, B_WINS, TIE, TIE_BOTHBAD


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(1 / (1 + exp(-x))) without overflow or cancellation."""
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return special.expit(x)


@dataclass(frozen=True)
class Kernel:
    """A paired-comparison likelihood: K outcome categories, 0 or 1 tie parameter."""

    name: str
    n_categories: int
    has_tie: bool

    def category_counts(self, counts: np.ndarray, half_ties: bool) -> np.ndarray:
        """Map nominal counts (a, b, tie, tie_bothbad) to this kernel's categories."""
        ties = counts[:, TIE] + counts[:, TIE_BOTHBAD]
        if self.has_tie:
            return np.column_stack([counts[:, A_WINS], counts[:, B_WINS], ties])
        if half_ties:
            return np.column_stack([counts[:, A_WINS] + ties / 2, counts[:, B_WINS] + ties / 2])
        return counts[:, [A_WINS, B_WINS]]

    def start_tau(self, tie_share: float) -> float:
        """A starting value of the tie parameter from the share of ties (at d = 0)."""
        share = min(max(tie_share, 1e-3), 0.9)
        if self.name == "davidson":  # P(tie) = nu / (2 + nu)
            return float(np.log(2 * share / (1 - share)))
        if self.name == "rao-kupper":  # P(tie) = (theta - 1) / (theta + 1)
            return float(np.log((1 + share) / (1 - share)))
        return 0.0

    def log_probs(
        self, d: np.ndarray, tau: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Return log p (m, K), d log p / dd (m, K) and d log p / dtau (m, K) or None."""
        if self.name == "logit":
            la = _log_sigmoid(d)
            lb = la - d
            pa = np.exp(la)
            return (np.column_stack([la, lb]), np.column_stack([1.0 - pa, -pa]), None)
        if self.name == "probit":
            la, lb = special.log_ndtr(d), special.log_ndtr(-d)
            logphi = -0.5 * d * d - 0.5 * np.log(2 * np.pi)
            return (np.column_stack([la, lb]),
                    np.column_stack([np.exp(logphi - la), -np.exp(logphi - lb)]), None)
        if self.name == "davidson":
            x = 0.5 * d
            log_den = np.logaddexp(np.logaddexp(x, -x), tau)
            la, lb, lt = x - log_den, -x - log_den, tau - log_den
            diff = np.exp(la) - np.exp(lb)
            pt = np.exp(lt)
            sd = np.column_stack([0.5 * (1.0 - diff), 0.5 * (-1.0 - diff), -0.5 * diff])
            st = np.column_stack([-pt, -pt, 1.0 - pt])
            return np.column_stack([la, lb, lt]), sd, st
        if self.name == "rao-kupper":
            u, v = d - tau, -d - tau
            la, lb = _log_sigmoid(u), _log_sigmoid(v)
            pa, pb = np.exp(la), np.exp(lb)
            # P(tie) = sigma(tau - d) - sigma(-tau - d), written to avoid cancellation.
            lt = v + np.log(np.expm1(2 * tau)) - np.logaddexp(0.0, -u) - np.logaddexp(0.0, v)
            pt = np.exp(lt)
            dpa, dpb = pa * (1 - pa), pb * (1 - pb)
            sd = np.column_stack([1 - pa, -(1 - pb), (dpb - dpa) / pt])
            st = np.column_stack([-(1 - pa), -(1 - pb), (dpa + dpb) / pt])
            return np.column_stack([la, lb, lt]), sd, st
        raise ValueError(f"unknown kernel {self.name!r}")


KERNELS = {
    "logit": Kernel("logit", 2, False),
    "probit": Kernel("probit", 2, False),
    "davidson": Kernel("davidson", 3, True),
    "rao-kupper": Kernel("rao-kupper", 3, True),
}


@dataclass
class CellTerms:
    """Per-cell log-likelihood pieces: totals and derivatives in (d, tau)."""

    loglik: float
    g_d: np.ndarray
    i_dd: np.ndarray
    g_t: np.ndarray | None = None
    i_dt: np.ndarray | None = None
    i_tt: np.ndarray | None = None


def evaluate(kernel: Kernel, counts: np.ndarray, d: np.ndarray, tau: float,
             derivatives: bool = True) -> CellTerms:
    """Log-likelihood kernel, score and expected information per cell.

    ``counts`` are the kernel's category counts (``Kernel.category_counts``).
    The information is the expected (Fisher) information
    ``n * sum_k p_k s_k s_k'``, which is what R's IRLS uses; for the logit and
    Davidson kernels it equals the observed information.
    """
    if kernel.name in ("logit", "probit"):
        return _evaluate_binary(kernel.name, counts, d, derivatives)
    logp, sd, st = kernel.log_probs(d, tau)
    with np.errstate(invalid="ignore"):
        ll_terms = np.where(counts > 0, counts * logp, 0.0)
    loglik = float(ll_terms.sum())
    if not derivatives:
        return CellTerms(loglik, np.empty(0), np.empty(0))
    n = counts.sum(axis=1)
    p = np.exp(logp)
    g_d = (counts * sd).sum(axis=1)
    i_dd = n * (p * sd * sd).sum(axis=1)
    if st is None:
        return CellTerms(loglik, g_d, i_dd)
    g_t = (counts * st).sum(axis=1)
    i_dt = n * (p * sd * st).sum(axis=1)
    i_tt = n * (p * st * st).sum(axis=1)
    return CellTerms(loglik, g_d, i_dd, g_t, i_dt, i_tt)


def _evaluate_binary(name: str, counts: np.ndarray, d: np.ndarray,
                     derivatives: bool) -> CellTerms:
    """Fast path of :func:`evaluate` for two categories (a wins, b wins)."""
    y = counts[:, 0]
    total = y + counts[:, 1]
    if name == "logit":
        la = _log_sigmoid(d)
        # log P(b) = log P(a) - d, so y la + (n - y) lb = n la - (n - y) d.
        loglik = float(total @ la - (total - y) @ d)
        if not derivatives:
            return CellTerms(loglik, np.empty(0), np.empty(0))
        p = np.exp(la)
        return CellTerms(loglik, y - total * p, total * p * (1.0 - p))
    la, lb = special.log_ndtr(d), special.log_ndtr(-d)
    loglik = float(y @ la + (total - y) @ lb)
    if not derivatives:
        return CellTerms(loglik, np.empty(0), np.empty(0))
    logphi = -0.5 * d * d - 0.5 * np.log(2 * np.pi)
    g_d = y * np.exp(logphi - la) - (total - y) * np.exp(logphi - lb)
    # Expected information n phi^2 / (Phi (1 - Phi)).
    return CellTerms(loglik, g_d, total * np.exp(2 * logphi - la - lb))
