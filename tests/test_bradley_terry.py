"""Bradley–Terry / Thurstone engine: closed forms, independent implementations, contracts."""

from __future__ import annotations

import pickle

import choix
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, special, stats

import prefstat
from prefstat import _likelihood as lik

CLOSED_FORM_TOL = 1e-9  # closed forms hold to solver precision
LL_TOL = 1e-8  # issue #3: agreement with peers' optima in log-likelihood
PARAM_TOL = 1e-6  # estimates at a common optimum (flat directions scale as sqrt(LL_TOL))


def simulate(n_items=12, n=3000, seed=0, ties=None, order=0.0, link="logit"):
    """Independent generator: logistic/probit BT, Davidson ties, first-shown advantage."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n_items)
    s -= s.mean()
    a = rng.integers(0, n_items, n)
    b = (a + rng.integers(1, n_items, n)) % n_items
    d = s[a] - s[b] + order
    if ties is None:
        p = special.expit(d) if link == "logit" else stats.norm.cdf(d)
        outcome = np.where(rng.random(n) < p, "a", "b")
    else:
        pa, pb, pt = np.exp(d / 2), np.exp(-d / 2), np.exp(ties) * np.ones(n)
        tot = pa + pb + pt
        u = rng.random(n) * tot
        outcome = np.where(u < pa, "a", np.where(u < pa + pb, "b", "tie"))
    labels = np.array([f"i{k:02d}" for k in range(n_items)])
    df = pd.DataFrame({"item_a": labels[a], "item_b": labels[b], "outcome": outcome})
    return df, pd.Series(s, index=labels)


# --------------------------------------------------------------- closed forms
@pytest.mark.parametrize("wins,losses", [(30, 10), (7, 93), (1, 1)])
def test_two_items_logit_closed_form(wins, losses):
    df = pd.DataFrame({"item_a": ["x", "x"], "item_b": ["y", "y"], "outcome": ["a", "b"],
                       "w": [wins, losses]})
    m = prefstat.BradleyTerry(reference="y").fit(df, weight="w")
    n, p = wins + losses, wins / (wins + losses)
    est = m.strengths_.loc["x"]
    assert est["estimate"] == pytest.approx(special.logit(p), abs=CLOSED_FORM_TOL)
    assert est["se"] == pytest.approx(1 / np.sqrt(n * p * (1 - p)), rel=CLOSED_FORM_TOL)
    # Sum to zero: each strength is half the difference.
    m0 = prefstat.BradleyTerry().fit(df, weight="w")
    assert m0.strengths_.loc["x", "estimate"] == pytest.approx(special.logit(p) / 2,
                                                                 abs=CLOSED_FORM_TOL)
    assert m0.strengths_.loc["x", "se"] == pytest.approx(est["se"] / 2, rel=CLOSED_FORM_TOL)


@pytest.mark.parametrize("wins,losses", [(30, 10), (7, 93)])
def test_two_items_probit_closed_form(wins, losses):
    df = pd.DataFrame({"item_a": ["x", "x"], "item_b": ["y", "y"], "outcome": ["a", "b"],
                       "w": [wins, losses]})
    m = prefstat.Thurstone(reference="y").fit(df, weight="w")
    n, p = wins + losses, wins / (wins + losses)
    d = stats.norm.ppf(p)
    # Expected information n phi(d)^2 / (p (1 - p)).
    se = np.sqrt(p * (1 - p) / n) / stats.norm.pdf(d)
    assert m.strengths_.loc["x", "estimate"] == pytest.approx(d, abs=CLOSED_FORM_TOL)
    assert m.strengths_.loc["x", "se"] == pytest.approx(se, rel=CLOSED_FORM_TOL)


def test_two_items_davidson_closed_form():
    """Saturated trinomial: d = log(w / l), log nu = log t - log(w l) / 2."""
    w, l, t = 40.0, 25.0, 15.0
    df = pd.DataFrame({"item_a": ["x"] * 3, "item_b": ["y"] * 3, "outcome": ["a", "b", "tie"],
                       "n": [w, l, t]})
    m = prefstat.BradleyTerry(ties="davidson", reference="y").fit(df, weight="n")
    assert m.strengths_.loc["x", "estimate"] == pytest.approx(np.log(w / l), abs=CLOSED_FORM_TOL)
    assert m.params_.loc[("tie", "log_nu"), "estimate"] == pytest.approx(
        np.log(t) - 0.5 * np.log(w * l), abs=CLOSED_FORM_TOL)
    # A saturated fit reproduces the observed proportions.
    probs = m.predict_proba("x", "y").iloc[0].to_numpy()
    np.testing.assert_allclose(probs, np.array([w, l, t]) / (w + l + t), atol=CLOSED_FORM_TOL)


def test_two_items_rao_kupper_closed_form():
    """Saturated: P(a) = sigma(d - eta), P(b) = sigma(-d - eta) match the proportions."""
    w, l, t = 40.0, 25.0, 15.0
    n = w + l + t
    df = pd.DataFrame({"item_a": ["x"] * 3, "item_b": ["y"] * 3, "outcome": ["a", "b", "tie"],
                       "n": [w, l, t]})
    m = prefstat.BradleyTerry(ties="rao-kupper", reference="y").fit(df, weight="n")
    # Solve sigma(d - eta) = w/n and sigma(-d - eta) = l/n for d and eta.
    u, v = special.logit(w / n), special.logit(l / n)
    assert m.strengths_.loc["x", "estimate"] == pytest.approx((u - v) / 2, abs=CLOSED_FORM_TOL)
    assert m.params_.loc[("tie", "log_theta"), "estimate"] == pytest.approx(
        -(u + v) / 2, abs=CLOSED_FORM_TOL)


# ------------------------------------------------------ independent optimisers
def _choix_pairs(df):
    items = sorted(set(df["item_a"]) | set(df["item_b"]))
    code = {k: i for i, k in enumerate(items)}
    win = np.where(df["outcome"] == "a", df["item_a"], df["item_b"])
    lose = np.where(df["outcome"] == "a", df["item_b"], df["item_a"])
    return items, [(code[w], code[l]) for w, l in zip(win, lose)]


def _bt_loglik(strength, pairs):
    w, l = np.array(pairs).T
    return float(-np.logaddexp(0, -(strength[w] - strength[l])).sum())


def test_agrees_with_choix_optimum():
    df, _ = simulate(n_items=15, n=2000, seed=1)
    items, pairs = _choix_pairs(df)
    ours = prefstat.BradleyTerry().fit(df)
    theirs = choix.opt_pairwise(len(items), pairs, alpha=0, tol=1e-12)
    ll_theirs = _bt_loglik(theirs, pairs)
    assert ours.loglik_ == pytest.approx(_bt_loglik(
        ours.strengths_.loc[items, "estimate"].to_numpy(), pairs), abs=1e-9)
    assert ours.loglik_ >= ll_theirs - LL_TOL
    assert ours.loglik_ == pytest.approx(ll_theirs, abs=LL_TOL)
    np.testing.assert_allclose(ours.strengths_.loc[items, "estimate"],
                               theirs - theirs.mean(), atol=1e-4)


def test_penalty_matches_choix_map():
    """Our penalty p adds p/2 * sum(s**2): a N(0, 1/p) prior on every strength.

    choix 0.4.1's objective adds alpha * sum(s**2) (PairwiseFcts.objective),
    i.e. a N(0, 1/(2 alpha)) prior despite its docstring's "variance 1/alpha",
    so penalty = 2 * alpha gives the same optimum.
    """
    df, _ = simulate(n_items=10, n=300, seed=2)
    items, pairs = _choix_pairs(df)
    ours = prefstat.BradleyTerry(penalty=1.4).fit(df)
    theirs = choix.opt_pairwise(len(items), pairs, alpha=0.7, tol=1e-12)
    np.testing.assert_allclose(ours.strengths_.loc[items, "estimate"], theirs, atol=PARAM_TOL)


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("order", [False, True])
def test_agrees_with_statsmodels_glm(link, order):
    df, _ = simulate(n_items=8, n=4000, seed=3, order=0.3 if order else 0.0, link=link)
    cls = prefstat.BradleyTerry if link == "logit" else prefstat.Thurstone
    ours = cls(order_effect=order, reference="i00").fit(df)
    # Binomial GLM on individual rows, design 1{a == k} - 1{b == k} without i00.
    items = sorted(set(df["item_a"]) | set(df["item_b"]))[1:]
    x = pd.DataFrame({k: (df["item_a"] == k).astype(float) - (df["item_b"] == k) for k in items})
    if order:
        x["order_effect"] = 1.0
    y = (df["outcome"] == "a").astype(float)
    fam = sm.families.Binomial(sm.families.links.Logit() if link == "logit"
                               else sm.families.links.Probit())
    glm = sm.GLM(y, x, family=fam).fit(tol=1e-13, maxiter=100)
    mu = glm.fittedvalues
    ll_glm = float((y * np.log(mu) + (1 - y) * np.log(1 - mu)).sum())
    assert ours.loglik_ == pytest.approx(ll_glm, abs=LL_TOL)
    np.testing.assert_allclose(ours.strengths_.loc[items, "estimate"], glm.params[items],
                               atol=PARAM_TOL)
    np.testing.assert_allclose(ours.strengths_.loc[items, "se"], glm.bse[items], rtol=1e-5)
    if order:
        got = ours.params_.loc[("order_effect", "order_effect")]
        assert got["estimate"] == pytest.approx(glm.params["order_effect"], abs=PARAM_TOL)


def test_rao_kupper_agrees_with_direct_optimisation():
    df, _ = simulate(n_items=6, n=3000, seed=4, ties=-0.5)
    ours = prefstat.BradleyTerry(ties="rao-kupper", reference="i00").fit(df)
    items = sorted(set(df["item_a"]) | set(df["item_b"]))
    code = {k: i for i, k in enumerate(items)}
    a = df["item_a"].map(code).to_numpy()
    b = df["item_b"].map(code).to_numpy()
    out = df["outcome"].to_numpy()

    def negll(x):
        s = np.concatenate([[0.0], x[:-1]])
        eta = np.exp(x[-1])  # log theta > 0 enforced by parametrising log(log theta)
        pi = np.exp(s)
        pa = pi[a] / (pi[a] + np.exp(eta) * pi[b])
        pb = pi[b] / (pi[b] + np.exp(eta) * pi[a])
        p = np.where(out == "a", pa, np.where(out == "b", pb, 1 - pa - pb))
        return -np.log(p).sum()

    res = optimize.minimize(negll, np.zeros(len(items)), method="BFGS",
                            options={"gtol": 1e-9})
    assert ours.loglik_ == pytest.approx(-res.fun, abs=1e-6)
    np.testing.assert_allclose(ours.strengths_.loc[items[1:], "estimate"], res.x[:-1], atol=1e-4)
    assert ours.params_.loc[("tie", "log_theta"), "estimate"] == pytest.approx(
        np.exp(res.x[-1]), abs=1e-4)


# ------------------------------------------------------------ kernel calculus
@pytest.mark.parametrize("name", ["logit", "probit", "davidson", "rao-kupper"])
def test_kernel_scores_and_information_by_finite_differences(name):
    kernel = lik.KERNELS[name]
    d = np.array([-2.0, -0.3, 0.0, 0.8, 2.5])
    tau = 0.4
    h = 1e-5
    logp, sd, st = kernel.log_probs(d, tau)
    # Probabilities sum to one.
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, atol=1e-12)
    fd_d = (kernel.log_probs(d + h, tau)[0] - kernel.log_probs(d - h, tau)[0]) / (2 * h)
    np.testing.assert_allclose(sd, fd_d, atol=1e-7)
    if st is not None:
        fd_t = (kernel.log_probs(d, tau + h)[0] - kernel.log_probs(d, tau - h)[0]) / (2 * h)
        np.testing.assert_allclose(st, fd_t, atol=1e-7)
    # Expected information = E[-d2 log p] (second derivatives by finite differences).
    counts = np.exp(logp) * 10.0  # expected counts of 10 trials per cell
    terms = lik.evaluate(kernel, counts, d, tau)
    h2 = 1e-4
    d2 = (kernel.log_probs(d + h2, tau)[0] - 2 * logp + kernel.log_probs(d - h2, tau)[0]) / h2**2
    np.testing.assert_allclose(terms.i_dd, -(counts * d2).sum(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(terms.g_d, 0.0, atol=1e-9)  # score has mean zero


# ------------------------------------------------------------------ contracts
CONFIGS = [
    (prefstat.BradleyTerry, {}, None),
    (prefstat.BradleyTerry, {"reference": "i03"}, None),
    (prefstat.BradleyTerry, {"order_effect": True}, None),
    (prefstat.BradleyTerry, {"penalty": 0.5}, None),
    (prefstat.BradleyTerry, {"bias_reduction": True}, None),
    (prefstat.Thurstone, {"tie_handling": "half"}, -1.0),
    (prefstat.BradleyTerry, {"ties": "davidson"}, -1.0),
    (prefstat.BradleyTerry, {"ties": "rao-kupper", "order_effect": True}, -1.0),
]
CONTRACT_TOL = 1e-8  # same optimum reached from permuted inputs


@pytest.fixture(params=range(len(CONFIGS)), ids=lambda i: f"{CONFIGS[i][0].__name__}-{i}")
def config(request):
    cls, kwargs, ties = CONFIGS[request.param]
    df, _ = simulate(n_items=6, n=600, seed=10 + request.param, ties=ties)
    return cls, kwargs, df


def test_contract_fit_returns_self_and_refit_is_identical(config):
    cls, kwargs, df = config
    model = cls(**kwargs)
    assert model.fit(df) is model
    first = model.params_.copy()
    model.fit(df)
    pd.testing.assert_frame_equal(first, model.params_)


def test_contract_not_fitted(config):
    cls, kwargs, _ = config
    with pytest.raises(prefstat.NotFittedError, match="not fitted"):
        cls(**kwargs).summary()
    with pytest.raises(AttributeError):
        cls(**kwargs).predict_proba("i00", "i01")


def test_contract_row_order_and_labels_do_not_matter(config):
    cls, kwargs, df = config
    base = cls(**kwargs).fit(df).params_
    shuffled = df.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(cls(**kwargs).fit(shuffled).params_, base,
                                  atol=CONTRACT_TOL, rtol=0)
    rename = {f"i{k:02d}": f"item-{k}" for k in range(6)}
    relabelled = df.assign(item_a=df["item_a"].map(rename), item_b=df["item_b"].map(rename))
    kw = dict(kwargs)
    if "reference" in kw:
        kw["reference"] = rename[kw["reference"]]
    got = cls(**kw).fit(relabelled).params_
    got = got.rename(index={v: k for k, v in rename.items()})
    pd.testing.assert_frame_equal(got, base, atol=CONTRACT_TOL, rtol=0)


def test_contract_swapping_sides_with_flipped_outcome(config):
    cls, kwargs, df = config
    if kwargs.get("order_effect"):
        pytest.skip("with an order effect, which item was shown first matters")
    flip = {"a": "b", "b": "a", "tie": "tie"}
    swapped = df.assign(item_a=df["item_b"], item_b=df["item_a"],
                        outcome=df["outcome"].map(flip))
    pd.testing.assert_frame_equal(cls(**kwargs).fit(swapped).params_,
                                  cls(**kwargs).fit(df).params_, atol=CONTRACT_TOL, rtol=0)


def test_contract_predict_proba_and_pickle(config):
    cls, kwargs, df = config
    model = cls(**kwargs).fit(df)
    probs = model.predict_proba(df["item_a"], df["item_b"])
    assert list(probs.columns) == ["a", "b", "tie"]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    clone = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(clone.params_, model.params_)
    pd.testing.assert_frame_equal(clone.predict_proba(["i00"], ["i01"]),
                                  model.predict_proba(["i00"], ["i01"]))
    text = str(model.summary())
    assert "log-likelihood" in text and "Parameters" in text
    assert "<table" in model.summary()._repr_html_()


def test_score_is_mean_loglik_on_training_data(config):
    cls, kwargs, df = config
    model = cls(**kwargs).fit(df)
    if model.penalty == 0 and not model.bias_reduction:
        assert model.score(df) * model.n_obs_ == pytest.approx(model.loglik_, rel=1e-12)
    else:  # the kernel at the penalised estimate
        assert np.isfinite(model.score(df))


def test_conf_int_levels(config):
    cls, kwargs, df = config
    model = cls(**kwargs).fit(df)
    ci90 = model.conf_int(alpha=0.10)
    est, se = model.params_["estimate"], model.params_["se"]
    np.testing.assert_allclose(ci90["ci_upper"], est + stats.norm.ppf(0.95) * se)
    pd.testing.assert_frame_equal(model.conf_int(), model.params_[["ci_lower", "ci_upper"]])


# --------------------------------------------------------------------- errors
def test_ties_need_a_treatment():
    df, _ = simulate(ties=-1.0, seed=5)
    with pytest.raises(prefstat.InvalidOutcomeError, match="tie_handling='half'"):
        prefstat.BradleyTerry().fit(df)


def test_tie_model_without_ties_in_data():
    df, _ = simulate(seed=5)
    with pytest.raises(prefstat.InvalidOutcomeError, match="no ties"):
        prefstat.BradleyTerry(ties="davidson").fit(df)


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (prefstat.Thurstone, {"ties": "davidson"}, "supports ties only"),
        (prefstat.BradleyTerry, {"ties": "glenn-david"}, "not a ties model"),
        (prefstat.BradleyTerry, {"tie_handling": "drop"}, "tie_handling"),
        (prefstat.BradleyTerry, {"ties": "davidson", "tie_handling": "half"}, "not both"),
        (prefstat.BradleyTerry, {"penalty": -1.0}, "penalty"),
        (prefstat.BradleyTerry, {"ties": "davidson", "bias_reduction": True}, "bias_reduction"),
        (prefstat.BradleyTerry, {"conf_level": 95}, "conf_level"),
    ],
)
def test_invalid_hyperparameters(cls, kwargs, match):
    df, _ = simulate(seed=6)
    with pytest.raises(prefstat.InvalidParameterError, match=match) as info:
        cls(**kwargs).fit(df)
    assert isinstance(info.value, ValueError)


def test_unknown_reference():
    df, _ = simulate(seed=6)
    with pytest.raises(prefstat.InvalidItemError, match="reference='nope'"):
        prefstat.BradleyTerry(reference="nope").fit(df)


def test_disconnected_graph_is_reported_not_fitted():
    df = pd.DataFrame({"item_a": ["a", "b", "c", "d"], "item_b": ["b", "a", "d", "c"],
                       "outcome": ["a", "a", "a", "a"]})
    with pytest.raises(prefstat.NotIdentifiableError, match="2 disconnected components") as e:
        prefstat.BradleyTerry().fit(df)
    assert e.value.connectivity.n_components == 2
    with pytest.warns(prefstat.IdentifiabilityWarning, match="penalty"):
        model = prefstat.BradleyTerry(penalty=1.0).fit(df)
    assert np.isfinite(model.strengths_["estimate"]).all()
    assert any("penalty" in w for w in model.warnings_)
    assert "exist only because of penalty" in str(model.summary())


def test_separable_data_name_the_unbeaten_item():
    df = pd.DataFrame({"item_a": ["x", "x", "y", "z"], "item_b": ["y", "z", "z", "y"],
                       "outcome": ["a", "a", "a", "a"]})
    with pytest.raises(prefstat.NotIdentifiableError, match=r"never lost: 'x'"):
        prefstat.BradleyTerry().fit(df)
    with pytest.warns(prefstat.IdentifiabilityWarning, match="bias-reduced"):
        model = prefstat.BradleyTerry(bias_reduction=True).fit(df)
    assert model.strengths_.loc["x", "estimate"] > model.strengths_.loc["y", "estimate"]


def test_order_effect_separation_is_reported():
    # Every first-shown item wins, in both orders of every pair: h is +infinity.
    df = pd.DataFrame({"item_a": ["x", "y", "x", "z", "y", "z"],
                       "item_b": ["y", "x", "z", "x", "z", "y"], "outcome": "a"})
    with pytest.raises(prefstat.NotIdentifiableError, match="order effect diverges"):
        prefstat.BradleyTerry(order_effect=True).fit(df)


def test_order_effect_divergence_is_refused_under_a_penalty_too():
    # The ridge acts on the strengths only, so it cannot make an infinite h finite.
    df = pd.DataFrame({"item_a": ["x", "y", "x", "z", "y", "z"],
                       "item_b": ["y", "x", "z", "x", "z", "y"], "outcome": "a"})
    for model in (prefstat.BradleyTerry(order_effect=True, penalty=1.0),
                  prefstat.BradleyTerry(order_effect=True, penalty=1.0, cov_type="robust")):
        with pytest.raises(prefstat.NotIdentifiableError, match="order effect diverges"):
            model.fit(df)


def _star(ties=False, seed=11):
    """A baseline 'a' always shown first against b..e (Arena-Hard's design)."""
    rng = np.random.default_rng(seed)
    rows = []
    for b, s in zip("bcde", [0.5, -0.2, 0.1, 1.0]):
        for u in rng.random(60):
            p = special.expit(-s + 0.3)
            rows.append(("a", b, "tie" if ties and u > 0.9 else "a" if u < 0.9 * p else "b"))
    return pd.DataFrame(rows, columns=["item_a", "item_b", "outcome"])


@pytest.mark.parametrize(("model", "ties"), [
    (prefstat.BradleyTerry(order_effect=True), False),
    (prefstat.Thurstone(order_effect=True), False),
    (prefstat.BradleyTerry(order_effect=True, ties="davidson"), True),
    (prefstat.BradleyTerry(order_effect=True, ties="rao-kupper"), True),
    (prefstat.Thurstone(order_effect=True, tie_handling="half"), True),
    (prefstat.BradleyTerry(order_effect=True, cov_type="robust"), False),
])
def test_order_effect_confounded_with_strengths_is_refused(model, ties):
    with pytest.raises(prefstat.NotIdentifiableError,
                       match=r"confounded with the item strengths: every comparison shows an "
                             r"item of \{'a'\} first and one of \{'b', 'c', 'd' and 1 more\}"
                       ) as err:
        model.fit(_star(ties))
    message = str(err.value)
    assert "Fit without order_effect=True" in message and "randomised" in message
    assert "penalty=<positive number>" in message
    assert err.value.connectivity.mle_exists  # the graph itself is fine
    # Without the order effect the same table fits.
    type(model)(**{**model.get_params(), "order_effect": False}).fit(_star(ties))


def test_layered_order_design_is_refused_and_bias_reduction_does_not_help():
    # x before y, y before z, z before w: levels x > y > z > w, no pair in both orders.
    df = pd.DataFrame({"item_a": ["x", "x", "y", "y", "z", "z"],
                       "item_b": ["y", "y", "z", "z", "w", "w"],
                       "outcome": ["a", "b", "a", "b", "a", "b"]})
    with pytest.raises(prefstat.NotIdentifiableError,
                       match=r"levels \(\{'x'\} -> \{'y'\} -> \{'z'\} -> \{'w'\}\)"):
        prefstat.BradleyTerry(order_effect=True).fit(df)
    with pytest.raises(prefstat.NotIdentifiableError, match="bias_reduction=True does not help"):
        prefstat.BradleyTerry(order_effect=True, bias_reduction=True).fit(df)
    # Zero-weight cells are not observations: they cannot identify h either.
    df2 = pd.concat([df, pd.DataFrame({"item_a": ["y"], "item_b": ["x"], "outcome": ["a"]})])
    df2["w"] = [1.0] * len(df) + [0.0]
    with pytest.raises(prefstat.NotIdentifiableError, match="confounded"):
        prefstat.BradleyTerry(order_effect=True).fit(df2, weight="w")


@pytest.mark.parametrize("kwargs", [{"penalty": 1.0}, {"penalty": 1.0, "cov_type": "robust"}])
def test_confounded_order_effect_under_a_penalty_warns(kwargs):
    with pytest.warns(prefstat.IdentifiabilityWarning,
                      match="confounded with the item strengths.*depends on that penalty"):
        model = prefstat.BradleyTerry(order_effect=True, **kwargs).fit(_star())
    assert np.isfinite(model.params_["se"]).all()
    assert any("confounded" in w for w in model.warnings_)


@pytest.mark.parametrize("design", ["one pair both ways", "cycle"])
@pytest.mark.parametrize("cls", [prefstat.BradleyTerry, prefstat.Thurstone])
def test_identified_order_designs_still_fit_as_the_glm(design, cls):
    """A star plus one reversed pair, or a cycle of first-shown items (no pair in both
    orders), identifies h; the fit must match statsmodels' binomial GLM."""
    if design == "cycle":
        df, _ = simulate(n_items=3, n=600, seed=8, order=0.4, link=cls._link)
        # Keep one orientation per pair: i00 -> i01 -> i02 -> i00.
        keep = {("i00", "i01"), ("i01", "i02"), ("i02", "i00")}
        df = df[[pair in keep for pair in zip(df["item_a"], df["item_b"])]]
    else:
        df = _star()
        df = pd.concat([df, pd.DataFrame({"item_a": ["b"] * 6, "item_b": ["a"] * 6,
                                          "outcome": list("aabbba")})], ignore_index=True)
    reference = sorted(set(df["item_a"]))[0]
    ours = cls(order_effect=True, reference=reference).fit(df)
    items = sorted(set(df["item_a"]) | set(df["item_b"]))[1:]
    x = pd.DataFrame({k: (df["item_a"] == k).astype(float) - (df["item_b"] == k) for k in items})
    x["order_effect"] = 1.0
    y = (df["outcome"] == "a").astype(float)
    fam = sm.families.Binomial(sm.families.links.Logit() if cls._link == "logit"
                               else sm.families.links.Probit())
    glm = sm.GLM(y, x, family=fam).fit(tol=1e-13, maxiter=100)
    np.testing.assert_allclose(ours.strengths_.loc[items, "estimate"], glm.params[items],
                               atol=PARAM_TOL)
    got = ours.params_.loc[("order_effect", "order_effect")]
    assert got["estimate"] == pytest.approx(glm.params["order_effect"], abs=PARAM_TOL)
    assert got["se"] == pytest.approx(glm.bse["order_effect"], rel=1e-5)


def test_arena_hard_order_effect_is_refused(shared):
    """Arena-Hard's published battles show the baseline first in every battle."""
    from prefstat.convert import from_arena

    raw = pd.read_json(shared("llm/arena_hard_battles.jsonl"), lines=True)
    df = from_arena(raw)
    with pytest.raises(prefstat.NotIdentifiableError,
                       match=r"item of \{'claude-3-haiku-20240307'\} first") as err:
        prefstat.BradleyTerry(ties="davidson", order_effect=True).fit(df)
    assert "Fit without order_effect=True" in str(err.value)
    with pytest.raises(prefstat.NotIdentifiableError, match="confounded"):
        prefstat.BradleyTerry(tie_handling="half", order_effect=True).fit(df)
    plain = prefstat.BradleyTerry(ties="davidson").fit(df)
    assert np.isfinite(plain.params_["se"]).all() and plain.params_["se"].max() < 1.0


def test_disconnected_message_suggests_components_not_bias_reduction():
    df = pd.DataFrame({"item_a": ["a", "b", "c", "d"], "item_b": ["b", "a", "d", "c"],
                       "outcome": ["a", "b", "a", "b"]})
    with pytest.raises(prefstat.NotIdentifiableError) as err:
        prefstat.BradleyTerry().fit(df)
    message = str(err.value)
    assert "Fit each component separately" in message and "penalty=<positive" in message
    assert "bias_reduction" not in message
    with pytest.raises(prefstat.NotIdentifiableError) as err:
        prefstat.BradleyTerry(bias_reduction=True).fit(df)
    message = str(err.value)
    assert message.index("Fit each component separately") < message.index(
        "bias_reduction=True does not bridge disconnected components")
    assert "or bias_reduction=True (Firth" not in message
    # Separation within a connected graph: bias reduction is the suggestion.
    separable = pd.DataFrame({"item_a": ["x", "x", "y"], "item_b": ["y", "z", "z"],
                              "outcome": ["a", "a", "b"]})
    with pytest.raises(prefstat.NotIdentifiableError, match=r"bias_reduction=True \(Firth"):
        prefstat.BradleyTerry().fit(separable)


def test_graded_outcome_must_be_collapsed_explicitly():
    levels = ["a>>b", "a>b", "=", "b>a", "b>>a"]
    df = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "x"],
                       "outcome": pd.Categorical(["a>b", "b>>a"], categories=levels,
                                                 ordered=True)})
    with pytest.raises(prefstat.InvalidOutcomeError, match="graded"):
        prefstat.BradleyTerry().fit(df)


