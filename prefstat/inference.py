"""Wald inference tables shared by every model.

A model hands over its estimates and covariance; this module turns them into
the DataFrame every fitted object exposes (``estimate, se, z, p, ci_lower,
ci_upper``), with the confidence level kept in the object, not a column name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["identify_items", "wald_table"]

COLUMNS = ["estimate", "se", "z", "p", "ci_lower", "ci_upper"]


def wald_table(estimate: np.ndarray, se: np.ndarray, index: pd.Index,
               conf_level: float = 0.95) -> pd.DataFrame:
    """Build the standard estimates table from estimates and standard errors.

    Parameters
    ----------
    estimate, se : numpy.ndarray
        Point estimates and standard errors. A standard error of exactly zero
        marks a parameter fixed by identification: its z and p are NaN and its
        interval is the point itself.
    index : pandas.Index
        Parameter names.
    conf_level : float, default 0.95
        Coverage of the Wald intervals ``estimate ± z_{(1+level)/2} se``.

    Returns
    -------
    pandas.DataFrame
        Columns ``estimate, se, z, p, ci_lower, ci_upper``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = wald_table(np.array([1.0, 0.0]), np.array([0.5, 0.0]), pd.Index(["x", "ref"]))
    >>> t.round(3)
         estimate   se    z      p  ci_lower  ci_upper
    x         1.0  0.5  2.0  0.046      0.02      1.98
    ref       0.0  0.0  NaN    NaN      0.00      0.00
    """
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, estimate / se, np.nan)
    # special.ndtr / ndtri are what stats.norm.sf / ppf compute, without the ~70 us of
    # distribution-object overhead per call (every fit builds this table)
    p = 2 * special.ndtr(-np.abs(z))
    q = float(special.ndtri(0.5 + conf_level / 2))
    return pd.DataFrame(
        {"estimate": estimate, "se": se, "z": z, "p": p,
         "ci_lower": estimate - q * se, "ci_upper": estimate + q * se},
        index=index,
    )


def identify_items(estimate: np.ndarray, cov: np.ndarray | None, n_items: int,
                   reference: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Report item parameters under sum-to-zero or reference identification.

    The first ``n_items`` entries of ``estimate`` are log-strengths known up to
    a common shift (fitted with any internal pivot); the rest (order effects,
    tie parameters) are unaffected. Sum to zero maps ``lambda`` to
    ``lambda - mean(lambda)``; a reference code ``r`` maps it to
    ``lambda - lambda_r``. The map is linear, so the covariance transforms
    exactly (``A C A'``), computed in O(n^2) without forming ``A``.

    Parameters
    ----------
    estimate : numpy.ndarray
        All parameters, item log-strengths first.
    cov : numpy.ndarray or None
        Their covariance (zero row and column for a pivot fixed at 0); with
        ``None`` only the estimates are mapped.
    n_items : int
        How many leading parameters are item log-strengths.
    reference : int, optional
        Code of the reference item; ``None`` for sum to zero.

    Returns
    -------
    estimate, cov : numpy.ndarray
        The identified parameters and their covariance (new arrays; ``None``
        when no covariance was given).

    Examples
    --------
    >>> import numpy as np
    >>> est, cov = identify_items(np.array([0.0, 1.0, 2.0, 0.5]), np.diag([0, 1.0, 1.0, 0.1]),
    ...                           n_items=3, reference=1)
    >>> est.tolist(), np.diag(cov).tolist()
    ([-1.0, 0.0, 1.0, 0.5], [1.0, 0.0, 2.0, 0.1])
    """
    n = n_items
    theta = np.array(estimate, dtype=float)
    theta[:n] -= theta[:n].mean() if reference is None else theta[reference]
    if cov is None:
        return theta, None
    cov = np.array(cov, dtype=float)
    if reference is not None:
        cov[:n, :] -= cov[reference, :]
        cov[:, :n] -= cov[:, reference].copy()[:, None]
    else:
        cov[:n, :] -= cov[:n, :].mean(axis=0)
        cov[:, :n] -= cov[:, :n].mean(axis=1)[:, None]
    return theta, cov
