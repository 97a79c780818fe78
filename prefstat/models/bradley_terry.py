"""The Bradley–Terry model (logit link), with ties and order effects."""

from __future__ import annotations

from ._paired import PairedComparisonModel

__all__ = ["BradleyTerry"]


class BradleyTerry(PairedComparisonModel):
    r"""Bradley–Terry model for paired comparisons, fitted by maximum likelihood.

    The probability that item ``a`` (shown first) is preferred to ``b`` is
    ``1 / (1 + exp(-(lambda_a - lambda_b + h)))``, where ``lambda`` are the
    log-strengths and ``h`` the optional order effect (home advantage,
    position bias). Ties are either modelled (Davidson 1970, Rao & Kupper
    1967) or counted as half a win for each side.

    Parameters
    ----------
    ties : {None, "davidson", "rao-kupper"}, default None
        Ties model. With ``None`` a tie in the data is an error unless
        ``tie_handling="half"``. The tie parameter is reported in ``params_``
        under group ``tie``: ``log_nu`` (Davidson's log nu, psychotools'
        ``(undecided)``; gnm's ``tie.max`` is ``log_nu - log 2``) or
        ``log_theta`` (Rao–Kupper's log theta, > 0).
    tie_handling : {None, "half"}, default None
        ``"half"`` counts a tie as half a win for each side
        (BradleyTerry2's convention); only without a ties model.
    order_effect : bool, default False
        Estimate the advantage ``h`` of the first-shown item (``item_a``). In
        the Davidson model it multiplies the first item's worth inside the tie
        term too, as in gnm's ``GenDavidson``.
    penalty : float or "cv", default 0.0
        Ridge penalty ``penalty / 2 * sum(lambda**2)`` on the log-strengths
        (and on the feature coefficients ``beta`` of a model with item
        features): a Gaussian prior with variance ``1 / penalty``. It makes
        estimates finite on disconnected or separable data (a recorded
        warning says so); standard errors then come from the penalised
        information. ``"cv"`` chooses it among ``cv_penalties`` by
        cross-validation of the held-out log-likelihood (folds grouped by
        ``fit(..., groups=)``).
    reference : item label, optional
        Identification: ``None`` makes strengths sum to zero; a label fixes
        that item's strength at 0 (BradleyTerry2's ``refcat``).
    bias_reduction : bool, default False
        Firth's bias-reduced estimate (Jeffreys-prior penalty, as brglm):
        finite on separable data, with standard errors from the Fisher
        information at the estimate. Logit model without a ties model only.
    item_random_effect : bool, default False
        Add ``u_i ~ N(0, sigma^2)`` to the strength ``x_i beta`` of every
        item with features (``fit(..., item_features=)``); ``sigma`` is
        reported under group ``item_sd``. At the boundary ``sigma = 0`` the
        fit is the fixed-effects ML fit (as BradleyTerry2's BTm).
    random_effect_method : {"laplace", "pql"}, default "laplace"
        Laplace approximation of the marginal likelihood, or penalised
        quasi-likelihood as BradleyTerry2's ``glmmPQL`` (whose numbers it
        reproduces).
    cov_type : {"model", "robust", "cluster"}, default "model"
        Standard errors from the inverse information, sandwich (per
        judgement), or cluster-robust (``fit(..., clusters=)``).
    cv_folds : int, default 5
        Folds of ``penalty="cv"``.
    cv_penalties : sequence of float, optional
        Penalties tried by ``penalty="cv"`` (13 values from 0.01 to 10^4 by
        default).
    random_state : int or numpy.random.Generator, optional
        Seed of the cross-validation folds.
    conf_level : float, default 0.95
        Coverage of the Wald intervals in ``params_`` and ``strengths_``.
    max_iter : int, default 100
        Newton / Fisher-scoring iterations at most.
    tol : float, default 1e-20
        Convergence when the Newton decrement ``g' I^{-1} g`` is below
        ``tol * (1 + |loglik|)``.
    se_method : {"auto", "exact", "approx"}, default "auto"
        ``"exact"`` inverts the information matrix (dense, O(n^3));
        ``"approx"`` approximates item variances by a Neumann expansion of
        the inverse information in O(number of pairs), with exact SEs for
        the order-effect and tie parameters (see Notes); ``"auto"`` is exact
        up to 2,500 free parameters.

    Attributes
    ----------
    strengths_ : pandas.DataFrame
        Log-strengths indexed by item: ``estimate, se, z, p, ci_lower,
        ci_upper``.
    params_ : pandas.DataFrame
        Every parameter, indexed by ``(group, name)`` with groups ``item``,
        ``order_effect``, ``tie``, ``feature`` (item-feature coefficients),
        ``contest`` (contest-feature coefficients) and ``item_sd`` (the
        random-effect SD), so an item called "tie" cannot collide. With item
        features, group ``item`` holds only the free strengths of items
        without features.
    cov_ : pandas.DataFrame or None
        Covariance of ``params_['estimate']`` under the chosen identification
        (``None`` with approximate SEs: the n x n matrix is never formed).
    se_method_ : str
        ``"exact"`` or ``"approximate"``.
    loglik_ : float
        Log-likelihood kernel (no binomial or multinomial coefficients).
    deviance_ : float
        Deviance against the saturated model of the pair table (one cell per
        observed pair, or per ordered pair with ``order_effect``).
    aic_, bic_ : float
        Information criteria from ``loglik_`` and the number of free
        parameters ``df_model_``.
    n_obs_ : float
        Number (total weight) of judgements.
    n_iter_ : int
        Iterations used.
    converged_ : bool
        Whether the Newton decrement met the tolerance.
    connectivity_ : prefstat.diagnostics.Connectivity
        The identifiability analysis run before fitting.
    penalty_ : float
        The penalty used (chosen by cross-validation with ``penalty="cv"``).
    cv_results_ : pandas.DataFrame or None
        Held-out log-likelihood per judgement of every penalty tried.
    feature_names_, contest_features_ : list of str
        Names of the item-feature and contest-feature columns (models fitted
        with features).
    random_effects_ : pandas.DataFrame or None
        Predicted random effects ``u_i`` and their conditional SEs.
    sigma_ : float or None
        The random-effect SD.
    marginal_loglik_ : float or None
        Laplace-approximate marginal log-likelihood (``loglik_`` is then the
        kernel at the predicted effects).
    warnings_ : list of str
        Recoverable problems recorded during the fit (also shown in
        ``summary()``).

    See Also
    --------
    Thurstone : the same model with a probit link.
    prefstat.features : item feature sources (tables, text statistics,
        scikit-learn transformers, sentence embeddings).

    Notes
    -----
    Standard errors come from the inverse expected (Fisher) information; for
    the logit and Davidson models it equals the observed information.

    With many items the approximate standard errors use
    ``L^+ ≈ P (D^-1 + D^-1 W D^-1 + D^-1 W D^-1 W D^-1) P`` for the item block
    ``L = D - W`` of the information (a weighted graph Laplacian) and the
    identification map ``P``; on random comparison graphs the relative error
    measured against the exact inverse is about 1e-4 with 100 comparisons per
    item and 5e-3 with 30 (``tests/test_large_n.py``). It grows on graphs
    where an item's comparisons concentrate on few opponents.
    Estimates are computed on the sufficient statistics (outcome counts per
    pair), so the cost of an iteration grows with the number of distinct
    pairs, not judgements. With contest features a cell is an ordered pair
    and one distinct row of the contest columns. Item and contest features,
    random item effects, cross-validated penalties and robust covariances are
    described in the user guide's "Item and contest features" page.

    Examples
    --------
    >>> from prefstat import BradleyTerry
    >>> from prefstat.datasets import load_citations
    >>> model = BradleyTerry(reference="Biometrika").fit(load_citations(), weight="weight")
    >>> model.strengths_[["estimate", "se"]].round(4)
                  estimate      se
    item
    Biometrika      0.0000  0.0000
    Comm Statist   -2.9491  0.1025
    JASA           -0.4796  0.0606
    JRSS-B          0.2690  0.0708
    """

    _link = "logit"
