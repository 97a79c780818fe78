"""Structured paired-comparison models: item features, contest columns, penalties, SEs.

The same data path as the plain models: the comparison table is encoded once
(``ComparisonData``), reduced to outcome counts per cell, and handed to the
engine's likelihood kernel. What changes is the cell and the design:

cells
    With contest columns the linear predictor differs between judgements of
    the same pair, so a cell is an ordered pair *and* one distinct row of
    the contest columns (counts are aggregated over the unique rows; with a
    continuous covariate that is one cell per judgement). Without contest
    columns a cell is a pair, as for the plain models.
design
    Items with features get the strength ``x_i · beta`` (``item_features``);
    items without (missing feature rows) keep a free strength, BradleyTerry2's
    convention. Contest columns ``C`` enter the linear predictor as they are:
    ``d = lambda_a - lambda_b + (x_a - x_b) beta + C gamma (+ order effect)``.

This module builds those pieces, checks identification, cross-validates the
ridge penalty (folds grouped so that no group is split) and computes
sandwich (robust and cluster-robust) covariances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from .. import _likelihood as lik
from .._aggregate import aggregate
from ..data import _SWAP_NOMINAL, OUTCOMES, ComparisonData, PairCounts
from ..exceptions import (
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    NonFiniteFeaturesError,
    NotIdentifiableError,
    format_examples,
)
from ..features._base import as_feature_source, feature_names, transform_checked

# Relative size of a Cholesky pivot (against its diagonal entry) below which a
# parameter is a linear combination of the ones before it (aliased).
_ALIAS_TOL = 1e-10
# Default grid of ridge penalties for cross-validation.
CV_GRID = tuple(float(x) for x in np.logspace(-2, 4, 13))


@dataclass
class Structure:
    """Everything the engine needs beyond the plain model, built from the data."""

    items: pd.Index
    source: Any
    feature_names: list[str]
    features: np.ndarray  # (n_items, p); zero rows for items without features
    featured: np.ndarray  # (n_items,) bool: strength x_i beta (+ random effect)
    contest_names: list[str]
    first: np.ndarray
    second: np.ndarray
    contest: np.ndarray  # (n_cells, q)
    nominal: np.ndarray  # (n_cells, 4) nominal outcome counts
    row_cell: np.ndarray  # cell of every row of the table
    row_outcome: np.ndarray  # nominal outcome of every row, seen from its cell's first item
    ordered: bool

    @property
    def pair_counts(self) -> PairCounts:
        """The cells as the plain models' sufficient statistics (for the graph checks)."""
        return PairCounts(first=self.first, second=self.second, rater=None,
                          counts=self.nominal, columns=OUTCOMES, items=self.items,
                          ordered=self.ordered)


def build(d: ComparisonData, item_features: Any, contest_features: Sequence[Any] | None,
          order_effect: bool) -> Structure:
    """Resolve the feature source, encode contest columns and aggregate the cells."""
    n = d.n_items
    source = None
    names: list[str] = []
    features = np.zeros((n, 0))
    featured = np.zeros(n, dtype=bool)
    if item_features is not None:
        source = as_feature_source(item_features)
        labels = list(d.items)
        source.fit(labels)
        raw = transform_checked(source, labels)
        names = feature_names(source, raw.shape[1])
        featured = ~np.isnan(raw).any(axis=1)
        features = np.where(featured[:, None], raw, 0.0)
    contest_names = [] if contest_features is None else list(contest_features)
    rows_c = contest_columns(d, contest_names)
    ordered = bool(order_effect or contest_names)
    group, n_groups, unique = None, 1, np.zeros((1, 0))
    if contest_names:
        # One cell per (ordered pair, distinct contest row). -0.0 + 0.0 is +0.0.
        unique, group = np.unique(rows_c + 0.0, axis=0, return_inverse=True)
        group = group.ravel()
        n_groups = unique.shape[0]
    first, second, grp, nominal, row_cell = aggregate(
        d.a, d.b, d.outcome, n, len(OUTCOMES), weight=d.weight if d.weighted else None,
        group=group, n_groups=n_groups, ordered=ordered, swap_outcome=_SWAP_NOMINAL,
        return_inverse=True,
    )
    flipped = d.a != first[row_cell]
    row_outcome = np.where(flipped, _SWAP_NOMINAL[d.outcome], d.outcome)
    return Structure(d.items, source, names, features, featured,
                     [str(c) for c in contest_names], first, second, unique[grp], nominal,
                     row_cell, row_outcome, ordered)


