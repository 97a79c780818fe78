"""Plackett–Luce: published and R reference fits, independent likelihoods, closed forms, contracts.

Provenance of the reference numbers (recorded next to each test):

- NASCAR 2002: Hunter, D. R. (2004), MM algorithms for generalized
  Bradley–Terry models, Annals of Statistics 32, Table 2 (log-worths
  relative to Austin Cameron, printed to 2 decimals).
- Salad: Turner, H. L., van Etten, J., Firth, D. and Kosmidis, I. (2020),
  Modelling rankings in R: the PlackettLuce package, Computational Statistics
  35, the salad example: ``coef(PlackettLuce(salad, npseudo = 0), ref = "A")``
  and its summary's standard errors, printed to 4 decimals.
- Pudding: Davidson (1970)'s data; the reference is prefstat's own
  BradleyTerry(ties="davidson"), itself checked against R's gnm / BradleyTerry2
  in tests/test_bradley_terry_refs.py.
- Simulated data: choix 0.4.1's ``ilsr_rankings`` / ``opt_rankings``, and
  brute-force likelihoods written here (every subset enumerated).
"""

from __future__ import annotations

import itertools
import pickle
import time

import choix
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

import prefstat
from prefstat.convert import from_wide_rankings, rankings_to_pairs
from prefstat.datasets import simulate_rankings
from prefstat.diagnostics import connectivity
from prefstat.models import _luce as luce
from prefstat.models import plackett_luce as plmod
from prefstat.models._luce import LuceKernel
from prefstat.models._rankings import encode_rankings

LL_TOL = 1e-8  # issue: agreement with peers' optima in log-likelihood
PARAM_TOL = 1e-5  # estimates at a common optimum (flat directions move ~ sqrt(LL_TOL))
FD_SE_RTOL = 1e-5  # SEs vs a central-difference Hessian (step 1e-3: error ~1e-7 relative)
FD_DERIVATIVE_TOL = 1e-7  # central differences, step 1e-5: error ~h^2 + eps/h ~ 1e-10 x scale
CLOSED_FORM_TOL = 1e-9  # closed forms hold to solver precision
CONTRACT_TOL = 1e-8  # the same optimum reached from permuted inputs
PRINTED_2DP = 0.005 + 1e-9  # a value printed to 2 decimals, half a unit of the last place
PRINTED_4DP = 0.00005 + 1e-9  # ... to 4 decimals
SAME_FIT_TOL = 1e-6  # the tolerance for PlackettLuce on pairs == BradleyTerry
COVERAGE_SE = 4.0  # simulation: every estimate within 4 SEs of the truth
WMT_SECONDS = 5.0  # "well under a second" on an idle machine; generous for a loaded CI


# ------------------------------------------------------------------ helpers
def independent_loglik(lam: dict, rankings: list[list], weights=None) -> float:
    """Plackett–Luce log-likelihood of untied rankings (lists best first), stage by stage."""
    weights = np.ones(len(rankings)) if weights is None else weights
    total = 0.0
    for w, r in zip(weights, rankings):
        eta = np.array([lam[i] for i in r])
        log_denominators = np.logaddexp.accumulate(eta[::-1])[::-1]
        total += w * float((eta[:-1] - log_denominators[:-1]).sum())
    return total


def stages_of(df: pd.DataFrame, tied_last: str = "tie", weight: str | None = None) -> list:
    """Each ranking as (weight, tie groups best first, unranked rest), for brute_loglik."""
    out = []
    for _, g in df.groupby("ranking_id"):
        w = 1.0 if weight is None else float(g[weight].iloc[0])
        groups = [list(g.loc[g["rank"] == r, "item"]) for r in sorted(g["rank"].unique())]
        rest = groups.pop() if tied_last == "unranked" and len(groups[-1]) > 1 else []
        out.append((w, groups, rest))
    return out


def brute_loglik(lam: dict, log_delta: dict, stages: list) -> float:
    """Davidson–Luce log-likelihood by enumerating every subset of every choice set."""
    orders = [1, *sorted(log_delta)]
    delta = {1: 1.0, **{k: np.exp(v) for k, v in log_delta.items()}}

    def f(s):
        return delta[len(s)] * np.exp(np.mean([lam[i] for i in s]))

    total = 0.0
    for w, groups, rest in stages:
        remaining = [i for grp in groups for i in grp] + rest
        for j, grp in enumerate(groups):
            if j == len(groups) - 1 and len(grp) == 1 and not rest:
                break
            den = sum(f(s) for k in orders if k <= len(remaining)
                      for s in itertools.combinations(remaining, k))
            total += w * (np.log(f(grp)) - np.log(den))
            remaining = [i for i in remaining if i not in grp]
    return total


def to_long(rankings: list[list], labels=None, weights=None) -> pd.DataFrame:
    rows = []
    for k, r in enumerate(rankings):
        for pos, i in enumerate(r):
            rows.append({"ranking_id": k, "item": i if labels is None else labels[i],
                         "rank": pos + 1, "w": 1.0 if weights is None else weights[k]})
    return pd.DataFrame(rows)


