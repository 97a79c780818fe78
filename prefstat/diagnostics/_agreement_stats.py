"""Agreement kernels on unit × category counts, vectorised over bootstrap replicates.

Every statistic here reads ``N``, a ``(n_units, n_categories)`` array of how many
judgements of each unit fell in each category, and ``W``, a ``(n_replicates,
n_units)`` array of unit weights: a row of ones is the plain estimate, a row of
multinomial counts one cluster-bootstrap replicate. They return one value per
replicate. Labels never reach this module: :func:`label_matrix` turns a units ×
raters matrix of labels into integer codes first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _encoding as enc
from ..exceptions import DataValidationError, EmptyDataError, format_examples

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class LabelMatrix:
    """A units × raters label matrix as integer codes (-1 = missing)."""

    codes: np.ndarray
    categories: pd.Index
    numeric: bool

    def counts(self) -> np.ndarray:
        return category_counts(self.codes, self.categories.size)


def label_matrix(matrix: Any, where: str, argument: str = "matrix") -> LabelMatrix:
    """Encode a units × raters matrix of labels; NaN / None cells are missing.

    Categories are sorted (numbers by value), or keep the order of the
    categories when every column is a pandas Categorical of one dtype.
    """
    frame = _as_frame(matrix, where, argument)
    first = frame.dtypes.iloc[0]
    if isinstance(first, pd.CategoricalDtype) and all(t == first for t in frame.dtypes):
        categories = pd.Index(first.categories)
        codes = np.column_stack([frame[c].cat.codes.to_numpy() for c in frame.columns])
        numeric = pd.api.types.is_numeric_dtype(categories.dtype) and not (
            pd.api.types.is_bool_dtype(categories.dtype))
        return LabelMatrix(codes.astype(np.intp), categories, numeric)
    values = frame.to_numpy(dtype=object).ravel()
    missing = pd.isna(values)
    present = pd.Series(values[~missing], dtype=object)
    if present.empty:
        raise EmptyDataError(
            f"{where}: argument {argument}= has no labels at all (every cell is missing)."
        )
    kinds = enc.value_kinds(present)
    if not isinstance(kinds, str):
        found = {k: present[kinds == k].unique()[:3] for k in pd.unique(kinds)}
        detail = "; ".join(f"{k}: {format_examples(v, 3)}" for k, v in found.items())
        raise DataValidationError(
            f"{where}: argument {argument}= mixes kinds of labels ({detail}). The string '1' "
            "and the number 1 would be different categories; convert the matrix to one type "
            "first, e.g. .astype(str) or pandas.to_numeric."
        )
    if kinds not in ("str", "number", "bool"):
        raise DataValidationError(
            f"{where}: argument {argument}= holds labels of type {kinds}; use strings, "
            "numbers or booleans."
        )
    if kinds == "number":
        as_float = present.to_numpy(dtype=float)
        if not np.isfinite(as_float).all():
            raise DataValidationError(
                f"{where}: argument {argument}= has infinite labels; only NaN means missing."
            )
    local, categories = pd.factorize(present.to_numpy(), sort=True)
    codes = np.full(values.size, -1, dtype=np.intp)
    codes[~missing] = local
    return LabelMatrix(codes.reshape(frame.shape), pd.Index(categories), kinds == "number")


def _as_frame(matrix: Any, where: str, argument: str) -> pd.DataFrame:
    if isinstance(matrix, pd.DataFrame):
        frame = matrix
    else:
        try:
            array = np.asarray(matrix, dtype=object)
        except (TypeError, ValueError) as err:
            raise DataValidationError(
                f"{where}: argument {argument}= must be a DataFrame or a 2-D array of labels "
                f"(units in rows, raters in columns), got {type(matrix).__name__}."
            ) from err
        if array.ndim != 2:
            raise DataValidationError(
                f"{where}: argument {argument}= must be 2-D (units in rows, raters in "
                f"columns), got an array of shape {array.shape}."
            )
        frame = pd.DataFrame(array)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise EmptyDataError(
            f"{where}: argument {argument}= has shape {frame.shape}; it needs units in rows "
            "and raters in columns."
        )
    return frame


def category_counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """``N[u, c]``: number of non-missing cells of row ``u`` holding category ``c``."""
    n_units = codes.shape[0]
    rows = np.repeat(np.arange(n_units), codes.shape[1])
    flat = codes.ravel()
    keep = flat >= 0
    out = np.zeros((n_units, n_categories))
    np.add.at(out, (rows[keep], flat[keep]), 1.0)
    return out


# ------------------------------------------------------------ per-unit values
def pairwise_rate(N: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Mean agreement score ``A[c, k]`` over the pairs of judgements of each unit.

    ``A`` has ones on its diagonal. Units with fewer than two judgements get NaN.
    """
    m = N.sum(axis=1)
    pairs = m * (m - 1)
    num = np.einsum("uc,ck,uk->u", N, A, N) - N @ np.diag(A)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, num / np.where(pairs > 0, pairs, 1), np.nan)


