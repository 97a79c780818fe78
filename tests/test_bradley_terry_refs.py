"""Bradley–Terry / Thurstone / Davidson fits against R reference fits.

Provenance: ``../shared/data/classic/refs.json`` holds fits by R 4.2.2 with
BradleyTerry2 1.1.2, psychotools 0.7.2, gnm 1.1.2 and brglm 0.7.2 (Debian 12
packages) on the CSVs beside it; each entry records its R call, which is
quoted in the test ids below. The tolerances are those the reference file
promises: estimates and log-likelihoods to 1e-6 absolute, SEs to 1e-5
relative.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import prefstat
from tests.conftest import shared_file

EST_TOL = 1e-6  # absolute, on the log-strength scale (refs.json promise)
LL_TOL = 1e-6  # absolute, log-likelihood kernel
SE_RTOL = 1e-5  # relative, standard errors


def _refs() -> dict:
    return json.loads(shared_file("classic/refs.json").read_text())["models"]


def _counts_to_rows(df: pd.DataFrame, a: str, b: str, cols: dict[str, str]) -> pd.DataFrame:
    """Aggregated counts -> canonical rows with weights (outcome code per count column)."""
    parts = [
        pd.DataFrame({"item_a": df[a], "item_b": df[b], "outcome": code, "weight": df[col]})
        for col, code in cols.items()
    ]
    out = pd.concat(parts, ignore_index=True)
    return out[out["weight"] > 0].reset_index(drop=True)


def _citations() -> pd.DataFrame:
    df = pd.read_csv(shared_file("classic/citations/comparisons.csv"),
                     dtype={"journal_a": str, "journal_b": str})
    return _counts_to_rows(df, "journal_a", "journal_b", {"wins_a": "a", "wins_b": "b"})


def _flute() -> pd.DataFrame:
    df = pd.read_csv(shared_file("classic/sound.fields/comparisons.csv"),
                     dtype={"field_a": str, "field_b": str, "instrument": str})
    df = df[df["instrument"] == "flute"]
    return _counts_to_rows(df, "field_a", "field_b",
                           {"wins_a": "a", "wins_b": "b", "ties": "tie"})


def _football() -> pd.DataFrame:
    df = pd.read_csv(shared_file("classic/football/matches.csv"), dtype={"season": str})
    df = df[df["season"] == "2008-9"]
    outcome = df["result"].map({1: "a", 0: "tie", -1: "b"})
    return pd.DataFrame({"item_a": df["home"], "item_b": df["away"], "outcome": outcome})


def _cems() -> pd.DataFrame:
    df = pd.read_csv(shared_file("classic/CEMS/comparisons.csv"),
                     dtype={"school_a": str, "school_b": str})
    df = df.dropna(subset=["win_a"])  # the 91 Paris-Milano comparisons not asked (R drops them)
    outcome = np.select([df["win_a"] == 1, df["win_b"] == 1, df["tie"] == 1], ["a", "b", "tie"],
                        default="missing")
    return pd.DataFrame({"item_a": df["school_a"], "item_b": df["school_b"], "outcome": outcome})


def _flatlizards() -> pd.DataFrame:
    df = pd.read_csv(shared_file("classic/flatlizards/contests.csv"), dtype=str)
    return pd.DataFrame({"item_a": df["winner"], "item_b": df["loser"], "outcome": "a"})


def _check_items(model, ref_abilities: dict, reference: str, items=None) -> None:
    """Compare strengths (relative to ``reference``) and SEs with R's abilities."""
    labels = [k for k in ref_abilities if items is None or k in items]
    est = model.strengths_.loc[labels, "estimate"].to_numpy()
    est = est - model.strengths_.loc[reference, "estimate"]
    ref_est = np.array([ref_abilities[k][0] for k in labels])
    np.testing.assert_allclose(est, ref_est, rtol=0, atol=EST_TOL)
    # R reports the reference's SE as 0 (BTabilities) or null (gnm).
    ref_se = np.array([ref_abilities[k][1] or 0.0 for k in labels])
    se = model.strengths_.loc[labels, "se"].to_numpy()
    nonref = ref_se > 0
    assert not nonref[labels.index(reference)]
    np.testing.assert_allclose(se[nonref], ref_se[nonref], rtol=SE_RTOL)


