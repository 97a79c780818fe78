"""Held-out evaluation of a fitted paired-comparison model.

:func:`evaluate` scores a model on comparisons it was not fitted on:

accuracy
    The share of decisive judgements (ties left out) in which the side the
    model favours won; a prediction of exactly one half counts half. With a
    Wilson score interval, or a cluster-robust Wald interval when the
    judgements come in clusters (prompts, raters).
log-loss
    Minus the mean log-probability of the observed outcomes, as the model
    treats them (a tie counts half a win for each side under
    ``tie_handling="half"``; a ties model predicts ties; ties are left out
    for a model without either).
calibration
    Judgements binned by the probability of the side the model favours
    (from 0.5 to 1), with the observed share of those sides that won. The
    favoured side is used, not ``item_a``, so the table does not depend on
    which item a table lists first (in RLHF tables ``item_a`` always wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._encoding import A_WINS, B_WINS, TIE, TIE_BOTHBAD
from ._inputs import as_comparison_data
from ._report import Summary
from .data import ComparisonData
from .exceptions import EmptyDataError, InvalidParameterError, MissingColumnError

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True, repr=False)
class Evaluation:
    """Held-out accuracy, log-loss and calibration of a model (see :func:`evaluate`).

    Attributes
    ----------
    accuracy : float
        Share of decisive judgements won by the side the model favours.
    accuracy_se : float
        Its standard error (binomial, or cluster-robust).
    accuracy_ci : tuple of float
        Interval at ``conf_level`` (Wilson score, or Wald with clusters).
    log_loss : float
        Mean negative log-probability of the observed outcomes.
    n_decisive : float
        Decisive judgements (weight) behind the accuracy.
    n_scored : float
        Judgements (weight) behind the log-loss.
    calibration : pandas.DataFrame
        One row per bin of the favoured side's probability: ``n``,
        ``mean_predicted``, ``observed`` and its Wilson interval.
    conf_level : float
        Coverage of the intervals.
    n_clusters : int or None
        Clusters behind the accuracy's interval.
    model : str
        The evaluated model, as its ``repr``.
    """

    accuracy: float
    accuracy_se: float
    accuracy_ci: tuple[float, float]
    log_loss: float
    n_decisive: float
    n_scored: float
    calibration: pd.DataFrame
    conf_level: float
    n_clusters: int | None
    model: str

    def __repr__(self) -> str:
        lo, hi = self.accuracy_ci
        return (f"Evaluation(accuracy={self.accuracy:.4f} [{lo:.4f}, {hi:.4f}], "
                f"log_loss={self.log_loss:.4f}, n_decisive={self.n_decisive:g})")

    def summary(self) -> Summary:
        """Report: accuracy with its interval, log-loss and the calibration table.

        Returns
        -------
        Summary
            Renders as text and as HTML; its ``tables`` are DataFrames.
        """
        lo, hi = self.accuracy_ci
        interval = "Wilson" if self.n_clusters is None else f"{self.n_clusters} clusters"
        facts: dict[str, object] = {
            "model": self.model,
            "decisive judgements": self.n_decisive,
            "accuracy": self.accuracy,
            f"accuracy interval ({interval})": f"[{lo:.4f}, {hi:.4f}]",
            "log-loss": self.log_loss,
            "judgements scored": self.n_scored,
            "confidence level": self.conf_level,
        }
        notes = ["Accuracy counts decisive judgements only; a predicted probability of "
                 "exactly 0.5 counts half.",
                 "Calibration bins the probability of the side the model favours."]
        return Summary("Held-out evaluation", facts, {"Calibration": self.calibration}, notes)


def evaluate(model: Any, data: pd.DataFrame | ComparisonData, *, item_a: str = "item_a",
             item_b: str = "item_b", outcome: str = "outcome", weight: str | None = None,
             clusters: str | None = None, n_bins: int = 5, conf_level: float = 0.95
             ) -> Evaluation:
    """Held-out pairwise accuracy, log-loss and calibration of a fitted model.

    Parameters
    ----------
    model : BradleyTerry or Thurstone
        A fitted model. With item features it can score items it was not
        fitted on; with contest features, the table must hold those columns.
    data : pandas.DataFrame or ComparisonData
        Comparisons to score (held out from the fit).
    item_a, item_b, outcome, weight : str
        Column names, as for ``fit``.
    clusters : str, optional
        Column of clusters (prompt, rater) for a cluster-robust interval of
        the accuracy.
    n_bins : int, default 5
        Calibration bins over ``[0.5, 1]``.
    conf_level : float, default 0.95
        Coverage of the intervals.

    Returns
    -------
    Evaluation

    Raises
    ------
    EmptyDataError
        No decisive judgement to score.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat import BradleyTerry
    >>> from prefstat.evaluation import evaluate
    >>> train = pd.DataFrame({"item_a": ["x", "x", "y", "y", "z", "x"],
    ...                       "item_b": ["y", "z", "z", "x", "x", "y"],
    ...                       "outcome": ["a", "a", "a", "a", "a", "a"]})
    >>> test = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["z", "x"], "outcome": ["a", "b"]})
    >>> result = evaluate(BradleyTerry().fit(train), test)
    >>> result.accuracy, result.n_decisive
    (1.0, 2.0)
    """
    if not 0 < conf_level < 1:
        raise InvalidParameterError(f"conf_level must be in (0, 1), got {conf_level!r}.")
    if not (isinstance(n_bins, (int, np.integer)) and n_bins >= 1):
        raise InvalidParameterError(f"n_bins must be a positive integer, got {n_bins!r}.")
    d = as_comparison_data(data, item_a=item_a, item_b=item_b, outcome=outcome,
                           weight=weight)
    labels = d.items
    contest = None
    names = getattr(model, "contest_features_", None) or []
    if names:
        table = d.contest if d.contest is not None else pd.DataFrame(index=d.rows)
        missing = [c for c in names if c not in table.columns]
        if missing:
            raise MissingColumnError(
                f"evaluate: the model has contest features {missing!r} that the table lacks.")
        contest = table[names]
    probs = model.predict_proba(labels[d.a], labels[d.b], **(
        {"contest": contest} if contest is not None else {}))
    pa, pb, pt = (probs[c].to_numpy() for c in ("a", "b", "tie"))
    w = d.weight
    a_won, b_won = d.outcome == A_WINS, d.outcome == B_WINS
    tied = (d.outcome == TIE) | (d.outcome == TIE_BOTHBAD)
    decisive = (a_won | b_won) & (w > 0)
    if not decisive.any():
        raise EmptyDataError("evaluate: the table has no decisive judgement (all ties).")
    share_a = pa / (pa + pb)
    hit = np.where(share_a == 0.5, 0.5, np.where(a_won, share_a > 0.5, share_a < 0.5))
    n_decisive = float(w[decisive].sum())
    accuracy = float((w * hit)[decisive].sum() / n_decisive)
    q = stats.norm.ppf(0.5 + conf_level / 2)
    n_clusters = None
    if clusters is None:
        se = np.sqrt(accuracy * (1 - accuracy) / n_decisive)
        ci = _wilson(accuracy, n_decisive, q)
    else:
        codes = _cluster_codes(d, clusters)[decisive]
        n_clusters = int(codes.max()) + 1
        resid = np.bincount(codes, (w * (hit - accuracy))[decisive], n_clusters)
        se = float(np.sqrt(n_clusters / (n_clusters - 1) * (resid**2).sum()) / n_decisive)
        ci = (accuracy - q * se, accuracy + q * se)
    # Log-loss under the model's own treatment of ties.
    if getattr(model, "ties", None) is not None:
        logp = np.log(np.where(a_won, pa, np.where(b_won, pb, pt)))
        scored = w > 0
    elif getattr(model, "tie_handling", None) == "half":
        logp = np.where(a_won, np.log(pa), np.where(b_won, np.log(pb),
                                                    0.5 * (np.log(pa) + np.log(pb))))
        scored = w > 0
    else:
        logp = np.log(np.where(a_won, pa, pb))
        scored = decisive & ~tied
    n_scored = float(w[scored].sum())
    log_loss = float(-(w * logp)[scored].sum() / n_scored)
    calibration = _calibration(np.maximum(share_a, 1 - share_a)[decisive],
                               np.where(share_a >= 0.5, a_won, b_won)[decisive],
                               w[decisive], n_bins, q)
    return Evaluation(accuracy, float(se), (float(ci[0]), float(ci[1])), log_loss, n_decisive,
                      n_scored, calibration, conf_level, n_clusters, repr(model))


def _wilson(p: float, n: float, q: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` of ``n`` trials."""
    centre = (p + q * q / (2 * n)) / (1 + q * q / n)
    half = q * np.sqrt(p * (1 - p) / n + q * q / (4 * n * n)) / (1 + q * q / n)
    return centre - half, centre + half