def loo_mode_scores(N: np.ndarray) -> np.ndarray:
    """``S[u, c]``: agreement of a judgement ``c`` on unit ``u`` with the others' mode.

    The mode is taken over the other judgements of the unit; when several
    categories tie for the mode, the score is the chance that a uniformly random
    pick among them equals ``c`` (1 / number of modes, or 0). Units with one
    judgement get NaN.
    """
    C = N.shape[1]
    others = N[:, None, :] - np.eye(C)[None, :, :]  # row c: counts without one c
    top = others.max(axis=2, keepdims=True)
    is_mode = others == top
    n_modes = is_mode.sum(axis=2)
    own = is_mode[:, np.arange(C), np.arange(C)]
    score = own / n_modes
    single = N.sum(axis=1) < 2
    score[single] = np.nan
    return score


def unit_loo_mode(N: np.ndarray) -> np.ndarray:
    """Mean leave-one-out mode agreement of each unit's judgements (NaN if judged once)."""
    m = N.sum(axis=1)
    S = np.nan_to_num(loo_mode_scores(N))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m >= 2, (N * S).sum(axis=1) / np.where(m > 0, m, 1), np.nan)


# ------------------------------------------------------ replicated statistics
def unit_mean(W: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Weighted mean of per-unit values over the units where they are not NaN."""
    ok = ~np.isnan(values)
    w = W[:, ok]
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, w @ values[ok] / np.where(total > 0, total, 1), np.nan)


def fleiss_kappa_replicates(W: np.ndarray, N: np.ndarray) -> np.ndarray:
    """Fleiss' kappa; units with fewer than two judgements must be removed first."""
    p_obs = unit_mean(W, pairwise_rate(N, np.eye(N.shape[1])))
    totals = W @ N
    with np.errstate(invalid="ignore", divide="ignore"):
        p = totals / totals.sum(axis=1, keepdims=True)
        p_exp = (p**2).sum(axis=1)
        return np.where(p_exp < 1, (p_obs - p_exp) / (1 - p_exp), np.nan)


def coincidences(N: np.ndarray) -> np.ndarray:
    """Krippendorff's per-unit coincidence matrices, flattened: ``(n_units, C * C)``.

    ``o_ck(u) = n_uc (n_uk - [c = k]) / (m_u - 1)``; zero for units with fewer
    than two values (they are not pairable).
    """
    m = N.sum(axis=1)
    C = N.shape[1]
    pairs = N[:, :, None] * N[:, None, :] - N[:, :, None] * np.eye(C)[None]
    scale = np.where(m >= 2, 1.0 / np.where(m >= 2, m - 1, 1), 0.0)
    return (pairs * scale[:, None, None]).reshape(len(N), C * C)


def krippendorff_replicates(W: np.ndarray, O_flat: np.ndarray, level: str,
                            values: np.ndarray | None) -> np.ndarray:
    """Krippendorff's alpha from replicated coincidence matrices."""
    C = math.isqrt(O_flat.shape[1])
    coincidence = (W @ O_flat).reshape(len(W), C, C)
    n_c = coincidence.sum(axis=2)
    n = n_c.sum(axis=1)
    d2 = _delta2(level, n_c, values, C)
    observed = (coincidence * d2).sum(axis=(1, 2))
    expected = (n_c[:, :, None] * n_c[:, None, :] * d2).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - (n - 1) * observed / np.where(
            expected > 0, expected, 1), np.nan)


def _delta2(level: str, n_c: np.ndarray, values: np.ndarray | None, C: int) -> np.ndarray:
    """Squared difference functions of Krippendorff (2004, sec. 11.3.4), shape (B, C, C)."""
    if level == "nominal":
        return np.broadcast_to(1.0 - np.eye(C), (len(n_c), C, C))
    if level == "ordinal":
        # (sum_{g=c}^{k} n_g - (n_c + n_k) / 2)^2 over the ranked categories c <= k.
        cum = np.cumsum(n_c, axis=1)
        lo = np.minimum.outer(np.arange(C), np.arange(C))
        hi = np.maximum.outer(np.arange(C), np.arange(C))
        between = cum[:, hi] - cum[:, lo] + n_c[:, lo]
        half = (n_c[:, :, None] + n_c[:, None, :]) / 2
        return (between - half) ** 2
    assert values is not None
    diff = np.subtract.outer(values, values)
    if level == "interval":
        d2 = diff**2
    else:
        total = np.add.outer(values, values)
        with np.errstate(invalid="ignore", divide="ignore"):
            d2 = np.where(total != 0, (diff / np.where(total != 0, total, 1)) ** 2, 0.0)
    return np.broadcast_to(d2, (len(n_c), C, C))


def kendall_sigma(N2: np.ndarray) -> np.ndarray:
    """Agreeing pairs of judges per unit, ``C(a, 2) + C(m - a, 2)``, for two columns."""
    return (N2 * (N2 - 1) / 2).sum(axis=1)


def kendall_u_replicates(W: np.ndarray, sigma: np.ndarray, m: int) -> np.ndarray:
    """Kendall's u = 2 Sigma / (C(m, 2) N) - 1 with Sigma and N summed over weighted units."""
    total = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 2 * (W @ sigma) / (m * (m - 1) / 2 * total) - 1
