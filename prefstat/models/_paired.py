"""The paired-comparison engine shared by Bradley–Terry and Thurstone models.

Data path: ``ComparisonData`` → ``pair_counts`` (sufficient statistics) →
likelihood kernel (``_likelihood``) → Newton / Fisher scoring (``_solvers``) →
Wald inference (``inference``). A model variant adds a kernel, not a pipeline.

Parametrisation. ``theta = (lambda_1..lambda_n, [order_effect], [tie])``. The
linear predictor of a cell with first-shown item ``i`` and second ``j`` is
``d = lambda_i - lambda_j (+ order_effect)``. Without a penalty the item
strengths are identified only up to a common shift; the solver fixes one
internal pivot item at 0 and the reported identification (sum to zero, or a
named reference item at 0) is applied afterwards as a linear map, with the
covariance transformed by the delta method (exact for a linear map).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, sparse, special

from .. import _likelihood as lik
from .._approx_cov import approximate_covariance
from .._encoding import TIE, TIE_BOTHBAD
from .._inputs import as_comparison_data
from .._report import Summary
from .._solvers import NewtonResult, newton, spd_inverse
from ..data import OUTCOMES, ComparisonData, PairCounts
from ..diagnostics.connectivity import Connectivity, connectivity_from_counts, order_levels
from ..exceptions import (
    ConvergenceWarning,
    FeatureDimensionError,
    IdentifiabilityWarning,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidParameterError,
    MissingFeaturesError,
    NonFiniteFeaturesError,
    NotIdentifiableError,
    format_examples,
)
from ..inference import identify_items, wald_table
from ._fitted import FittedModelMixin

# Above this many free parameters the information matrix is kept sparse.
_DENSE_MAX = 2500
# A logit-scale estimate this large means an odds ratio beyond e^25: separation.
_DIVERGENCE = 25.0

# What to do about an order effect confounded with the item strengths.
_ORDER_REMEDY = ("Fit without order_effect=True (the strengths then include any advantage of "
                 "the position they were shown in), collect comparisons with the order "
                 "randomised (one pair shown in both orders is enough), or pass "
                 "penalty=<positive number> (the order effect then depends on the penalty).")

_RE_METHODS = ("laplace", "pql")
_COV_TYPES = ("model", "robust", "cluster")

_TIE_NAMES = {"davidson": "log_nu", "rao-kupper": "log_theta"}
# Scale of a log win ratio on each kernel's linear predictor (probit: about 1 / 1.7;
# Davidson: P(a) / P(b) = exp(d)). Only a starting value: the fit does not depend on it.
_START_SCALE = {"logit": 1.0, "probit": 0.6, "davidson": 1.0, "rao-kupper": 1.0}


@dataclass
class _Layout:
    """Where each parameter sits in theta, and which are free in the solver.

    ``theta = (lambda_1..lambda_n, [order_effect], [tie], beta_1..beta_p,
    gamma_1..gamma_q)``: item strengths, then the border parameters (order
    effect, tie parameter, item-feature coefficients ``beta``, contest
    coefficients ``gamma``). ``fixed_items`` marks items whose own parameter
    is held at 0 (items whose strength is ``x_i beta`` alone).
    """

    n_items: int
    order_effect: bool
    tie: bool
    pivot: int | None
    n_features: int = 0
    n_contest: int = 0
    fixed_items: np.ndarray | None = None

    @property
    def size(self) -> int:
        return self.feature_index + self.n_features + self.n_contest

    @property
    def order_index(self) -> int:
        return self.n_items

    @property
    def tie_index(self) -> int:
        return self.n_items + int(self.order_effect)

    @property
    def feature_index(self) -> int:
        """Position of the first item-feature coefficient."""
        return self.n_items + int(self.order_effect) + int(self.tie)

    @property
    def contest_index(self) -> int:
        """Position of the first contest coefficient."""
        return self.feature_index + self.n_features

    def free(self) -> np.ndarray:
        mask = np.ones(self.size, dtype=bool)
        if self.pivot is not None:
            mask[self.pivot] = False
        if self.fixed_items is not None:
            mask[:self.n_items] &= ~self.fixed_items
        return mask


@dataclass
class _Design:
    """Dense design columns beyond the item strengths.

    ``features`` (n_items x p) are the item features (zero rows for items
    without: their strength is a free parameter); the cell design column of
    ``beta_k`` is ``features[first, k] - features[second, k]``, applied
    through the item Laplacian, never formed. ``contest`` (n_cells x q) holds
    the contest columns of every cell, which enter ``d`` as they are.
    ``pattern`` is the CSR structure of the item Laplacian (no pivot).
    """

    features: np.ndarray
    contest: np.ndarray
    pattern: _LaplacianPattern | None = None


class _Problem:
    """One likelihood to maximise: a kernel on fixed cells, with a parameter layout.

    Counts are passed to :meth:`solve`, so the same problem refits reweighted
    counts (bootstrap, cross-validation) without rebuilding anything.

    ``penalty`` is a ridge ``penalty / 2 * |lambda|^2`` on the item strengths
    (a number), or one ridge weight per parameter (an array of ``layout.size``:
    feature coefficients, random effects ``1 / sigma^2``). ``free`` overrides
    the layout's free parameters, and ``base`` holds the values of the others
    (0 unless set), so a problem can hold some coefficients at given values.
    """

    def __init__(self, kernel: lik.Kernel, first: np.ndarray, second: np.ndarray,
                 layout: _Layout, penalty: float | np.ndarray,
                 design: _Design | None = None, free: np.ndarray | None = None) -> None:
        self.kernel = kernel
        self.first = first
        self.second = second
        self.layout = layout
        self.design = design
        self.ridge = np.zeros(layout.size)
        if np.ndim(penalty):
            self.ridge[:] = penalty
        else:
            self.ridge[:layout.n_items] = penalty
        self.free = layout.free() if free is None else free
        self.base = np.zeros(layout.size)
        self.dense = int(self.free.sum()) <= _DENSE_MAX
        self.pattern = None if self.dense else _LaplacianPattern(first, second, layout,
                                                                 self.free)
        self.cells = (_DenseCells(first, second, self.free[:layout.n_items]) if self.dense
                      else None)

    def start(self, counts: np.ndarray) -> np.ndarray:
        """Starting values of the free parameters: zeros, the tie share for tau."""
        theta0 = self.base.copy()
        if self.kernel.has_tie:
            theta0[self.layout.tie_index] = self.kernel.start_tau(
                float(counts[:, 2].sum() / counts.sum()))
        return theta0[self.free]

    def warm_start(self, counts: np.ndarray) -> np.ndarray:
        """:meth:`start`, or the smoothed log win ratios where they fit better.

        An item's ``log((wins + 1/2) / (losses + 1/2))`` (on the kernel's scale,
        less the pivot's) is close to its strength when opponents are mixed, and
        saves Newton steps from zero. Kept only if its objective beats the zero
        start's, so it can never make the start worse.
        """
        x0 = self.start(counts)
        layout = self.layout
        if layout.n_features or layout.n_contest or self.design is not None:
            return x0
        n, first, second = layout.n_items, self.first, self.second
        won_a, won_b = counts[:, 0], counts[:, 1]
        if self.kernel.has_tie:
            won_a, won_b = won_a + counts[:, 2] / 2, won_b + counts[:, 2] / 2
        wins = np.bincount(first, won_a, n) + np.bincount(second, won_b, n)
        losses = np.bincount(first, won_b, n) + np.bincount(second, won_a, n)
        eta = np.log((wins + 0.5) / (losses + 0.5)) * _START_SCALE[self.kernel.name]
        if layout.pivot is not None:
            eta -= eta[layout.pivot]
        theta = self.full(x0)
        theta[:n] = np.where(self.free[:n], eta, theta[:n])
        warm = theta[self.free]
        if self.objective(warm, False, counts)[0] > self.objective(x0, False, counts)[0]:
            return warm
        return x0

    def full(self, x: np.ndarray) -> np.ndarray:
        """All parameters: ``x`` in the free places, ``base`` (0 by default) elsewhere."""
        theta = self.base.copy()
        theta[self.free] = x
        return theta

    def strengths(self, theta: np.ndarray) -> np.ndarray:
        """Item strengths ``lambda_i + x_i beta``."""
        layout = self.layout
        eta = theta[:layout.n_items]
        if self.design is not None and layout.n_features:
            fs = layout.feature_index
            eta = eta + self.design.features @ theta[fs:fs + layout.n_features]
        return eta

    def linear(self, theta: np.ndarray) -> np.ndarray:
        """Linear predictor d of every cell."""
        eta = self.strengths(theta)
        lin = eta[self.first] - eta[self.second]
        if self.layout.order_effect:
            lin = lin + theta[self.layout.order_index]
        if self.design is not None and self.layout.n_contest:
            cs = self.layout.contest_index
            lin = lin + self.design.contest @ theta[cs:cs + self.layout.n_contest]
        return lin

    def objective(self, x: np.ndarray, derivatives: bool,
                  counts: np.ndarray) -> tuple[float, Any, Any]:
        """Penalised log-likelihood, its gradient and information in the free parameters."""
        layout, ridge = self.layout, self.ridge
        theta = self.full(x)
        tau = theta[layout.tie_index] if layout.tie else 0.0
        terms = lik.evaluate(self.kernel, counts, self.linear(theta), tau, derivatives)
        value = terms.loglik - 0.5 * float(theta @ (ridge * theta))
        if not derivatives:
            return value, None, None
        grad, parts = _info_parts(terms, self.first, self.second, layout, self.design)
        grad -= ridge * theta
        free = self.free
        if not self.dense:
            return value, grad[free], _InfoOperator(parts, free, ridge, self.pattern)
        info = parts.restricted(free, self.cells)
        info[np.diag_indices_from(info)] += ridge[free]
        return value, grad[free], info

    def solve(self, counts: np.ndarray, x0: np.ndarray, bias_reduction: bool,
              max_iter: int, tol: float) -> NewtonResult:
        """Maximise the (penalised or bias-reduced) likelihood of ``counts`` from ``x0``."""

        def fun(x: np.ndarray, derivatives: bool,
                cell_counts: np.ndarray = counts) -> tuple[float, Any, Any]:
            return self.objective(x, derivatives, cell_counts)

        if bias_reduction:
            return _firth(fun, counts, self.first, self.second, self.layout, self.free, x0,
                          max_iter, self.dense)
        return newton(fun, x0, max_iter, tol)


class PairedComparisonModel(FittedModelMixin):
    """Shared implementation of :class:`BradleyTerry` and :class:`Thurstone`."""

    _link = "logit"

    def __init__(
        self,
        *,
        ties: str | None = None,
        tie_handling: str | None = None,
        order_effect: bool = False,
        penalty: float | str = 0.0,
        reference: Any = None,
        bias_reduction: bool = False,
        item_random_effect: bool = False,
        random_effect_method: str = "laplace",
        cov_type: str = "model",
        cv_folds: int = 5,
        cv_penalties: Sequence[float] | None = None,
        random_state: Any = None,
        conf_level: float = 0.95,
        max_iter: int = 100,
        tol: float = 1e-20,
        se_method: str = "auto",
    ) -> None:
        self.ties = ties
        self.tie_handling = tie_handling
        self.order_effect = order_effect
        self.penalty = penalty
        self.reference = reference
        self.bias_reduction = bias_reduction
        self.item_random_effect = item_random_effect
        self.random_effect_method = random_effect_method
        self.cov_type = cov_type
        self.cv_folds = cv_folds
        self.cv_penalties = cv_penalties
        self.random_state = random_state
        self.conf_level = conf_level
        self.max_iter = max_iter
        self.tol = tol
        self.se_method = se_method

    # ----------------------------------------------------------- parameters
    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, as passed to ``__init__``."""
        return {k: getattr(self, k) for k in (
            "ties", "tie_handling", "order_effect", "penalty", "reference",
            "bias_reduction", "item_random_effect", "random_effect_method", "cov_type",
            "cv_folds", "cv_penalties", "random_state", "conf_level", "max_iter", "tol",
            "se_method")}

    def __repr__(self) -> str:
        defaults = PairedComparisonModel().get_params()
        changed = {k: v for k, v in self.get_params().items() if not _same(v, defaults[k])}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"

    def _kernel(self) -> lik.Kernel:
        name = self._link if self.ties is None else self.ties
        return lik.KERNELS[name]

    def _penalised(self) -> bool:
        return self.penalty == "cv" or self.penalty > 0

    def _check_params(self) -> None:
        if self.ties not in (None, "davidson", "rao-kupper"):
            raise InvalidParameterError(
                f"ties={self.ties!r} is not a ties model; use None, 'davidson' or 'rao-kupper'."
            )
        if self.ties is not None and self._link != "logit":
            raise InvalidParameterError(
                f"ties={self.ties!r} is a Bradley–Terry (logit) ties model; {type(self).__name__} "
                "supports ties only by tie_handling='half'. Use BradleyTerry for a ties model."
            )
        if self.tie_handling not in (None, "half"):
            raise InvalidParameterError(
                f"tie_handling={self.tie_handling!r}; the only tie handling without a ties "
                "model is 'half' (a tie counts half a win for each side, BradleyTerry2's *.adj)."
            )
        if self.ties is not None and self.tie_handling is not None:
            raise InvalidParameterError(
                "pass either ties= (model the ties) or tie_handling='half' (split them), not both."
            )
        if isinstance(self.penalty, str):
            if self.penalty != "cv":
                raise InvalidParameterError(
                    f"penalty={self.penalty!r}; pass a number >= 0, or 'cv' to choose it by "
                    "cross-validation."
                )
        elif not (isinstance(self.penalty, (int, float, np.number))
                  and not isinstance(self.penalty, bool)
                  and np.isfinite(self.penalty) and self.penalty >= 0):
            raise InvalidParameterError(
                f"penalty must be a finite number >= 0 (or 'cv'), got {self.penalty!r}."
            )
        if self.bias_reduction and (self._link != "logit" or self.ties is not None):
            raise InvalidParameterError(
                "bias_reduction=True is implemented for the Bradley–Terry logit model without a "
                "ties model (ties=None, tie handling 'half' allowed)."
            )
        if self.bias_reduction and self._penalised():
            raise InvalidParameterError("choose one of penalty > 0 and bias_reduction=True.")
        if self.se_method not in ("auto", "exact", "approx"):
            raise InvalidParameterError(
                f"se_method={self.se_method!r}; use 'auto', 'exact' or 'approx'."
            )
        if not 0 < self.conf_level < 1:
            raise InvalidParameterError(
                f"conf_level must be strictly between 0 and 1, got {self.conf_level!r}."
            )
        if self.random_effect_method not in _RE_METHODS:
            raise InvalidParameterError(
                f"random_effect_method={self.random_effect_method!r}; use 'laplace' (the "
                "approximate marginal likelihood) or 'pql' (BradleyTerry2's glmmPQL)."
            )
        if self.cov_type not in _COV_TYPES:
            raise InvalidParameterError(
                f"cov_type={self.cov_type!r}; use 'model' (inverse information), 'robust' "
                "(sandwich, per judgement) or 'cluster' (with fit(..., clusters='<column>'))."
            )
        if not (isinstance(self.cv_folds, (int, np.integer)) and self.cv_folds >= 2):
            raise InvalidParameterError(
                f"cv_folds must be an integer >= 2, got {self.cv_folds!r}.")
        if self.cv_penalties is not None:
            grid = np.asarray(self.cv_penalties, dtype=float)
            if grid.ndim != 1 or grid.size == 0 or not (np.isfinite(grid).all()
                                                         and (grid > 0).all()):
                raise InvalidParameterError(
                    "cv_penalties must be a non-empty list of positive numbers, got "
                    f"{self.cv_penalties!r}."
                )
        if self.item_random_effect:
            clash = [name for name, bad in [
                ("penalty", self._penalised()), ("bias_reduction", self.bias_reduction),
                ("ties", self.ties is not None), ("cov_type", self.cov_type != "model"),
            ] if bad]
            if clash:
                raise InvalidParameterError(
                    f"item_random_effect=True cannot be combined with {', '.join(clash)} "
                    "(the random-effect variance already shrinks the item effects; ties "
                    "models and robust covariances are not implemented with random effects)."
                )

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: pd.DataFrame | ComparisonData,
        item_a: str = "item_a",
        item_b: str = "item_b",
        outcome: str = "outcome",
        weight: str | None = None,
        items: Any = None,
        *,
        item_features: Any = None,
        contest_features: Sequence[Any] | None = None,
        groups: Any = None,
        clusters: Any = None,
    ) -> PairedComparisonModel:
        """Fit the model by maximum likelihood on a comparison table.

        Parameters
        ----------
        data : pandas.DataFrame or ComparisonData
            The canonical comparison table (see :mod:`prefstat.data`): one row
            per judgement, or per aggregated cell with a ``weight`` column.
        item_a, item_b, outcome : str
            Column names of the first-shown item, the second-shown item and
            the outcome.
        weight : str, optional
            Column of non-negative row weights (counts).
        items : sequence, optional
            The full item set and its order.
        item_features : DataFrame or feature source, optional
            Item features: a DataFrame indexed by item label, or anything
            :func:`prefstat.features.as_feature_source` accepts (a callable,
            a scikit-learn transformer on the item labels or texts, a
            :class:`~prefstat.features.TextStats`, ...). An item with
            features gets the strength ``x_i · beta`` (reported under group
            ``feature``); an item whose feature row is missing keeps a free
            strength of its own (group ``item``), BradleyTerry2's convention.
        contest_features : list of str, optional
            Columns of the table (one value per judgement) entering the
            linear predictor as they are, ``+ C gamma`` (group ``contest``):
            a positive coefficient favours ``item_a``. Contest-by-item
            interactions are columns too, see
            :func:`prefstat.features.item_difference`.
        groups : str, optional
            Column whose values are kept within one cross-validation fold
            (e.g. the prompt), with ``penalty="cv"``.
        clusters : str, optional
            Column of the clusters (prompt, rater) for ``cov_type="cluster"``.

        Returns
        -------
        self

        Raises
        ------
        NotIdentifiableError
            The comparison graph is disconnected or separable and neither
            ``penalty`` nor ``bias_reduction`` was asked for; or features or
            contest columns are aliased (linear combinations of others); or
            ``order_effect=True`` on a design that confounds it with the
            strengths (e.g. one item always shown first; with ``penalty > 0``
            this warns instead), or where it diverges.
        InvalidOutcomeError
            The data contain ties and the model was given no way to treat them.
        MissingFeaturesError, FeatureMismatchError, NonFiniteFeaturesError
            The item features do not cover the items, or are not finite.
        """
        self._check_params()
        d = as_comparison_data(data, item_a=item_a, item_b=item_b, outcome=outcome,
                               weight=weight, items=items)
        if d.is_graded:
            raise InvalidOutcomeError(
                "the outcome is a graded scale; collapse it explicitly with "
                "prefstat.convert.collapse_graded (graded models are separate)."
            )
        tie_weight = float(d.weight[(d.outcome == TIE) | (d.outcome == TIE_BOTHBAD)].sum())
        if tie_weight > 0 and self.ties is None and self.tie_handling is None:
            n_ties = int(((d.outcome == TIE) | (d.outcome == TIE_BOTHBAD)).sum())
            raise InvalidOutcomeError(
                f"the data contain {n_ties} tied row(s) (weight {tie_weight:g}) and the model "
                "has no ties: pass ties='davidson' or ties='rao-kupper' to model them, or "
                "tie_handling='half' to count each tie as half a win for each side."
            )
        if self.reference is not None and self.reference not in d.items:
            raise InvalidItemError(
                f"reference={self.reference!r} is not an item of the data; items include "
                f"{format_examples(d.items)}."
            )
        self.warnings_: list[str] = []
        kernel = self._kernel()
        structured = (item_features is not None or bool(contest_features)
                      or self.item_random_effect or self.cov_type != "model"
                      or self.penalty == "cv")
        self._check_fit_arguments(structured, groups, clusters)
        if structured:
            self._fit_structured(d, kernel, tie_weight, item_features, contest_features,
                                 groups, clusters)
            return self
        self._structure = None
        pc = d.pair_counts(ordered=self.order_effect)
        conn = connectivity_from_counts(pc)
        self._check_identifiable(conn)
        self._check_order_identifiable(d.items, pc.first, pc.second, pc.counts)
        counts = kernel.category_counts(pc.counts, self.tie_handling == "half")
        if kernel.has_tie and tie_weight == 0:
            raise InvalidOutcomeError(
                f"ties={self.ties!r} was asked for but the data contain no ties, so the tie "
                "parameter is not estimable (its MLE is -inf); fit with ties=None."
            )
        self._fit_counts(d, pc, counts, kernel, conn)
        return self

    def _check_fit_arguments(self, structured: bool, groups: Any, clusters: Any) -> None:
        if groups is not None and self.penalty != "cv":
            raise InvalidParameterError(
                "groups= sets the cross-validation folds of penalty='cv'; pass penalty='cv' "
                "or drop groups=."
            )
        if (clusters is None) != (self.cov_type != "cluster"):
            raise InvalidParameterError(
                "cov_type='cluster' and fit(..., clusters='<column>') go together: "
                f"cov_type={self.cov_type!r} with clusters={clusters!r}."
            )
        if structured and self.bias_reduction:
            raise InvalidParameterError(
                "bias_reduction=True is implemented for models without item features, contest "
                "features, cross-validated penalties or robust covariances."
            )

    def _check_identifiable(self, conn: Connectivity) -> None:
        self.connectivity_ = conn
        if conn.mle_exists:
            return
        if self._penalised():
            msg = ("the maximum likelihood estimate does not exist (" + str(conn.problem())
                   + f"); the estimates shown exist only because of {self._penalty_text()} "
                   "and are shrunk towards 0.")
        elif self.bias_reduction and conn.connected:
            msg = ("the maximum likelihood estimate does not exist (" + str(conn.problem())
                   + "); the estimates shown are Firth bias-reduced (finite by construction).")
        else:
            if conn.connected:
                remedy = ("Pass penalty=<positive number> (a Gaussian prior on strengths) or "
                          "bias_reduction=True (Firth's penalty), or restrict the data to one "
                          "strongly connected set of items.")
            else:
                # Firth's penalty keeps separated estimates finite, but cannot relate
                # components that were never compared: only a prior (or new data) can.
                remedy = ("Fit each component separately (err.connectivity.components() "
                          "lists them), or pass penalty=<positive number> (a Gaussian prior "
                          "on strengths, which alone then relates the components).")
                if self.bias_reduction:
                    remedy += " bias_reduction=True does not bridge disconnected components."
            raise NotIdentifiableError(
                "cannot estimate strengths: " + str(conn.problem()) + " " + remedy,
                connectivity=conn,
            )
        self._warn(msg, IdentifiabilityWarning)

    def _check_order_identifiable(self, items: pd.Index, first: np.ndarray,
                                  second: np.ndarray, nominal: np.ndarray) -> None:
        """Refuse an order effect confounded with the strengths (warn under a penalty).

        ``first, second`` are the ordered cells and ``nominal`` their outcome
        counts; see :func:`~prefstat.diagnostics.connectivity.order_levels`.
        """
        if not self.order_effect:
            return
        seen = nominal.sum(axis=1) > 0
        first, second = first[seen], second[seen]
        level = order_levels(first, second, items.size)
        if level is None:
            return
        compared = np.zeros(items.size, dtype=bool)
        compared[first] = True
        compared[second] = True
        values = np.unique(level[compared])[::-1]
        groups = ["{" + format_examples(items[compared & (level == v)], 3) + "}"
                  for v in values[:4]]
        if values.size == 2:
            design = (f"every comparison shows an item of {groups[0]} first and one of "
                      f"{groups[1]} second, so the order effect cannot be told apart from the "
                      "gap in strength between the two groups")
        else:
            more = f" -> ... ({values.size} levels)" if values.size > 4 else ""
            design = ("the items fall into levels (" + " -> ".join(groups) + more + ") and "
                      "every comparison shows an item first and one of the next level second, "
                      "so the order effect cannot be told apart from equal steps in strength "
                      "between the levels")
        if self._penalised():
            self._warn("the order effect is confounded with the item strengths: " + design
                       + f"; it is estimated only because {self._penalty_text()} shrinks the "
                       "strengths, and it depends on that penalty.", IdentifiabilityWarning)
            return
        extra = (" bias_reduction=True does not help: Firth's penalty needs a model whose "
                 "parameters the design identifies.") if self.bias_reduction else ""
        raise NotIdentifiableError(
            "cannot estimate the order effect, which is confounded with the item strengths: "
            + design + ". " + _ORDER_REMEDY + extra,
            connectivity=self.connectivity_,
        )

    def _penalty_text(self) -> str:
        shown = repr(self.penalty) if isinstance(self.penalty, str) else f"{self.penalty:g}"
        return f"penalty={shown}"

    def _warn(self, msg: str, category: type[Warning]) -> None:
        """Record a recoverable problem and warn about it (from ``fit``)."""
        self.warnings_.append(msg)
        warnings.warn(msg, category, stacklevel=5)

    def _fit_counts(self, d: ComparisonData, pc: PairCounts, counts: np.ndarray,
                    kernel: lik.Kernel, conn: Connectivity) -> None:
        # Pivot: the reference item, else the most compared item (best conditioned).
        pivot: int | None = None
        if self.penalty == 0:
            if self.reference is not None:
                pivot = int(d.items.get_loc(self.reference))
            else:
                pivot = int(np.argmax(conn.items["comparisons"].to_numpy()))
        layout = _Layout(d.n_items, bool(self.order_effect), kernel.has_tie, pivot)
        problem = _Problem(kernel, pc.first, pc.second, layout, float(self.penalty))
        x0 = problem.start(counts) if self.bias_reduction else problem.warm_start(counts)
        result = problem.solve(counts, x0, self.bias_reduction, self.max_iter, self.tol)
        self._problem = problem
        self._counts = counts
        self.penalty_ = float(self.penalty)
        self._store(d, pc, counts, kernel, layout, problem.free, problem.full(result.x),
                    result, problem.dense)

    # ------------------------------------------------------------ inference
    def _store(self, d: ComparisonData, pc: PairCounts, counts: np.ndarray,
               kernel: lik.Kernel, layout: _Layout, free: np.ndarray, theta: np.ndarray,
               result: NewtonResult, dense: bool) -> None:
        n = layout.n_items
        self.items_ = d.items
        self.n_items_ = n
        self.kernel_ = kernel.name
        self.n_iter_ = result.n_iter
        self.converged_ = bool(result.converged)
        if not self.converged_:
            msg = (f"the solver stopped after {result.n_iter} iterations without reaching the "
                   f"optimum (Newton decrement {result.decrement:.3g}); raise max_iter.")
            self.warnings_.append(msg)
            warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        big = np.abs(theta[:n] - np.median(theta[:n])) > _DIVERGENCE
        if big.any() and self.penalty == 0 and not self.bias_reduction:
            raise NotIdentifiableError(
                f"the estimates of {format_examples(d.items[big])} diverge (beyond ±"
                f"{_DIVERGENCE:g} on the {kernel.name} scale): the data are separable. Pass "
                "penalty > 0 or bias_reduction=True.",
            )
        _check_order_divergence(theta, layout)
        index = self._param_index(d, layout, kernel)
        exact = self.se_method == "exact" or (self.se_method == "auto" and dense)
        cov_free = None
        if exact:
            cov_free = spd_inverse(result.info if dense else result.info.toarray())
        self._item_wald(d, layout, theta, free, cov_free, index)
        self.strengths_.index.name = "item"
        self._theta = theta
        self._eta = theta[:n]
        self._layout = layout
        if self.penalty == 0:
            # The solver's objective at theta is then the log-likelihood itself.
            self.loglik_ = float(result.value)
        else:
            self.loglik_ = float(lik.evaluate(kernel, counts, self._linear(pc.first, pc.second),
                                              self._tau(), derivatives=False).loglik)
        self.n_obs_ = float(counts.sum())
        self.n_pairs_ = int(pc.n_cells)
        self.df_model_ = int(free.sum())
        self.deviance_ = self._deviance(counts, pc)
        self.aic_ = -2 * self.loglik_ + 2 * self.df_model_
        self.bic_ = -2 * self.loglik_ + np.log(self.n_obs_) * self.df_model_

    def _item_wald(self, d: ComparisonData, layout: _Layout, theta: np.ndarray,
                   free: np.ndarray, cov_free: np.ndarray | None,
                   index: pd.MultiIndex) -> np.ndarray:
        """Set ``params_``, ``strengths_``, ``cov_`` and ``se_method_`` of a model of items.

        ``cov_free`` is the covariance of the free parameters (pivot fixed), or
        ``None`` for approximate item SEs. Returns the identified estimates.
        """
        self.se_method_ = "exact" if cov_free is not None else "approximate"
        if cov_free is not None:
            cov = np.zeros((layout.size, layout.size))
            cov[np.ix_(free, free)] = cov_free
            estimate, cov = self._identify(d, layout, theta, cov)
            self.cov_ = pd.DataFrame(cov, index=index, columns=index)
            se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        else:
            estimate, se = self._approximate_se(d, layout, theta)
            self.cov_ = None
            self.warnings_.append(
                f"item standard errors are approximate (Neumann expansion of the inverse "
                f"information, {layout.n_items} items); pass se_method='exact' for the "
                "dense inverse.")
        self.params_ = wald_table(estimate, se, index, self.conf_level)
        self.strengths_ = self.params_.xs("item", level="group").copy()
        return estimate

    def _approximate_se(self, d: ComparisonData, layout: _Layout,
                        theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Identified estimates and approximate SEs without a dense inverse."""
        problem, n = self._problem, layout.n_items
        tau = theta[layout.tie_index] if layout.tie else 0.0
        terms = lik.evaluate(problem.kernel, self._counts, problem.linear(theta), tau)
        _, parts = _info_parts(terms, problem.first, problem.second, layout, problem.design)
        if parts.border_rows or problem.pattern is None:
            info = parts.sparse()
        else:
            # Items only: the item block on the solver's structure, with no sort.
            info = problem.pattern.matrix(parts.w, parts.diag, fix=False)
        if problem.ridge.any():
            info = info + sparse.diags(problem.ridge, format="csr")
        ref = None if self.reference is None else int(d.items.get_loc(self.reference))
        item_var, border_cov, _ = approximate_covariance(info, n, problem.free, ref)
        estimate, _ = self._identify(d, layout, theta)
        var = np.concatenate([item_var, np.diag(border_cov)])
        return estimate, np.sqrt(np.clip(var, 0.0, None))

    def _identify(self, d: ComparisonData, layout: _Layout, theta: np.ndarray,
                  cov: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Apply the reported identification (sum to zero or reference) to the items."""
        r = None if self.reference is None else int(d.items.get_loc(self.reference))
        return identify_items(theta, cov, layout.n_items, r)

    def _param_index(self, d: ComparisonData, layout: _Layout, kernel: lik.Kernel,
                     st: Any = None) -> pd.MultiIndex:
        free_items = d.items if st is None else d.items[~st.featured]
        tuples: list[tuple[str, Any]] = [("item", label) for label in free_items]
        if layout.order_effect:
            tuples.append(("order_effect", "order_effect"))
        if layout.tie:
            tuples.append(("tie", _TIE_NAMES[kernel.name]))
        if st is not None:
            tuples += [("feature", name) for name in st.feature_names]
            tuples += [("contest", name) for name in st.contest_names]
            if self.item_random_effect:
                tuples.append(("item_sd", "sigma"))
        return pd.MultiIndex.from_tuples(tuples, names=["group", "name"])

    def _linear(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        theta, layout = self._theta, self._layout
        lin = self._eta[first] - self._eta[second]
        if layout.order_effect:
            lin = lin + theta[layout.order_index]
        return lin

    def _tau(self) -> float:
        layout = self._layout
        return float(self._theta[layout.tie_index]) if layout.tie else 0.0

    def _deviance(self, counts: np.ndarray, pc: PairCounts) -> float:
        """Deviance against the saturated model of the (aggregated) pair table."""
        n = counts.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            sat = np.where(counts > 0, counts * np.log(counts / n), 0.0).sum()
        return float(2 * (sat - self.loglik_))

    # ------------------------------------------------------------- structured
    def _fit_structured(self, d: ComparisonData, kernel: lik.Kernel, tie_weight: float,
                        item_features: Any, contest_features: Sequence[Any] | None,
                        groups: Any, clusters: Any) -> None:
        """Fit with item features, contest columns, random effects, CV or robust SEs."""
        from . import _random_effects as re_
        from . import _structured as stc

        st = stc.build(d, item_features, contest_features, self.order_effect)
        n, featured = d.n_items, st.featured
        half = self.tie_handling == "half"
        if self.item_random_effect and not featured.any():
            raise InvalidParameterError(
                "item_random_effect=True needs item_features= with features for some items "
                "(the random effect is added to x_i beta); for shrinkage of free strengths "
                "use penalty > 0."
            )
        cluster_codes = None if clusters is None else stc.column_codes(d, clusters, "clusters")
        group_codes = None if groups is None else stc.column_codes(d, groups, "groups")
        conn = connectivity_from_counts(st.pair_counts)
        nominal = st.nominal
        infinite = np.zeros(n)  # +1 / -1: a free strength whose MLE is +inf / -inf
        if not featured.any():
            self._check_identifiable(conn)
            self._check_order_identifiable(d.items, st.first, st.second, st.nominal)
        else:
            self.connectivity_ = conn
            if not self._penalised():
                stc.check_shift(st)
                free_items = ~featured
                infinite[free_items & d.items.isin(conn.never_lose)] = 1.0
                infinite[free_items & d.items.isin(conn.never_win)] = -1.0
        if infinite.any():
            self._warn(
                f"the free strength(s) of {format_examples(d.items[infinite != 0])} (items "
                "without features) are infinite: they never lost, or never won. They are "
                "reported as +/-inf, and their comparisons, which that limit fits exactly, "
                "are left out of the likelihood; the other estimates maximise the likelihood "
                "of the rest.", IdentifiabilityWarning)
            touched = (infinite[st.first] != 0) | (infinite[st.second] != 0)
            nominal = np.where(touched[:, None], 0.0, nominal)
        counts = kernel.category_counts(nominal, half)
        if kernel.has_tie and tie_weight == 0:
            raise InvalidOutcomeError(
                f"ties={self.ties!r} was asked for but the data contain no ties, so the tie "
                "parameter is not estimable (its MLE is -inf); fit with ties=None."
            )
        pivot = None
        if not featured.any() and not self._penalised():
            pivot = (int(d.items.get_loc(self.reference)) if self.reference is not None
                     else int(np.argmax(conn.items["comparisons"].to_numpy())))
        p, q = st.features.shape[1], st.contest.shape[1]
        with_re = featured & (infinite == 0) & bool(self.item_random_effect)
        held = (featured & ~with_re) | (infinite != 0)
        layout = _Layout(n, bool(self.order_effect), kernel.has_tie, pivot, p, q, held)
        pattern = (_LaplacianPattern(st.first, st.second, layout,
                                     np.ones(layout.size, dtype=bool)) if p else None)
        design = _Design(st.features, st.contest, pattern)
        shrunk = ~featured & (infinite == 0)

        def ridge_of(penalty: float) -> np.ndarray:
            ridge = np.zeros(layout.size)
            ridge[:n][shrunk] = penalty
            ridge[layout.feature_index:layout.contest_index] = penalty
            return ridge

        penalty = 0.0 if self.penalty == "cv" else float(self.penalty)
        problem = _Problem(kernel, st.first, st.second, layout, ridge_of(penalty), design)
        u_theta = np.flatnonzero(with_re)
        if (self.item_random_effect or self.cov_type != "model") and not problem.dense:
            raise InvalidParameterError(
                "random effects and robust covariances need the dense information matrix, "
                f"at most {_DENSE_MAX} free parameters; this model has "
                f"{int(problem.free.sum())}."
            )
        if not self._penalised():
            self._check_aliasing(problem, counts, st, kernel, u_theta, d.items)
        self.cv_results_ = None
        if self.penalty == "cv":
            rng = np.random.default_rng(self.random_state)
            folds = stc.fold_codes(d.n_rows, group_codes, int(self.cv_folds), rng)
            grid = stc.CV_GRID if self.cv_penalties is None else self.cv_penalties
            self.cv_results_ = stc.cross_validate(problem, st, d, kernel, half, ridge_of, grid,
                                                  folds, self.max_iter, self.tol)
            best = self.cv_results_["mean_loglik"].idxmax()
            penalty = float(self.cv_results_.loc[best, "penalty"])
            problem.ridge = ridge_of(penalty)
        self.penalty_ = penalty
        re_fit = None
        if self.item_random_effect:
            joint = re_.Joint(problem, counts, u_theta, self.max_iter, self.tol)
            fe_layout = replace(layout, fixed_items=featured | (infinite != 0))
            fixed_effects = (_Problem(kernel, st.first, st.second, fe_layout, 0.0, design),
                             counts)
            x0 = problem.start(counts)
            if self.random_effect_method == "pql":
                re_fit = re_.fit_pql(joint, fixed_effects, x0)
            else:
                inner_free = np.zeros(layout.size, dtype=bool)
                inner_free[u_theta] = True
                inner = _Problem(kernel, st.first, st.second, layout, problem.ridge.copy(),
                                 design, free=inner_free)
                re_fit = re_.fit_laplace(joint, inner, fixed_effects, x0)
            problem, result = re_fit.problem, re_fit.result
        else:
            result = problem.solve(counts, problem.start(counts), False, self.max_iter,
                                   self.tol)
        self._structure = st
        self._problem = problem
        self._counts = counts
        self._store_structured(d, st, counts, kernel, problem, result, re_fit, infinite,
                               cluster_codes)

    def _free_names(self, problem: _Problem, st: Any, kernel: lik.Kernel,
                    items: pd.Index) -> list[str]:
        """Readable names of the free parameters, in solver order."""
        layout = problem.layout
        names = [f"item {label!r}" for label in items]
        names += (["order_effect"] * layout.order_effect
                  + [f"tie {_TIE_NAMES.get(kernel.name, '')}"] * layout.tie
                  + [f"feature {c!r}" for c in st.feature_names]
                  + [f"contest {c!r}" for c in st.contest_names])
        return [name for name, keep in zip(names, problem.free) if keep]

    def _check_aliasing(self, problem: _Problem, counts: np.ndarray, st: Any,
                        kernel: lik.Kernel, u_theta: np.ndarray, items: pd.Index) -> None:
        """Raise when a coefficient is a linear combination of the others (R's NA)."""
        from . import _structured as stc

        if not problem.dense:
            return
        saved = problem.ridge.copy()
        problem.ridge[u_theta] = 1.0  # random effects: any prior variance will do here
        _, _, info = problem.objective(problem.start(counts), True, counts)
        problem.ridge = saved
        bad = stc.aliased(info, self._free_names(problem, st, kernel, items))
        if "order_effect" in bad:
            raise NotIdentifiableError(
                "cannot estimate the order effect, which is confounded with the free item "
                "strengths: a linear combination of them (R reports it as NA) predicts every "
                "comparison as the order effect does. " + _ORDER_REMEDY
            )
        if bad:
            raise NotIdentifiableError(
                f"{format_examples(bad)} {'is' if len(bad) == 1 else 'are'} aliased: a linear "
                "combination of the parameters before (R reports such coefficients as NA). A "
                "contest column that is the same for both sides of every comparison cancels, "
                "and an item feature that is a combination of others (or of the free "
                "strengths) adds nothing. Drop those columns, or pass penalty > 0."
            )

    def _store_structured(self, d: ComparisonData, st: Any, counts: np.ndarray,
                          kernel: lik.Kernel, problem: _Problem, result: NewtonResult,
                          re_fit: Any, infinite: np.ndarray,
                          cluster_codes: np.ndarray | None) -> None:
        from . import _structured as stc

        layout, free = problem.layout, problem.free
        n, items = layout.n_items, d.items
        theta = problem.full(result.x)
        self.items_, self.n_items_, self.kernel_ = items, n, kernel.name
        self.n_iter_ = result.n_iter if re_fit is None else re_fit.n_outer
        self.converged_ = bool(result.converged)
        if not self.converged_:
            self._warn(f"the solver stopped after {result.n_iter} iterations without reaching "
                       f"the optimum (Newton decrement {result.decrement:.3g}); raise max_iter.",
                       ConvergenceWarning)
        eta = problem.strengths(theta)
        finite = infinite == 0
        self._check_divergence(problem, theta, eta, finite, st, items)
        featured = st.featured
        exact = (featured.any() or self.se_method == "exact"
                 or (self.se_method == "auto" and problem.dense))
        cov_free = None
        if exact:
            cov_free = spd_inverse(result.info if problem.dense else result.info.toarray())
        self.cov_type_ = self.cov_type
        self.n_clusters_ = None
        if self.cov_type != "model":
            cov_free, units = stc.sandwich(problem, theta, st, d, kernel,
                                           self.tie_handling == "half", cov_free,
                                           cluster_codes)
            self.n_clusters_ = units if cluster_codes is not None else None
        index = self._param_index(d, layout, kernel, st)
        self._eta = np.where(finite, eta, np.copysign(np.inf, infinite))
        self._theta = theta
        self._layout = layout
        self._cov_free = cov_free
        if not featured.any():
            estimate = self._item_wald(d, layout, theta, free, cov_free if exact else None,
                                       index)
            self._eta = estimate[:n]
        else:
            self.se_method_ = "exact"
            estimate, cov = self._structured_params(theta, free, cov_free, infinite, featured,
                                                    layout, re_fit)
            self.cov_ = pd.DataFrame(cov, index=index, columns=index)
            se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
            self.params_ = wald_table(estimate, se, index, self.conf_level)
            self.strengths_ = self._structured_strengths(d, layout, free, cov_free, eta,
                                                         infinite)
        self.strengths_.index.name = "item"
        self.random_effects_ = None
        self.sigma_ = None
        self.random_effect_method_ = None
        if re_fit is not None:
            u_items = np.flatnonzero(featured & finite)
            pos = np.cumsum(free) - 1
            on = free[u_items]
            se_u = np.zeros(u_items.size)
            se_u[on] = np.sqrt(np.diag(cov_free)[pos[u_items[on]]])
            self.random_effects_ = pd.DataFrame({"estimate": theta[u_items], "se": se_u},
                                                index=items[u_items])
            self.random_effects_.index.name = "item"
            self.sigma_ = re_fit.sigma
            self.random_effect_method_ = re_fit.method
            if re_fit.boundary:
                self.warnings_.append(
                    "the random-effect SD is estimated at the boundary sigma = 0, so the fit "
                    "is the fixed-effects maximum likelihood fit (as BradleyTerry2's BTm "
                    "returns it); sigma has no standard error.")
        self.feature_names_ = list(st.feature_names)
        self.contest_features_ = list(st.contest_names)
        self.feature_source_ = st.source
        self.loglik_ = float(lik.evaluate(kernel, counts, problem.linear(theta), self._tau(),
                                          derivatives=False).loglik)
        self.n_obs_ = float(kernel.category_counts(st.nominal,
                                                   self.tie_handling == "half").sum())
        self.n_pairs_ = int(st.first.size)
        n_u = 0 if re_fit is None or re_fit.boundary else int((featured & finite).sum())
        self.df_model_ = int(free.sum()) - n_u + int(n_u > 0)
        self.deviance_ = self._deviance(counts, None)
        self.marginal_loglik_ = None if re_fit is None else re_fit.marginal_loglik
        fit_ll = self.loglik_ if re_fit is None else re_fit.marginal_loglik
        self.aic_ = np.nan if fit_ll is None else -2 * fit_ll + 2 * self.df_model_
        self.bic_ = (np.nan if fit_ll is None
                     else -2 * fit_ll + np.log(self.n_obs_) * self.df_model_)

    def _check_divergence(self, problem: _Problem, theta: np.ndarray, eta: np.ndarray,
                          finite: np.ndarray, st: Any, items: pd.Index) -> None:
        """Separation shows as strengths or contest terms beyond ±_DIVERGENCE."""
        layout = problem.layout
        _check_order_divergence(theta, layout)
        if self._penalised():
            return
        # Random effects are shrunk (finite for any finite sigma): only fixed strengths count.
        fixed = finite & ~(st.featured & bool(self.item_random_effect))
        big = fixed & (np.abs(eta - np.median(eta[finite])) > _DIVERGENCE)
        if big.any():
            where = " (possibly in the item features)" if layout.n_features else ""
            raise NotIdentifiableError(
                f"the strengths of {format_examples(items[big])} diverge (beyond ±"
                f"{_DIVERGENCE:g} on the {problem.kernel.name} scale): the data are "
                f"separable{where}. Pass penalty > 0."
            )
        if layout.n_contest:
            cs = layout.contest_index
            terms = st.contest @ theta[cs:cs + layout.n_contest]
            if np.abs(terms).max() > _DIVERGENCE:
                raise NotIdentifiableError(
                    f"the contest terms diverge (|C gamma| up to {np.abs(terms).max():.3g}): "
                    f"the outcomes are separable in the contest columns "
                    f"{format_examples(st.contest_names)}. Drop or recode those columns."
                )

    def _structured_params(self, theta: np.ndarray, free: np.ndarray, cov_free: np.ndarray,
                           infinite: np.ndarray, featured: np.ndarray, layout: _Layout,
                           re_fit: Any) -> tuple[np.ndarray, np.ndarray]:
        """Estimates and covariance of the reported parameters (features present).

        Reported: the free strengths of items without features (absolute: the
        features fix the level), then the border parameters, then sigma.
        """
        n, size = layout.n_items, layout.size
        positions = np.concatenate([np.flatnonzero(~featured), np.arange(n, size)])
        estimate = theta[positions].copy()
        k = positions.size
        cov = np.zeros((k, k))
        laplace = re_fit is not None and re_fit.fixed_cov is not None
        if laplace:
            # The marginal covariance of (phi, log sigma); phi = the free non-random ones.
            phi = free.copy()
            phi[:n] &= ~featured
            source = re_fit.fixed_cov
        else:
            phi, source = free, cov_free
        at = np.full(size, -1, dtype=np.intp)
        at[phi] = np.arange(int(phi.sum()))
        where = at[positions]
        ok = where >= 0
        cov[np.ix_(ok, ok)] = source[np.ix_(where[ok], where[ok])]
        gone = np.concatenate([infinite, np.zeros(size - n)])[positions]
        estimate[gone != 0] = np.inf * gone[gone != 0]
        cov[gone != 0, :] = np.nan
        cov[:, gone != 0] = np.nan
        if re_fit is None:
            return estimate, cov
        sigma = re_fit.sigma
        out = np.full((k + 1, k + 1), np.nan)
        out[:k, :k] = cov
        if laplace:
            out[k, :k][ok] = out[:k, k][ok] = sigma * source[-1, where[ok]]
            out[k, k] = sigma**2 * source[-1, -1]
        else:
            out[k, k] = re_fit.sigma_se**2
        return np.append(estimate, sigma), out

    def _structured_strengths(self, d: ComparisonData, layout: _Layout, free: np.ndarray,
                              cov_free: np.ndarray, eta: np.ndarray,
                              infinite: np.ndarray) -> pd.DataFrame:
        """Strengths ``lambda_i + x_i beta (+ u_i)`` under the reported identification."""
        n = layout.n_items
        finite = infinite == 0
        pos = np.cumsum(free) - 1
        basis = np.zeros((n, int(free.sum())))
        own = np.flatnonzero(free[:n])
        basis[own, pos[own]] = 1.0
        fs = layout.feature_index
        if layout.n_features:
            basis[:, pos[fs:fs + layout.n_features]] = self._problem.design.features
        self._reward_basis = basis
        if self.reference is not None:
            r = int(d.items.get_loc(self.reference))
            shift_row, shift = basis[r], eta[r]
        else:
            shift_row, shift = basis[finite].mean(axis=0), eta[finite].mean()
        centred = basis - shift_row
        self._strength_basis = centred
        estimate = eta - shift
        var = np.einsum("ij,jk,ik->i", centred, cov_free, centred)
        estimate[~finite] = np.inf * infinite[~finite]
        var[~finite] = np.nan
        return wald_table(estimate, np.sqrt(np.clip(var, 0.0, None)), d.items,
                          self.conf_level)

    def _features_of(self, spec: Any) -> np.ndarray:
        """Feature rows given directly (a DataFrame with the feature columns, or an array)."""
        names = self.feature_names_
        if isinstance(spec, pd.DataFrame):
            missing = [c for c in names if c not in spec.columns]
            if missing:
                raise FeatureDimensionError(
                    f"the feature rows lack column(s) {format_examples(missing)} the model was "
                    f"fitted with ({len(names)} features: {format_examples(names)})."
                )
            spec = spec[names].to_numpy(dtype=np.float64, na_value=np.nan)
        rows = np.asarray(spec, dtype=np.float64)
        if rows.shape[1] != len(names):
            raise FeatureDimensionError(
                f"the feature rows have {rows.shape[1]} columns; the model was fitted with "
                f"{len(names)} features."
            )
        if not np.isfinite(rows).all():
            raise NonFiniteFeaturesError(
                f"the feature rows have missing or infinite values (rows "
                f"{format_examples(np.flatnonzero(~np.isfinite(rows).all(axis=1)))})."
            )
        return rows

    def _rewards(self, spec: Any, variance: bool = True
                 ) -> tuple[np.ndarray, np.ndarray | None, pd.Index]:
        """Strengths (absolute where features fix them) of items or feature rows."""
        from ..features._base import transform_checked

        st = self._structure
        with_features = st is not None and bool(st.featured.any())
        beta, cov_beta = None, None
        if with_features:
            fs = self._layout.feature_index
            beta = self._theta[fs:fs + self._layout.n_features]
            if variance and self.cov_ is not None:
                cov_beta = self.cov_.loc["feature", "feature"].to_numpy()
        if _is_feature_matrix(spec):
            if not with_features:
                raise InvalidParameterError(
                    f"this {type(self).__name__} has no item features; pass item labels.")
            rows = self._features_of(spec)
            index = spec.index if isinstance(spec, pd.DataFrame) else pd.RangeIndex(len(rows))
            var = _quadratic(rows, cov_beta) if variance else None
            return rows @ beta, var, index
        labels = pd.Index(np.atleast_1d(np.asarray(list(self.items_) if spec is None else spec,
                                                   dtype=object)))
        codes = self.items_.get_indexer(labels)
        known = codes >= 0
        if not with_features:
            self._codes(labels, "items")  # raises on unknown labels
            eta = self.strengths_["estimate"].to_numpy()[codes]
            var = self.strengths_["se"].to_numpy()[codes] ** 2 if variance else None
            return eta, var, labels
        eta = np.empty(labels.size)
        var = np.empty(labels.size) if variance else None
        eta[known] = self._eta[codes[known]]
        if variance:
            rows = self._reward_basis[codes[known]]
            var[known] = _quadratic(rows, self._cov_free)
            var[known & ~np.isfinite(eta)] = np.nan
        if (~known).any():
            new = list(labels[~known])
            rows = transform_checked(self.feature_source_, new, beta.size)
            missing = np.isnan(rows).any(axis=1)
            if missing.any():
                raise MissingFeaturesError(
                    f"item(s) {format_examples([new[k] for k in np.flatnonzero(missing)])} "
                    "were not fitted and have no features, so no reward can be predicted."
                )
            eta[~known] = rows @ beta
            if variance:
                var[~known] = _quadratic(rows, cov_beta)
        return eta, var, labels

    # ------------------------------------------------------------ public API

    def bootstrap(self, data: pd.DataFrame | ComparisonData, n_boot: int = 1000,
                  cluster: str | None = None, conf_level: float | None = None,
                  random_state: Any = None, **columns: Any) -> Any:
        """Bootstrap standard errors, percentile intervals and rank intervals.

        Each replicate resamples the data (judgements, or whole clusters),
        turns the draw into new outcome counts for the fitted pairs and refits
        them, warm-started at the estimate. This equals refitting the
        resampled table from scratch (see Notes) at the cost of a few Newton
        steps on the pair counts.

        Parameters
        ----------
        data : pandas.DataFrame or ComparisonData
            The table the model was fitted on.
        n_boot : int, default 1000
            Number of replicates.
        cluster : str, optional
            Column to resample by (prompt, rater, question id): clusters are
            drawn with replacement and all rows of a cluster come along. With
            ``None``, judgements are drawn with replacement (a row of weight
            ``w`` stands for ``w`` judgements, so weights must be whole
            numbers; to resample weighted rows as units, cluster by a row id).
        conf_level : float, optional
            Coverage of the percentile intervals; defaults to the model's.
        random_state : int or numpy.random.Generator, optional
            Seed or generator of the draws; nothing touches global state.
        **columns
            Column names, as passed to :meth:`fit` (``item_a``, ``item_b``,
            ``outcome``, ``weight``, ``items``).

        Returns
        -------
        prefstat.models.BootstrapResult
            ``strengths``, ``params`` and ``ranks`` tables, the
            ``replicates`` and the number of failed replicates ``n_failed``.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidParameterError
            ``n_boot < 1``, ``conf_level`` outside (0, 1), or a cluster column
            with a single value.
        MissingColumnError
            ``cluster`` is not a column of ``data``.
        InvalidItemError, DataValidationError
            ``data`` is not the table the model was fitted on.
        InvalidWeightError
            Fractional weights without ``cluster``.

        Warns
        -----
        IdentifiabilityWarning, ConvergenceWarning
            Some replicates could not be refitted (an item lost all its
            comparisons or all its wins, or the solver did not converge).
            They are counted in ``n_failed``, left out of every SE and
            interval, and reported in the result's summary.

        Notes
        -----
        The likelihood depends on the rows only through the outcome counts
        of each pair, and a resampled table's count is the sum over its rows
        of (times drawn) x (weight), so refitting reweighted counts is
        refitting the resampled rows. Judgements sharing a pair and an
        outcome are exchangeable, so the judgement bootstrap draws one
        multinomial over the pair-outcome counts, with the same distribution
        as drawing judgements one by one. The cluster bootstrap draws
        ``multinomial(G, 1/G)`` over the ``G`` clusters (in order of first
        appearance). Estimates follow the model's identification.

        Examples
        --------
        >>> from prefstat import BradleyTerry
        >>> from prefstat.datasets import load_citations
        >>> df = load_citations()
        >>> model = BradleyTerry().fit(df, weight="weight")
        >>> boot = model.bootstrap(df, n_boot=200, random_state=0, weight="weight")
        >>> boot.replicates.shape, boot.n_failed
        ((200, 4), 0)
        >>> s = boot.strengths
        >>> bool(((s["ci_lower"] < s["estimate"]) & (s["estimate"] < s["ci_upper"])).all())
        True
        >>> boot.ranks
                      rank  rank_lower  rank_upper
        item
        Biometrika       2           2           2
        Comm Statist     4           4           4
        JASA             3           3           3
        JRSS-B           1           1           1
        """
        from ._bootstrap import bootstrap

        self._check_fitted()
        if self._structure is not None:
            raise InvalidParameterError(
                "bootstrap() resamples models without item or contest features, "
                "cross-validated penalties or robust covariances; for those use "
                "cov_type='cluster' (cluster-robust standard errors) instead."
            )
        return bootstrap(self, data, n_boot, cluster, conf_level, random_state, columns)

    def elo(self, scale: float = 400.0, base: float = 10.0, anchor: Any = None,
            anchor_value: float = 1000.0) -> pd.DataFrame:
        """Strengths on an Elo-style rating scale, as LLM-arena leaderboards report them.

        ``rating = anchor_value + scale / ln(base) * (lambda - lambda_anchor)``,
        so a difference of ``scale`` points means odds of ``base`` to 1.
        Without an anchor item the mean rating is ``anchor_value``.

        Parameters
        ----------
        scale, base : float, default 400, 10
            Points per factor ``base`` in the odds (the chess convention).
        anchor : item label, optional
            Item whose rating is fixed at ``anchor_value`` (its SE is then 0
            and the others' SEs are those of differences from it).
        anchor_value : float, default 1000
            Rating of the anchor item, or the mean rating.

        Returns
        -------
        pandas.DataFrame
            Indexed by item, sorted best first: ``rating, se, ci_lower,
            ci_upper`` and ``rank``. The rank rule is the arena's: one plus
            the number of items whose interval lies entirely above this
            item's (so items with overlapping intervals share a rank).

        Examples
        --------
        >>> from prefstat import BradleyTerry
        >>> from prefstat.datasets import load_citations
        >>> m = BradleyTerry().fit(load_citations(), weight="weight")
        >>> m.elo(anchor="JASA")[["rating", "rank"]].round(1)
                      rating  rank
        item
        JRSS-B        1130.0     1
        Biometrika    1083.3     2
        JASA          1000.0     3
        Comm Statist   571.0     4
        """
        self._check_fitted()
        if self._link != "logit":
            raise InvalidParameterError(
                "the Elo scale is defined for the logit (Bradley–Terry) model; "
                f"{type(self).__name__} uses a probit link."
            )
        if not (scale > 0 and base > 1):
            raise InvalidParameterError(f"need scale > 0 and base > 1, got {scale!r}, {base!r}.")
        factor = scale / np.log(base)
        est = self.strengths_["estimate"].to_numpy()
        a = None if anchor is None else int(self._codes(anchor, "anchor")[0])
        if self.cov_ is None:
            # Approximate path (no covariance matrix): differences from the anchor are
            # treated as if the two strengths were uncorrelated.
            var = self.strengths_["se"].to_numpy() ** 2
            if a is not None:
                var = var + var[a]
                var[a] = 0.0
            shift = est.mean() if a is None else est[a]
        elif self._structure is not None and self._structure.featured.any():
            # Strengths x_i beta (+ u_i): differences through the map from the parameters.
            basis = self._strength_basis
            rows = basis - (basis.mean(axis=0) if a is None else basis[a])
            shift = est.mean() if a is None else est[a]
            var = _quadratic(rows, self._cov_free)
        else:
            cov = self.cov_.loc["item", "item"].to_numpy()
            if a is None:
                shift, var = est.mean(), np.diag(cov) - 2 * cov.mean(axis=1) + cov.mean()
            else:
                shift, var = est[a], np.diag(cov) - 2 * cov[:, a] + cov[a, a]
        table = wald_table(anchor_value + factor * (est - shift),
                           factor * np.sqrt(np.clip(var, 0.0, None)), self.items_,
                           self.conf_level)
        table = table[["estimate", "se", "ci_lower", "ci_upper"]].rename(
            columns={"estimate": "rating"})
        above = (table["ci_lower"].to_numpy()[None, :] > table["ci_upper"].to_numpy()[:, None])
        table["rank"] = 1 + above.sum(axis=1)
        table.index.name = "item"
        return table.sort_values("rating", ascending=False)

    def _codes(self, labels: Any, what: str) -> np.ndarray:
        labels = pd.Index(np.atleast_1d(np.asarray(labels, dtype=object)))
        codes = self.items_.get_indexer(labels)
        if (codes < 0).any():
            raise InvalidItemError(
                f"{what} has item(s) the model was not fitted on: "
                f"{format_examples(pd.unique(labels[codes < 0]))}."
            )
        return codes

    def predict_proba(self, a: Any, b: Any, contest: Any = None) -> pd.DataFrame:
        """Outcome probabilities for ``a`` shown first against ``b``.

        Parameters
        ----------
        a, b : label, array-like of labels, or feature rows
            Items shown first and second (the order effect, if fitted, favours
            ``a``). A model with item features also takes items it was not
            fitted on: labels (texts) its feature source can transform, or
            feature rows (a DataFrame with the feature columns, or a 2-D
            array).
        contest : DataFrame, dict or array-like, optional
            Values of the contest features, one row per comparison (or one
            for all); required when the model has contest features.

        Returns
        -------
        pandas.DataFrame
            Columns ``a, b, tie`` (probability that ``a`` is preferred, that
            ``b`` is, and of a tie; ``tie`` is 0 for a model without ties).
            Rows sum to one.

        Examples
        --------
        >>> import pandas as pd
        >>> from prefstat import BradleyTerry
        >>> df = pd.DataFrame({"item_a": ["x", "x", "y"], "item_b": ["y", "y", "x"],
        ...                    "outcome": ["a", "a", "a"]})
        >>> BradleyTerry().fit(df).predict_proba("x", "y").round(3)
               a      b  tie
        0  0.667  0.333  0.0
        """
        self._check_fitted()
        if self._structure is None:
            if contest is not None:
                raise InvalidParameterError(
                    f"this {type(self).__name__} has no contest features; drop contest=.")
            ca, cb = self._codes(a, "a"), self._codes(b, "b")
            lin = self._linear(ca, cb)
        else:
            ea = self._rewards(a, variance=False)[0]
            eb = self._rewards(b, variance=False)[0]
            lin = ea - eb
            if self._layout.order_effect:
                lin = lin + self._theta[self._layout.order_index]
            lin = lin + self._contest_terms(contest, lin.size)
        kernel = lik.KERNELS[self.kernel_]
        with np.errstate(invalid="ignore"):
            logp, _, _ = kernel.log_probs(np.atleast_1d(lin), self._tau())
        p = np.exp(logp)
        tie = p[:, 2] if p.shape[1] == 3 else np.zeros(len(p))
        return pd.DataFrame({"a": p[:, 0], "b": p[:, 1], "tie": tie})

    def predict_reward(self, items: Any = None) -> pd.DataFrame:
        """Strength ("reward") of fitted or new items, with standard errors.

        For a model with item features this is the linear reward
        ``x · beta`` of any item its feature source can describe (plus the
        free strength, or the predicted random effect, of a fitted item), on
        the absolute scale the features fix. For a model without features it
        is the fitted strengths (as in ``strengths_``).

        Parameters
        ----------
        items : labels or feature rows, optional
            Item labels (or texts, for a text feature source), or feature
            rows: a DataFrame with the feature columns or a 2-D array. All
            fitted items by default.

        Returns
        -------
        pandas.DataFrame
            ``reward, se, ci_lower, ci_upper``, indexed by the items (or the
            rows' index). The SE of a new item's reward is that of
            ``x · beta`` (a confidence interval of the mean reward; a new
            item's own random effect is not included).

        Raises
        ------
        MissingFeaturesError, FeatureDimensionError, NonFiniteFeaturesError
            A new item has no features, or its features have another
            width, or are not finite.
        InvalidItemError
            An unknown label for a model without item features.

        Examples
        --------
        >>> import pandas as pd
        >>> from prefstat import BradleyTerry
        >>> df = pd.DataFrame({"item_a": ["x", "y", "z", "x"], "item_b": ["y", "z", "x", "z"],
        ...                    "outcome": ["a", "a", "b", "b"]})
        >>> size = pd.DataFrame({"size": [3.0, 2.0, 1.0, 2.5]}, index=["x", "y", "z", "w"])
        >>> model = BradleyTerry().fit(df, item_features=size)
        >>> model.predict_reward(["x", "w"])["reward"].round(3).tolist()
        [1.259, 1.049]
        """
        self._check_fitted()
        eta, var, index = self._rewards(items)
        table = wald_table(eta, np.sqrt(np.clip(var, 0.0, None)), index, self.conf_level)
        return table[["estimate", "se", "ci_lower", "ci_upper"]].rename(
            columns={"estimate": "reward"})

    def _contest_terms(self, contest: Any, size: int) -> np.ndarray:
        """``C gamma`` for contest values given at predict time."""
        names = self.contest_features_
        if not names:
            if contest is not None:
                raise InvalidParameterError(
                    f"this {type(self).__name__} has no contest features; drop contest=.")
            return np.zeros(1)
        if contest is None:
            raise InvalidParameterError(
                f"this model has contest features {format_examples(names)}: pass their values "
                "as contest= (a DataFrame with those columns, one row per comparison).")
        if isinstance(contest, (pd.DataFrame, dict, pd.Series)):
            frame = pd.DataFrame(contest) if not isinstance(contest, pd.Series) \
                else contest.to_frame().T
            missing = [c for c in names if c not in frame.columns]
            if missing:
                raise FeatureDimensionError(
                    f"contest= lacks column(s) {format_examples(missing)}.")
            values = frame[names].to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values = np.atleast_2d(np.asarray(contest, dtype=np.float64))
        if values.shape[1] != len(names) or values.shape[0] not in (1, size):
            raise FeatureDimensionError(
                f"contest= has shape {values.shape}; expected ({size} or 1, {len(names)}).")
        if not np.isfinite(values).all():
            raise NonFiniteFeaturesError("contest= has missing or infinite values.")
        cs = self._layout.contest_index
        return values @ self._theta[cs:cs + len(names)]

    def score(self, data: pd.DataFrame | ComparisonData, **columns: Any) -> float:
        """Mean log-likelihood per judgement on (new) comparison data.

        Parameters
        ----------
        data : pandas.DataFrame or ComparisonData
            Comparisons among fitted items.
        **columns
            Column names, as for :meth:`fit`.

        Returns
        -------
        float
            Weighted mean log-likelihood (higher is better); ties are scored
            as the model treats them.
        """
        self._check_fitted()
        if self._structure is not None:
            return self._score_structured(data, columns)
        d = as_comparison_data(data, items=list(self.items_), **columns)
        pc = d.pair_counts(ordered=True)
        kernel = lik.KERNELS[self.kernel_]
        counts = kernel.category_counts(pc.counts, self.tie_handling == "half")
        ll = lik.evaluate(kernel, counts, self._linear(pc.first, pc.second), self._tau(),
                          derivatives=False).loglik
        return ll / float(counts.sum())

    def _score_structured(self, data: pd.DataFrame | ComparisonData,
                          columns: dict[str, Any]) -> float:
        from . import _structured as stc

        d = as_comparison_data(data, **columns)
        eta = self._rewards(list(d.items), variance=False)[0]
        lin = eta[d.a] - eta[d.b]
        if self._layout.order_effect:
            lin = lin + self._theta[self._layout.order_index]
        if self.contest_features_:
            cs = self._layout.contest_index
            values = stc.contest_columns(d, self.contest_features_)
            lin = lin + values @ self._theta[cs:cs + len(self.contest_features_)]
        nominal = np.zeros((d.n_rows, len(OUTCOMES)))
        nominal[np.arange(d.n_rows), d.outcome] = d.weight
        kernel = lik.KERNELS[self.kernel_]
        counts = kernel.category_counts(nominal, self.tie_handling == "half")
        ll = lik.evaluate(kernel, counts, lin, self._tau(), derivatives=False).loglik
        return ll / float(counts.sum())

    def summary(self) -> Summary:
        """Fit report: model, identification, fit statistics and the estimates table.

        Returns
        -------
        Summary
            Renders as text (``print``) and as HTML in a notebook; its
            ``tables`` are DataFrames.
        """
        self._check_fitted()
        ident = ("strengths sum to zero" if self.reference is None
                 else f"strength of {self.reference!r} fixed at 0")
        link = {"logit": "Bradley–Terry (logit)", "probit": "Thurstone Case V (probit)"}
        ties = {None: "none in data" if self.tie_handling is None else "counted as half wins",
                "davidson": "Davidson (1970)", "rao-kupper": "Rao–Kupper (1967)"}
        facts: dict[str, object] = {
            "model": link[self._link],
            "ties": ties[self.ties],
            "order effect": "estimated" if self.order_effect else "not modelled",
            "identification": ident,
            "items": self.n_items_,
            "judgements (weight)": self.n_obs_,
            "log-likelihood": self.loglik_,
            "deviance (pair table)": self.deviance_,
            "AIC": self.aic_,
            "iterations": self.n_iter_,
            "converged": self.converged_,
            "confidence level": self.conf_level,
        }
        if self.penalty_:
            how = " chosen by cross-validation" if self.penalty == "cv" else ""
            facts["penalty"] = (f"{self.penalty_:g}{how} (Gaussian prior, sd "
                                f"{self.penalty_ ** -0.5:.3g})")
        if self.bias_reduction:
            facts["estimation"] = "Firth bias-reduced (Jeffreys prior); SEs from Fisher info"
        notes = list(self.warnings_)
        if self._structure is not None:
            self._structured_facts(facts, notes)
        else:
            notes.append("Standard errors from the expected (Fisher) information; Wald "
                         "intervals.")
        return Summary(f"{type(self).__name__} fit", facts, {"Parameters": self.params_}, notes)

    def _structured_facts(self, facts: dict[str, object], notes: list[str]) -> None:
        """Summary lines of a model with features, contest columns or random effects."""
        st = self._structure
        n_feat = int(st.featured.sum())
        if n_feat:
            facts["identification"] = (
                "item strengths are absolute (x · beta fixes their level); the strengths "
                "table is centred" + ("" if self.reference is None
                                      else f" at {self.reference!r}"))
            facts["item strengths"] = (
                f"x · beta for {n_feat} item(s) with {len(st.feature_names)} feature(s); "
                f"free for {self.n_items_ - n_feat} item(s) without features (BradleyTerry2's "
                "convention: an item with missing features keeps its own strength)")
        if st.contest_names:
            facts["contest features"] = ", ".join(st.contest_names)
            facts["cells"] = (f"{self.n_pairs_} (one per ordered pair and distinct row of the "
                              "contest features)")
        if self.sigma_ is not None:
            method = {"laplace": "Laplace approximation of the marginal likelihood",
                      "pql": "PQL (Breslow–Clayton, as BradleyTerry2's glmmPQL)"}
            facts["random item effects"] = ("u_i ~ N(0, sigma^2) on the items with features; "
                                            + method[self.random_effect_method_])
            facts["sigma"] = self.sigma_
            facts["log-likelihood"] = f"{self.loglik_:.4g} (at the predicted random effects)"
            if self.marginal_loglik_ is not None:
                facts["marginal log-likelihood"] = self.marginal_loglik_
            else:
                facts["AIC"] = "not available (PQL has no likelihood)"
        if self.cov_type_ == "robust":
            facts["standard errors"] = "sandwich (robust), per judgement"
        elif self.cov_type_ == "cluster":
            facts["standard errors"] = f"cluster-robust, {self.n_clusters_} clusters"
        if self.cv_results_ is not None:
            folds = int(self.cv_folds)
            notes.append(f"penalty chosen among {len(self.cv_results_)} values by {folds}-fold "
                         "cross-validation of the held-out log-likelihood (cv_results_).")
        if self.cov_type_ == "model":
            notes.append("Standard errors from the expected (Fisher) information"
                         + (" of the penalised likelihood" if self.penalty_ else "")
                         + "; Wald intervals.")


def _same(a: Any, b: Any) -> bool:
    """Equality of hyperparameter values (lists and arrays compare whole)."""
    try:
        return bool(a == b)
    except ValueError:
        return False


def _is_feature_matrix(spec: Any) -> bool:
    """Feature rows (a DataFrame or a 2-D numeric array), as opposed to item labels."""
    if isinstance(spec, pd.DataFrame):
        return True
    return isinstance(spec, np.ndarray) and spec.ndim == 2 and spec.dtype.kind in "fiu"


def _quadratic(rows: np.ndarray, cov: np.ndarray | None) -> np.ndarray:
    """``diag(rows cov rows')``; NaN without a covariance."""
    if cov is None:
        return np.full(rows.shape[0], np.nan)
    return np.einsum("ij,jk,ik->i", rows, cov, rows)


def _check_order_divergence(theta: np.ndarray, layout: _Layout) -> None:
    """Refuse an infinite order effect; no penalty bounds it (ridges act on the strengths)."""
    if layout.order_effect and abs(theta[layout.order_index]) > _DIVERGENCE:
        raise NotIdentifiableError(
            f"the order effect diverges (beyond ±{_DIVERGENCE:g}): the first-shown item "
            "(nearly) always won or always lost, so its advantage is infinite (check that "
            "item_a is the item shown first, not the winner). Fit without order_effect=True, "
            "or collect comparisons with the order randomised; a penalty does not help, it "
            "shrinks the strengths only."
        )


@dataclass
class _InfoParts:
    """The information matrix in pieces: a weighted Laplacian plus dense border rows."""

    first: np.ndarray
    second: np.ndarray
    w: np.ndarray
    diag: np.ndarray
    border_index: list[int]
    border_rows: list[np.ndarray]
    size: int

    def dense(self) -> np.ndarray:
        n = self.diag.size
        info = np.zeros((self.size, self.size))
        flat = np.bincount(self.first * n + self.second, self.w, n * n).reshape(n, n)
        info[:n, :n] = -(flat + flat.T)
        info[np.arange(n), np.arange(n)] = self.diag
        for k, row in zip(self.border_index, self.border_rows):
            info[k, :] = row
            info[:, k] = row
        return info

    def restricted(self, free: np.ndarray, cells: _DenseCells | None = None) -> np.ndarray:
        """``dense()[np.ix_(free, free)]`` without forming the full matrix.

        The item block is counted only over the cells whose two items are
        both free (``cells``, computed once per problem, says which).
        """
        n = self.diag.size
        if cells is None:
            cells = _DenseCells(self.first, self.second, free[:n])
        k, items = cells.k, cells.items
        w = self.w if cells.both is None else self.w[cells.both]
        rows = [row for j, row in zip(self.border_index, self.border_rows) if free[j]]
        size = k + len(rows)
        info = np.empty((size, size))
        flat = np.bincount(cells.index, w, k * k).reshape(k, k)
        block = info[:k, :k]
        np.add(flat, flat.T, out=block)
        np.negative(block, out=block)
        block.flat[::k + 1] = self.diag[items]
        if rows:
            border = np.array(rows)[:, free]
            info[k:, :] = border
            info[:, k:] = border.T
        return info

    def sparse(self) -> sparse.csr_matrix:
        n = self.diag.size
        rows = [self.first, self.second, np.arange(n)]
        cols = [self.second, self.first, np.arange(n)]
        vals = [-self.w, -self.w, self.diag]
        border = np.asarray(self.border_index, dtype=np.intp)
        for k, row in zip(self.border_index, self.border_rows):
            # Item-border entries on both sides; the border-border block once, from its rows.
            nz = np.flatnonzero(row[:n])
            rows += [np.full(nz.size, k), nz, np.full(border.size, k)]
            cols += [nz, np.full(nz.size, k), border]
            vals += [row[nz], row[nz], row[border]]
        return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                         np.concatenate(cols))),
                                 shape=(self.size, self.size))


