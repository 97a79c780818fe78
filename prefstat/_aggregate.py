"""Sufficient statistics: counts per (pair[, rater]) and outcome, with numpy only.

Every row gets an integer key ``(first * n_items + second) [* n_groups + group]``.
Two ways to count:

dense
    When the (key, outcome) cells fit in a dense array, one ``np.bincount`` over
    ``key * n_outcomes + outcome`` counts everything; observed keys are found in
    the (small) result.
sorted
    Otherwise the observed keys are found by sorting, and a second
    ``np.bincount`` over (observed-key index, outcome) counts. The sort is a
    value sort of ``key << bits | row`` (the row index packed into the low
    bits), which numpy does much faster than an ``argsort``; where the packed
    value would overflow 63 bits it falls back to ``argsort``.

Both return the observed keys in increasing order, so the result does not
depend on the order of the rows.
"""

from __future__ import annotations

import numpy as np

# Largest dense array of (key, outcome) cells the dense path may allocate ...
_DENSE_CELLS_MAX = 1 << 26
# ... and at most this many cells per input row (small inputs with a large key space sort).
_DENSE_CELLS_PER_ROW = 32
_PACK_BITS = 63


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
        Non-negative row weights (counts are sums of weights). A cell whose
        rows all have weight 0 is still returned, with zero counts.
    group : int array, optional
        A grouping code in ``[0, n_groups)`` (e.g. rater) kept as a separate key.
    ordered : bool
        If False, each pair is stored once with ``first < second``; rows with
        ``first > second`` are swapped and their outcome mapped through
        ``swap_outcome`` (a permutation of outcome codes).
    return_inverse : bool
        Also return, for every row, the index of its aggregated cell.

    Returns
    -------
    first, second, group : intp arrays, one entry per observed cell (sorted by key)
    counts : float64 array (n_cells, n_outcomes)
    inverse : intp array (n_rows,) or None
    """
    first = np.asarray(first)
    second = np.asarray(second)
    outcome = np.asarray(outcome)
    if group is None:
        n_groups = 1
    # key = first * n_items + second, built in one int64 buffer that is then reused.
    if ordered:
        key = first.astype(np.int64)
        key *= n_items
        key += second
    else:
        if swap_outcome is None:
            raise ValueError("swap_outcome is required when ordered=False")
        # min * n + max == min * (n - 1) + first + second
        key = np.minimum(first, second, dtype=np.int64)
        key *= n_items - 1
        key += first
        key += second
        # One small-int lookup instead of np.where: entry flip * n_outcomes + outcome of
        # (identity, swap_outcome).
        either = np.concatenate([np.arange(n_outcomes), swap_outcome]).astype(outcome.dtype)
        side = np.multiply(np.greater(first, second), n_outcomes,
                           dtype=np.min_scalar_type(-2 * n_outcomes))
        np.add(side, outcome, out=side, casting="unsafe")
        outcome = either[side]
    if group is not None:
        key *= n_groups
        key += group
    n_keys = n_items * n_items * n_groups
    if n_keys * n_outcomes <= min(_DENSE_CELLS_MAX, _DENSE_CELLS_PER_ROW * key.size):
        keys, counts, inverse = _count_dense(key, outcome, n_keys, n_outcomes, weight,
                                             return_inverse)
    else:
        keys, cell = _group_sorted(key, n_keys)
        inverse = cell.copy() if return_inverse else None
        cell *= n_outcomes
        cell += outcome
        if weight is None:
            # Counting float ones writes float64 directly: cheaper than an int64 result
            # converted afterwards when there are millions of cells.
            weight = np.ones(cell.size)
        flat = np.bincount(cell, weights=weight, minlength=keys.size * n_outcomes)
        counts = flat.reshape(keys.size, n_outcomes)
    keys, grp = np.divmod(keys, n_groups)
    first, second = np.divmod(keys, n_items)
    return (first.astype(np.intp, copy=False), second.astype(np.intp, copy=False),
            grp.astype(np.intp, copy=False), counts, inverse)


def _count_dense(
    key: np.ndarray, outcome: np.ndarray, n_keys: int, n_outcomes: int,
    weight: np.ndarray | None, return_inverse: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One bincount over (key, outcome) cells; ``key`` is overwritten."""
    # Positive weights show in the sums; cells whose rows all weigh 0 must be marked.
    zero_keys = key[weight == 0] if weight is not None else key[:0]
    cell = key
    cell *= n_outcomes
    cell += outcome
    flat = np.bincount(cell, weights=weight, minlength=n_keys * n_outcomes)
    counts = flat.reshape(n_keys, n_outcomes)
    seen = _rows_nonzero(counts)
    seen[zero_keys] = True
    keys = np.flatnonzero(seen)
    counts = counts[keys].astype(np.float64, copy=False)
    inverse = None
    if return_inverse:
        lookup = np.full(n_keys, -1, dtype=np.intp)
        lookup[keys] = np.arange(keys.size)
        inverse = lookup[cell // n_outcomes]
    return keys, counts, inverse


def _rows_nonzero(counts: np.ndarray) -> np.ndarray:
    """``counts.any(axis=1)`` for a C-contiguous array, fast for 1, 2, 4 or 8 columns.

    ``any`` along a short axis is slow; the row's nonzero flags read as one
    unsigned integer (K bytes) are nonzero exactly when one of them is.
    """
    nonzero = counts != 0
    width = counts.shape[1]
    if width not in (1, 2, 4, 8):
        return nonzero.any(axis=1)
    return nonzero.view(f"u{width}").ravel() != 0


def _group_sorted(key: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Observed keys in increasing order, and each row's index among them.

    ``key`` (values in ``[0, n_keys)``) is overwritten.
    """
    n = key.size
    row_bits = max(int(n - 1).bit_length(), 1)
    if int(n_keys - 1).bit_length() + row_bits <= _PACK_BITS:
        order = np.arange(n, dtype=np.int64)
        key <<= row_bits
        key |= order
        key.sort()
        np.bitwise_and(key, (1 << row_bits) - 1, out=order)
        key >>= row_bits
    else:
        order = np.argsort(key, kind="stable")
        key = key[order]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    keys = key[new]
    rank = np.cumsum(new, dtype=np.int64, out=key)
    rank -= 1
    cell = np.empty(n, dtype=np.int64)
    cell[order] = rank
    return keys, cell