# ------------------------------------------------------------------ simulation
COVERAGE_BAND = (0.94, 0.96)  # issue #3; 4,000 item-replicates give a binomial SE of 0.0034


@pytest.mark.slow
def test_wald_interval_coverage():
    hits = []
    for seed in range(200):
        df, truth = simulate(n_items=20, n=1500, seed=1000 + seed)
        model = prefstat.BradleyTerry().fit(df)
        s = model.strengths_.loc[truth.index]
        hits.append(((s["ci_lower"] <= truth) & (truth <= s["ci_upper"])).to_numpy())
    coverage = np.concatenate(hits).mean()
    assert COVERAGE_BAND[0] <= coverage <= COVERAGE_BAND[1], coverage


@pytest.mark.slow
def test_davidson_tie_parameter_recovered_within_two_se():
    true_log_nu = -0.7
    z = []
    for seed in range(20):
        df, _ = simulate(n_items=10, n=2000, seed=2000 + seed, ties=true_log_nu)
        tie = prefstat.BradleyTerry(ties="davidson").fit(df).params_.loc[("tie", "log_nu")]
        z.append((tie["estimate"] - true_log_nu) / tie["se"])
    z = np.array(z)
    # Each replicate within 3 SE, and the z-scores centred and scaled as N(0, 1) should be.
    assert np.abs(z).max() < 3
    assert abs(z.mean()) < 2 / np.sqrt(len(z))
    assert 0.5 < z.std() < 1.5


