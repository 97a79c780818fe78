"""The Thurstone–Mosteller Case V model (probit link)."""

from __future__ import annotations

from ._paired import PairedComparisonModel

__all__ = ["Thurstone"]


class Thurstone(PairedComparisonModel):
    r"""Thurstone–Mosteller Case V model for paired comparisons.

    The probability that ``a`` is preferred to ``b`` is
    ``Phi(lambda_a - lambda_b + h)``: the scale gives the difference of two
    items' latent values unit variance. Same options, attributes and methods
    as :class:`BradleyTerry`, except that ties can only be counted as half
    wins (``tie_handling="half"``) and bias reduction is not available.

    Standard errors come from the expected (Fisher) information, as R's
    ``glm`` (IRLS) reports them for the probit link; it differs from the
    observed information away from the optimum of a saturated fit.

    Parameters
    ----------
    tie_handling : {None, "half"}, default None
        See :class:`BradleyTerry`.
    order_effect : bool, default False
        Estimate the advantage of the first-shown item on the probit scale.
    penalty : float, default 0.0
        Ridge penalty on the strengths (see :class:`BradleyTerry`).
    reference : item label, optional
        ``None``: strengths sum to zero; a label fixes that item at 0.
    item_random_effect, random_effect_method, cov_type, cv_folds, cv_penalties, random_state
        Random item effects, robust covariances and cross-validated penalties
        (see :class:`BradleyTerry`).
    conf_level : float, default 0.95
        Coverage of the Wald intervals.
    max_iter, tol
        Solver settings (see :class:`BradleyTerry`).

    Examples
    --------
    >>> from prefstat import Thurstone
    >>> from prefstat.datasets import load_citations
    >>> model = Thurstone(reference="Biometrika").fit(load_citations(), weight="weight")
    >>> model.strengths_.loc["JRSS-B", ["estimate", "se"]].round(4).tolist()
    [0.1591, 0.0432]
    """

    _link = "probit"