def _calibration(predicted: np.ndarray, won: np.ndarray, w: np.ndarray, n_bins: int,
                 q: float) -> pd.DataFrame:
    edges = np.linspace(0.5, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, predicted, side="right") - 1, 0, n_bins - 1)
    n = np.bincount(which, w, n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_pred = np.bincount(which, w * predicted, n_bins) / n
        observed = np.bincount(which, w * won, n_bins) / n
    lower, upper = zip(*(_wilson(o, k, q) if k > 0 else (np.nan, np.nan)
                         for o, k in zip(observed, n)))
    index = pd.IntervalIndex.from_breaks(edges, closed="left", name="predicted")
    return pd.DataFrame({"n": n, "mean_predicted": mean_pred, "observed": observed,
                         "ci_lower": lower, "ci_upper": upper}, index=index)


def _cluster_codes(d: ComparisonData, column: str) -> np.ndarray:
    table = d.contest if d.contest is not None else pd.DataFrame(index=d.rows)
    if column not in table.columns:
        raise MissingColumnError(
            f"evaluate: column {column!r} (argument clusters=) is not in the table.")
    codes, _ = pd.factorize(table[column])
    if (codes < 0).any():
        raise InvalidParameterError(f"evaluate: the clusters column {column!r} has gaps.")
    return codes