@pytest.mark.parametrize(
    ("key", "cls", "reference"),
    [
        ("citations_bt_ml", prefstat.BradleyTerry, "Biometrika"),
        ("citations_bt_ml_refJASA", prefstat.BradleyTerry, "JASA"),
        ("citations_thurstone_ml", prefstat.Thurstone, "Biometrika"),
    ],
)
def test_citations_ml(key, cls, reference):
    ref = _refs()[key]
    model = cls(reference=reference).fit(_citations(), weight="weight")
    _check_items(model, ref["abilities"], reference)
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)
    # 6 pairs: the pair-table deviance is R's deviance on its 6 binomial rows.
    assert model.deviance_ == pytest.approx(ref["deviance"], abs=LL_TOL)
    assert model.converged_


def test_citations_bias_reduced():
    ref = _refs()["citations_bt_br"]
    model = prefstat.BradleyTerry(reference="Biometrika", bias_reduction=True)
    model.fit(_citations(), weight="weight")
    _check_items(model, ref["abilities"], "Biometrika")
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)


def test_sum_to_zero_is_a_linear_map_of_reference_fit():
    """Identification changes estimates by a shift and SEs by the delta method."""
    data = _citations()
    ref_fit = prefstat.BradleyTerry(reference="JASA").fit(data, weight="weight")
    stz = prefstat.BradleyTerry().fit(data, weight="weight")
    est = ref_fit.strengths_["estimate"]
    np.testing.assert_allclose(stz.strengths_["estimate"], est - est.mean(), atol=1e-12)
    cov = ref_fit.cov_.loc["item", "item"].to_numpy()
    n = cov.shape[0]
    center = np.eye(n) - 1.0 / n
    np.testing.assert_allclose(stz.strengths_["se"], np.sqrt(np.diag(center @ cov @ center)),
                               rtol=1e-10)
    assert stz.strengths_["estimate"].sum() == pytest.approx(0, abs=1e-12)


def test_soundfields_half_ties():
    ref = _refs()["soundfields_flute_bt_ml"]
    model = prefstat.BradleyTerry(tie_handling="half", reference="000")
    model.fit(_flute(), weight="weight")
    _check_items(model, ref["abilities"], "000")
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)
    assert model.deviance_ == pytest.approx(ref["deviance"], abs=LL_TOL)


def test_soundfields_davidson():
    ref = _refs()["soundfields_flute_davidson"]
    model = prefstat.BradleyTerry(ties="davidson", reference="000")
    model.fit(_flute(), weight="weight")
    coefs = dict(ref["coefficients"])
    log_nu = coefs.pop("(undecided)")
    _check_items(model, {"000": [0, 0], **coefs}, "000")
    tie = model.params_.loc[("tie", "log_nu")]
    assert tie["estimate"] == pytest.approx(log_nu[0], abs=EST_TOL)
    assert tie["se"] == pytest.approx(log_nu[1], rel=SE_RTOL)
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)


@pytest.mark.parametrize("key", ["football_2008_9_davidson_home", "football_2008_9_davidson"])
def test_football_davidson_gnm(key):
    ref = _refs()[key]
    home = "home" in key.removeprefix("football_2008_9_davidson")
    model = prefstat.BradleyTerry(ties="davidson", order_effect=home, reference="Ars")
    model.fit(_football())
    coefs = dict(ref["coefficients"])
    tie_max = coefs.pop("tie.max")
    home_adv = coefs.pop("home.adv", None)
    _check_items(model, coefs, "Ars")
    # gnm's GenDavidson: tie.max = log(nu) - log(2).
    tie = model.params_.loc[("tie", "log_nu")]
    assert tie["estimate"] - np.log(2) == pytest.approx(tie_max[0], abs=EST_TOL)
    assert tie["se"] == pytest.approx(tie_max[1], rel=SE_RTOL)
    if home:
        order = model.params_.loc[("order_effect", "order_effect")]
        assert order["estimate"] == pytest.approx(home_adv[0], abs=EST_TOL)
        assert order["se"] == pytest.approx(home_adv[1], rel=SE_RTOL)
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)


