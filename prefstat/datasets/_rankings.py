"""Simulated rankings from a Plackett–Luce model with known worths (the Gumbel trick)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._random import as_generator
from ..exceptions import InvalidParameterError

__all__ = ["SimulatedRankings", "simulate_rankings"]

_WHERE = "simulate_rankings"
# Draw subsets by sorting random keys when the item pool is at most this many
# times the subset size (else by redrawing rows with repeated items).
_KEYS_RATIO = 4


@dataclass(frozen=True, repr=False)
class SimulatedRankings:
    """Simulated rankings and the worths that generated them.

    Attributes
    ----------
    data : pandas.DataFrame
        The canonical long ranking table: ``ranking_id`` (0, 1, ...), ``item``,
        ``rank`` (1 = best), rankings in order and each ranking's rows best
        first. With ``top_k``, the items below the top ``k`` share rank
        ``k + 1`` (fit with ``tied_last="unranked"``).
    truth : pandas.DataFrame
        Indexed by item: ``strength`` (the generating log-worth ``lambda``,
        summing to zero) and ``rank`` (1 = strongest).
    params : dict
        The arguments of the call, by name.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    params: dict[str, Any]

    def __repr__(self) -> str:
        p = self.params
        return (f"SimulatedRankings(n_items={p['n_items']}, n_rankings={p['n_rankings']}, "
                f"ranking_size={p['ranking_size']}, top_k={p['top_k']})")


def simulate_rankings(
    n_items: int = 10,
    n_rankings: int = 100,
    ranking_size: int | None = None,
    *,
    top_k: int | None = None,
    strength_sd: float = 1.0,
    random_state: int | np.random.Generator | None = None,
) -> SimulatedRankings:
    r"""Simulate rankings from a Plackett–Luce model with known log-worths.

    Parameters
    ----------
    n_items : int, default 10
        Number of items, labelled ``item00``, ``item01``, ... (zero-padded
        so that labels sort in numeric order).
    n_rankings : int, default 100
        Number of rankings.
    ranking_size : int, optional
        Items per ranking (at least 2), drawn uniformly without replacement
        from all items; by default every item is in every ranking.
    top_k : int, optional
        Record only the top ``k`` positions (``1 <= k < ranking_size``); the
        other items of the ranking are kept, tied at rank ``k + 1``.
    strength_sd : float, default 1.0
        Standard deviation of the log-worths.
    random_state : int, numpy.random.Generator or None
        Seed or generator, passed to :func:`numpy.random.default_rng`; the
        only source of randomness.

    Returns
    -------
    SimulatedRankings
        ``data`` (the long ranking table), ``truth`` and ``params``.

    Raises
    ------
    InvalidParameterError
        An argument out of range or of the wrong type; the message names it.

    Notes
    -----
    The generative model:

    1. Log-worths ``lambda_i ~ N(0, strength_sd²)``, centred to sum to zero.
    2. Each ranking's items: a uniformly random subset of ``ranking_size``
       items.
    3. Their order, by the Gumbel trick (Yellott 1977): each item gets a
       utility ``lambda_i + G_i`` with ``G_i`` independent standard Gumbel,
       and the ranking sorts utilities from largest to smallest. The
       resulting ranking has exactly the Plackett–Luce probability
       ``prod_t alpha_{(t)} / sum_{s >= t} alpha_{(s)}`` with
       ``alpha = exp(lambda)``.

    Draws are made in a fixed order (log-worths, subsets, Gumbel noise).

    Examples
    --------
    >>> from prefstat import PlackettLuce
    >>> from prefstat.datasets import simulate_rankings
    >>> sim = simulate_rankings(n_items=6, n_rankings=400, ranking_size=4, random_state=0)
    >>> sim
    SimulatedRankings(n_items=6, n_rankings=400, ranking_size=4, top_k=None)
    >>> sim.data.head(4)
       ranking_id    item  rank
    0           0  item01     1
    1           0  item05     2
    2           0  item00     3
    3           0  item02     4
    >>> fit = PlackettLuce().fit(sim.data)
    >>> err = (fit.strengths_["estimate"] - sim.truth["strength"]) / fit.strengths_["se"]
    >>> bool((err.abs() < 3).all())
    True
    """
    params = dict(locals())
    n_items = _integer("n_items", n_items, 2)
    n_rankings = _integer("n_rankings", n_rankings, 1)
    size = n_items if ranking_size is None else _integer("ranking_size", ranking_size, 2,
                                                         n_items)
    if top_k is not None:
        _integer("top_k", top_k, 1, size - 1)
    ok = isinstance(strength_sd, (int, float, np.integer, np.floating)) and \
        not isinstance(strength_sd, (bool, np.bool_))
    if not (ok and np.isfinite(strength_sd) and strength_sd >= 0):
        raise InvalidParameterError(
            f"{_WHERE}: strength_sd must be a finite number >= 0, got {strength_sd!r}."
        )
    rng = as_generator(random_state, _WHERE)

    strength = rng.normal(0.0, strength_sd, n_items)
    strength -= strength.mean()
    members = _subsets(rng, n_items, n_rankings, size)
    utility = strength[members] + rng.gumbel(size=members.shape)
    order = np.argsort(-utility, axis=1, kind="stable")
    ranked = np.take_along_axis(members, order, axis=1)
    rank = np.tile(np.arange(1, size + 1), (n_rankings, 1))
    if top_k is not None:
        rank = np.minimum(rank, top_k + 1)
    width = max(2, len(str(n_items - 1)))
    labels = pd.Index([f"item{k:0{width}d}" for k in range(n_items)])
    data = pd.DataFrame({
        "ranking_id": np.repeat(np.arange(n_rankings), size),
        "item": labels[ranked.ravel()].to_numpy(dtype=object),
        "rank": rank.ravel(),
    })
    truth_rank = np.empty(n_items, dtype=np.int64)
    truth_rank[np.argsort(-strength, kind="stable")] = np.arange(1, n_items + 1)
    truth = pd.DataFrame({"strength": strength, "rank": truth_rank},
                         index=pd.Index(labels, name="item"))
    return SimulatedRankings(data=data, truth=truth, params=params)


def _subsets(rng: np.random.Generator, n: int, rows: int, size: int) -> np.ndarray:
    """``rows`` uniform random subsets of ``size`` distinct items out of ``n``."""
    if n <= _KEYS_RATIO * size:
        return np.argsort(rng.random((rows, n)), axis=1)[:, :size]
    out = rng.integers(n, size=(rows, size))
    redo = np.arange(rows)
    while redo.size:
        block = np.sort(out[redo], axis=1)
        repeated = (block[:, 1:] == block[:, :-1]).any(axis=1)
        redo = redo[repeated]
        out[redo] = rng.integers(n, size=(redo.size, size))
    return out


def _integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise InvalidParameterError(f"{_WHERE}: {name} must be an integer {bound}, got {value!r}.")
    return int(value)