def contest_columns(d: ComparisonData, names: list[Any]) -> np.ndarray:
    """The contest columns of every row as floats, strictly checked."""
    if not names:
        return np.zeros((d.n_rows, 0))
    table = d.contest if d.contest is not None else pd.DataFrame(index=d.rows)
    absent = [c for c in names if c not in table.columns]
    if absent:
        raise MissingColumnError(
            f"contest_features names column(s) {format_examples(absent)} that the table does "
            f"not have (besides the item, outcome, weight and rater columns it has "
            f"{format_examples(table.columns, 10)})."
        )
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"contest_features lists a column twice: {names!r}.")
    cols = []
    for name in names:
        col = table[name]
        if not pd.api.types.is_numeric_dtype(col.dtype):
            raise DataValidationError(
                f"contest column {name!r} has dtype {col.dtype}; contest features must be "
                "numbers or booleans. Encode categories explicitly, e.g. "
                f"(df[{name!r}] == 'level').astype(float), one column per level kept."
            )
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            raise NonFiniteFeaturesError(
                f"contest column {name!r} is missing or infinite in {int(bad.sum())} row(s) "
                f"(rows {format_examples(d.rows[bad])}); fill or drop them first."
            )
        cols.append(values)
    return np.column_stack(cols)


def check_shift(st: Structure) -> None:
    """Strengths of items with features are absolute unless the features span a constant."""
    x = st.features[st.featured]
    if x.shape[1] == 0 or x.shape[0] == 0:
        return
    ones = np.ones(x.shape[0])
    coef = np.linalg.lstsq(x, ones, rcond=None)[0]
    if np.linalg.norm(x @ coef - ones) <= 1e-8 * np.sqrt(x.shape[0]):
        used = [st.feature_names[k] for k in np.flatnonzero(np.abs(coef) > 1e-10)]
        raise NotIdentifiableError(
            "a combination of the item features is constant over the items with features "
            f"(columns {format_examples(used)}), and a constant cancels in every comparison, "
            "so its coefficient is not identified. Drop an intercept column, or one level of a "
            "full set of indicators, or pass penalty > 0."
        )


def aliased(info: np.ndarray, names: list[str]) -> list[str]:
    """Parameters that are linear combinations of the ones before them (R's ``aliased``)."""
    try:
        chol = linalg.cholesky(info, lower=True, check_finite=False)
        scale = np.sqrt(np.clip(np.diag(info), 1e-300, None))
        if (np.diag(chol) / scale).min() > np.sqrt(_ALIAS_TOL):
            return []
    except linalg.LinAlgError:
        pass
    out: list[str] = []
    kept: list[int] = []
    for j in range(info.shape[0]):
        if not kept:
            pivot = info[j, j]
        else:
            block = info[np.ix_(kept, kept)]
            cross = info[kept, j]
            pivot = info[j, j] - cross @ np.linalg.solve(block, cross)
        if pivot <= _ALIAS_TOL * max(info[j, j], 1e-300):
            out.append(names[j])
        else:
            kept.append(j)
    return out


def column_codes(d: ComparisonData, column: Any, argument: str) -> np.ndarray:
    """Integer codes of a grouping column of the table (groups=, clusters=)."""
    table = d.contest if d.contest is not None else pd.DataFrame(index=d.rows)
    if column not in table.columns:
        raise MissingColumnError(
            f"column {column!r} (argument {argument}=) is not in the table; available columns "
            f"besides the item, outcome and weight columns are "
            f"{format_examples(table.columns, 10)}."
        )
    codes, labels = pd.factorize(table[column])
    if (codes < 0).any():
        raise DataValidationError(
            f"the {argument} column {column!r} is missing in {int((codes < 0).sum())} row(s) "
            f"(rows {format_examples(d.rows[codes < 0])}); give every row a value."
        )
    if labels.size < 2:
        raise InvalidParameterError(
            f"the {argument} column {column!r} has a single value; it needs several groups."
        )
    return codes.astype(np.intp)


# --------------------------------------------------------------------------- CV
def fold_codes(n_rows: int, groups: np.ndarray | None, n_folds: int,
               rng: np.random.Generator) -> np.ndarray:
    """Fold of every row; all rows of a group share a fold (groups shuffled, dealt in turn)."""
    codes = np.arange(n_rows) if groups is None else groups
    n_groups = int(codes.max()) + 1
    if n_groups < n_folds:
        raise InvalidParameterError(
            f"cross-validation with {n_folds} folds needs at least {n_folds} groups; the data "
            f"have {n_groups}. Lower cv_folds or use finer groups."
        )
    fold_of_group = np.empty(n_groups, dtype=np.intp)
    fold_of_group[rng.permutation(n_groups)] = np.arange(n_groups) % n_folds
    return fold_of_group[codes]