def test_football_davidson_psychotools():
    ref = _refs()["football_2008_9_davidson_btmodel"]
    model = prefstat.BradleyTerry(ties="davidson", reference="Ars").fit(_football())
    coefs = dict(ref["coefficients"])
    log_nu = coefs.pop("(undecided)")
    _check_items(model, {"Ars": [0, 0], **coefs}, "Ars")
    assert model.params_.loc[("tie", "log_nu"), "estimate"] == pytest.approx(log_nu[0],
                                                                            abs=EST_TOL)
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)


def test_cems_table3_half_ties():
    ref = _refs()["cems_table3_ml"]
    model = prefstat.BradleyTerry(tie_handling="half", reference="Stockholm").fit(_cems())
    _check_items(model, ref["abilities"], "Stockholm")
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)
    assert model.n_obs_ == ref["n_obs"]


def test_cems_davidson():
    ref = _refs()["cems_davidson"]
    model = prefstat.BradleyTerry(ties="davidson", reference="Stockholm").fit(_cems())
    coefs = dict(ref["coefficients"])
    log_nu = coefs.pop("(undecided)")
    _check_items(model, {"Stockholm": [0, 0], **coefs}, "Stockholm")
    tie = model.params_.loc[("tie", "log_nu")]
    assert tie["estimate"] == pytest.approx(log_nu[0], abs=EST_TOL)
    assert tie["se"] == pytest.approx(log_nu[1], rel=SE_RTOL)
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=LL_TOL)


def test_flatlizards_bias_reduced_by_component():
    """Firth fit of a separable, disconnected graph (77 lizards, 4 components).

    The Jeffreys penalty and the likelihood both factor over components, so
    R's joint fit equals separate fits of each component with R's choice of
    reference: lizard003 in the main one, and in each other component the
    last lizard in level order, which R's pivoted QR aliases (``aliased``).
    """
    ref = _refs()["flatlizards_bt_br"]
    data = _flatlizards()
    with pytest.raises(prefstat.NotIdentifiableError, match="disconnected"):
        prefstat.BradleyTerry(bias_reduction=True).fit(data)
    aliased = {name.removeprefix("..") for name in ref["aliased"]}
    for component in ref["graph_components"]:
        reference = next((c for c in component if c in aliased), "lizard003")
        sub = data[data["item_a"].isin(component)]
        with pytest.warns(prefstat.IdentifiabilityWarning, match="bias-reduced"):
            model = prefstat.BradleyTerry(bias_reduction=True, reference=reference).fit(sub)
        abilities = {k: v for k, v in ref["abilities"].items() if k in component}
        if reference != "lizard003":
            abilities = {k: v for k, v in abilities.items() if v[0] is not None}
            abilities[reference] = [0.0, 0.0]
        _check_items(model, abilities, reference)


def test_identification_maps_the_full_covariance():
    """Cross-covariances with the order effect and tie parameters follow A C A'."""
    data = _football()
    ref_fit = prefstat.BradleyTerry(ties="davidson", order_effect=True, reference="Ars")
    ref_fit.fit(data)
    stz = prefstat.BradleyTerry(ties="davidson", order_effect=True).fit(data)
    other = prefstat.BradleyTerry(ties="davidson", order_effect=True, reference="Che").fit(data)
    cov = ref_fit.cov_.to_numpy()
    n = ref_fit.n_items_
    for fit, matrix in [
        (stz, np.eye(n) - 1.0 / n),
        (other, np.eye(n) - np.outer(np.ones(n), np.eye(n)[list(ref_fit.items_).index("Che")])),
    ]:
        a = np.eye(cov.shape[0])
        a[:n, :n] = matrix
        np.testing.assert_allclose(fit.cov_.to_numpy(), a @ cov @ a.T, atol=1e-9)