class _DenseCells:
    """Where each cell lands in the dense item block of the free items, per problem."""

    def __init__(self, first: np.ndarray, second: np.ndarray, item_free: np.ndarray) -> None:
        n = item_free.size
        self.items = np.flatnonzero(item_free)
        self.k = k = self.items.size
        pos = np.full(n, -1, dtype=np.intp)
        pos[self.items] = np.arange(k)
        first, second = pos[first], pos[second]
        self.both = None
        if k < n:
            self.both = (first >= 0) & (second >= 0)
            first, second = first[self.both], second[self.both]
        self.index = first * k + second


class _LaplacianPattern:
    """CSR structure of the item block, built once per problem.

    Each Newton step only gathers new values into it (``data = values[perm]``),
    so the per-step cost is one pass over the cells. Rows and columns of the
    items not free in the solver (the pivot, items held at 0) are zeroed with
    a unit diagonal, which fixes their step at 0 while keeping the structure.
    """

    def __init__(self, first: np.ndarray, second: np.ndarray, layout: _Layout,
                 free: np.ndarray | None = None) -> None:
        n, m = layout.n_items, first.size
        rows = np.concatenate([first, second, np.arange(n)])
        cols = np.concatenate([second, first, np.arange(n)])
        # Slots grouped by row. Duplicate (row, column) slots (ordered cells i->j and
        # j->i) are kept apart; the product sums them. ``perm`` maps every slot to
        # exactly one raw value.
        self.perm = _stable_row_order(first, second, n)
        self.indices = cols[self.perm]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
        self.n, self.m = n, m
        self.diag_slots = np.flatnonzero(self.perm >= 2 * m)
        self.diag_items = self.perm[self.diag_slots] - 2 * m
        self.pivot_zero = self.pivot_one = None
        fixed = ~(layout.free() if free is None else free)[:n]
        if fixed.any():
            slot_rows = np.repeat(np.arange(n), np.diff(self.indptr))
            self.pivot_zero = fixed[slot_rows] | fixed[self.indices]
            self.pivot_one = self.diag_slots[fixed[self.diag_items]]

    def matrix(self, w: np.ndarray, diag: np.ndarray, fix: bool = True) -> sparse.csr_matrix:
        """The item block; with ``fix=False`` the whole Laplacian, fixed items included."""
        data = np.concatenate([-w, -w, diag])[self.perm]
        if fix and self.pivot_zero is not None:
            data[self.pivot_zero] = 0.0
            data[self.pivot_one] = 1.0
        return sparse.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))


