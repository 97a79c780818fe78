"""Sufficient statistics: counts per (pair[, rater]) and outcome, with numpy only.

The fast path is one ``np.bincount`` over a packed integer key when the key
space is small enough to allocate; otherwise the keys are factorised by hashing
(``pandas.factorize``, linear time) and counted with ``np.bincount`` again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Largest dense key space (cells of the count array) allocated for the bincount path.
_DENSE_CELLS_MAX = 1 << 26


def aggregate(
    first: np.ndarray,
    second: np.ndarray,
    outcome: np.ndarray,
    n_items: int,
    n_outcomes: int,
    weight: np.ndarray | None = None,
    group: np.ndarray | None = None,
    n_groups: int = 1,
    ordered: bool = True,
    swap_outcome: np.ndarray | None = None,
    return_inverse: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Count outcomes per (first, second[, group]).

    Parameters
    ----------
    first, second : int arrays
        Item codes in ``[0, n_items)``; ``first`` is the item shown first.
    outcome : int array
        Outcome codes in ``[0, n_outcomes)``.
    weight : float array, optional
        Row weights (counts are sums of weights).
    group : int array, optional
        A grouping code (e.g. rater) kept as a separate key.
    ordered : bool
        If False, each pair is stored once with ``first < second``; rows with
        ``first > second`` are swapped and their outcome mapped through
        ``swap_outcome`` (a permutation of outcome codes).
    return_inverse : bool
        Also return, for every row, the index of its aggregated cell.

    Returns
    -------
    first, second, group : int arrays, one entry per observed cell (sorted by key)
    counts : float array (n_cells, n_outcomes)
    inverse : int array (n_rows,) or None
    """
    first = np.asarray(first)
    second = np.asarray(second)
    outcome = np.asarray(outcome)
    if not ordered:
        if swap_outcome is None:
            raise ValueError("swap_outcome is required when ordered=False")
        flip = first > second
        if flip.any():
            first, second = np.where(flip, second, first), np.where(flip, first, second)
            outcome = np.where(flip, np.asarray(swap_outcome)[outcome], outcome)
    key = first.astype(np.int64) * n_items + second
    if group is not None:
        key = key * n_groups + group
    n_keys = n_items * n_items * (n_groups if group is not None else 1)
    if n_keys * n_outcomes <= max(_DENSE_CELLS_MAX, 4 * key.size):
        cell = key * n_outcomes + outcome
        flat = np.bincount(cell, weights=weight, minlength=n_keys * n_outcomes)
        counts = flat.reshape(n_keys, n_outcomes)
        if weight is None:
            present = np.flatnonzero(counts.any(axis=1))
        else:
            present = np.flatnonzero(np.bincount(key, minlength=n_keys))
        counts = counts[present].astype(np.float64, copy=False)
        keys = present
        inverse = None
        if return_inverse:
            lookup = np.full(n_keys, -1, dtype=np.intp)
            lookup[present] = np.arange(present.size)
            inverse = lookup[key]
    else:
        codes, uniques = pd.factorize(key, sort=True)
        keys = np.asarray(uniques, dtype=np.int64)
        flat = np.bincount(codes * n_outcomes + outcome, weights=weight,
                           minlength=keys.size * n_outcomes)
        counts = flat.reshape(keys.size, n_outcomes).astype(np.float64, copy=False)
        inverse = codes.astype(np.intp) if return_inverse else None
    if group is not None:
        grp = keys % n_groups
        keys = keys // n_groups
    else:
        grp = np.zeros(keys.size, dtype=np.intp)
    return (keys // n_items).astype(np.intp), (keys % n_items).astype(np.intp), \
        grp.astype(np.intp), counts, inverse
