"""RaterBradleyTerry: Laplace fits with rater random effects.

Outside truth:
* lme4's ``glmer`` (Laplace) on the cbpp data, a binomial GLMM with one random
  intercept per herd, which is exactly the position-bias model written as
  comparisons of each period against a baseline item (see ``_cbpp_table``).
* An independent brute-force Laplace evaluation (scipy's optimiser for the modes,
  numerical second derivatives), against the engine's value.
* Finite differences of the engine's value, against its analytic gradient.
* Simulation with known rater effects (slow).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

import prefstat
from prefstat.exceptions import (
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    NotIdentifiableError,
)
from prefstat.models import _rater_laplace as rl

# lme4's cbpp (Lesnoff et al. 2004), 56 rows, as in vincentarelbundock/Rdatasets
# csv/lme4/cbpp.csv (commit cc03c29690889dbe83089f5206e2422db8c3f71f), checked equal to
# lme4::cbpp.
_CBPP_INCIDENCE = [2, 3, 4, 0, 3, 1, 1, 8, 2, 0, 2, 2, 0, 2, 0, 5, 0, 0, 1, 3, 0, 0, 1, 8, 1, 3,
                   0, 12, 2, 0, 0, 0, 1, 1, 0, 2, 0, 5, 3, 1, 2, 1, 0, 0, 1, 2, 0, 0, 11, 0, 0, 0,
                   1, 1, 1, 0]
_CBPP_SIZE = [14, 12, 9, 5, 22, 18, 21, 22, 16, 16, 20, 10, 10, 9, 6, 18, 25, 24, 4, 17, 17, 18,
              20, 16, 10, 9, 5, 34, 9, 6, 8, 6, 22, 22, 18, 22, 25, 27, 22, 22, 10, 8, 6, 5, 21,
              24, 19, 23, 19, 2, 3, 2, 19, 15, 15, 15]
_CBPP_PERIOD = [1, 2, 3, 4, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4,
                1, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3,
                4]
_CBPP_HERD = [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8,
              9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 13, 14, 14,
              14, 14, 15, 15, 15, 15]

# lme4 1.1-31 (R 4.2.2, Debian 12), run 2026-11-26:
#   glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), binomial, cbpp,
#         control = glmerControl(tolPwrss = 1e-13, optimizer = "bobyqa",
#                                optCtrl = list(rhoend = 1e-12)))
# fixef, sqrt(diag(vcov)) (lme4's default: finite-difference Hessian of the deviance in
# (theta, beta)), theta (= herd SD), logLik, ranef with condVar, and
# confint(method = "profile") for the SD.
# Why the tight control: with the default tolPwrss = 1e-7 lme4's inner PIRLS loop stops
# early and its Laplace deviance is ~5.6e-4 too high, which moves the fixed effects by up
# to 6e-4 (default fit: -1.3983429, -0.9919250, -1.1282162, -1.5797454; SD 0.6420699;
# logLik -92.02657). With tolPwrss = 1e-13 lme4 agrees with MixedModels.jl (logLik
# -92.02628187), glmmML and glmmADMB: that is the Laplace optimum.
LME4_CBPP = {
    "fixef": [-1.398532147980, -0.992332654491, -1.128672011323, -1.580313926439],
    "se": [0.2324718165, 0.3066421065, 0.3266374716, 0.4274358616],
    "sd": 0.642261439625,
    "loglik": -92.026281871497,
    "ranef": [0.5900200114, -0.2988972285, 0.4062555585, 0.0392773058, -0.1900153633,
              -0.4002685760, 0.8893939461, 0.5993719291, -0.2376548759, -0.5409351961,
              -0.0846366629, -0.0648165474, -0.6899245697, 0.9707163850, -0.5304763364],
    "ranef_se": [0.3482650540, 0.3655582033, 0.2973184857, 0.4163881797, 0.3503985084,
                 0.3799557682, 0.3264710350, 0.3210890342, 0.4614078936, 0.3706786252,
                 0.3091223249, 0.4411374925, 0.3848159234, 0.3554012182, 0.3977028409],
    "sd_profile_ci": [0.3460944616, 1.099881899],
}


def _cbpp_table() -> pd.DataFrame:
    """cbpp as comparisons: period k (shown first) against a baseline item, per herd.

    With ``reference="base"`` and no global order effect, ``logit P = s_k + d_herd``:
    ``s_1`` is glmer's intercept and ``s_k - s_1`` its ``periodk`` coefficient.
    """
    rows = []
    for inc, size, per, herd in zip(_CBPP_INCIDENCE, _CBPP_SIZE, _CBPP_PERIOD, _CBPP_HERD):
        for outcome, w in (("a", inc), ("b", size - inc)):
            if w > 0:
                rows.append((f"period{per}", "base", outcome, f"herd{herd:02d}", float(w)))
    return pd.DataFrame(rows, columns=["item_a", "item_b", "outcome", "rater", "weight"])


@pytest.fixture(scope="module")
def cbpp_fit() -> prefstat.RaterBradleyTerry:
    return prefstat.RaterBradleyTerry(order_effect=False, reference="base").fit(
        _cbpp_table(), weight="weight")


def test_cbpp_matches_lme4_laplace(cbpp_fit):
    s = cbpp_fit.strengths_["estimate"]
    p = [f"period{k}" for k in range(1, 5)]
    fixef = np.array([s[p[0]]] + [s[k] - s[p[0]] for k in p[1:]])
    np.testing.assert_allclose(fixef, LME4_CBPP["fixef"], atol=2e-6)
    vc = cbpp_fit.variance_components_.loc["position_bias"]
    # the SD direction is flat (lme4's own tight runs differ by 8e-6 across optimisers)
    assert vc["sd"] == pytest.approx(LME4_CBPP["sd"], abs=2e-5)
    assert not cbpp_fit.singular_
    # SEs of glmer's contrasts from our covariance (same Hessian-based convention)
    cov = cbpp_fit.cov_.loc[("item", p), ("item", p)].to_numpy()
    T = np.array([[1, 0, 0, 0], [-1, 1, 0, 0], [-1, 0, 1, 0], [-1, 0, 0, 1.0]])
    se = np.sqrt(np.diag(T @ cov @ T.T))
    np.testing.assert_allclose(se, LME4_CBPP["se"], rtol=2e-5)
    # lme4's logLik adds the binomial coefficients that our kernel leaves out
    log_choose = float(np.sum(np.log(special.comb(_CBPP_SIZE, _CBPP_INCIDENCE))))
    assert cbpp_fit.loglik_ + log_choose == pytest.approx(LME4_CBPP["loglik"], abs=1e-6)
    assert cbpp_fit.cov_method_ == "hessian"


def test_cbpp_conditional_modes_and_profile_interval(cbpp_fit):
    raters = cbpp_fit.raters_.loc[[f"herd{h:02d}" for h in range(1, 16)]]
    # no global order effect: the rater's position bias is its random intercept
    np.testing.assert_allclose(raters["position_bias"], LME4_CBPP["ranef"], atol=2e-5)
    np.testing.assert_allclose(raters["position_bias_se"], LME4_CBPP["ranef_se"], rtol=5e-5)
    assert cbpp_fit.intervals_ == "profile"
    vc = cbpp_fit.variance_components_.loc["position_bias"]
    # lme4 interpolates its profile with splines: its limits are good to ~1e-4
    assert vc["ci_lower"] == pytest.approx(LME4_CBPP["sd_profile_ci"][0], rel=1e-4)
    assert vc["ci_upper"] == pytest.approx(LME4_CBPP["sd_profile_ci"][1], rel=2e-4)
    counts = cbpp_fit.raters_["n_judgements"]
    assert counts.sum() == sum(_CBPP_SIZE)


# ------------------------------------------------------------------ the engine itself
def _random_problem(effects, seed=1, n=6, R=5, m=120):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, m)
    b = (a + rng.integers(1, n, m)) % n
    r = rng.integers(0, R, m)
    o = (rng.random(m) < 0.8).astype(float)
    tot = rng.integers(1, 4, m).astype(float)
    y = rng.binomial(tot.astype(int), 0.6).astype(float)
    return rl.RaterProblem(a, b, r, o, y, tot, n, R, 0, effects, True), rng


EFFECTS = [(True, False, False), (False, True, False), (True, True, False),
           (False, False, True), (True, True, True)]


@pytest.mark.parametrize("effects", EFFECTS)
def test_analytic_gradient_equals_finite_differences(effects):
    prob, rng = _random_problem(effects)
    beta = rng.normal(size=prob.n_fixed) * 0.5
    _assert_gradient(prob, beta, np.array([0.7, 0.4, 0.5]))


def _assert_gradient(prob, beta, sd):
    """The analytic gradient against central differences of the Laplace value."""
    _, grad = rl.evaluate(prob, beta, sd)
    x = np.concatenate([beta, sd])
    p = beta.size
    for j in np.flatnonzero(np.concatenate([np.ones(p, dtype=bool), prob.effects])):
        h = 1e-5
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        fp = rl.evaluate(prob, xp[:p], xp[p:], gradient=False)[0].value
        fm = rl.evaluate(prob, xm[:p], xm[p:], gradient=False)[0].value
        assert grad[j] == pytest.approx((fp - fm) / (2 * h), abs=1e-6 * (1 + abs(grad[j])))


@pytest.mark.parametrize("effects", EFFECTS)
def test_davidson_gradient_equals_finite_differences(effects):
    prob, rng = _random_problem(effects, seed=4)
    # split each cell's "b" weight into b and ties
    nt = np.minimum(rng.integers(0, 2, prob.r.size).astype(float), prob.n - prob.y)
    prob = rl.RaterProblem(prob.a, prob.b, prob.r, prob.o, prob.y, prob.n, prob.n_items,
                           prob.n_raters, 0, effects, True, nt=nt)
    beta = rng.normal(size=prob.n_fixed) * 0.5
    beta[-1] = -0.3  # log nu
    _assert_gradient(prob, beta, np.array([0.7, 0.4, 0.5]))


def _brute_force_laplace(prob, beta, sd):
    """Laplace value from scipy modes and a numerical Hessian, one rater at a time."""
    s, h, _ = prob.unpack(beta)
    pb, rel, taste = prob.effects
    total = 0.0
    for rater in range(prob.n_raters):
        k = prob.r == rater
        a, b, o, y, tot = prob.a[k], prob.b[k], prob.o[k], prob.y[k], prob.n[k]
        seen = np.unique(np.concatenate([a, b])) if taste else np.array([], dtype=int)
        ia, ib = np.searchsorted(seen, a), np.searchsorted(seen, b)
        nf = int(pb) + int(rel)

        def joint(v, a=a, b=b, o=o, y=y, tot=tot, ia=ia, ib=ib, nf=nf, seen=seen):
            d = sd[0] * v[0] if pb else 0.0
            e = sd[1] * v[int(pb)] if rel else 0.0
            u = sd[2] * v[nf:] if taste else np.zeros(1)
            ua = u[ia] if taste else 0.0
            ub = u[ib] if taste else 0.0
            eta = (1 + e) * (s[a] - s[b] + ua - ub) + o * (h + d)
            return float(np.sum(y * eta - tot * np.logaddexp(0, eta)) - 0.5 * v @ v)

        q = nf + seen.size
        res = optimize.minimize(lambda v: -joint(v), np.zeros(q), method="BFGS",
                                options={"gtol": 1e-12})
        v = res.x
        eps = 5e-4  # second differences: truncation ~eps^2 (~3e-7 here), rounding ~1e-16|f|/eps^2
        H = np.empty((q, q))
        for i in range(q):
            for j in range(q):
                ei, ej = np.eye(q)[i] * eps, np.eye(q)[j] * eps
                H[i, j] = -(joint(v + ei + ej) - joint(v + ei - ej) - joint(v - ei + ej)
                            + joint(v - ei - ej)) / (4 * eps * eps)
        total += joint(v) - 0.5 * np.linalg.slogdet(H)[1]
    return total


@pytest.mark.parametrize("effects", EFFECTS)
def test_laplace_value_equals_brute_force(effects):
    prob, rng = _random_problem(effects, seed=3)
    beta = rng.normal(size=prob.n_fixed) * 0.5
    sd = np.array([0.8, 0.5, 0.6])
    state, _ = rl.evaluate(prob, beta, sd, gradient=False)
    assert state.value == pytest.approx(_brute_force_laplace(prob, beta, sd), abs=1e-6)


# ------------------------------------------------------------------ the estimator
def _simulate(seed, n_items=8, n_raters=30, m=3000, sd_d=0.5, h=0.3):
    rng = np.random.default_rng(seed)
    s = rng.normal(0, 1, n_items)
    d = rng.normal(0, sd_d, n_raters)
    r = rng.integers(0, n_raters, m)
    a = rng.integers(0, n_items, m)
    b = (a + rng.integers(1, n_items, m)) % n_items
    eta = s[a] - s[b] + h + d[r]
    win = rng.random(m) < special.expit(eta)
    items = np.array([f"i{k}" for k in range(n_items)])
    raters = np.array([f"r{k:02d}" for k in range(n_raters)])
    return pd.DataFrame({"item_a": items[a], "item_b": items[b],
                         "outcome": np.where(win, "a", "b"), "rater": raters[r]})


def test_boundary_is_a_singular_fit_equal_to_the_plain_model():
    # every rater gives the same judgements: no between-rater variation at all, so the
    # derivative of the Laplace objective in sd^2 at 0 is -tr(Z'WZ)/2 < 0: the boundary
    base = _simulate(5, n_raters=1, m=200)
    df = pd.concat([base.assign(rater=f"r{k}") for k in range(12)], ignore_index=True)
    model = prefstat.RaterBradleyTerry().fit(df)
    vc = model.variance_components_.loc["position_bias"]
    assert model.singular_, vc
    assert vc["sd"] == 0.0 and np.isnan(vc["se"]) and vc["ci_lower"] == 0.0
    assert vc["ci_upper"] > 0
    plain = prefstat.BradleyTerry(order_effect=True).fit(df)
    np.testing.assert_allclose(model.params_["estimate"], plain.params_["estimate"], atol=1e-6)
    np.testing.assert_allclose(model.params_["se"], plain.params_["se"], rtol=1e-4)
    assert model.loglik_ == pytest.approx(plain.loglik_, abs=1e-8)
    h = model.params_.loc[("order_effect", "order_effect"), "estimate"]
    assert (model.raters_["position_bias"] == h).all()
    assert "Singular fit" in str(model.summary())


def test_sparse_raters_are_shrunk_not_dropped():
    df = _simulate(2)
    extra = pd.DataFrame({
        "item_a": ["i0", "i1", "i1", "i1", "i2", "i3"],
        "item_b": ["i1", "i2", "i2", "i2", "i3", "i4"],
        "outcome": ["a", "a", "b", "a", "a", "b"],
        "rater": ["single", "one_pair", "one_pair", "one_pair", "no_order", "no_order"],
    })
    df = pd.concat([df, extra], ignore_index=True)
    df["known"] = df["rater"] != "no_order"
    model = prefstat.RaterBradleyTerry(reliability=True).fit(df, order_known="known")
    raters = model.raters_
    sd = model.variance_components_["sd"]
    assert np.isfinite(raters.to_numpy(dtype=float)).all()
    # little information: the conditional SD stays close to the prior SD
    assert 0.9 * sd["position_bias"] < raters.loc["single", "position_bias_se"] <= sd[
        "position_bias"]
    assert raters.loc["one_pair", "n_items"] == 2
    # no order information: the position bias is the prior (h + 0, conditional SE = sd)
    h = model.params_.loc[("order_effect", "order_effect"), "estimate"]
    assert raters.loc["no_order", "position_bias"] == pytest.approx(h, abs=1e-10)
    assert raters.loc["no_order", "position_bias_se"] == pytest.approx(sd["position_bias"],
                                                                       rel=1e-10)


def test_predict_proba_consensus_and_per_rater():
    df = _simulate(4)
    model = prefstat.RaterBradleyTerry().fit(df)
    p = model.predict_proba(["i0", "i1"], ["i2", "i3"])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    s = model.strengths_["estimate"]
    h = model.params_.loc[("order_effect", "order_effect"), "estimate"]
    assert p.loc[0, "a"] == pytest.approx(special.expit(s["i0"] - s["i2"] + h))
    rater = model.raters_["position_bias"].idxmax()
    pr = model.predict_proba("i0", "i2", rater=rater)
    bias = model.raters_.loc[rater, "position_bias"]
    assert pr.loc[0, "a"] == pytest.approx(special.expit(s["i0"] - s["i2"] + bias))


def test_sum_to_zero_and_reference_agree():
    df = _simulate(6)
    m0 = prefstat.RaterBradleyTerry().fit(df)
    m1 = prefstat.RaterBradleyTerry(reference="i3").fit(df)
    est0 = m0.strengths_["estimate"]
    np.testing.assert_allclose(est0 - est0["i3"], m1.strengths_["estimate"], atol=1e-6)
    assert abs(est0.sum()) < 1e-10
    assert m0.loglik_ == pytest.approx(m1.loglik_, abs=1e-8)
    assert m1.strengths_.loc["i3", "se"] == 0.0


@pytest.mark.parametrize("kwargs, error", [
    ({"position_bias": False}, InvalidParameterError),
    ({"tie_handling": "davidson"}, InvalidParameterError),
    ({"intervals": "bootstrap"}, InvalidParameterError),
])
def test_bad_options_raise(kwargs, error):
    with pytest.raises(error):
        prefstat.RaterBradleyTerry(**kwargs).fit(_simulate(0))


def test_bad_input_raises_typed_errors():
    df = _simulate(0)
    with pytest.raises(MissingColumnError, match="rater"):
        prefstat.RaterBradleyTerry().fit(df.drop(columns="rater"))
    with pytest.raises(DataValidationError, match="boolean"):
        prefstat.RaterBradleyTerry().fit(df.assign(known="yes"), order_known="known")
    ties = df.copy()
    ties.loc[0, "outcome"] = "tie"
    with pytest.raises(prefstat.PrefstatError, match="tie"):
        prefstat.RaterBradleyTerry().fit(ties)
    half = prefstat.RaterBradleyTerry(tie_handling="half").fit(ties)
    assert half.n_obs_ == len(df)
    split = pd.concat([df.assign(item_a="x" + df["item_a"], item_b="x" + df["item_b"]), df])
    with pytest.raises(NotIdentifiableError):
        prefstat.RaterBradleyTerry().fit(split)


# ------------------------------------------------------------------ simulation (issue 6)
def _simulate_raters(seed, n_items=50, n_raters=200, m=20_000, sd_d=0.3, sd_e=0.2, sd_u=0.4,
                     h=0.2, n_spam=0, n_biased=0, bias=1.5):
    """The model's generative process, with optional planted spammers and biased raters.

    Spammers get discrimination 0 (``e_r = -1``), biased raters ``d_r + bias``.
    """
    rng = np.random.default_rng(seed)
    s = rng.normal(0, 1, n_items)
    s -= s.mean()
    d = rng.normal(0, sd_d, n_raters)
    e = rng.normal(0, sd_e, n_raters)
    perm = rng.permutation(n_raters)
    spam, biased = perm[:n_spam], perm[n_spam:n_spam + n_biased]
    e[spam] = -1.0
    d[biased] += bias
    u = rng.normal(0, sd_u, (n_raters, n_items))
    r = rng.integers(0, n_raters, m)
    a = rng.integers(0, n_items, m)
    b = (a + rng.integers(1, n_items, m)) % n_items
    eta = (1 + e[r]) * (s[a] - s[b] + u[r, a] - u[r, b]) + h + d[r]
    win = rng.random(m) < special.expit(eta)
    items = np.array([f"i{k:02d}" for k in range(n_items)])
    raters = np.array([f"r{k:03d}" for k in range(n_raters)])
    df = pd.DataFrame({"item_a": items[a], "item_b": items[b],
                       "outcome": np.where(win, "a", "b"), "rater": raters[r]})
    used = np.zeros((n_raters, n_items), dtype=bool)
    used[r, a] = used[r, b] = True
    truth = {"strength": pd.Series(s, items),
             # the realised effects' root mean square: what the data can tell about sd
             "position_bias": np.sqrt(np.mean(d ** 2)),
             "reliability": np.sqrt(np.mean(e ** 2)),
             "taste": np.sqrt(np.mean(u[used] ** 2)),
             "spammers": set(raters[spam]), "biased": set(raters[biased])}
    return df, truth


@pytest.mark.slow
def test_simulation_recovers_position_bias_and_reliability_sds():
    # 200 raters x 50 items x 20,000 judgements, four seeds fixed in advance: each
    # estimate within 3 SE of the truth, and the pooled z (mean z * sqrt(4)) within 2.
    z = {"position_bias": [], "reliability": []}
    for seed in range(4):
        df, truth = _simulate_raters(seed, sd_u=0.0)
        vc = prefstat.RaterBradleyTerry(reliability=True).fit(df).variance_components_
        for comp in z:
            z[comp].append((vc.loc[comp, "sd"] - truth[comp]) / vc.loc[comp, "se"])
    for comp, zs in z.items():
        assert np.all(np.abs(zs) < 3), (comp, zs)
        assert abs(np.mean(zs) * 2) < 2, (comp, zs)


@pytest.mark.slow
def test_simulation_flags_planted_raters_and_improves_the_consensus():
    # the design: 20 spammers (discrimination 0) and 20 raters with an extra
    # first-position advantage of 1.5 among 200; the top decile (20 raters) by the
    # model's estimates must hold them with precision and recall >= 0.9
    df, truth = _simulate_raters(0, n_spam=20, n_biased=20)
    model = prefstat.RaterBradleyTerry(reliability=True, taste=True).fit(df)
    raters = model.raters_
    least_reliable = set(raters.nsmallest(20, "reliability").index)
    most_biased = set(raters.nlargest(20, "position_bias").index)
    assert len(least_reliable & truth["spammers"]) / 20 >= 0.9
    assert len(most_biased & truth["biased"]) / 20 >= 0.9
    plain = prefstat.BradleyTerry(order_effect=True).fit(df)

    def rmse(est):
        return float(np.sqrt(np.mean((est.reindex(truth["strength"].index)
                                      - truth["strength"]) ** 2)))

    assert rmse(model.strengths_["estimate"]) < rmse(plain.strengths_["estimate"])


@pytest.mark.slow
def test_taste_sd_with_twenty_judgements_per_effect():
    # 10 items: each (rater, item) taste effect enters ~20 judgements; the Laplace
    # estimate of its sd is then within 2 SE of the truth (measured -1.4 SE at seed 0).
    df, truth = _simulate_raters(0, n_items=10, sd_e=0.0)
    vc = prefstat.RaterBradleyTerry(taste=True).fit(df).variance_components_
    assert abs(vc.loc["taste", "sd"] - truth["taste"]) < 2 * vc.loc["taste", "se"]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Laplace underestimates the taste sd when each taste effect enters only ~4 binary "
    "judgements (200 raters x 50 items x 20,000): measured 0.275 (SE 0.035) against 0.400, "
    "and 0.22 with reliability also fitted. The approximation error of Laplace for binary "
    "data with few observations per random effect (Breslow & Lin 1995; Joe 2008); it "
    "shrinks as judgements per effect grow (see the 10-item test). Adaptive quadrature "
    "does not apply to crossed per-judgement taste pairs; importance sampling would."))
def test_taste_sd_with_four_judgements_per_effect():
    df, truth = _simulate_raters(0, sd_e=0.0)
    vc = prefstat.RaterBradleyTerry(taste=True).fit(df).variance_components_
    assert abs(vc.loc["taste", "sd"] - truth["taste"]) < 2 * vc.loc["taste", "se"]


def test_davidson_ties_at_the_boundary_equal_the_engine():
    # identical raters (no between-rater variation): the fit is the fixed-effects
    # Davidson model with an order effect, as BradleyTerry(ties="davidson") fits it
    base = _simulate(7, n_raters=1, m=300)
    rng = np.random.default_rng(7)
    base.loc[rng.random(len(base)) < 0.2, "outcome"] = "tie"
    df = pd.concat([base.assign(rater=f"r{k}") for k in range(10)], ignore_index=True)
    model = prefstat.RaterBradleyTerry(ties="davidson").fit(df)
    assert model.singular_
    plain = prefstat.BradleyTerry(ties="davidson", order_effect=True).fit(df)
    np.testing.assert_allclose(model.params_["estimate"], plain.params_["estimate"], atol=1e-6)
    np.testing.assert_allclose(model.params_["se"], plain.params_["se"], rtol=1e-4)
    assert model.loglik_ == pytest.approx(plain.loglik_, abs=1e-8)
    probs = model.predict_proba(["i0", "i1"], ["i2", "i0"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs.to_numpy(), plain.predict_proba(["i0", "i1"], ["i2", "i0"])
                               [["a", "b", "tie"]].to_numpy(), atol=1e-6)


def test_davidson_ties_with_rater_variation():
    df = _simulate(8, sd_d=0.6)
    rng = np.random.default_rng(8)
    df.loc[rng.random(len(df)) < 0.15, "outcome"] = "tie"
    model = prefstat.RaterBradleyTerry(ties="davidson").fit(df)
    assert not model.singular_
    assert ("tie", "log_nu") in model.params_.index
    assert model.variance_components_.loc["position_bias", "sd"] > 0.3
    with pytest.raises(InvalidParameterError, match="tie_handling"):
        prefstat.RaterBradleyTerry(ties="davidson", tie_handling="half").fit(df)


@pytest.mark.parametrize("dense_k", [True, False])
@pytest.mark.parametrize("davidson", [False, True])
@pytest.mark.parametrize("effects", EFFECTS)
def test_conditional_information_equals_numerical_schur_complement(effects, davidson, dense_k,
                                                                   monkeypatch):
    # J_bb - K' (J + Lambda^-2)^-1 K with J_bb, K from second differences of the
    # conditional log-likelihood l(beta, b) at the modes
    prob, rng = _random_problem(effects, seed=6)
    if davidson:
        nt = np.minimum(rng.integers(0, 2, prob.r.size).astype(float), prob.n - prob.y)
        prob = rl.RaterProblem(prob.a, prob.b, prob.r, prob.o, prob.y, prob.n, prob.n_items,
                               prob.n_raters, 0, effects, True, nt=nt)
    beta = rng.normal(size=prob.n_fixed) * 0.5
    sd = np.array([0.7, 0.4, 0.5])
    state, _ = rl.evaluate(prob, beta, sd, gradient=False)
    b_hat = (state.lam * state.v).ravel()
    ones = np.where(prob.slot_type >= 0, 1.0, 0.0)
    p = beta.size

    def loglik(x):
        s, h, tau = prob.unpack(x[:p])
        return float(rl._cell_terms(prob, s, h, ones, x[p:].reshape(ones.shape), tau)["ll"].sum())

    x0 = np.concatenate([beta, b_hat])
    used = np.concatenate([np.ones(p, dtype=bool), (prob.slot_type >= 0).ravel()])
    idx = np.flatnonzero(used)
    eps = 1e-4
    H = np.zeros((idx.size, idx.size))
    for i, gi in enumerate(idx):
        for j, gj in enumerate(idx[: i + 1]):
            e_i, e_j = np.zeros(x0.size), np.zeros(x0.size)
            e_i[gi], e_j[gj] = eps, eps
            H[i, j] = H[j, i] = (loglik(x0 + e_i + e_j) - loglik(x0 + e_i - e_j)
                                 - loglik(x0 - e_i + e_j) + loglik(x0 - e_i - e_j)) / (4 * eps**2)
    A = np.zeros((b_hat.size, b_hat.size))
    q = prob.q
    for r in range(prob.n_raters):
        blk = state.lam[r][:, None] * state.minv[r] * state.lam[r][None, :]
        A[r * q:(r + 1) * q, r * q:(r + 1) * q] = blk
    A = A[np.ix_(used[p:], used[p:])]
    expected = -H[:p, :p] - H[:p, p:] @ A @ H[p:, :p]
    if not dense_k:
        monkeypatch.setattr(rl, "_DENSE_K_LIMIT", 0)
    got = rl.conditional_information(prob, beta, state)
    np.testing.assert_allclose(got, expected, atol=2e-5 * np.abs(expected).max())


def test_rater_blocks_sum_to_the_single_padded_problem():
    # taste blocks of very different sizes are split into groups; the Laplace value,
    # its gradient and the conditional information are sums over raters, so the split
    # must not change them
    rng = np.random.default_rng(9)
    n, R = 12, 7
    a_parts, b_parts, r_parts = [], [], []
    for rater, size in enumerate([2, 3, 3, 5, 8, 12, 12]):
        items = rng.choice(n, size, replace=False)
        m = 4 * size
        a = rng.choice(items, m)
        b = rng.choice(items, m)
        keep = a != b
        a_parts.append(a[keep])
        b_parts.append(b[keep])
        r_parts.append(np.full(keep.sum(), rater))
    a, b, r = (np.concatenate(x) for x in (a_parts, b_parts, r_parts))
    m = a.size
    o = np.ones(m)
    tot = rng.integers(1, 3, m).astype(float)
    y = rng.binomial(tot.astype(int), 0.6).astype(float)
    effects = (True, True, True)
    single = rl.RaterProblem(a, b, r, o, y, tot, n, R, 0, effects, True)
    blocks = rl.RaterBlocks.build(a, b, r, o, y, tot, n, R, 0, effects, True)
    assert len(blocks.parts) > 1
    beta = rng.normal(size=single.n_fixed) * 0.3
    sd = np.array([0.6, 0.3, 0.5])
    s1, g1 = rl.evaluate(single, beta, sd)
    s2, g2 = rl.evaluate(blocks, beta, sd)
    assert s2.value == pytest.approx(s1.value, rel=1e-12)
    np.testing.assert_allclose(g2, g1, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(rl.conditional_information(blocks, beta, s2),
                               rl.conditional_information(single, beta, s1), atol=1e-10)


# ------------------------------------------------------------------ review findings
def test_order_effect_without_enough_known_order_is_not_a_number():
    df = _simulate(0, sd_d=1.0, n_items=5, n_raters=12, m=600)
    # one judgement of known order cannot estimate an order effect and rater biases
    with pytest.raises(NotIdentifiableError):
        prefstat.RaterBradleyTerry(intervals="wald").fit(df.assign(k=df.index < 1),
                                                           order_known="k")
    with pytest.raises(DataValidationError, match="presentation order"):
        prefstat.RaterBradleyTerry().fit(df.assign(k=False), order_known="k")
    # without position effects the same table fits
    model = prefstat.RaterBradleyTerry(position_bias=False, reliability=True,
                                       order_effect=False).fit(df.assign(k=False),
                                                               order_known="k")
    assert np.isfinite(model.strengths_["se"]).all()


def test_one_rater_is_refused():
    df = _simulate(0, n_raters=1, m=300).assign(rater="only")
    with pytest.raises(DataValidationError, match="two raters"):
        prefstat.RaterBradleyTerry(order_effect=False).fit(df)


def test_davidson_agreement_counts_a_tie_half():
    df = _simulate(3, m=1500)
    rng = np.random.default_rng(3)
    df.loc[rng.random(len(df)) < 0.2, "outcome"] = "tie"
    df = pd.concat([df, pd.DataFrame({"item_a": ["i0"], "item_b": ["i1"], "outcome": ["tie"],
                                      "rater": ["tie_only"]})], ignore_index=True)
    model = prefstat.RaterBradleyTerry(ties="davidson").fit(df)
    assert model.raters_.loc["tie_only", "agreement"] == 0.5
    # by hand: a decisive verdict agrees when it favours the stronger item, a tie half
    s = model.strengths_["estimate"]
    diff = s.reindex(df["item_a"]).to_numpy() - s.reindex(df["item_b"]).to_numpy()
    win = np.where(df["outcome"] == "a", 1.0, np.where(df["outcome"] == "b", 0.0, 0.5))
    agree = np.where(diff > 0, win, np.where(diff < 0, 1 - win, 0.5))
    expected = pd.Series(agree).groupby(df["rater"].to_numpy()).mean()
    np.testing.assert_allclose(model.raters_["agreement"].reindex(expected.index), expected)


def test_predict_proba_lengths_and_nullable_order_known():
    df = _simulate(4)
    model = prefstat.RaterBradleyTerry().fit(df)
    with pytest.raises(InvalidParameterError, match="as many"):
        model.predict_proba(["i0", "i1"], ["i2", "i3", "i4"])
    known = df.assign(k=pd.array(np.ones(len(df), dtype=bool), dtype="boolean"))
    again = prefstat.RaterBradleyTerry().fit(known, order_known="k")
    np.testing.assert_allclose(again.params_["estimate"], model.params_["estimate"])
    known.loc[3, "k"] = pd.NA
    with pytest.raises(DataValidationError, match="missing"):
        prefstat.RaterBradleyTerry().fit(known, order_known="k")
