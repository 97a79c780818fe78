"""Rankings encoded once: labels to integer codes, rankings to per-length arrays of stages.

Data path for ranking models: long ranking table → :func:`encode_rankings`
(validation with :func:`prefstat.convert.validate_rankings`, item codes, one
sort) → :class:`Block` arrays → likelihood kernel (``_luce``).

A ranking is a sequence of tie groups, best first. Rankings are bucketed by
their number of items ``L``: a :class:`Block` holds every ranking of one
length as ``(rankings, L)`` arrays, items ordered best first (ties in item-code
order). The choice set of the stage at position ``t`` is the row's suffix
``t, t+1, ..., L-1``, so every per-stage quantity is a cumulative sum along
the rows: no Python loop runs over rankings, only over the distinct lengths.

A position is a *stage* when a tie group starts there and that group is a
choice: not the last group when it is a single item (choosing the only item
left has probability 1), and not the unranked tail (``tied_last="unranked"``:
a tied last group is the rest of the choice set, available at every earlier
stage but never chosen).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .. import _encoding as enc
from ..convert import _checked_ranks
from ..diagnostics.connectivity import Connectivity, connectivity_from_edges
from ..exceptions import (
    InvalidParameterError,
    InvalidRankingError,
    InvalidWeightError,
    format_examples,
)

TiedLast = Literal["tie", "unranked"]


@dataclass(frozen=True)
class Block:
    """Every ranking with ``L`` items, as ``(rankings, L)`` arrays, best first.

    Attributes
    ----------
    items : numpy.ndarray
        Item codes, ordered by rank (a tie group in item-code order).
    size : numpy.ndarray
        At a stage position, the size of the group chosen there (1 = an
        untied choice); 0 at every other position.
    weight : numpy.ndarray
        One weight per ranking (row).
    """

    items: np.ndarray
    size: np.ndarray
    weight: np.ndarray

    @property
    def stage(self) -> np.ndarray:
        """Positions where a choice is made."""
        return self.size > 0


@dataclass(frozen=True)
class RankingData:
    """Encoded rankings: the blocks, the labels, and what the summary reports.

    Attributes
    ----------
    items : pandas.Index
        Item labels, sorted; item codes index into it.
    blocks : list of Block
        One block per distinct ranking length.
    rankings : pandas.DataFrame
        One row per ranking, indexed by ranking id: ``n_items`` (listed in the
        ranking), ``n_ranked`` (not in an unranked tail), ``n_stages``,
        ``max_tie`` (largest chosen tie group, 1 = none), ``weight`` and,
        when given, ``rater``.
    tie_orders : tuple of int
        Sizes (> 1) of the tied groups that are chosen somewhere.
    connectivity : Connectivity
        The win graph of the rankings (a ranked item beats every item below
        it; tied items tie).
    n_stages : int
        Choice stages in all rankings (``rankings["n_stages"].sum()``).
    n_obs : float
        Total ranking weight (``rankings["weight"].sum()``).
    comparisons : numpy.ndarray
        Per item, the weight of the pairs it is in: the ``comparisons``
        column of ``connectivity.items``, without reading that table.
    """

    items: pd.Index
    blocks: list[Block]
    rankings: pd.DataFrame
    tie_orders: tuple[int, ...]
    connectivity: Connectivity
    n_stages: int
    n_obs: float
    comparisons: np.ndarray


def encode_rankings(
    df: pd.DataFrame,
    ranking: Hashable = "ranking_id",
    item: Hashable = "item",
    rank: Hashable = "rank",
    weight: Hashable | None = None,
    rater: Hashable | None = None,
    tied_last: TiedLast = "tie",
    where: str = "PlackettLuce.fit",
) -> RankingData:
    """Validate a long ranking table and encode it into stage arrays.

    Raises
    ------
    InvalidRankingError
        Anything :func:`~prefstat.convert.validate_rankings` rejects (repeated
        item, single-item ranking, bad rank values), a weight or rater that
        varies within a ranking, or a ranking with no choice in it.
    EmptyDataError
        No rows (from the column check).
    """
    if tied_last not in ("tie", "unranked"):
        raise InvalidParameterError(
            f"{where}: tied_last= must be 'tie' or 'unranked', got {tied_last!r}."
        )
    enc.check_columns(df, {"ranking": ranking, "item": item, "rank": rank, "weight": weight,
                           "rater": rater}, where)
    try:
        # validate_rankings' checks (its column check is the one above), without
        # building the canonical table: the columns are read from df directly.
        _, rank_value = _checked_ranks(df, ranking, item, rank, "error", "validate_rankings")
    except InvalidRankingError as err:
        raise InvalidRankingError(f"{where}: {err}") from err
    (item_code,), items = enc.factorize_labels([df[item].rename("item")], "item")
    ids = df[ranking]
    try:
        rank_code, ranking_ids = pd.factorize(ids, sort=True)
    except TypeError:  # ids of mixed, unorderable types: keep first-seen order
        rank_code, ranking_ids = pd.factorize(ids)
    n_rankings = len(ranking_ids)
    order = _sort_order(rank_code, rank_value, item_code, n_rankings, items.size)
    rc, it, rk = rank_code[order], item_code[order], rank_value[order]
    n_rows = rc.size

    if weight is None:
        w = np.ones(n_rankings)
    else:
        w = _per_ranking(enc.encode_weights(df[weight], str(weight))[order], rc, n_rankings,
                         "weight", weight, ranking_ids, where, InvalidWeightError)
    raters = None
    if rater is not None:
        rater_values = df[rater].to_numpy(dtype=object)[order]
        raters = _per_ranking(rater_values, rc, n_rankings, "rater", rater, ranking_ids,
                              where, InvalidRankingError)

    sizes = np.bincount(rc, minlength=n_rankings)
    starts = np.cumsum(sizes) - sizes
    new_group = np.ones(n_rows, dtype=bool)
    new_group[1:] = (rc[1:] != rc[:-1]) | (rk[1:] != rk[:-1])
    group = np.cumsum(new_group) - 1
    group_size = np.bincount(group)[group]
    last_group = group == np.repeat(group[starts + sizes - 1], sizes)
    unranked = (last_group & (group_size > 1)) if tied_last == "unranked" else \
        np.zeros(n_rows, dtype=bool)
    trivial = last_group & (group_size == 1)
    stage = new_group & ~unranked & ~trivial

    n_stages = np.bincount(rc, stage, n_rankings).astype(np.int64)
    empty = n_stages == 0
    if empty.any():
        raise InvalidRankingError(
            f"{where}: {int(empty.sum())} ranking(s) contain no choice: "
            f"{format_examples(ranking_ids[empty])}. With tied_last='unranked' a ranking whose "
            "items are all tied at the bottom orders nothing; remove those rankings or use "
            "tied_last='tie' with ties='davidson'."
        )
    stage_size = np.where(stage, group_size, 0)
    tie_orders = tuple(int(k) for k in np.unique(stage_size[stage_size > 1]))
    max_tie = np.maximum(np.maximum.reduceat(stage_size, starts), 1)

    blocks = []
    for length in np.unique(sizes):
        rows = np.flatnonzero(sizes == length)
        cells = starts[rows][:, None] + np.arange(length)
        blocks.append(Block(items=it[cells], size=stage_size[cells], weight=w[rows]))

    n_unranked = np.bincount(rc, unranked, n_rankings).astype(np.int64)
    table = pd.DataFrame({"n_items": sizes, "n_ranked": sizes - n_unranked,
                          "n_stages": n_stages, "max_tie": max_tie, "weight": w},
                         index=ranking_ids.rename("ranking_id"))
    if raters is not None:
        table["rater"] = raters
    conn, comparisons = _connectivity(items, it, w, sizes, starts, group, group_size,
                                      new_group, unranked)
    return RankingData(items=items, blocks=blocks, rankings=table, tie_orders=tie_orders,
                       connectivity=conn, n_stages=int(n_stages.sum()), n_obs=float(w.sum()),
                       comparisons=comparisons)


def _sort_order(rank_code: np.ndarray, rank_value: np.ndarray, item_code: np.ndarray,
                n_rankings: int, n_items: int) -> np.ndarray:
    """Rows by ranking, then rank, then item code (one combined key when it fits)."""
    span = int(rank_value.max()) + 1
    if n_rankings * span * n_items < 2**62:
        key = (rank_code.astype(np.int64) * span + rank_value) * n_items + item_code
        return np.argsort(key, kind="stable")
    return np.lexsort((item_code, rank_value, rank_code))


def _per_ranking(values: np.ndarray, rc: np.ndarray, n_rankings: int, what: str,
                 column: Hashable, ids: pd.Index, where: str,
                 error: type[Exception]) -> np.ndarray:
    """One value per ranking from rows sorted by ranking; it must not vary within one."""
    first = np.zeros(n_rankings, dtype=np.intp)
    boundary = np.ones(rc.size, dtype=bool)
    boundary[1:] = rc[1:] != rc[:-1]
    first[rc[boundary]] = np.flatnonzero(boundary)
    head = values[first]
    differs = pd.Series(values).ne(pd.Series(head[rc])).to_numpy() & \
        ~(pd.isna(values) & pd.isna(head[rc]))
    if differs.any():
        bad = pd.unique(ids[rc[differs]])
        raise error(
            f"{where}: the {what} column {column!r} varies within {len(bad)} ranking(s): "
            f"{format_examples(bad)}. A {what} belongs to the whole ranking; give every row "
            "of a ranking the same value."
        )
    return head


def _connectivity(items: pd.Index, it: np.ndarray, w: np.ndarray, sizes: np.ndarray,
                  starts: np.ndarray, group: np.ndarray, group_size: np.ndarray,
                  new_group: np.ndarray,
                  unranked: np.ndarray) -> tuple[Connectivity, np.ndarray]:
    """Win graph of the rankings: each item beats every item in a later group.

    Edges with the same reachability as all those pairs: from the first item
    of each group to every item of the next group, and a cycle through each
    ranked tie group (a tie is a win both ways; the unranked tail is not
    ordered within itself). Rankings of weight 0 carry no information. The
    per-item totals count every implied pair; their sum (weight of the pairs
    each item is in) is returned with the analysis.
    """
    n = items.size
    rows = np.arange(it.size)
    row_w = np.repeat(w, sizes)
    ranking_start = np.repeat(starts, sizes)
    group_first = np.flatnonzero(new_group)
    first = group_first[group]
    n_after = np.repeat(starts + sizes, sizes) - (first + group_size)
    n_before = first - ranking_start
    tied = np.where(unranked, 0, group_size - 1)
    wins = np.bincount(it, row_w * n_after, n)
    losses = np.bincount(it, row_w * n_before, n)
    ties = np.bincount(it, row_w * tied, n)

    informative = row_w > 0
    follows = informative & (first > ranking_start)
    prev_first = group_first[np.maximum(group - 1, 0)]
    in_tie = informative & (tied > 0)
    nxt = np.where(rows + 1 < first + group_size, rows + 1, first)
    src = np.concatenate([it[prev_first[follows]], it[in_tie]])
    dst = np.concatenate([it[follows], it[nxt[in_tie]]])
    return (connectivity_from_edges(items, src, dst, wins, losses, ties),
            wins + losses + ties)