def _stable_row_order(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray:
    """``argsort(concatenate([first, second, arange(n)]), kind="stable")``, faster.

    Aggregated cells come sorted by ``first``; then only ``second`` needs a sort,
    and the three runs are placed by counting: within a row, its ``first``
    slots, then its ``second`` slots, then its diagonal, each in input order.
    """
    m = first.size
    if m and not (np.diff(first) >= 0).all():
        return np.argsort(np.concatenate([first, second, np.arange(n)]), kind="stable")
    n_first = np.bincount(first, minlength=n)
    n_second = np.bincount(second, minlength=n)
    start = np.concatenate([[0], np.cumsum(n_first + n_second + 1)[:-1]])
    perm = np.empty(2 * m + n, dtype=np.intp)
    # Slot of the k-th cell of row r among its first-item cells: start[r] + k.
    first_start = np.concatenate([[0], np.cumsum(n_first)[:-1]])
    perm[start[first] + np.arange(m) - first_start[first]] = np.arange(m)
    order = np.argsort(second.astype(np.uint16) if n <= 1 << 16 else second, kind="stable")
    rows = second[order]
    second_start = np.concatenate([[0], np.cumsum(n_second)[:-1]])
    perm[start[rows] + n_first[rows] + np.arange(m) - second_start[rows]] = m + order
    perm[start + n_first + n_second] = 2 * m + np.arange(n)
    return perm


class _InfoOperator:
    """Information restricted to the free parameters, for conjugate gradients.

    The item block is a CSR matrix on a structure fixed per problem; the few
    border rows (order effect, tie, feature and contest coefficients) are
    applied densely. ``penalty`` is a ridge on the items (a number) or one
    ridge weight per parameter.
    """

    def __init__(self, parts: _InfoParts, free: np.ndarray, penalty: float | np.ndarray,
                 pattern: _LaplacianPattern | None = None) -> None:
        n = parts.diag.size
        self.parts = parts
        self.free = free
        self.ridge = np.zeros(parts.size)
        if np.ndim(penalty):
            self.ridge[:] = penalty
        else:
            self.ridge[:n] = penalty
        self.pattern = pattern or _LaplacianPattern(
            parts.first, parts.second, _Layout(n, False, False, None), free[:n])
        self.items = self.pattern.matrix(parts.w, parts.diag + self.ridge[:n])
        k = int(free.sum())
        self.shape = (k, k)

    def matvec(self, x_free: np.ndarray) -> np.ndarray:
        p = self.parts
        n = p.diag.size
        x = np.zeros(p.size)
        x[self.free] = x_free
        out = np.empty(p.size)
        out[:n] = self.items @ x[:n]
        for k, row in zip(p.border_index, p.border_rows):
            out[:n] += row[:n] * x[k]
            out[k] = row @ x + self.ridge[k] * x[k]
        return out[self.free]

    def diagonal(self) -> np.ndarray:
        p = self.parts
        d = np.concatenate([p.diag, np.zeros(p.size - p.diag.size)]) + self.ridge
        for k, row in zip(p.border_index, p.border_rows):
            d[k] = row[k] + self.ridge[k]
        return d[self.free]

    def toarray(self) -> np.ndarray:
        info = self.parts.sparse() + sparse.diags(self.ridge, format="csr")
        return info[self.free][:, self.free].toarray()


def _transpose(values: np.ndarray, first: np.ndarray, second: np.ndarray, layout: _Layout,
               design: _Design | None, tie_values: np.ndarray | None = None) -> np.ndarray:
    """``D' values``: per-cell values summed into every parameter through the design.

    With ``values = g_d`` (and ``tie_values = g_t``) this is the score.
    """
    n = layout.n_items
    out = np.zeros(layout.size)
    out[:n] = np.bincount(first, values, n) - np.bincount(second, values, n)
    if layout.order_effect:
        out[layout.order_index] = values.sum()
    if layout.tie and tie_values is not None:
        out[layout.tie_index] = tie_values.sum()
    if design is not None:
        fs, cs = layout.feature_index, layout.contest_index
        out[fs:cs] = design.features.T @ out[:n]
        out[cs:cs + layout.n_contest] = design.contest.T @ values
    return out


def _info_parts(terms: lik.CellTerms, first: np.ndarray, second: np.ndarray,
                layout: _Layout, design: _Design | None = None
                ) -> tuple[np.ndarray, _InfoParts]:
    """Gradient and information pieces of theta from per-cell derivatives in (d, tau).

    The information is ``D' W D`` for the design ``D`` of the linear predictor
    (and of the tie parameter): a weighted Laplacian on the items plus dense
    border rows (order effect, tie, feature and contest coefficients), each
    assembled with bincounts and small products. The item-feature columns of
    ``D`` are never formed: their blocks go through the Laplacian.
    """
    n, size = layout.n_items, layout.size
    grad = _transpose(terms.g_d, first, second, layout, design, terms.g_t)
    w = terms.i_dd
    diag = np.bincount(first, w, n) + np.bincount(second, w, n)
    # Cell design columns of the parameters entering d besides items and features:
    # the order effect (a column of ones, kept as None) and the contest coefficients.
    d_index: list[int] = []
    d_cols: list[np.ndarray | None] = []
    if layout.order_effect:
        d_index.append(layout.order_index)
        d_cols.append(None)
    q = layout.n_contest if design is not None else 0
    if q:
        d_index += range(layout.contest_index, layout.contest_index + q)
        d_cols += list(design.contest.T)
    p = layout.n_features if design is not None else 0
    features_at = list(range(layout.feature_index, layout.feature_index + p))
    index = d_index + [layout.tie_index] * layout.tie + features_at
    border = np.zeros((len(index), size))
    r = len(d_index)
    weighted = [w if col is None else w * col for col in d_cols]
    for j, wcol in enumerate(weighted):
        border[j, :n] = np.bincount(first, wcol, n) - np.bincount(second, wcol, n)
        for k, col in zip(d_index, d_cols):
            border[j, k] = wcol.sum() if col is None else wcol @ col
    if layout.tie:
        t, k = r, layout.tie_index
        border[t, :n] = (np.bincount(first, terms.i_dt, n)
                         - np.bincount(second, terms.i_dt, n))
        border[t, k] = terms.i_tt.sum()
        for j, col in zip(d_index, d_cols):
            border[t, j] = border[d_index.index(j), k] = (
                terms.i_dt.sum() if col is None else terms.i_dt @ col)
    if p:
        features = design.features
        lx = design.pattern.matrix(w, diag) @ features
        f = r + int(layout.tie)
        border[f:, :n] = lx.T
        border[f:, features_at] = features.T @ lx
        for j, k in enumerate(index[:f]):
            border[j, features_at] = border[f:, k] = features.T @ border[j, :n]
    order = np.argsort(index, kind="stable")
    return grad, _InfoParts(first, second, w, diag, [index[j] for j in order],
                            list(border[order]), size)


def _assemble(terms: lik.CellTerms, first: np.ndarray, second: np.ndarray, layout: _Layout,
              dense: bool) -> tuple[np.ndarray, Any]:
    """Gradient and information of theta as a dense array or a sparse matrix."""
    grad, parts = _info_parts(terms, first, second, layout)
    return grad, parts.dense() if dense else parts.sparse()


def _firth(objective: Any, counts: np.ndarray, first: np.ndarray, second: np.ndarray,
           layout: _Layout, free: np.ndarray, x0: np.ndarray, max_iter: int,
           dense: bool) -> NewtonResult:
    """Firth (1993) bias reduction for the binomial logit model, as brglm does.

    Maximises the Jeffreys-penalised log-likelihood ``l + log det(I) / 2``. Its
    gradient, the modified score, equals the ordinary score of pseudo-data in
    which each cell gains half its leverage to each side (``y* = y + h/2``,
    ``n* = n + h``). Steps are Fisher-scoring steps on the pseudo-data, halved
    until the penalised log-likelihood increases.
    """
    size = layout.size

    def penalised(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        value, _, info = objective(x, True)
        info = info if dense else info.toarray()
        try:
            chol = linalg.cholesky(info, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return -np.inf, info, np.empty(0)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        return value + 0.5 * logdet, info, chol

    x = x0.copy()
    value, info, chol = penalised(x)
    converged = False
    decrement = np.inf
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        cov_free = linalg.cho_solve((chol, True), np.eye(chol.shape[0]), check_finite=False)
        cov = np.zeros((size, size))
        cov[np.ix_(free, free)] = cov_free
        lev = _leverages(x, counts, first, second, layout, cov)
        _, grad, _ = objective(x, True, counts + lev[:, None] / 2.0)
        step = cov_free @ grad
        decrement = float(grad @ step)
        if decrement < 1e-20 * (1.0 + abs(value)):
            converged = True
            break
        t = 1.0
        for _ in range(40):
            trial_value, trial_info, trial_chol = penalised(x + t * step)
            if trial_value > value:
                break
            t *= 0.5
        else:
            converged = decrement < 1e-8 * (1.0 + abs(value))
            break
        x, value, info, chol = x + t * step, trial_value, trial_info, trial_chol
    loglik, grad, info = objective(x, True)
    return NewtonResult(x, loglik, grad, info, n_iter, converged, decrement)


def _leverages(x: np.ndarray, counts: np.ndarray, first: np.ndarray,
               second: np.ndarray, layout: _Layout, cov: np.ndarray) -> np.ndarray:
    """Hat values ``w_i x_i' C x_i`` of the cells of a binomial logit fit."""
    theta = np.zeros(layout.size)
    theta[layout.free()] = x
    lin = theta[first] - theta[second]
    if layout.order_effect:
        lin = lin + theta[layout.order_index]
    p = special.expit(lin)
    w = counts.sum(axis=1) * p * (1 - p)
    quad = cov[first, first] + cov[second, second] - 2 * cov[first, second]
    if layout.order_effect:
        k = layout.order_index
        quad = quad + 2 * (cov[first, k] - cov[second, k]) + cov[k, k]
    return w * quad