def row_counts(st: Structure, weight: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Nominal counts per cell from the rows (optionally only those in ``keep``)."""
    k = len(OUTCOMES)
    w = weight if keep is None else np.where(keep, weight, 0.0)
    flat = np.bincount(st.row_cell * k + st.row_outcome, weights=w,
                       minlength=st.first.size * k)
    return flat.reshape(-1, k)


def cross_validate(problem: Any, st: Structure, d: ComparisonData, kernel: lik.Kernel,
                   half: bool, ridge_of: Any, grid: Sequence[float], folds: np.ndarray,
                   max_iter: int, tol: float) -> pd.DataFrame:
    """Held-out log-likelihood per judgement of every penalty on the grid, by fold."""
    n_folds = int(folds.max()) + 1
    grid = sorted(float(g) for g in grid)[::-1]  # strongest first: warm starts stay stable
    scores = np.full((len(grid), n_folds), np.nan)
    for f in range(n_folds):
        train = kernel.category_counts(row_counts(st, d.weight, folds != f), half)
        test = kernel.category_counts(row_counts(st, d.weight, folds == f), half)
        x = problem.start(train)
        for j, penalty in enumerate(grid):
            problem.ridge = ridge_of(penalty)
            result = problem.solve(train, x, False, max_iter, tol)
            x = result.x
            theta = problem.full(x)
            tau = theta[problem.layout.tie_index] if problem.layout.tie else 0.0
            ll = lik.evaluate(kernel, test, problem.linear(theta), tau, False).loglik
            scores[j, f] = ll / max(float(test.sum()), 1e-300)
    table = pd.DataFrame({
        "penalty": grid,
        "mean_loglik": scores.mean(axis=1),
        "se": scores.std(axis=1, ddof=1) / np.sqrt(n_folds),
    })
    for f in range(n_folds):
        table[f"fold_{f}"] = scores[:, f]
    return table.sort_values("penalty").reset_index(drop=True)


# --------------------------------------------------------------------- sandwich
def sandwich(problem: Any, theta: np.ndarray, st: Structure, d: ComparisonData,
             kernel: lik.Kernel, half: bool, bread: np.ndarray,
             clusters: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Robust covariance ``B^-1 M B^-1`` of the free parameters, and the number of units.

    ``M`` sums outer products of score contributions: per judgement (a row
    of weight ``w`` counts as ``w`` identical judgements) or per cluster,
    with the small-sample factor ``G / (G - 1)`` for ``G`` clusters.
    """
    layout = problem.layout
    n = layout.n_items
    tau = theta[layout.tie_index] if layout.tie else 0.0
    _, sd, stau = kernel.log_probs(problem.linear(theta), tau)
    k = len(OUTCOMES)
    nominal = np.zeros((d.n_rows, k))
    nominal[np.arange(d.n_rows), st.row_outcome] = d.weight
    cat = kernel.category_counts(nominal, half)
    cell = st.row_cell
    g = (cat * sd[cell]).sum(axis=1)
    gt = (cat * stau[cell]).sum(axis=1) if stau is not None else None
    if clusters is None:
        # Per judgement: sum over rows of s s' / w, i.e. unit rows scaled by 1/sqrt(w).
        used = d.weight > 0
        unit = np.flatnonzero(used)
        scale = 1.0 / np.sqrt(d.weight[used])
        codes = np.full(d.n_rows, -1)
        codes[unit] = np.arange(unit.size)
        n_units, factor = unit.size, 1.0
        g = np.where(used, g, 0.0)
        g[used] *= scale
        if gt is not None:
            gt = np.where(used, gt, 0.0)
            gt[used] *= scale
        rows = used
    else:
        codes, n_units = clusters, int(clusters.max()) + 1
        factor = n_units / (n_units - 1)
        rows = np.ones(d.n_rows, dtype=bool)
    cl = codes[rows]
    g_r = g[rows]
    fr, sc = st.first[cell[rows]], st.second[cell[rows]]
    items = (sparse.csr_matrix((g_r, (cl, fr)), shape=(n_units, n))
             - sparse.csr_matrix((g_r, (cl, sc)), shape=(n_units, n))).tocsc()
    free = problem.free
    blocks = [items[:, np.flatnonzero(free[:n])]]
    dense: list[np.ndarray] = []
    if layout.order_effect:
        dense.append(np.bincount(cl, g_r, n_units))
    if layout.tie:
        dense.append(np.bincount(cl, gt[rows], n_units))
    if layout.n_features:
        dense += list(np.asarray(items @ st.features).T)
    for j in range(layout.n_contest):
        dense.append(np.bincount(cl, g_r * st.contest[cell[rows], j], n_units))
    if dense:
        blocks.append(sparse.csr_matrix(np.column_stack(dense)))
    scores = sparse.hstack(blocks).tocsr()
    meat = np.asarray((scores.T @ scores).todense()) * factor
    return bread @ meat @ bread, n_units