# ----------------------------------------------------------------------- Elo
def test_elo_scale_and_anchor():
    df, _ = simulate(n_items=8, n=2000, seed=7)
    model = prefstat.BradleyTerry().fit(df)
    factor = 400 / np.log(10)
    elo = model.elo(anchor="i02", anchor_value=1114)
    s = model.strengths_["estimate"]
    np.testing.assert_allclose(elo.loc[s.index, "rating"], 1114 + factor * (s - s["i02"]))
    assert elo.loc["i02", "se"] == 0
    # SE of a difference from the anchor: the reference-identified fit's SE.
    ref = prefstat.BradleyTerry(reference="i02").fit(df).strengths_["se"]
    np.testing.assert_allclose(elo.loc[ref.index, "se"], factor * ref, rtol=1e-8)
    mean_anchored = model.elo()
    assert mean_anchored["rating"].mean() == pytest.approx(1000)
    np.testing.assert_allclose(mean_anchored.loc[s.index, "se"], factor * model.strengths_["se"],
                               rtol=1e-8)


def test_elo_rank_rule_is_the_arenas():
    df, _ = simulate(n_items=10, n=800, seed=8)
    elo = prefstat.BradleyTerry().fit(df).elo()
    for item, row in elo.iterrows():
        better = sum(other["ci_lower"] > row["ci_upper"] for _, other in elo.iterrows())
        assert row["rank"] == 1 + better, item
    with pytest.raises(prefstat.InvalidParameterError, match="logit"):
        prefstat.Thurstone().fit(df).elo()