def to_choix(df: pd.DataFrame, items: pd.Index) -> list[list[int]]:
    ordered = df.sort_values(["ranking_id", "rank"])
    codes = items.get_indexer(ordered["item"])
    return [list(g) for g in pd.Series(codes).groupby(ordered["ranking_id"].to_numpy())
            .agg(list)]


def fd_hessian(fun, x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    k = x.size
    hess = np.empty((k, k))
    e = np.eye(k) * h
    for i in range(k):
        for j in range(i, k):
            hess[i, j] = hess[j, i] = (fun(x + e[i] + e[j]) - fun(x + e[i] - e[j])
                                       - fun(x - e[i] + e[j]) + fun(x - e[i] - e[j])) / (4 * h * h)
    return hess


def tied(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Coarsen ranks so that neighbours tie at random (tie groups of at most 3 items)."""
    cut = np.random.default_rng(seed).random(len(df)) < 0.6
    new_group = cut | ((df["rank"] - 1) % 3 == 0)
    return df.assign(rank=new_group.astype(int).groupby(df["ranking_id"]).cumsum())


def simulate_davidson_luce(lam: np.ndarray, log_delta: dict, n_rankings: int, size: int,
                           seed: int) -> pd.DataFrame:
    """Independent sampler: each stage picks a subset with its Davidson–Luce probability."""
    rng = np.random.default_rng(seed)
    orders = [1, *sorted(log_delta)]
    delta = {1: 1.0, **{k: np.exp(v) for k, v in log_delta.items()}}
    rows = []
    for r in range(n_rankings):
        remaining = list(rng.choice(lam.size, size, replace=False))
        rank = 1
        while remaining:
            if len(remaining) == 1:
                rows.append((r, f"i{remaining[0]}", rank))
                break
            sets = [s for k in orders if k <= len(remaining)
                    for s in itertools.combinations(remaining, k)]
            w = np.array([delta[len(s)] * np.exp(lam[list(s)].mean()) for s in sets])
            pick = sets[rng.choice(len(sets), p=w / w.sum())]
            rows += [(r, f"i{i}", rank) for i in pick]
            remaining = [i for i in remaining if i not in pick]
            rank += 1
    return pd.DataFrame(rows, columns=["ranking_id", "item", "rank"])


# ------------------------------------------------------------- real data
def _nascar(shared) -> pd.DataFrame:
    df = pd.read_csv(shared("rankings/nascar2002.csv"))
    last = df["position"] == df.groupby("race")["position"].transform("max")
    only_last = last.groupby(df["driver"]).all()
    # Hunter (2004, Section 6) drops the four drivers who finished last in every
    # race they entered (their MLE is -inf), leaving 83; they are removed from
    # their races, so a driver who finished is ranked over the other 42 or 43.
    assert only_last.sum() == 4 and df["driver"].nunique() == 87
    return df[~df["driver"].isin(only_last[only_last].index)]


def test_nascar_reproduces_hunter_2004_table_2(shared):
    df = _nascar(shared)
    model = prefstat.PlackettLuce(reference="Austin Cameron").fit(
        df, ranking="race", item="driver", rank="position")
    assert model.n_items_ == 83 and model.converged_
    est = model.strengths_["estimate"]
    # Hunter (2004), Table 2: log-worths relative to Austin Cameron.
    assert est["PJ Jones"] == pytest.approx(4.15, abs=PRINTED_2DP)
    assert est["Scott Pruett"] == pytest.approx(3.62, abs=PRINTED_2DP)
    assert est["Mark Martin"] == pytest.approx(2.08, abs=PRINTED_2DP)
    # Maximised log-likelihood (ours: -4191.0973, reached after 3 MM steps and 3
    # Newton iterations), checked against choix's optimum on the same races.
    assert model.loglik_ == pytest.approx(-4191.0973, abs=1e-4)
    assert model.n_iter_ <= 5
    items = model.items_
    data = to_choix(df.rename(columns={"race": "ranking_id", "driver": "item",
                                       "position": "rank"}), items)
    theirs = choix.ilsr_rankings(len(items), data, alpha=0.0, tol=1e-12, max_iter=10_000)
    ll_theirs = independent_loglik(dict(zip(items, theirs)), [list(items[r]) for r in data])
    ll_ours = independent_loglik(dict(zip(items, est)), [list(items[r]) for r in data])
    assert ll_ours == pytest.approx(model.loglik_, abs=1e-9)
    assert ll_ours >= ll_theirs - LL_TOL and ll_ours == pytest.approx(ll_theirs, abs=LL_TOL)


def test_salad_matches_r_plackettluce(shared):
    salad = pd.read_csv(shared("rankings/salad.csv"))
    long = from_wide_rankings(salad, items=["A", "B", "C", "D"], ranking_id="judge")
    model = prefstat.PlackettLuce(reference="A").fit(long)
    # R: summary(PlackettLuce(salad, npseudo = 0), ref = "A") (Turner et al. 2020)
    ref = {"B": (2.7299, 0.4481), "C": (1.5615, 0.3965), "D": (1.0268, 0.3771)}
    for item, (coef, se) in ref.items():
        assert model.strengths_.loc[item, "estimate"] == pytest.approx(coef, abs=PRINTED_4DP)
        assert model.strengths_.loc[item, "se"] == pytest.approx(se, abs=PRINTED_4DP)
    assert model.strengths_.loc["A", "se"] == 0.0


def _pudding_pairs(shared) -> pd.DataFrame:
    pud = pd.read_csv(shared("rankings/pudding.csv"))
    parts = [pd.DataFrame({"item_a": pud["i"], "item_b": pud["j"], "outcome": code,
                           "weight": pud[col]})
             for col, code in (("w_ij", "a"), ("w_ji", "b"), ("t_ij", "tie"))]
    return pd.concat(parts, ignore_index=True)


def test_pudding_pairs_equal_davidson_bradley_terry(shared):
    """For a pair, Davidson–Luce is Davidson's model with nu = delta_2.

    A tie of i and j has probability delta_2 sqrt(a_i a_j) / (a_i + a_j +
    delta_2 sqrt(a_i a_j)) and a win of i a_i / (same), which is Davidson
    (1970) with nu = delta_2: so log_delta_2 = log_nu exactly.
    """
    pairs = _pudding_pairs(shared)
    bt = prefstat.BradleyTerry(ties="davidson", reference=1).fit(pairs, weight="weight")
    first = {"a": 1, "b": 2, "tie": 1}
    second = {"a": 2, "b": 1, "tie": 1}
    long = pd.DataFrame({
        "ranking_id": np.repeat(np.arange(len(pairs)), 2),
        "item": np.column_stack([pairs["item_a"], pairs["item_b"]]).ravel(),
        "rank": np.column_stack([pairs["outcome"].map(first),
                                 pairs["outcome"].map(second)]).ravel(),
        "weight": np.repeat(pairs["weight"].to_numpy(), 2),
    })
    pl = prefstat.PlackettLuce(ties="davidson", reference=1).fit(long, weight="weight")
    ours = pl.params_.rename(index={"log_delta_2": "log_nu"})
    np.testing.assert_allclose(ours["estimate"], bt.params_["estimate"], atol=SAME_FIT_TOL)
    np.testing.assert_allclose(ours["se"], bt.params_["se"], atol=SAME_FIT_TOL)
    assert pl.loglik_ == pytest.approx(bt.loglik_, abs=SAME_FIT_TOL)
    probs = pl.predict_proba([[1, 2]])
    bt_probs = bt.predict_proba(1, 2)
    np.testing.assert_allclose(probs[[1, 2, "tie"]].to_numpy().ravel(),
                               bt_probs[["a", "b", "tie"]].to_numpy().ravel(), atol=1e-12)


def _wmt_czech_english(shared) -> pd.DataFrame:
    wmt = pd.read_csv(shared("rankings/wmt12_rnk_results.csv"))
    cz = wmt[(wmt["srclang"] == "Czech") & (wmt["trglang"] == "English")]
    ranks = [f"system{k}rank" for k in range(1, 6)]
    enough = (cz[ranks] != -1).sum(axis=1) >= 2
    # Removed explicitly (not by the converter): rankings with < 2 ranked systems.
    assert (~enough).sum() == 3
    cz = cz[enough].reset_index(drop=True)
    return from_wide_rankings(
        cz, slots=[(f"system{k}Id", f"system{k}rank") for k in range(1, 6)],
        blank=-1, gaps="rerank", keep=["judgeId"])


def test_wmt12_czech_english_with_ties(shared):
    long = _wmt_czech_english(shared)
    start = time.perf_counter()
    model = prefstat.PlackettLuce(ties="davidson").fit(long, rater="judgeId")
    seconds = time.perf_counter() - start
    print(f"WMT12 cs-en: {model.n_rankings_} rankings, tie orders {model.tie_orders_}, "
          f"{model.n_iter_} Newton iterations, {seconds:.3f} s")
    assert model.converged_
    assert model.tie_orders_ == (2, 3, 4, 5)  # 4 tie sizes present
    assert model.n_items_ == 6 and model.n_rankings_ == 1291
    assert seconds < WMT_SECONDS
    assert list(model.rankings_.columns) == ["n_items", "n_ranked", "n_stages", "max_tie",
                                             "weight", "rater"]
    # the log-likelihood, recomputed by enumerating every subset of every choice set
    lam = model.strengths_["estimate"].to_dict()
    log_delta = {k: model.params_.loc[("tie", f"log_delta_{k}"), "estimate"]
                 for k in model.tie_orders_}
    assert brute_loglik(lam, log_delta, stages_of(long)) == pytest.approx(model.loglik_,
                                                                           abs=1e-8)


# ------------------------------------------------------ independent optima
def test_agrees_with_choix_optima_and_fd_standard_errors():
    sim = simulate_rankings(n_items=8, n_rankings=300, ranking_size=5, random_state=1)
    ours = prefstat.PlackettLuce(reference="item00").fit(sim.data)
    items = ours.items_
    data = to_choix(sim.data, items)
    lists = [list(items[r]) for r in data]
    theirs = {
        "ilsr": choix.ilsr_rankings(len(items), data, alpha=0.0, tol=1e-12, max_iter=10_000),
        "opt": choix.opt_rankings(len(items), data, alpha=0.0, tol=1e-12),
    }
    est = ours.strengths_["estimate"]
    ll_ours = independent_loglik(est.to_dict(), lists)
    assert ll_ours == pytest.approx(ours.loglik_, abs=1e-9)
    for name, params in theirs.items():
        ll = independent_loglik(dict(zip(items, params)), lists)
        assert ll_ours >= ll - LL_TOL, name
        assert ll_ours == pytest.approx(ll, abs=LL_TOL), name
        np.testing.assert_allclose(est, params - params[0], atol=PARAM_TOL, err_msg=name)

    def ll_free(x):
        return independent_loglik(dict(zip(items, np.r_[0.0, x])), lists)

    cov = np.linalg.inv(-fd_hessian(ll_free, est.to_numpy()[1:]))
    np.testing.assert_allclose(ours.strengths_["se"].to_numpy()[1:], np.sqrt(np.diag(cov)),
                               rtol=FD_SE_RTOL)
    np.testing.assert_allclose(ours.cov_.loc["item", "item"].to_numpy()[1:, 1:], cov,
                               atol=FD_SE_RTOL * np.abs(cov).max())


def test_weights_equal_repeated_rankings():
    sim = simulate_rankings(n_items=6, n_rankings=80, ranking_size=4, random_state=3)
    df = sim.data
    w = (df["ranking_id"] % 3 + 1).astype(float)
    weighted = prefstat.PlackettLuce().fit(df.assign(w=w), weight="w")
    copies = [df[w == k].assign(ranking_id=lambda d, c=c: d["ranking_id"].astype(str) + c)
              for k in (1, 2, 3) for c in [f"-{j}" for j in range(k)]]
    repeated = prefstat.PlackettLuce().fit(pd.concat(copies, ignore_index=True))
    pd.testing.assert_frame_equal(weighted.params_, repeated.params_, atol=CONTRACT_TOL,
                                  rtol=0)
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, abs=1e-8)
    assert weighted.n_obs_ == repeated.n_rankings_


@pytest.mark.parametrize("tied_last", ["tie", "unranked"])
def test_ties_optimum_and_standard_errors_by_brute_force(tied_last):
    sim = simulate_rankings(n_items=5, n_rankings=60, ranking_size=4, random_state=4)
    df = tied(sim.data)
    if tied_last == "unranked":
        df = df[df.groupby("ranking_id")["rank"].transform("nunique") > 1]
    model = prefstat.PlackettLuce(ties="davidson", reference="item00").fit(
        df, tied_last=tied_last)
    assert model.converged_
    items, orders = list(model.items_), model.tie_orders_

    def unpack(x):
        return dict(zip(items, np.r_[0.0, x[:len(items) - 1]])), \
            dict(zip(orders, x[len(items) - 1:]))

    stages = stages_of(df, tied_last)

    def negll(x):
        return -brute_loglik(*unpack(x), stages)

    x_ours = np.r_[model.params_["estimate"].to_numpy()[1:]]
    assert -negll(x_ours) == pytest.approx(model.loglik_, abs=1e-9)
    res = optimize.minimize(negll, np.zeros_like(x_ours), method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 10_000})
    assert model.loglik_ >= -res.fun - LL_TOL
    assert model.loglik_ == pytest.approx(-res.fun, abs=LL_TOL)
    cov = np.linalg.inv(fd_hessian(negll, x_ours))
    np.testing.assert_allclose(model.params_["se"].to_numpy()[1:], np.sqrt(np.diag(cov)),
                               rtol=FD_SE_RTOL)


def test_penalty_matches_choix_map():
    """penalty p adds p/2 * sum(lambda**2); choix 0.4.1's Top1Fcts adds alpha * sum(lambda**2).

    So penalty = 2 * alpha gives the same optimum (as for BradleyTerry).
    """
    sim = simulate_rankings(n_items=7, n_rankings=40, ranking_size=3, random_state=5)
    ours = prefstat.PlackettLuce(penalty=1.4).fit(sim.data)
    data = to_choix(sim.data, ours.items_)
    theirs = choix.opt_rankings(len(ours.items_), data, alpha=0.7, tol=1e-12)
    np.testing.assert_allclose(ours.strengths_["estimate"], theirs, atol=PARAM_TOL)


def test_npseudo_equals_explicit_ghost_item():
    """npseudo = explicit rankings against a ghost item (R PlackettLuce's pseudo-data)."""
    sim = simulate_rankings(n_items=5, n_rankings=60, ranking_size=3, random_state=6)
    df = sim.data.assign(w=1.0)
    ours = prefstat.PlackettLuce(npseudo=0.5, reference="item00").fit(df, weight="w")
    labels = list(ours.items_)
    ghost = to_long([[i, "ghost"] for i in labels] + [["ghost", i] for i in labels],
                    weights=[0.5] * (2 * len(labels)))
    ghost["ranking_id"] = "pseudo-" + ghost["ranking_id"].astype(str)
    explicit = prefstat.PlackettLuce(reference="item00").fit(
        pd.concat([df, ghost], ignore_index=True), weight="w")
    np.testing.assert_allclose(ours.strengths_["estimate"],
                               explicit.strengths_.loc[labels, "estimate"], atol=PARAM_TOL)
    np.testing.assert_allclose(ours.strengths_["se"],
                               explicit.strengths_.loc[labels, "se"], atol=PARAM_TOL)
    # the reported log-likelihood leaves the pseudo-data out
    assert ours.loglik_ == pytest.approx(
        independent_loglik(ours.strengths_["estimate"].to_dict(),
                           [list(g.sort_values("rank")["item"])
                            for _, g in sim.data.groupby("ranking_id")]), abs=1e-9)


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("variant", ["no ties", "tie", "unranked"])
def test_kernel_value_score_and_information_by_finite_differences(variant, dense):
    """The kernel at random parameters: value vs brute force, derivatives vs differences."""
    sim = simulate_rankings(n_items=7, n_rankings=40, ranking_size=5, random_state=9)
    df = sim.data if variant == "no ties" else tied(sim.data, seed=2)
    tied_last = "unranked" if variant == "unranked" else "tie"
    if tied_last == "unranked":
        df = df[df.groupby("ranking_id")["rank"].transform("nunique") > 1]
    data = encode_rankings(df, tied_last=tied_last)
    kernel = LuceKernel(data.blocks, data.items.size, data.tie_orders, dense=dense)
    theta = np.random.default_rng(3).normal(scale=0.8, size=kernel.size)
    value, grad, info = kernel.evaluate(theta, 2)
    info = info if dense else info.toarray()
    n = data.items.size
    stages = stages_of(df, tied_last)

    def brute(t):
        return brute_loglik(dict(zip(data.items, t[:n])), dict(zip(data.tie_orders, t[n:])),
                            stages)

    assert value == pytest.approx(brute(theta), abs=1e-10)
    h, eye = 1e-5, np.eye(kernel.size)
    fd_grad = np.array([(brute(theta + h * e) - brute(theta - h * e)) / (2 * h) for e in eye])
    fd_info = -np.array([(kernel.evaluate(theta + h * e, 1)[1]
                          - kernel.evaluate(theta - h * e, 1)[1]) / (2 * h) for e in eye])
    np.testing.assert_allclose(grad, fd_grad, atol=FD_DERIVATIVE_TOL)
    np.testing.assert_allclose(info, fd_info, atol=FD_DERIVATIVE_TOL)
    np.testing.assert_allclose(info, info.T, atol=1e-13)


@st.composite
def small_rankings(draw):
    """Up to 8 rankings of 2-4 of 6 items, ranks drawn with ties."""
    rows = []
    for r in range(draw(st.integers(1, 8))):
        items = draw(st.lists(st.sampled_from("abcdef"), min_size=2, max_size=4, unique=True))
        ranks = draw(st.lists(st.integers(1, 3), min_size=len(items), max_size=len(items)))
        rows += [(r, i, k) for i, k in zip(items, ranks)]
    df = pd.DataFrame(rows, columns=["ranking_id", "item", "rank"])
    return df.assign(rank=df.groupby("ranking_id")["rank"].rank(method="dense").astype(int))


@settings(max_examples=60, deadline=None)
@given(small_rankings())
def test_win_graph_of_rankings_equals_that_of_their_pairs(df):
    """The chain edges used for rankings reach what every implied pair reaches."""
    ours = encode_rankings(df).connectivity
    pairs = connectivity(rankings_to_pairs(df).drop(columns="ranking_id"))
    for attr in ("n_components", "n_strong_components"):
        assert getattr(ours, attr) == getattr(pairs, attr)
    for attr in ("never_win", "never_lose"):
        assert set(getattr(ours, attr)) == set(getattr(pairs, attr))
    cols = ["comparisons", "wins", "losses", "ties", "strong_component"]
    pd.testing.assert_frame_equal(ours.items[cols], pairs.items.loc[ours.items.index, cols],
                                  check_dtype=False, check_index_type=False)


# ------------------------------------------------------------ closed forms
def test_two_items_closed_form():
    df = to_long([["x", "y"]] * 30 + [["y", "x"]] * 10)
    model = prefstat.PlackettLuce(reference="y").fit(df)
    est = model.strengths_.loc["x"]
    assert est["estimate"] == pytest.approx(np.log(3.0), abs=CLOSED_FORM_TOL)
    assert est["se"] == pytest.approx(np.sqrt(1 / 30 + 1 / 10), rel=CLOSED_FORM_TOL)


def test_luce_choice_from_a_set_closed_form():
    """A choice of one item from {a, b, c}: rank 1, the others tied last and unranked.

    The MLE is the multinomial logit: lambda_a - lambda_c = log(n_a / n_c), with
    variance 1/(N p_a) + 1/(N p_c).
    """
    counts = {"a": 50, "b": 30, "c": 20}
    rankings = []
    for k, (best, n) in enumerate(counts.items()):
        others = [i for i in counts if i != best]
        for j in range(n):
            rankings.append(pd.DataFrame({"ranking_id": f"{k}-{j}", "item": [best, *others],
                                          "rank": [1, 2, 2]}))
    df = pd.concat(rankings, ignore_index=True)
    model = prefstat.PlackettLuce(reference="c").fit(df, tied_last="unranked")
    total = sum(counts.values())
    for item in ("a", "b"):
        assert model.strengths_.loc[item, "estimate"] == pytest.approx(
            np.log(counts[item] / counts["c"]), abs=CLOSED_FORM_TOL)
        assert model.strengths_.loc[item, "se"] == pytest.approx(
            np.sqrt(1 / counts[item] + 1 / counts["c"]), rel=CLOSED_FORM_TOL)
    probs = model.predict_proba([["a", "b", "c"]])
    np.testing.assert_allclose(probs[["a", "b", "c"]].to_numpy().ravel(),
                               np.array(list(counts.values())) / total, atol=CLOSED_FORM_TOL)
    assert total == model.n_rankings_


def test_top_k_unranked_rest_recovers_truth():
    sim = simulate_rankings(n_items=8, n_rankings=3000, ranking_size=6, top_k=2,
                            random_state=7)
    assert (sim.data.groupby("ranking_id")["rank"].max() == 3).all()
    model = prefstat.PlackettLuce().fit(sim.data, tied_last="unranked")
    z = (model.strengths_["estimate"] - sim.truth["strength"]) / model.strengths_["se"]
    assert (z.abs() < COVERAGE_SE).all(), z
    with pytest.raises(prefstat.InvalidRankingError, match="tied_last='unranked'"):
        prefstat.PlackettLuce().fit(sim.data)


# ------------------------------------------------------------------ contracts
def _contract_data(ties: bool) -> pd.DataFrame:
    sim = simulate_rankings(n_items=6, n_rankings=150, ranking_size=4, random_state=8)
    return tied(sim.data) if ties else sim.data


CONFIGS = [
    ({}, False),
    ({"reference": "item03"}, False),
    ({"penalty": 0.5}, False),
    ({"npseudo": 0.5}, False),
    ({"ties": "davidson"}, True),
    ({"ties": "davidson", "npseudo": 1.0, "reference": "item01"}, True),
]


@pytest.fixture(params=range(len(CONFIGS)), ids=lambda i: str(CONFIGS[i][0]))
def config(request):
    kwargs, ties = CONFIGS[request.param]
    return kwargs, _contract_data(ties)


def test_contract_fit_returns_self_and_refit_is_identical(config):
    kwargs, df = config
    model = prefstat.PlackettLuce(**kwargs)
    assert model.fit(df) is model
    first = model.params_.copy()
    model.fit(df)
    pd.testing.assert_frame_equal(first, model.params_)


def test_contract_not_fitted(config):
    kwargs, _ = config
    for call in (lambda m: m.summary(), lambda m: m.conf_int(),
                 lambda m: m.predict_proba([["item00", "item01"]])):
        with pytest.raises(prefstat.NotFittedError, match="not fitted"):
            call(prefstat.PlackettLuce(**kwargs))
    with pytest.raises(AttributeError):
        _ = prefstat.PlackettLuce(**kwargs).strengths_


def test_contract_row_order_and_labels_do_not_matter(config):
    kwargs, df = config
    base = prefstat.PlackettLuce(**kwargs).fit(df).params_
    shuffled = df.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(prefstat.PlackettLuce(**kwargs).fit(shuffled).params_, base,
                                  atol=CONTRACT_TOL, rtol=0)
    # new labels sort in the opposite order, so every item gets a new code
    rename = {f"item{k:02d}": f"z{9 - k}" for k in range(6)}
    kw = dict(kwargs)
    if "reference" in kw:
        kw["reference"] = rename[kw["reference"]]
    got = prefstat.PlackettLuce(**kw).fit(df.assign(item=df["item"].map(rename))).params_
    got = got.rename(index={v: k for k, v in rename.items()}).loc[base.index]
    pd.testing.assert_frame_equal(got, base, atol=CONTRACT_TOL, rtol=0)
    ids = df.assign(ranking_id="r" + df["ranking_id"].astype(str))
    pd.testing.assert_frame_equal(prefstat.PlackettLuce(**kwargs).fit(ids).params_, base,
                                  atol=CONTRACT_TOL, rtol=0)


def test_contract_predict_proba_summary_and_pickle(config):
    kwargs, df = config
    model = prefstat.PlackettLuce(**kwargs).fit(df)
    sets = [["item00", "item01"], ["item05", "item02", "item03"], list(model.items_)]
    probs = model.predict_proba(sets)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert (probs.loc[0, ["item02", "item03", "item04", "item05"]] == 0).all()
    assert ("tie" in probs.columns) == bool(model.tie_orders_)
    clone = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(clone.params_, model.params_)
    pd.testing.assert_frame_equal(clone.predict_proba(sets), probs)
    text = str(model.summary())
    assert "log-likelihood" in text and "Parameters" in text
    assert "<table" in model.summary()._repr_html_()
    ci90 = model.conf_int(alpha=0.10)
    est, se = model.params_["estimate"], model.params_["se"]
    np.testing.assert_allclose(ci90["ci_upper"], est + stats.norm.ppf(0.95) * se)
    pd.testing.assert_frame_equal(model.conf_int(), model.params_[["ci_lower", "ci_upper"]])
    assert list(model.params_.index.names) == ["group", "name"]
    assert model.strengths_.index.name == "item"


def test_sparse_information_and_row_chunks_match(monkeypatch):
    df = _contract_data(ties=True)
    dense = prefstat.PlackettLuce(ties="davidson").fit(df)
    monkeypatch.setattr(plmod, "_DENSE_MAX", 2)
    monkeypatch.setattr(luce, "_CHUNK_CELLS", 50)  # blocks of 3 rankings of 4 items
    other = prefstat.PlackettLuce(ties="davidson").fit(df)
    pd.testing.assert_frame_equal(other.params_, dense.params_, atol=CONTRACT_TOL, rtol=0)


@pytest.mark.parametrize("labels", [
    [3, 1, 2], ["c", "a", "b"], np.array([3, 1, 2], dtype=np.uint8),
    pd.array([3, 1, 2], dtype=object), pd.Categorical(["c", "a", "b"]),
])
def test_params_index_is_that_of_from_arrays(labels):
    # params_ without tie parameters builds its index from levels and codes; it
    # must be the index MultiIndex.from_arrays gives, level dtypes included.
    rows = pd.DataFrame({"ranking_id": [0, 0, 0, 1, 1, 1, 2, 2], "code": [0, 1, 2, 2, 0, 1, 1, 0],
                         "rank": [1, 2, 3, 1, 2, 3, 1, 2]})
    rows["item"] = pd.Series(labels).take(rows["code"]).to_numpy()
    model = prefstat.PlackettLuce().fit(rows.drop(columns="code"))
    items = model.items_
    expected = pd.MultiIndex.from_arrays([["item"] * len(items), [*items]],
                                         names=["group", "name"])
    index = model.params_.index
    assert index.equals(expected) and index.names == expected.names
    for level, want in zip(index.levels, expected.levels):
        pd.testing.assert_index_equal(level, want, exact=True)
    pd.testing.assert_index_equal(model.cov_.columns, index)
    # strengths_ is a table of its own, not a view of params_
    model.params_.iloc[0, 0] = 99.0
    assert model.strengths_.iloc[0, 0] != 99.0


def test_rater_column_is_kept_and_ignored():
    df = _contract_data(ties=False)
    with_rater = df.assign(judge="j" + (df["ranking_id"] % 7).astype(str))
    model = prefstat.PlackettLuce().fit(with_rater, rater="judge")
    assert model.rankings_["rater"].nunique() == 7
    pd.testing.assert_frame_equal(model.params_, prefstat.PlackettLuce().fit(df).params_)


# --------------------------------------------------------------------- errors
def test_repeated_item_is_an_error():
    df = to_long([["a", "b", "a"], ["b", "a"]])
    with pytest.raises(prefstat.InvalidRankingError, match="more than once"):
        prefstat.PlackettLuce().fit(df)


def test_single_item_ranking_is_an_error():
    df = pd.concat([to_long([["a", "b"], ["b", "a"]]),
                    pd.DataFrame({"ranking_id": [9], "item": ["a"], "rank": [1]})])
    with pytest.raises(prefstat.InvalidRankingError, match="single item"):
        prefstat.PlackettLuce().fit(df)


def test_empty_table_and_rankings_without_a_choice():
    with pytest.raises(prefstat.EmptyDataError):
        prefstat.PlackettLuce().fit(pd.DataFrame({"ranking_id": [], "item": [], "rank": []}))
    df = pd.concat([to_long([["a", "b"], ["b", "a"]]),
                    pd.DataFrame({"ranking_id": [7, 7], "item": ["a", "b"], "rank": [1, 1]})])
    with pytest.raises(prefstat.InvalidRankingError, match="contain no choice"):
        prefstat.PlackettLuce().fit(df, tied_last="unranked")


def test_disconnected_rankings_name_the_components():
    df = to_long([["a", "b"], ["b", "a"], ["c", "d"], ["d", "c"]])
    with pytest.raises(prefstat.NotIdentifiableError, match="disconnected") as err:
        prefstat.PlackettLuce().fit(df)
    assert err.value.connectivity.n_components == 2
    for kwargs in ({"npseudo": 0.5}, {"penalty": 1.0}):
        with pytest.warns(prefstat.IdentifiabilityWarning, match="does not exist"):
            model = prefstat.PlackettLuce(**kwargs).fit(df)
        assert np.isfinite(model.strengths_["se"]).all()
        assert "does not exist" in model.warnings_[0]
        assert "does not exist" in str(model.summary())


def test_never_winning_item_is_named():
    df = to_long([["a", "b", "z"], ["b", "a", "z"], ["a", "z"]])
    with pytest.raises(prefstat.NotIdentifiableError, match="never won: 'z'"):
        prefstat.PlackettLuce().fit(df)


def test_ties_need_the_ties_model():
    df = pd.DataFrame({"ranking_id": [1, 1, 1, 2, 2], "item": ["a", "b", "c", "a", "c"],
                       "rank": [1, 1, 2, 2, 1]})
    with pytest.raises(prefstat.InvalidRankingError, match="ties='davidson'"):
        prefstat.PlackettLuce().fit(df)


def test_infinite_tie_prevalence_and_bad_tied_last():
    # the only choice sets of 3 items all ended in a three-way tie: delta_3 -> infinity
    pairs = to_long([["a", "b"], ["b", "c"], ["c", "a"], ["b", "a"]])
    triple = pd.DataFrame({"ranking_id": [9, 9, 9], "item": ["a", "b", "c"], "rank": [1, 1, 1]})
    df = pd.concat([pairs.drop(columns="w"), triple], ignore_index=True)
    with pytest.raises(prefstat.NotIdentifiableError, match=r"order \[3\]"):
        prefstat.PlackettLuce(ties="davidson").fit(df)
    with pytest.raises(prefstat.InvalidParameterError, match="tied_last"):
        prefstat.PlackettLuce().fit(pairs, tied_last="rest")


def test_weight_varying_within_a_ranking_is_an_error():
    df = to_long([["a", "b"], ["b", "a"]]).assign(w=[1.0, 2.0, 1.0, 1.0])
    with pytest.raises(prefstat.InvalidWeightError, match="varies within"):
        prefstat.PlackettLuce().fit(df, weight="w")


@pytest.mark.parametrize("kwargs, match", [
    ({"ties": "rao-kupper"}, "not a ties model"),
    ({"penalty": -1.0}, "penalty"),
    ({"npseudo": float("nan")}, "npseudo"),
    ({"conf_level": 1.0}, "conf_level"),
])
def test_invalid_hyperparameters(kwargs, match):
    with pytest.raises(prefstat.InvalidParameterError, match=match):
        prefstat.PlackettLuce(**kwargs).fit(to_long([["a", "b"], ["b", "a"]]))


def test_unknown_reference_and_bad_choice_sets():
    df = to_long([["a", "b", "c"], ["c", "b", "a"], ["b", "a", "c"]])
    with pytest.raises(prefstat.InvalidItemError, match="reference"):
        prefstat.PlackettLuce(reference="q").fit(df)
    model = prefstat.PlackettLuce().fit(df)
    for sets, match in (([["a", "q"]], "not fitted on"), ([["a", "a"]], "repeats"),
                        (["ab"], "not a list"), ([[]], "empty")):
        with pytest.raises(prefstat.InvalidItemError, match=match):
            model.predict_proba(sets)


# ------------------------------------------------------------------ simulation
def test_simulate_rankings_is_reproducible_and_validated():
    a = simulate_rankings(n_items=5, n_rankings=20, ranking_size=3, random_state=1)
    b = simulate_rankings(n_items=5, n_rankings=20, ranking_size=3,
                          random_state=np.random.default_rng(1))
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.truth["strength"].sum() == pytest.approx(0.0, abs=1e-12)
    assert (a.data.groupby("ranking_id")["item"].nunique() == 3).all()
    for kwargs in ({"ranking_size": 9}, {"top_k": 5}, {"n_items": 1}, {"strength_sd": -1.0}):
        with pytest.raises(prefstat.InvalidParameterError):
            simulate_rankings(**{"n_items": 5, **kwargs})
    with pytest.raises(prefstat.InvalidParameterError, match="random_state"):
        simulate_rankings(random_state="seed")


@pytest.mark.slow
def test_simulated_worths_recovered_within_se():
    sim = simulate_rankings(n_items=40, n_rankings=5000, ranking_size=8, random_state=11)
    model = prefstat.PlackettLuce().fit(sim.data)
    z = (model.strengths_["estimate"] - sim.truth["strength"]) / model.strengths_["se"]
    assert (z.abs() < COVERAGE_SE).all(), z


@pytest.mark.slow
def test_simulated_tie_parameters_recovered_within_se():
    rng = np.random.default_rng(12)
    lam = rng.normal(size=6)
    lam -= lam.mean()
    log_delta = {2: np.log(0.4), 3: np.log(0.2)}
    df = simulate_davidson_luce(lam, log_delta, n_rankings=1500, size=4, seed=13)
    model = prefstat.PlackettLuce(ties="davidson").fit(df)
    assert model.tie_orders_ == (2, 3)
    truth = pd.Series(lam, index=[f"i{k}" for k in range(6)])
    z = (model.strengths_["estimate"] - truth) / model.strengths_["se"]
    assert (z.abs() < COVERAGE_SE).all(), z
    for k, value in log_delta.items():
        row = model.params_.loc[("tie", f"log_delta_{k}")]
        assert abs(row["estimate"] - value) < COVERAGE_SE * row["se"]
