r"""Rater disagreement: agreement statistics, per-rater quality and suspect labels.

Two layers:

* Statistics on a plain units × raters label matrix (one row per thing judged,
  one column per rater, missing cells as NaN): :func:`fleiss_kappa`,
  :func:`cohen_kappa`, :func:`krippendorff_alpha`, and, on a square matrix of
  paired-comparison counts, :func:`kendall_u`.
* :func:`agreement` on a comparison table with a rater column: every
  percent-agreement convention found in the RLHF literature side by side, with
  chance-corrected coefficients and cluster-bootstrap intervals, a per-rater
  table with flags, and a per-row table of suspect labels from a noisy-rater
  mixture model.

Units. A *unit* is the thing judged: the unordered item pair, plus the values of
the ``unit`` column(s) (a prompt, a question) when given. The same pair shown in
either order is the same unit; every verdict is re-expressed relative to the
item that sorts first (``"lower item preferred"``, ``"upper item preferred"``,
tie), so that ``(x, y, "a")`` and ``(y, x, "b")`` agree.

Every formula, convention and default threshold is in the user guide page
*Rater agreement* and in the docstrings below.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from math import comb
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from .. import _encoding as enc
from .._inputs import as_comparison_data
from .._random import as_generator
from .._report import Summary
from ..data import ComparisonData, _grade_position
from ..exceptions import (
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    EmptyDataError,
    IdentifiabilityWarning,
    InvalidParameterError,
    MissingColumnError,
    format_examples,
)
from . import _agreement_stats as st
from ._cycles import count_triangles
from ._noisy_raters import fit_noisy_raters

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Agreement",
    "KendallU",
    "agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "kendall_u",
    "krippendorff_alpha",
]

#: Default thresholds of :func:`agreement`'s rater flags and suspect rows.
#:
#: ``min_judgements`` (20)
#:     Raters with fewer judgements are reported but never flagged.
#: ``min_reliability`` (0.5)
#:     Flag a rater when the data show that their probability ``rho`` of
#:     following the consensus is below this (most of their labels look
#:     content-blind): the one-sided Wald test of ``rho >= 0.5`` rejects at
#:     level ``alpha`` after Holm's adjustment over the raters assessed. A
#:     rater whose ``rho`` the data cannot pin down is not flagged.
#: ``alpha`` (0.05)
#:     Family-wise level of each of the two rater tests (reliability, and the
#:     exact binomial test of position bias), Holm-adjusted over the raters
#:     assessed.
#: ``position_min_effect`` (0.1)
#:     A position-bias flag also needs the first-shown item to win in at least
#:     60% or at most 40% of the rater's decisive judgements, so a prolific
#:     rater is not flagged for a trivial bias.
#: ``max_tie_rate`` (0.9)
#:     Flag a rater who calls 90% or more of their judgements a tie.
#: ``suspect_probability`` (0.5)
#:     A row is a suspect when the posterior probability that its label is
#:     random (content-blind) rather than a draw from the consensus is at
#:     least this.
DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType({
    "min_judgements": 20,
    "min_reliability": 0.5,
    "alpha": 0.05,
    "position_min_effect": 0.1,
    "max_tie_rate": 0.9,
    "suspect_probability": 0.5,
})

# Bootstrap replicates are drawn in blocks of about this many (replicate x unit) weights.
_BLOCK_CELLS = 5_000_000
# Directions of a verdict relative to the item that sorts first (the unit's orientation).
_LOWER, _UPPER, _TIE = 0, 1, 2


# =====================================================================================
# Statistics on a label matrix
# =====================================================================================
def fleiss_kappa(matrix: Any) -> float:
    r"""Fleiss' kappa for any number of raters per unit and nominal categories.

    Parameters
    ----------
    matrix : pandas.DataFrame or array-like
        Units in rows, raters in columns, labels in the cells (strings,
        numbers or booleans; one kind). Missing cells (NaN, None) are allowed:
        a unit is then judged by fewer raters. Units with fewer than two labels
        are left out (they carry no agreement).

    Returns
    -------
    float
        :math:`\kappa = (\bar P - P_e) / (1 - P_e)`; NaN, with a
        :class:`~prefstat.DataWarning`, when every label is the same category
        (:math:`P_e = 1`: chance agreement is perfect and kappa undefined).

    Raises
    ------
    DataValidationError
        Not a 2-D matrix, or labels of mixed kinds.
    EmptyDataError
        No unit has two labels.

    Notes
    -----
    With :math:`n_{uc}` labels of category :math:`c` among the :math:`m_u`
    labels of unit :math:`u`,

    .. math::

       P_u = \frac{\sum_c n_{uc}(n_{uc} - 1)}{m_u (m_u - 1)}, \quad
       \bar P = \frac{1}{U} \sum_u P_u, \quad
       p_c = \frac{\sum_u n_{uc}}{\sum_u m_u}, \quad P_e = \sum_c p_c^2 .

    With the same number of raters per unit this is Fleiss (1971) exactly
    (and ``statsmodels.stats.inter_rater.fleiss_kappa``); with varying
    numbers, :math:`\bar P` weights units equally and :math:`p_c` pools all
    labels.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
    *Psychological Bulletin*, 76(5), 378–382.

    Examples
    --------
    >>> from prefstat.diagnostics import fleiss_kappa
    >>> labels = [["a", "a", "a"], ["a", "b", "b"], ["b", "b", "b"], ["a", "a", "b"]]
    >>> round(fleiss_kappa(labels), 4)
    0.3333
    """
    where = "fleiss_kappa"
    N = _pairable(st.label_matrix(matrix, where).counts(), where)
    value = float(st.fleiss_kappa_replicates(np.ones((1, len(N))), N)[0])
    if np.isnan(value):
        _warn_single_category(where)
    return value


def cohen_kappa(a: Any, b: Any) -> float:
    r"""Cohen's kappa for two raters who labelled the same units.

    Parameters
    ----------
    a, b : array-like
        The two raters' labels, one per unit, in the same order. Units where
        either label is missing (NaN, None) are left out.

    Returns
    -------
    float
        :math:`\kappa = (p_o - p_e) / (1 - p_e)`; NaN, with a
        :class:`~prefstat.DataWarning`, when both raters used one and the same
        category throughout (:math:`p_e = 1`).

    Raises
    ------
    DataValidationError
        Inputs of different lengths or labels of mixed kinds.
    EmptyDataError
        No unit labelled by both.

    Notes
    -----
    :math:`p_o` is the share of units with equal labels and
    :math:`p_e = \sum_c p_{a,c}\, p_{b,c}` the agreement expected from the two
    raters' own marginal distributions (Cohen 1960). The same as
    ``sklearn.metrics.cohen_kappa_score`` without weights.

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales.
    *Educational and Psychological Measurement*, 20(1), 37–46.

    Examples
    --------
    >>> from prefstat.diagnostics import cohen_kappa
    >>> round(cohen_kappa(["a", "a", "b", "b", "a"], ["a", "b", "b", "b", "a"]), 4)
    0.6154
    """
    where = "cohen_kappa"
    first, second = (np.asarray(x, dtype=object) for x in (a, b))
    if first.ndim != 1 or second.ndim != 1 or first.size != second.size:
        raise DataValidationError(
            f"{where}: a and b must be 1-D with one label per unit each, got shapes "
            f"{first.shape} and {second.shape}."
        )
    lm = st.label_matrix(np.column_stack([first, second]), where, "a, b")
    both = (lm.codes >= 0).all(axis=1)
    if not both.any():
        raise EmptyDataError(f"{where}: no unit has a label from both raters.")
    codes = lm.codes[both]
    k = lm.categories.size
    p_a = np.bincount(codes[:, 0], minlength=k) / len(codes)
    p_b = np.bincount(codes[:, 1], minlength=k) / len(codes)
    p_obs = float(np.mean(codes[:, 0] == codes[:, 1]))
    p_exp = float(p_a @ p_b)
    if p_exp >= 1:
        _warn_single_category(where)
        return float("nan")
    return (p_obs - p_exp) / (1 - p_exp)


def krippendorff_alpha(
    matrix: Any,
    level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal",
    categories: Sequence[Any] | None = None,
) -> float:
    r"""Krippendorff's alpha from the coincidence matrix, with missing values.

    Parameters
    ----------
    matrix : pandas.DataFrame or array-like
        Units in rows, raters (coders) in columns; missing cells as NaN or
        None. Units with fewer than two values are not pairable and are left
        out, as Krippendorff prescribes. (R's ``irr::kripp.alpha`` takes the
        transpose: coders in rows.)
    level : {"nominal", "ordinal", "interval", "ratio"}, default "nominal"
        Level of measurement, which sets the difference function.
    categories : sequence, optional
        Every category in its order. Needed for ``"ordinal"`` when the labels
        are strings (their order cannot be guessed); ignored by ``"nominal"``
        except that every label must be listed. Numbers sort by value, and
        ordered categorical columns keep their order.

    Returns
    -------
    float
        :math:`\alpha = 1 - D_o / D_e`; NaN, with a
        :class:`~prefstat.DataWarning`, when all pairable values are equal
        (:math:`D_e = 0`).

    Raises
    ------
    DataValidationError
        A bad matrix, labels not in ``categories``, string labels without
        ``categories`` for ``"ordinal"``, or non-numeric (or, for ``"ratio"``,
        negative) values for ``"interval"`` and ``"ratio"``.
    InvalidParameterError
        An unknown ``level``.
    EmptyDataError
        No unit has two values.

    Notes
    -----
    For unit :math:`u` with :math:`m_u \ge 2` values, every ordered pair of its
    values from different cells adds :math:`1/(m_u - 1)` to the coincidence
    matrix :math:`o_{ck}`; :math:`n_c = \sum_k o_{ck}` and
    :math:`n = \sum_c n_c`. Then

    .. math::

       \alpha = 1 - (n - 1)
       \frac{\sum_{c,k} o_{ck}\, \delta^2_{ck}}{\sum_{c,k} n_c n_k\, \delta^2_{ck}},

    with :math:`\delta^2_{ck}` = :math:`[c \ne k]` (nominal),
    :math:`(\sum_{g=c}^{k} n_g - (n_c + n_k)/2)^2` over the ordered categories
    (ordinal), :math:`(c - k)^2` (interval) and
    :math:`((c - k)/(c + k))^2` (ratio) (Krippendorff 2004, sec. 11.3;
    Krippendorff 2011).

    References
    ----------
    Krippendorff, K. (2004). *Content Analysis: An Introduction to Its
    Methodology*, 2nd ed., ch. 11. Sage.
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability.
    Annenberg School for Communication, University of Pennsylvania.

    Examples
    --------
    Krippendorff's reliability data (four coders, twelve units, transposed to
    units in rows):

    >>> import numpy as np
    >>> from prefstat.diagnostics import krippendorff_alpha
    >>> nan = np.nan
    >>> coders = np.array([
    ...     [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...     [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, nan],
    ...     [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    ...     [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]])
    >>> round(krippendorff_alpha(coders.T, "nominal"), 3)
    0.743
    >>> round(krippendorff_alpha(coders.T, "interval"), 3)
    0.849
    """
    where = "krippendorff_alpha"
    if level not in st.LEVELS:
        raise InvalidParameterError(
            f"{where}: level must be one of {', '.join(map(repr, st.LEVELS))}, got {level!r}."
        )
    lm = st.label_matrix(matrix, where)
    if categories is not None:
        lm = _with_categories(lm, categories, where)
    elif level == "ordinal" and not lm.numeric:
        first = matrix.dtypes.iloc[0] if isinstance(matrix, pd.DataFrame) else None
        if not (isinstance(first, pd.CategoricalDtype) and first.ordered):
            raise DataValidationError(
                f"{where}: level='ordinal' needs the order of the categories; the labels are "
                f"not numbers ({format_examples(lm.categories, 3)}). Pass categories=[...] "
                "from lowest to highest."
            )
    values = None
    if level in ("interval", "ratio"):
        values = _numeric_values(lm.categories, level, where)
    N = _pairable(lm.counts(), where)
    value = float(st.krippendorff_replicates(np.ones((1, len(N))), st.coincidences(N),
                                             level, values)[0])
    if np.isnan(value):
        _warn_single_category(where)
    return value


@dataclass(frozen=True)
class KendallU:
    """Result of :func:`kendall_u`: the coefficient of agreement and its test.

    Attributes
    ----------
    u : float
        Kendall's coefficient of agreement.
    min_u : float
        Its smallest possible value: ``-1/(m - 1)`` for even ``m``, ``-1/m``
        for odd ``m``.
    statistic : float
        The chi-square statistic (``m >= 3``), or the number of pairs on which
        the two judges agree (``m = 2``).
    df : float
        Degrees of freedom of the chi-square approximation; NaN for ``m = 2``,
        where the test is the exact binomial test.
    p_value : float
        One-sided: probability of at least this much agreement if every
        judge chose at random.
    method : str
        ``"chi2"`` or ``"binomial"``.
    n_judges : int
        ``m``.
    n_pairs : int
        Number of compared pairs (units), ``C(n, 2)`` for ``n`` items.
    correct : bool
        Whether the continuity correction was applied (chi-square only).
    """

    u: float
    min_u: float
    statistic: float
    df: float
    p_value: float
    method: str
    n_judges: int
    n_pairs: int
    correct: bool

    def summary(self) -> Summary:
        """Readable report of the coefficient and its test.

        Returns
        -------
        Summary
        """
        facts: dict[str, object] = {
            "u": self.u, "minimum u": self.min_u, "judges (m)": self.n_judges,
            "pairs": self.n_pairs, "test": self.method, "statistic": self.statistic,
        }
        if self.method == "chi2":
            facts["df"] = self.df
            facts["continuity correction"] = "yes" if self.correct else "no"
        facts["p-value"] = self.p_value
        return Summary("Kendall's coefficient of agreement u", facts, {}, [
            "H0: every judge chooses each pair at random; the alternative is agreement "
            "beyond chance (one-sided)."
        ])


def kendall_u(matrix: Any, correct: bool = True) -> KendallU:
    r"""Kendall & Babington Smith's coefficient of agreement for paired comparisons.

    Parameters
    ----------
    matrix : pandas.DataFrame or array-like
        Square matrix of counts: cell ``(i, j)`` is the number of judges who
        preferred the row item ``i`` to the column item ``j`` (as R's
        ``eba::kendall.u`` reads it). Every pair must be judged by the same
        ``m >= 2`` judges once each: ``a_ij + a_ji = m``. The diagonal must be
        zero or missing. A DataFrame's rows are matched to its columns by label.
    correct : bool, default True
        Subtract one from :math:`\Sigma` in the chi-square statistic (a
        continuity correction, as ``eba::kendall.u`` does by default).

    Returns
    -------
    KendallU

    Raises
    ------
    DataValidationError
        Not square, negative or non-integer counts, a non-zero diagonal, row
        and column labels that differ, or pairs judged by different numbers
        of judges.

    Notes
    -----
    With :math:`n` items, :math:`m` judges and
    :math:`\Sigma = \sum_{i \ne j} \binom{a_{ij}}{2}` (the number of pairs of
    judges who agree on a pair, summed over pairs),

    .. math::

       u = \frac{2\Sigma}{\binom{m}{2}\binom{n}{2}} - 1 .

    :math:`u = 1` when all judges agree on every pair. The test of Kendall &
    Babington Smith (1940) (also Kendall 1970, ch. 11) refers

    .. math::

       \chi^2 = \frac{4}{m - 2}\left(\Sigma - \frac{1}{2}\binom{n}{2}
       \binom{m}{2}\frac{m - 3}{m - 2}\right)

    to a chi-square distribution with
    :math:`\binom{n}{2} m(m - 1)/(m - 2)^2` degrees of freedom (upper tail).
    For :math:`m = 2`, :math:`\Sigma` is binomial with :math:`\binom{n}{2}`
    trials and probability 1/2, and the test is exact.

    References
    ----------
    Kendall, M. G. & Babington Smith, B. (1940). On the method of paired
    comparisons. *Biometrika*, 31(3/4), 324–345.
    Kendall, M. G. (1970). *Rank Correlation Methods*, 4th ed. Griffin.

    Examples
    --------
    Four judges, three items; every judge prefers ``x`` to ``y`` and ``y`` to
    ``z``, and they split on ``x`` against ``z``:

    >>> import pandas as pd
    >>> from prefstat.diagnostics import kendall_u
    >>> counts = pd.DataFrame([[0, 4, 2], [0, 0, 4], [2, 0, 0]],
    ...                       index=list("xyz"), columns=list("xyz"))
    >>> result = kendall_u(counts)
    >>> round(result.u, 4), round(result.min_u, 4), result.method
    (0.5556, -0.3333, 'chi2')
    """
    where = "kendall_u"
    a = _square_counts(matrix, where)
    n = a.shape[0]
    upper = np.triu_indices(n, 1)
    m_pairs = a[upper] + a.T[upper]
    if not np.all(m_pairs == m_pairs[0]):
        bad = np.flatnonzero(m_pairs != m_pairs[0])
        raise DataValidationError(
            f"{where}: Kendall's u needs every pair judged by the same number of judges "
            f"(a_ij + a_ji = m), but pair totals vary: {format_examples(sorted(set(m_pairs)))} "
            f"(e.g. pair {int(upper[0][bad[0]])}, {int(upper[1][bad[0]])}). Use agreement() "
            "for unbalanced designs."
        )
    m = int(m_pairs[0])
    if m < 2:
        raise DataValidationError(
            f"{where}: every pair was judged by {m} judge(s); agreement needs at least two."
        )
    n_pairs = comb(n, 2)
    sigma = float(sum(comb(int(x), 2) for x in a[~np.eye(n, dtype=bool)]))
    return _kendall_result(sigma, m, n_pairs, correct)


def _kendall_result(sigma: float, m: int, n_pairs: int, correct: bool) -> KendallU:
    u = 2 * sigma / (comb(m, 2) * n_pairs) - 1
    min_u = -1 / m if m % 2 else -1 / (m - 1)
    if m == 2:
        p = float(stats.binom.sf(sigma - 1, n_pairs, 0.5))
        return KendallU(u, min_u, sigma, float("nan"), p, "binomial", m, n_pairs, False)
    chi2 = 4 / (m - 2) * (sigma - int(correct)
                          - n_pairs / 2 * comb(m, 2) * (m - 3) / (m - 2))
    df = n_pairs * m * (m - 1) / (m - 2) ** 2
    return KendallU(u, min_u, chi2, df, float(stats.chi2.sf(chi2, df)), "chi2", m, n_pairs,
                    bool(correct))


# ------------------------------------------------------------- matrix helpers
def _pairable(N: np.ndarray, where: str) -> np.ndarray:
    keep = N.sum(axis=1) >= 2
    if not keep.any():
        raise EmptyDataError(
            f"{where}: no unit (row) has two or more labels, so there is no agreement to "
            "measure. Check the orientation: units in rows, raters in columns."
        )
    return N[keep]


def _warn_single_category(where: str) -> None:
    warnings.warn(
        f"{where}: every pairable label is in one category, so chance agreement is perfect "
        "and the coefficient is undefined (NaN). Percent agreement is the number to report.",
        DataWarning, stacklevel=3,
    )


def _with_categories(lm: st.LabelMatrix, categories: Sequence[Any], where: str
                     ) -> st.LabelMatrix:
    if isinstance(categories, (str, bytes)):
        raise DataValidationError(f"{where}: categories= must be a list, got {categories!r}.")
    order = pd.Index(list(categories))
    if order.has_duplicates:
        raise DataValidationError(
            f"{where}: categories= repeats {format_examples(order[order.duplicated()])}."
        )
    position = order.get_indexer(lm.categories)
    if (position < 0).any():
        raise DataValidationError(
            f"{where}: label(s) {format_examples(lm.categories[position < 0])} are not in "
            f"categories= ({format_examples(order)}); list every category."
        )
    codes = np.where(lm.codes >= 0, position[np.maximum(lm.codes, 0)], -1)
    numeric = bool(pd.api.types.is_numeric_dtype(pd.Series(list(order)).dtype))
    return st.LabelMatrix(codes.astype(np.intp), order, numeric)


def _numeric_values(categories: pd.Index, level: str, where: str) -> np.ndarray:
    try:
        values = np.asarray(categories, dtype=float)
    except (TypeError, ValueError) as err:
        raise DataValidationError(
            f"{where}: level={level!r} needs numeric values, got "
            f"{format_examples(categories, 3)}. Use level='nominal' or 'ordinal', or map the "
            "labels to numbers."
        ) from err
    if level == "ratio" and (values < 0).any():
        raise DataValidationError(
            f"{where}: level='ratio' needs values >= 0 (an absolute zero), got "
            f"{format_examples(values[values < 0], 3)}."
        )
    return values


def _square_counts(matrix: Any, where: str) -> np.ndarray:
    if isinstance(matrix, pd.DataFrame):
        if not matrix.index.equals(matrix.columns):
            if set(matrix.index) != set(matrix.columns) or matrix.index.has_duplicates:
                raise DataValidationError(
                    f"{where}: the row labels ({format_examples(matrix.index, 3)}) and column "
                    f"labels ({format_examples(matrix.columns, 3)}) must name the same items."
                )
            matrix = matrix.loc[matrix.columns]
        frame = matrix
    else:
        frame = pd.DataFrame(np.asarray(matrix))
    if frame.ndim != 2 or frame.shape[0] != frame.shape[1] or frame.shape[0] < 2:
        raise DataValidationError(
            f"{where}: matrix must be square with at least two items, got shape {frame.shape}."
        )
    if not all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
               for t in frame.dtypes):
        raise DataValidationError(f"{where}: matrix must hold numbers (counts of judges).")
    a = frame.to_numpy(dtype=float, copy=True)
    diagonal = np.diag(a).copy()
    if np.any(~np.isnan(diagonal) & (diagonal != 0)):
        raise DataValidationError(
            f"{where}: the diagonal must be zero or missing (an item is not compared with "
            f"itself), got {format_examples(diagonal[diagonal != 0], 3)}."
        )
    np.fill_diagonal(a, 0.0)
    if not np.isfinite(a).all() or (a < 0).any() or (a != np.round(a)).any():
        raise DataValidationError(
            f"{where}: off-diagonal cells must be counts (finite integers >= 0) of judges."
        )
    return a.astype(np.int64)


# =====================================================================================
# agreement() on a comparison table
# =====================================================================================
@dataclass(frozen=True)
class Agreement:
    """Result of :func:`agreement`.

    Attributes
    ----------
    statistics : pandas.DataFrame
        Indexed by statistic name (see :func:`agreement`), columns
        ``estimate, ci_lower, ci_upper`` (percentile bootstrap, clustered by
        unit), ``n_units`` (units that enter the statistic) and ``note`` (the
        convention, and the reason for any NaN).
    raters : pandas.DataFrame
        One row per rater: ``n_judgements``; ``n_shared`` (judgements on units
        judged more than once); ``loo_agreement`` (mean agreement with the
        mode of the other judgements of the unit); ``tie_rate``;
        ``n_decisive``; ``first_position_rate`` (share of decisive judgements
        won by the first-shown item) with ``position_p_value`` (exact
        two-sided binomial test of 1/2) and ``position_p_adjusted`` (Holm);
        ``circular_triads`` and ``triads_checked`` (within the rater's own
        majority verdicts); ``reliability`` (the mixture model's ``rho``),
        ``reliability_se`` and ``reliability_p_adjusted`` (Holm-adjusted
        one-sided test of ``rho >= min_reliability``); ``flagged``,
        ``reasons`` (why flagged) and ``note`` (why a value is missing, or
        why the rater was not assessed).
    suspects : pandas.DataFrame
        One row per judgement, indexed like the input table and sorted by
        ``p_suspect`` (highest first): ``rater, item_a, item_b, outcome``,
        ``unit`` (unit number), ``unit_judgements``, ``unit_agreement`` (share
        of the unit's other judgements with the same label), ``p_consensus``
        (probability of the recorded verdict under the consensus model),
        ``rater_reliability``, ``p_suspect`` (posterior probability that the
        label is random or flipped rather than drawn from the consensus) and
        ``suspect`` (``p_suspect`` at or above the threshold).
    accuracy_ceiling : pandas.DataFrame
        Indexed by ``rater_agreement``, ``majority_of_others`` and
        ``upper_bound``, with the columns of ``statistics``: how well any
        model can agree with held-out decisive labels (see Notes of
        :func:`agreement`).
    kendall_u_test : KendallU or None
        Kendall's test of agreement, where the design allows it.
    n_judgements, n_units, n_units_judged_once : int
        Rows, units, and units with a single judgement (excluded from every
        agreement statistic, kept in the mixture model).
    n_same_rater_pairs : int
        Pairs of judgements of one unit by the same rater (they count in the
        pairwise statistics like any other pair).
    conf_level : float
        Coverage of the bootstrap intervals.
    n_boot : int
        Bootstrap replicates (0: no intervals).
    thresholds : dict
        The thresholds used (defaults in :data:`DEFAULT_THRESHOLDS`).
    mixture : dict
        ``converged``, ``n_iter`` and ``loglik`` of the EM fit, and
        ``unit_concentration`` (``kappa``: how many judgements' worth the
        item-level consensus counts for against a unit's own judgements).
    notes : list of str
        Conventions and caveats, also shown by :meth:`summary`.
    """

    statistics: pd.DataFrame
    raters: pd.DataFrame
    suspects: pd.DataFrame
    accuracy_ceiling: pd.DataFrame
    kendall_u_test: KendallU | None
    n_judgements: int
    n_units: int
    n_units_judged_once: int
    n_same_rater_pairs: int
    conf_level: float
    n_boot: int
    thresholds: dict[str, float]
    mixture: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def flagged_raters(self) -> pd.DataFrame:
        """The rows of ``raters`` that are flagged."""
        return self.raters[self.raters["flagged"]]

    def summary(self) -> Summary:
        """Readable report: statistics, accuracy ceiling, flagged raters, top suspects.

        Returns
        -------
        Summary
            Renders as text (``print``) and as HTML in a notebook.
        """
        n_flagged = int(self.raters["flagged"].sum())
        facts: dict[str, object] = {
            "judgements": self.n_judgements,
            "raters": len(self.raters),
            "units": self.n_units,
            "units judged once (excluded)": self.n_units_judged_once,
            "same-rater pairs": self.n_same_rater_pairs,
            "bootstrap": (f"{self.n_boot} replicates, clustered by unit, "
                          f"{self.conf_level:.0%} percentile intervals")
            if self.n_boot else "none",
            "flagged raters": n_flagged,
            "suspect rows": int(self.suspects["suspect"].sum()),
            "mixture EM": ("converged" if self.mixture["converged"] else "NOT converged")
            + f" in {self.mixture['n_iter']} iterations",
        }
        tables = {
            "Agreement statistics": self.statistics,
            "Accuracy ceiling for a model of these labels": self.accuracy_ceiling,
        }
        if n_flagged:
            tables["Flagged raters"] = self.flagged_raters[["n_judgements", "reasons"]]
        tables["Most suspect rows"] = self.suspects.head(10)[
            ["rater", "item_a", "item_b", "outcome", "p_consensus", "p_suspect"]]
        return Summary("Rater agreement", facts, tables, list(self.notes))


def agreement(
    data: pd.DataFrame | ComparisonData,
    rater: str = "rater",
    unit: Hashable | Sequence[Hashable] | None = None,
    *,
    item_a: str = "item_a",
    item_b: str = "item_b",
    outcome: str = "outcome",
    n_boot: int = 1000,
    conf_level: float = 0.95,
    thresholds: Mapping[str, float] | None = None,
    penalty: float = 1e-3,
    max_iter: int = 500,
    random_state: int | np.random.Generator | None = None,
) -> Agreement:
    r"""Measure how much raters agree, which raters are unreliable, and which labels.

    Parameters
    ----------
    data : pandas.DataFrame or ComparisonData
        The canonical comparison table (see :mod:`prefstat.data`), one row per
        judgement (no weights), with a rater column. Nominal outcomes
        (``a, b, tie, tie_bothbad``) or a graded scale (an ordered
        categorical, see :func:`prefstat.convert.from_graded`).
    rater : str, default "rater"
        Column of the rater of each row.
    unit : hashable or sequence of hashable, optional
        Column(s) that, with the unordered item pair, identify the thing
        judged (a prompt, a question, a source row). Without it, every
        judgement of a pair is a judgement of the same unit.
    item_a, item_b, outcome : str
        Column names, as for :meth:`ComparisonData.from_frame`.
    n_boot : int, default 1000
        Bootstrap replicates for the intervals; units are resampled with
        replacement (a cluster bootstrap: judgements of one unit are not
        independent). 0 skips the intervals.
    conf_level : float, default 0.95
        Coverage of the percentile intervals.
    thresholds : mapping, optional
        Overrides of :data:`DEFAULT_THRESHOLDS` (``min_judgements``,
        ``min_reliability``, ``alpha``, ``position_min_effect``,
        ``max_tie_rate``, ``suspect_probability``).
    penalty : float, default 0.001
        Ridge penalty of the consensus Bradley–Terry model inside the
        mixture (keeps it finite when one item always wins).
    max_iter : int, default 500
        EM iterations at most. EM stops earlier when no row's posterior
        moves by more than 1e-4 in an iteration.
    random_state : int, numpy.random.Generator or None
        Seed or generator for the bootstrap.

    Returns
    -------
    Agreement

    Raises
    ------
    DataValidationError
        A weighted table, a missing unit label, or anything
        :meth:`ComparisonData.from_frame` rejects.
    MissingColumnError
        ``rater`` or a ``unit`` column is absent.
    InvalidParameterError
        An argument out of range or an unknown threshold name.

    Warns
    -----
    IdentifiabilityWarning
        The consensus model exists only because of its penalty (some items
        won or lost every comparison), recorded in ``notes``.
    ConvergenceWarning
        EM stopped at ``max_iter``, recorded in ``notes``.

    Notes
    -----
    Statistics (rows of ``statistics``; each averages over units judged at
    least twice, every unit weighted equally, and every pair of judgements
    within a unit weighted equally):

    ``percent_agreement``
        Share of pairs of judgements of a unit with the same label; a tie is
        a label like any other (Fleiss' :math:`\bar P`; MT-Bench's "with
        ties"). For a graded scale, the same level.
    ``percent_agreement_no_ties``
        The same over pairs in which both judgements are decisive (MT-Bench's
        "without ties"; units with fewer than two decisive judgements are
        left out).
    ``percent_agreement_ties_half``
        Pairs score :math:`1 - |s_i - s_j|` with :math:`s` = 1, 0 and 1/2 for
        "lower item preferred", "upper item preferred" and any tie: a tie
        against a decision counts 1/2.
    ``percent_agreement_direction`` (graded scales only)
        Agreement on the direction (lower preferred, upper preferred, tie),
        ignoring strength.
    ``unanimous``
        Share of units whose judgements all carry the same label.
    ``loo_mode_agreement``
        AlpacaEval's leave-one-out agreement: each judgement against the mode
        of the other judgements of its unit; when several labels tie for the
        mode, the judgement scores 1/(number of modes) if it is one of them
        (the expected score of a random tie-break, AlpacaEval's half credit
        for two). Averaged within units, then over units.
    ``fleiss_kappa``, ``krippendorff_alpha``
        As :func:`fleiss_kappa` and :func:`krippendorff_alpha` (nominal; for
        graded scales, ordinal on the levels) on the units × labels counts.
    ``kendall_u``
        :func:`kendall_u`, when every unit judged more than once has the
        same number ``m`` of judgements and none is a tie (Kendall's design);
        its test is in ``kendall_u_test``.

    Accuracy ceiling. Assume the labels of a unit are exchangeable: each is
    an independent draw from the unit's label distribution :math:`p_u`
    (raters are a random sample of the same population), and a model sees
    only the unit. Then no model's expected agreement with a held-out
    decisive label exceeds :math:`E_u \max(p_u, 1 - p_u)`, attained by
    always predicting each unit's majority. With :math:`A` the no-ties
    pairwise agreement (an unbiased estimate of
    :math:`E_u[p_u^2 + (1 - p_u)^2]`) and Jensen's inequality,

    .. math:: E_u \max(p_u, 1 - p_u) \le \tfrac12\left(1 + \sqrt{2A - 1}\right),

    reported as ``upper_bound``. ``rater_agreement`` (:math:`A` itself) is
    what a model that behaves like one more rater achieves;
    ``majority_of_others`` is the leave-one-out majority on decisive labels.
    "A model cannot beat inter-rater agreement" is true of the first, not of
    the majority predictor: the bound is the honest ceiling.

    Raters. Flags (``reasons`` lists each) use :data:`DEFAULT_THRESHOLDS`
    unless overridden; raters with fewer than ``min_judgements`` judgements
    are never flagged (``note`` says so). ``reliability`` comes from the
    noisy-rater mixture: each judgement is, with probability
    :math:`\rho_r`, a draw from the consensus Bradley–Terry model (order
    effect, Davidson ties when there are ties) and otherwise a content-blind
    answer with the rater's own probabilities of choosing the first-shown
    item, the second or a tie (Crowd-BT, Chen et al. 2013, with the
    adversarial flip replaced by a random answer), fitted by EM. Graded
    scales enter the mixture as their direction.

    Suspects. ``p_suspect`` is the posterior probability of the content-blind
    component. A label is detectable as flipped only when the consensus
    gives it a small probability: with flip rate :math:`f`, a flipped label
    whose consensus probability is :math:`1 - p` has posterior about
    :math:`f / (f + (1 - 2f)(1 - p))`, so flips on close pairs are
    indistinguishable from honest disagreement.

    Units judged once enter no agreement statistic (their count is in
    ``n_units_judged_once``) but do enter the mixture model. A statistic
    without any usable unit is NaN with the reason in ``note``.

    References
    ----------
    Chen, X., Bennett, P. N., Collins-Thompson, K. & Horvitz, E. (2013).
    Pairwise ranking aggregation in a crowdsourced setting. *WSDM '13*,
    193–202.
    Dubois, Y., Li, X., Taori, R., et al. (2023). AlpacaFarm: a simulation
    framework for methods that learn from human feedback. *NeurIPS 36*.
    Zheng, L., Chiang, W.-L., Sheng, Y., et al. (2023). Judging LLM-as-a-judge
    with MT-Bench and Chatbot Arena. *NeurIPS 36 (Datasets and Benchmarks)*.

    Examples
    --------
    Three raters judge the same three pairs; ``r3`` disagrees on one and calls
    a tie on another:

    >>> import pandas as pd
    >>> from prefstat.diagnostics import agreement
    >>> df = pd.DataFrame({
    ...     "item_a": ["x", "y", "x"] * 3,
    ...     "item_b": ["y", "z", "z"] * 3,
    ...     "outcome": ["a", "a", "b", "a", "a", "b", "b", "tie", "b"],
    ...     "rater": ["r1"] * 3 + ["r2"] * 3 + ["r3"] * 3})
    >>> result = agreement(df, n_boot=0)
    >>> result.statistics["estimate"].round(3)
    statistic
    percent_agreement              0.556
    percent_agreement_no_ties      0.778
    percent_agreement_ties_half    0.667
    unanimous                      0.333
    loo_mode_agreement             0.556
    fleiss_kappa                   0.250
    krippendorff_alpha             0.333
    kendall_u                        NaN
    Name: estimate, dtype: float64
    >>> result.statistics.loc["kendall_u", "note"]
    "not computed: 1 unit(s) have ties; Kendall's u is defined for forced choices"
    """
    limits = _check_arguments(n_boot, conf_level, thresholds, penalty, max_iter)
    rng = as_generator(random_state, "agreement")
    d, unit_cols = _encode(data, item_a, item_b, outcome, rater, unit)
    units = _Units.build(d, unit_cols)
    notes = _convention_notes(d, units, unit_cols)
    statistics, ceiling, test = _statistics(units, n_boot, conf_level, rng, notes)
    nominal = _nominal(d)
    fit = fit_noisy_raters(nominal, units.unit, units.direction[units.category],
                           float(penalty), int(max_iter))
    if fit.warnings:
        message = ("agreement: the consensus Bradley–Terry model of the mixture exists only "
                   f"because of its penalty ({fit.warnings[0]})")
        notes.append(message)
        warnings.warn(message, IdentifiabilityWarning, stacklevel=2)
    if not fit.converged:
        message = (f"agreement: the mixture's EM did not converge in {fit.n_iter} iterations; "
                   "the suspect probabilities may still move. Raise max_iter.")
        notes.append(message)
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    raters = _rater_table(d, nominal, units, fit, limits)
    suspects = _suspect_table(d, units, fit, limits["suspect_probability"])
    return Agreement(
        statistics=statistics, raters=raters, suspects=suspects, accuracy_ceiling=ceiling,
        kendall_u_test=test, n_judgements=d.n_rows, n_units=units.n_units,
        n_units_judged_once=int((units.m == 1).sum()),
        n_same_rater_pairs=units.same_rater_pairs, conf_level=float(conf_level),
        n_boot=int(n_boot), thresholds=limits,
        mixture={"converged": fit.converged, "n_iter": fit.n_iter, "loglik": fit.loglik,
                 "unit_concentration": fit.kappa},
        notes=notes,
    )


# ------------------------------------------------------------------ input
def _check_arguments(n_boot: Any, conf_level: Any, thresholds: Any, penalty: Any,
                     max_iter: Any) -> dict[str, float]:
    for name, value, low in (("n_boot", n_boot, 0), ("max_iter", max_iter, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise InvalidParameterError(
                f"agreement: {name} must be an integer >= {low}, got {value!r}."
            )
    if not isinstance(conf_level, (int, float)) or not 0 < conf_level < 1:
        raise InvalidParameterError(
            f"agreement: conf_level must be strictly between 0 and 1, got {conf_level!r}."
        )
    if (not isinstance(penalty, (int, float)) or isinstance(penalty, bool)
            or not np.isfinite(penalty) or penalty < 0):
        raise InvalidParameterError(
            f"agreement: penalty must be a finite number >= 0, got {penalty!r}."
        )
    limits = dict(DEFAULT_THRESHOLDS)
    if thresholds is not None:
        unknown = [k for k in thresholds if k not in DEFAULT_THRESHOLDS]
        if unknown:
            raise InvalidParameterError(
                f"agreement: unknown threshold(s) {format_examples(unknown)}; known: "
                f"{format_examples(DEFAULT_THRESHOLDS, 10)}."
            )
        for key, value in thresholds.items():
            if (not isinstance(value, (int, float, np.integer, np.floating))
                    or isinstance(value, bool) or not np.isfinite(value) or value < 0):
                raise InvalidParameterError(
                    f"agreement: threshold {key!r} must be a finite number >= 0, got {value!r}."
                )
            limits[key] = float(value)
    return limits


def _encode(data: Any, item_a: str, item_b: str, outcome: str, rater: Any, unit: Any
            ) -> tuple[ComparisonData, pd.DataFrame | None]:
    if rater is None:
        raise InvalidParameterError(
            "agreement: rater= must name the rater column; agreement compares raters."
        )
    d = as_comparison_data(data, item_a=item_a, item_b=item_b, outcome=outcome, rater=rater)
    if d.rater is None:
        raise InvalidParameterError(
            "agreement: the ComparisonData has no rater column; encode it with "
            "ComparisonData.from_frame(..., rater='<column>')."
        )
    if d.weighted:
        raise DataValidationError(
            "agreement: the table is weighted; agreement needs one row per judgement. Expand "
            "aggregated rows (e.g. df.loc[df.index.repeat(df['weight'])]) first."
        )
    if unit is None:
        return d, None
    names = [unit] if isinstance(unit, str) or not isinstance(unit, Sequence) else list(unit)
    contest = d.contest if d.contest is not None else pd.DataFrame(index=d.rows)
    absent = [c for c in names if c not in contest.columns]
    if absent:
        used = {k: v for k, v in d.columns.items() if v is not None}
        clash = [c for c in absent if c in used.values()]
        detail = (f"; {format_examples(clash)} already serve(s) as "
                  + ", ".join(f"{k}=" for k, v in used.items() if v in clash)) if clash else ""
        raise MissingColumnError(
            f"agreement: unit column(s) {format_examples(absent)} are not in the table"
            f"{detail}. Available: {format_examples(contest.columns, 10)}."
        )
    cols = contest[names]
    missing = cols.isna().any(axis=1).to_numpy()
    if missing.any():
        raise DataValidationError(
            f"agreement: the unit column(s) {format_examples(names)} are missing in "
            f"{int(missing.sum())} row(s): {format_examples(d.rows[missing])}. Every judgement "
            "needs its unit; fill or drop those rows first."
        )
    return d, cols


@dataclass(frozen=True)
class _Units:
    """Units, the oriented label of every row, and the unit × category counts."""

    unit: np.ndarray          # unit code of every row
    category: np.ndarray      # oriented category code of every row
    counts: np.ndarray        # (n_units, n_categories)
    direction: np.ndarray     # category -> 0 lower preferred, 1 upper, 2 tie
    score: np.ndarray         # category -> 1, 0, 1/2
    graded: bool
    same_rater_pairs: int

    @property
    def n_units(self) -> int:
        return int(self.counts.shape[0])

    @property
    def m(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    @classmethod
    def build(cls, d: ComparisonData, unit_cols: pd.DataFrame | None) -> _Units:
        lower, upper = np.minimum(d.a, d.b), np.maximum(d.a, d.b)
        keys = [lower, upper]
        if unit_cols is not None:
            for c in unit_cols.columns:
                keys.append(pd.factorize(unit_cols[c], sort=False)[0])
        _, unit = np.unique(np.column_stack(keys), axis=0, return_inverse=True)
        unit = unit.ravel()
        swapped = d.a > d.b
        if d.grade is not None:
            assert d.grade_levels is not None
            k = d.grade_levels.size
            position = _grade_position(d.grade, k)
            category = np.where(swapped, k - 1 - position, position)
            # Levels run from the strongest preference for the first item; an odd scale's
            # middle level is the tie.
            level, middle = np.arange(k), (k - 1) / 2
            direction = np.where(level < middle, _LOWER, np.where(level > middle, _UPPER, _TIE))
        else:
            # Categories a, b, tie, tie_bothbad read as "lower item preferred", ...
            swap = np.array([enc.B_WINS, enc.A_WINS, enc.TIE, enc.TIE_BOTHBAD])
            category = np.where(swapped, swap[d.outcome], d.outcome)
            direction = np.array([_LOWER, _UPPER, _TIE, _TIE])
            k = len(enc.OUTCOME_NAMES)
        counts = np.zeros((int(unit.max()) + 1, k))
        np.add.at(counts, (unit, category), 1.0)
        assert d.rater is not None
        per_rater = np.unique(np.column_stack([unit, d.rater]), axis=0, return_counts=True)[1]
        score = np.array([1.0, 0.0, 0.5])[direction]
        return cls(unit=unit, category=category.astype(np.intp), counts=counts,
                   direction=direction, score=score, graded=d.grade is not None,
                   same_rater_pairs=int((per_rater * (per_rater - 1) // 2).sum()))

    def direction_counts(self) -> np.ndarray:
        """(n_units, 3): lower preferred, upper preferred, tie."""
        return self.counts @ np.eye(3)[self.direction]


def _nominal(d: ComparisonData) -> ComparisonData:
    """Reduce graded outcomes to their direction (the mixture's input)."""
    return replace(d, grade=None, grade_levels=None)


def _convention_notes(d: ComparisonData, units: _Units, unit_cols: pd.DataFrame | None
                      ) -> list[str]:
    unit_text = ("the unordered item pair" if unit_cols is None else
                 "the unordered item pair and " + format_examples(unit_cols.columns))
    notes = [
        f"A unit is {unit_text}; verdicts are read relative to the item that sorts first, so "
        "the same pair shown in either order is the same unit.",
        "Every statistic averages over units judged at least twice, each unit weighted "
        "equally and each pair of judgements within a unit weighted equally.",
    ]
    if units.graded:
        assert d.grade_levels is not None
        notes.append(
            f"Graded scale ({d.grade_levels.size} levels): percent_agreement and the kappa / "
            "alpha use the levels (alpha ordinal); the no-ties, ties-half and direction "
            "conventions, the raters' position and tie rates and the mixture model use the "
            "direction of each grade."
        )
    once = int((units.m == 1).sum())
    if once:
        notes.append(f"{once} unit(s) were judged once: no agreement statistic uses them; the "
                     "mixture model does.")
    if units.same_rater_pairs:
        notes.append(
            f"{units.same_rater_pairs} pair(s) of judgements of one unit come from the same "
            "rater; they count as pairs like any other (intra-rater repeats)."
        )
    return notes


# ------------------------------------------------------------ statistics
@dataclass(frozen=True)
class _Kernel:
    """One statistic: a function of replicate weights over units, and its unit count."""

    compute: Any
    n_units: int
    note: str


def _statistics(units: _Units, n_boot: int, conf_level: float, rng: np.random.Generator,
                notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, KendallU | None]:
    multi = units.m >= 2
    N = units.counts[multi]
    D = units.direction_counts()[multi]
    N2 = D[:, :2]
    n_multi = int(multi.sum())
    kernels: dict[str, _Kernel] = {}
    ceiling: dict[str, _Kernel] = {}

    def per_unit(name: str, values: np.ndarray, note: str, into: dict[str, _Kernel]) -> None:
        into[name] = _Kernel(lambda W, v=values: st.unit_mean(W, v),
                             int((~np.isnan(values)).sum()), note)

    C = N.shape[1]
    per_unit("percent_agreement", st.pairwise_rate(N, np.eye(C)),
             "same label; a tie is a label" + (" (graded: same level)" if units.graded else ""),
             kernels)
    no_ties = st.pairwise_rate(N2, np.eye(2))
    per_unit("percent_agreement_no_ties", no_ties, "pairs of decisive judgements only",
             kernels)
    half = 1 - np.abs(np.subtract.outer(units.score, units.score))
    per_unit("percent_agreement_ties_half", st.pairwise_rate(N, half),
             "a tie against a decision scores 1/2", kernels)
    if units.graded:
        per_unit("percent_agreement_direction", st.pairwise_rate(D, np.eye(3)),
                 "same direction (lower, upper, tie), any strength", kernels)
    per_unit("unanimous", (N.max(axis=1) == N.sum(axis=1)).astype(float),
             "every judgement of the unit has the same label", kernels)
    per_unit("loo_mode_agreement", st.unit_loo_mode(N),
             "each judgement vs the mode of the others; tied modes score 1/(number of modes)",
             kernels)
    kernels["fleiss_kappa"] = _Kernel(lambda W: st.fleiss_kappa_replicates(W, N), n_multi,
                                      "chance-corrected; category shares pooled over units")
    level = "ordinal" if units.graded else "nominal"
    O_flat = st.coincidences(N)
    kernels["krippendorff_alpha"] = _Kernel(
        lambda W: st.krippendorff_replicates(W, O_flat, level, None), n_multi,
        f"{level} difference function")
    test, u_note = _kendall_design(N, D)
    if test is not None:
        sigma = st.kendall_sigma(N2)
        m = test.n_judges
        kernels["kendall_u"] = _Kernel(lambda W: st.kendall_u_replicates(W, sigma, m),
                                       n_multi, u_note)
    else:
        kernels["kendall_u"] = _Kernel(None, 0, u_note)
    per_unit("rater_agreement", no_ties,
             "no-ties pairwise agreement: a model that behaves like one more rater", ceiling)
    per_unit("majority_of_others", st.unit_loo_mode(N2),
             "each decisive label vs the majority of the other decisive labels", ceiling)
    boot = _bootstrap(kernels | ceiling, n_multi, n_boot, rng)
    statistics = _table(kernels, boot, conf_level, n_multi)
    table = _table(ceiling, boot, conf_level, n_multi)
    bound = table.loc["rater_agreement", ["estimate", "ci_lower", "ci_upper"]]
    table.loc["upper_bound"] = [*_ceiling_bound(bound.to_numpy(dtype=float)),
                                table.loc["rater_agreement", "n_units"],
                                "(1 + sqrt(2A - 1)) / 2 with A = rater_agreement (Jensen); "
                                "assumes exchangeable raters"]
    if n_multi == 0:
        notes.append("No unit was judged twice: there is no agreement to measure (every "
                     "statistic is NaN). Pass unit= only if the same unit is judged by "
                     "several raters.")
    return statistics, table, test


def _ceiling_bound(a: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (1 + np.sqrt(np.clip(2 * a - 1, 0, None))) / 2


def _kendall_design(N: np.ndarray, D: np.ndarray) -> tuple[KendallU | None, str]:
    if len(N) == 0:
        return None, "not computed: no unit judged twice"
    m = N.sum(axis=1)
    if np.any(D[:, 2] > 0):
        n_tied = int((D[:, 2] > 0).sum())
        return None, (f"not computed: {n_tied} unit(s) have ties; Kendall's u is defined for "
                      "forced choices")
    if not np.all(m == m[0]):
        return None, (f"not computed: units have {int(m.min())} to {int(m.max())} "
                      "judgements; Kendall's u needs the same number m on every unit")
    sigma = float(st.kendall_sigma(D[:, :2]).sum())
    test = _kendall_result(sigma, int(m[0]), len(N), correct=True)
    return test, (f"m = {test.n_judges} judgements per unit; test in kendall_u_test "
                  f"({test.method})")


def _bootstrap(kernels: dict[str, _Kernel], n_units: int, n_boot: int,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    out: dict[str, list[np.ndarray]] = {name: [] for name in kernels}
    if n_boot == 0 or n_units == 0:
        return {name: np.empty(0) for name in kernels}
    block = max(1, _BLOCK_CELLS // n_units)
    done = 0
    while done < n_boot:
        size = min(block, n_boot - done)
        W = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=size).astype(float)
        for name, kernel in kernels.items():
            if kernel.compute is not None:
                out[name].append(kernel.compute(W))
        done += size
    return {name: np.concatenate(v) if v else np.empty(0) for name, v in out.items()}


def _table(kernels: dict[str, _Kernel], boot: dict[str, np.ndarray], conf_level: float,
           n_multi: int) -> pd.DataFrame:
    rows = {}
    tail = (1 - conf_level) / 2
    for name, kernel in kernels.items():
        estimate = np.nan
        note = kernel.note
        if kernel.compute is not None and n_multi:
            estimate = float(kernel.compute(np.ones((1, n_multi)))[0])
        if kernel.compute is not None and np.isnan(estimate):
            note += ("; NaN: no usable unit" if kernel.n_units == 0 else
                     "; NaN: every judgement is in one category (chance agreement is 1)")
        reps = boot.get(name, np.empty(0))
        reps = reps[~np.isnan(reps)]
        lo, hi = (np.quantile(reps, [tail, 1 - tail]) if reps.size and not np.isnan(estimate)
                  else (np.nan, np.nan))
        rows[name] = {"estimate": estimate, "ci_lower": float(lo), "ci_upper": float(hi),
                      "n_units": kernel.n_units, "note": note}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "statistic"
    return frame


# ------------------------------------------------------------------ raters
def _rater_table(d: ComparisonData, nominal: ComparisonData, units: _Units, fit: Any,
                 limits: dict[str, float]) -> pd.DataFrame:
    assert d.rater is not None and d.raters is not None
    R = d.n_raters
    r = d.rater
    n = np.bincount(r, minlength=R).astype(float)
    shared = units.m[units.unit] >= 2
    loo = st.loo_mode_scores(units.counts)[units.unit, units.category]
    n_shared = np.bincount(r[shared], minlength=R)
    loo_sum = np.bincount(r[shared], loo[shared], R)
    direction = units.direction[units.category]
    ties = np.bincount(r, direction == _TIE, R)
    decisive = nominal.outcome <= enc.B_WINS
    n_dec = np.bincount(r, decisive, R)
    first = np.bincount(r, decisive & (nominal.outcome == enc.A_WINS), R)
    with np.errstate(invalid="ignore", divide="ignore"):
        loo_rate = np.where(n_shared > 0, loo_sum / np.maximum(n_shared, 1), np.nan)
        first_rate = np.where(n_dec > 0, first / np.maximum(n_dec, 1), np.nan)
    p_raw = np.array([stats.binomtest(int(k), int(t)).pvalue if t > 0 else np.nan
                      for k, t in zip(first, n_dec)])
    assessed = n >= limits["min_judgements"]
    tested = assessed & (n_dec > 0)
    p_adj = _holm(p_raw, tested)
    # One-sided Wald test of H0: rho >= min_reliability.
    z = (fit.reliability - limits["min_reliability"]) / fit.reliability_se
    rho_adj = _holm(stats.norm.cdf(z), assessed)
    triads, checked = _rater_triads(nominal)
    table = pd.DataFrame({
        "n_judgements": n.astype(np.int64),
        "n_shared": n_shared.astype(np.int64),
        "loo_agreement": loo_rate,
        "tie_rate": ties / n,
        "n_decisive": n_dec.astype(np.int64),
        "first_position_rate": first_rate,
        "position_p_value": p_raw,
        "position_p_adjusted": p_adj,
        "circular_triads": triads,
        "triads_checked": checked,
        "reliability": fit.reliability,
        "reliability_se": fit.reliability_se,
        "reliability_p_adjusted": rho_adj,
    }, index=pd.Index(d.raters, name="rater"))
    reasons, notes = [], []
    for k in range(R):
        row = table.iloc[k]
        why: list[str] = []
        note: list[str] = []
        if not assessed[k]:
            note.append(f"not assessed: {int(n[k])} judgement(s) < min_judgements="
                        f"{limits['min_judgements']:g}")
        else:
            why.extend(_flags(row, limits))
        if n_shared[k] == 0:
            note.append("loo_agreement NaN: no judgement on a unit judged more than once")
        if n_dec[k] == 0:
            note.append("position rate NaN: no decisive judgement")
        if checked[k] == 0:
            note.append("circular_triads NaN: no three items with all three pairs decided")
        reasons.append("; ".join(why))
        notes.append("; ".join(note))
    table["flagged"] = [bool(x) for x in reasons]
    table["reasons"] = reasons
    table["note"] = notes
    return table


def _holm(p: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values over the members of ``family`` (NaN elsewhere)."""
    out = np.full(p.shape, np.nan)
    keep = family & ~np.isnan(p)
    if keep.any():
        out[keep] = multipletests(p[keep], method="holm")[1]
    return out


def _flags(row: pd.Series, limits: dict[str, float]) -> list[str]:
    why = []
    if row["reliability_p_adjusted"] < limits["alpha"]:
        why.append(f"low reliability: follows the consensus in an estimated "
                   f"{row['reliability']:.0%} of judgements (below {limits['min_reliability']:g}"
                   f", Holm p = {row['reliability_p_adjusted']:.2g})")
    rate, p_adj = row["first_position_rate"], row["position_p_adjusted"]
    if (not np.isnan(p_adj) and p_adj < limits["alpha"]
            and abs(rate - 0.5) >= limits["position_min_effect"]):
        why.append(f"position bias: first-shown item chosen in {rate:.0%} of "
                   f"{int(row['n_decisive'])} decisive judgements (Holm p = {p_adj:.2g})")
    if row["tie_rate"] >= limits["max_tie_rate"]:
        why.append(f"ties in {row['tie_rate']:.0%} of judgements")
    return why


def _rater_triads(nominal: ComparisonData) -> tuple[np.ndarray, np.ndarray]:
    """Circular triads among each rater's own majority verdicts (NaN where none checked).

    The conventions of :func:`~prefstat.diagnostics.transitivity` (``by="rater"``):
    a pair's verdict goes to the item with more wins, ties never decide, and
    only triples whose three pairs have a verdict are checked. Its triangle
    counter is used directly, without the feedback arc set that
    ``transitivity`` also computes.
    """
    pc = nominal.pair_counts(ordered=False, by_rater=True)
    assert pc.rater is not None
    margin = pc.counts[:, enc.A_WINS] - pc.counts[:, enc.B_WINS]
    verdict = np.sign(margin).astype(np.int8)
    triads = np.full(nominal.n_raters, np.nan)
    checked = np.zeros(nominal.n_raters, dtype=np.int64)
    for r in np.unique(pc.rater):
        mine = pc.rater == r
        _, decided, cycles = count_triangles(nominal.n_items, pc.first[mine], pc.second[mine],
                                             verdict[mine])
        checked[r] = decided
        triads[r] = cycles if decided else np.nan
    return triads, checked


# ---------------------------------------------------------------- suspects
def _suspect_table(d: ComparisonData, units: _Units, fit: Any, threshold: float
                   ) -> pd.DataFrame:
    assert d.rater is not None and d.raters is not None
    if d.grade is not None:
        assert d.grade_levels is not None
        labels = d.grade_levels[_grade_position(d.grade, d.grade_levels.size)]
    else:
        labels = pd.Index(enc.OUTCOME_NAMES)[d.outcome]
    m = units.m[units.unit]
    same = units.counts[units.unit, units.category] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_agreement = np.where(m >= 2, same / np.maximum(m - 1, 1), np.nan)
    table = pd.DataFrame({
        "rater": d.raters[d.rater],
        "item_a": d.items[d.a],
        "item_b": d.items[d.b],
        "outcome": np.asarray(labels, dtype=object),
        "unit": units.unit,
        "unit_judgements": m.astype(np.int64),
        "unit_agreement": unit_agreement,
        "p_consensus": fit.p_consensus,
        "rater_reliability": fit.reliability[d.rater],
        "p_suspect": fit.p_random,
    }, index=d.rows)
    table["suspect"] = table["p_suspect"] >= threshold
    return table.sort_values("p_suspect", ascending=False, kind="stable")
