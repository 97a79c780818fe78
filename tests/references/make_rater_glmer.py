"""Generate ``rater_glmer.json``: lme4 reference fits for ``prefstat.RaterBradleyTerry``.

Run from the project root, on a machine with R, lme4 and jsonlite and with the shared
data at ``../shared/data``::

    python tests/references/make_rater_glmer.py

For each data set in :data:`DATASETS` the canonical comparison table is built with
prefstat's converters (the test builds it with the very same functions, imported from
here), written to a temporary CSV of 0/1 judgements, and fitted by
``rater_glmer.R`` (beside this file) with

    glmer(y ~ 0 + order + X + (1 | rater), family = binomial)     # Laplace, nAGQ = 1

where ``y = 1`` if ``item_a`` (shown first) was preferred, ``order`` is a column of 1s
and ``X`` is the +1/-1 item design with the reference item's column dropped. That is
``RaterBradleyTerry(position_bias=True, order_effect=True, reference=REF)``. Each data
set is fitted under lme4's default control, under a tight control (``tolPwrss = 1e-13``
and bobyqa ``rhoend = 1e-12``: the exact Laplace optimum, which is what prefstat computes)
and with each of the two tightenings alone (see the ``why_tight`` note in the JSON). The
tight fit is then polished to the exact optimum by an independent extended-precision
computation (:func:`exact_laplace`), which also gives noise-free Hessian SEs.

Importing this module has no side effects; the table builders are plain functions of a
path resolver (the tests pass their ``shared_file`` helper, which skips when the data are
absent).
"""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "rater_glmer.json"
R_SCRIPT = HERE / "rater_glmer.R"
SHARED_DATA = HERE.parents[2] / "shared" / "data"

Locate = Callable[[str], Path]

TULU_FILE = "llm/tulu1_human_eval.csv"
PANDALM_FILE = "llm/pandalm_testset_v1.json"
URBANO_FILE = "raters/urbano2010_judgments.csv"

TULU_LEVELS = ["a-is-better", "a-is-slightly-better", "tie", "b-is-slightly-better",
               "b-is-better"]
PANDALM_CODES = {0: "tie", 1: "a", 2: "b"}
URBANO_CODES = {"a": "a", "b": "b", "s": "tie"}


# ----------------------------------------------------------------- table builders
def tulu(locate: Locate) -> pd.DataFrame:
    """Tülu-1 human evaluation, all 16 evaluators; ties dropped, "slightly" folded in."""
    from prefstat import convert

    raw = pd.read_csv(locate(TULU_FILE))
    graded = convert.from_graded(raw, "preference", TULU_LEVELS, item_a="model_a",
                                 item_b="model_b", rater="evaluator")
    nominal = convert.collapse_graded(graded)  # a-is-(slightly-)better -> "a", etc.
    return nominal[nominal["outcome"] != "tie"]


def pandalm(locate: Locate) -> pd.DataFrame:
    """PandaLM test set v1, three annotators; ties (label 0) dropped."""
    from prefstat import convert

    raw = pd.read_json(locate(PANDALM_FILE))
    models = raw["cmp_key"].str.split("_", n=1, expand=True)
    raw = raw.assign(model1=models[0], model2=models[1])
    long = convert.from_multi_annotator(raw, ["annotator1", "annotator2", "annotator3"],
                                        PANDALM_CODES, item_a="model1", item_b="model2")
    return long[long["outcome"] != "tie"]


def urbano(locate: Locate, query: str) -> pd.DataFrame:
    """Urbano et al. (2010) music-similarity judgements for one query; "same" dropped."""
    from prefstat import convert

    raw = pd.read_csv(locate(URBANO_FILE), encoding="latin-1",
                      dtype={"Input.query": str, "Input.docA": str, "Input.docB": str})
    raw = raw[raw["Input.query"] == query]
    raw = raw.dropna(subset=["Answer.radio"])  # 5 HITs in the whole file have no answer
    table = convert.from_codes(raw, "Answer.radio", URBANO_CODES, item_a="Input.docA",
                               item_b="Input.docB", rater="WorkerId")
    return table[table["outcome"] != "tie"]


def _urbano_spec(query: str, note: str) -> dict:
    return {
        "id": f"urbano_{query}",
        "builder": lambda locate, q=query: urbano(locate, q),
        "data_file": URBANO_FILE,
        "filtering": (
            f"rows with Input.query == '{query}'; rows with an empty Answer.radio dropped; "
            "convert.from_codes(Answer.radio, {'a': 'a', 'b': 'b', 's': 'tie'}, "
            "item_a='Input.docA', item_b='Input.docB', rater='WorkerId'); outcome 'tie' "
            "('same') dropped. Items are the candidate documents of that one query (the "
            "queries' documents are disjoint, so the whole file is not one connected design)."
        ),
        "order_meaningful": "yes: document A and document B are shown in that order in the HIT",
        "note": note,
    }


DATASETS: list[dict] = [
    {
        "id": "tulu1_all",
        "builder": tulu,
        "data_file": TULU_FILE,
        "reference": "tulu_65B",
        "filtering": (
            "convert.from_graded(preference, levels=" + repr(TULU_LEVELS) + ", "
            "item_a='model_a', item_b='model_b', rater='evaluator'); convert.collapse_graded "
            "(slightly-better -> better); outcome 'tie' dropped"
        ),
        "order_meaningful": "yes: the README says the order of the two answers is randomised",
        "note": "all 16 evaluators; lme4 and prefstat both give a singular fit (sd = 0)",
    },
    {
        "id": "pandalm",
        "builder": pandalm,
        "data_file": PANDALM_FILE,
        "reference": "llama-7b",
        "filtering": (
            "model1, model2 = cmp_key split at the first '_' (response1 is model1); "
            "convert.from_multi_annotator(annotators=['annotator1', 'annotator2', "
            "'annotator3'], codes={0: 'tie', 1: 'a', 2: 'b'}, item_a='model1', "
            "item_b='model2'); outcome 'tie' dropped"
        ),
        "order_meaningful": (
            "doubtful: response1 is always the alphabetically first model of cmp_key, so the "
            "'order effect' is identified only through the additivity of the Bradley-Terry "
            "model over the 10 model pairs; numerically still a well-defined glmer model"
        ),
        "note": ("three annotators judging the same 999 pairs (their rows are not independent); "
                 "singular fit (sd = 0)"),
    },
    _urbano_spec("400.065.784-1.1.1", "largest query: 64 workers, 23 documents; sd > 0"),
    _urbano_spec("600.054.278-1.1.1", "45 workers, 11 documents; sd > 0"),
    _urbano_spec("700.010.591-1.4.2", "32 workers, 9 documents; sd > 0"),
    _urbano_spec("600.053.481-1.1.1", "23 workers, 9 documents; sd > 0"),
    _urbano_spec("600.192.742-1.1.1", (
        "27 workers, 5 documents, about 2 judgements per worker; sd about 2.16, a LOCAL "
        "maximum of the Laplace objective: profiled over beta, the Laplace deviance is "
        "49.43 at theta = 2.16 but 47.70 at theta = 20 and 47.38 at theta = 30 (lme4, "
        "tolPwrss = 1e-13; prefstat's objective agrees). With nAGQ = 25 the deviance has a "
        "single minimum (theta = 1.90) and rises steadily beyond it, so the second mode is "
        "an artifact of the Laplace approximation for raters with ~2 binary judgements. "
        "lme4 and prefstat both return the local maximum near 2.16, which is what is "
        "compared.")),
    _urbano_spec("703.001.021-1.1.1", "33 workers, 12 documents; singular fit (sd = 0)"),
]
for _spec in DATASETS:
    _spec.setdefault("reference", None)


def reference_item(spec: dict, table: pd.DataFrame) -> str:
    """The spec's reference item, or (urbano) the alphabetically first item of the table."""
    if spec["reference"] is not None:
        return spec["reference"]
    return sorted(set(table["item_a"]) | set(table["item_b"]))[0]


def items_of(table: pd.DataFrame) -> list[str]:
    return sorted(set(map(str, table["item_a"])) | set(map(str, table["item_b"])))


def glmer_frame(table: pd.DataFrame) -> pd.DataFrame:
    """0/1 rows for glmer: y = 1 when item_a (shown first) was preferred."""
    if not table["outcome"].isin(["a", "b"]).all():
        raise ValueError("the glmer reference needs a table with outcomes 'a' / 'b' only")
    return pd.DataFrame({
        "y": (table["outcome"] == "a").astype(int).to_numpy(),
        "rater": table["rater"].astype(str).to_numpy(),
        "item_a": table["item_a"].astype(str).to_numpy(),
        "item_b": table["item_b"].astype(str).to_numpy(),
    })


# ------------------------------------------- exact Laplace optimum (extended precision)
# An independent check on both lme4 and prefstat: the Laplace objective of this model
# (one scalar random intercept per rater) written out directly in numpy's extended
# precision (np.longdouble, 64-bit mantissa on x86-64), with every rater's conditional mode
# solved by Newton to the last bit. Derivatives are Richardson-extrapolated central
# differences. Starting from lme4's tight fit, Newton steps on (theta, beta) polish the
# optimum; the SEs are those of lme4's definition (the beta block of 2 * inverse Hessian of
# the deviance in (theta, beta) jointly; beta only when theta = 0), but without the noise
# of lme4's deriv12 stencil (delta = 1e-4 on a deviance computed to tolPwrss).
LD = np.longdouble


def laplace_function(frame: pd.DataFrame, items: list[str], reference: str
                     ) -> tuple[Callable[[np.ndarray], LD], list[str]]:
    """The Laplace log-likelihood as a function of x = (theta, beta_free..., order)."""
    free = [k for k in items if k != reference]
    col = {k: i for i, k in enumerate(free)}
    n, p = len(frame), len(free) + 1
    X = np.zeros((n, p), dtype=LD)
    X[:, -1] = 1
    rows = np.arange(n)
    ia = frame["item_a"].map(col)
    ib = frame["item_b"].map(col)
    X[rows[ia.notna()], ia.dropna().astype(int)] += 1
    X[rows[ib.notna()], ib.dropna().astype(int)] -= 1
    r = frame["rater"].astype("category").cat.codes.to_numpy()
    R = int(r.max()) + 1
    y = frame["y"].to_numpy().astype(LD)

    def per_rater(w: np.ndarray) -> np.ndarray:
        out = np.zeros(R, dtype=LD)
        np.add.at(out, r, w)
        return out

    def f(x: np.ndarray) -> LD:
        theta = LD(x[0])
        c = X @ np.asarray(x[1:], dtype=LD)
        v = np.zeros(R, dtype=LD)
        for _ in range(200):
            mu = 1 / (1 + np.exp(-(c + theta * v[r])))
            grad = theta * per_rater(y - mu) - v
            step = grad / (theta * theta * per_rater(mu * (1 - mu)) + 1)
            v = v + step
            if np.abs(step).max() < 1e-18:
                break
        eta = c + theta * v[r]
        mu = 1 / (1 + np.exp(-eta))
        ll = np.sum(y * eta - np.logaddexp(LD(0), eta))
        logdet = np.sum(np.log(theta * theta * per_rater(mu * (1 - mu)) + 1))
        return ll - np.sum(v * v) / 2 - logdet / 2

    return f, free


def _derivatives(f: Callable[[np.ndarray], LD], x: np.ndarray, h: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian by central differences, Richardson-extrapolated (h, h/2)."""
    k = x.size
    x = x.astype(LD)

    def once(h: float) -> tuple[np.ndarray, np.ndarray]:
        e = np.eye(k, dtype=LD) * LD(h)
        g = np.array([(f(x + e[i]) - f(x - e[i])) / (2 * LD(h)) for i in range(k)])
        H = np.empty((k, k), dtype=LD)
        for i in range(k):
            for j in range(i, k):
                H[i, j] = H[j, i] = (f(x + e[i] + e[j]) - f(x + e[i] - e[j])
                                     - f(x - e[i] + e[j]) + f(x - e[i] - e[j])) / (4 * LD(h) ** 2)
        return g, H

    g1, H1 = once(h)
    g2, H2 = once(h / 2)
    return (4 * g2 - g1) / 3, (4 * H2 - H1) / 3


def exact_laplace(frame: pd.DataFrame, items: list[str], reference: str, fit: dict) -> dict:
    """Polish lme4's tight fit to the exact Laplace optimum; SEs from the exact Hessian."""
    f, free = laplace_function(frame, items, reference)
    names = [*free, "order_effect"]
    beta = np.array([fit["fixef"][k] for k in names], dtype=float)
    singular = fit["sd"] == 0
    x = np.concatenate([[fit["sd"]], beta])
    fb = (lambda b: f(np.concatenate([[0.0], b]))) if singular else f
    z = x[1:] if singular else x
    steps = []
    for _ in range(8):
        g, H = _derivatives(fb, z, 1e-3)
        step = np.linalg.solve(H.astype(float), g.astype(float))
        z = z - step
        steps.append(float(np.abs(step).max()))
        if steps[-1] < 1e-11:
            break
    g, H = _derivatives(fb, z, 1e-3)
    V = np.linalg.inv(-H.astype(float))  # inverse observed information, log-lik scale
    out = {
        "method": "Newton-polished from the 'tight' fit on an extended-precision Laplace "
                  "objective (make_rater_glmer.laplace_function); Richardson central differences",
        "newton_steps_max_abs": steps,
        "max_abs_gradient": float(np.abs(g.astype(float)).max()),
    }
    if singular:
        out["sd"] = 0.0
        out["fixef"] = dict(zip(names, map(float, z)))
        out["se"] = dict(zip(names, map(float, np.sqrt(np.diag(V)))))
        out["sd_se"] = None
        # curvature of the log-likelihood in theta at theta = 0 (beta fixed at the optimum;
        # the cross derivatives vanish there because the objective is even in theta)
        t = 1e-3
        zz = np.concatenate([[0.0], z])
        up, mid = f(zz + np.eye(zz.size)[0] * t), f(zz)
        out["theta_curvature_at_0"] = float((2 * up - 2 * mid) / LD(t) ** 2)
        out["logLik"] = float(mid)
    else:
        out["sd"] = float(z[0])
        out["fixef"] = dict(zip(names, map(float, z[1:])))
        out["se"] = dict(zip(names, map(float, np.sqrt(np.diag(V))[1:])))
        out["sd_se"] = float(np.sqrt(V[0, 0]))
        out["logLik"] = float(f(z))
    return out


# ------------------------------------------------------------------------- main
WHY_TIGHT = (
    "lme4's default glmer fit is not the exact Laplace optimum, for two reasons. (1) Its PIRLS "
    "inner loop stops at tolPwrss = 1e-7, so the deviance it optimises differs from the exact "
    "Laplace deviance by a data-dependent, smoothly varying amount (compare "
    "'dev_default_pirls_at_estimate' with 'dev_exact_at_estimate': up to about 1e-3 here); "
    "(2) its second-stage Nelder-Mead stops early (lme4's own check flags max|grad| > 0.002 "
    "on several of these data sets). 'tight' (tolPwrss = 1e-13 and bobyqa with rhoend = "
    "1e-12) removes both; 'tight_pirls_only' and 'tight_optimizer_only' remove one each, to "
    "show that neither alone suffices. prefstat solves the inner problem to convergence and "
    "optimises with a gradient, so it is compared with 'tight' (and with 'exact_laplace')."
)


def main(data_dir: Path = SHARED_DATA) -> None:
    def locate(relative: str) -> Path:
        path = data_dir / relative
        if not path.exists():
            sys.exit(f"{path} not found")
        return path

    entries = {}
    frames = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for spec in DATASETS:
            table = spec["builder"](locate)
            frame = glmer_frame(table)
            frames[spec["id"]] = frame
            csv = Path(tmp) / f"{spec['id']}.csv"
            frame.to_csv(csv, index=False)
            ref = reference_item(spec, table)
            jobs.append({"id": spec["id"], "csv": str(csv), "reference": ref,
                         "items": items_of(table)})
            entries[spec["id"]] = {
                "data_file": spec["data_file"],
                "filtering": spec["filtering"],
                "order_meaningful": spec["order_meaningful"],
                "note": spec["note"],
                "reference": ref,
                "items": items_of(table),
                "n_obs": len(frame),
                "n_raters": int(frame["rater"].nunique()),
                "n_a_preferred": int(frame["y"].sum()),
            }
        jobs_file = Path(tmp) / "jobs.json"
        jobs_file.write_text(json.dumps(jobs))
        out_file = Path(tmp) / "out.json"
        subprocess.run(["Rscript", str(R_SCRIPT), str(jobs_file), str(out_file)], check=True)
        r_out = json.loads(out_file.read_text())
    for res in r_out["results"]:
        entry = entries[res["id"]]
        assert entry["n_obs"] == res["n_obs"] and entry["n_raters"] == res["n_raters"]
        entry["formula"] = res["formula"]
        entry["fits"] = res["fits"]
        entry["exact_laplace"] = exact_laplace(frames[res["id"]], entry["items"],
                                               entry["reference"], res["fits"]["tight"])
    meta = dict(r_out["meta"])
    meta.update({
        "generated_by": "tests/references/make_rater_glmer.py + tests/references/rater_glmer.R",
        "generated_on": _dt.date.today().isoformat(),
        "data_root": "../shared/data (see its README.md for sources and licences)",
        "model": (
            "glmer(y ~ 0 + order + X + (1 | rater), family = binomial), nAGQ = 1 (Laplace); "
            "y = 1 if item_a (shown first) preferred; order = 1 on every row; X[, k] = "
            "1{item_a == k} - 1{item_b == k} for every item k but the reference. In prefstat: "
            "RaterBradleyTerry(position_bias=True, order_effect=True, reference=REF)."
        ),
        "fields": {
            "fits": "one entry per glmerControl setting (see each entry's 'control'); 'tight' is "
                    "the reference for prefstat",
            "fixef": "item coefficients keyed by item label (the reference item is absent: "
                     "it is 0) and order_effect",
            "se": "sqrt(diag(vcov(m))): lme4's default, the finite-difference Hessian of the "
                  "deviance in (theta, beta) (deriv12, delta = 1e-4)",
            "se_rx": "sqrt(diag(vcov(m, use.hessian = FALSE))), the RX (conditional) version",
            "sd": "theta = random-intercept sd of the rater position bias d_r",
            "sd_se_hessian": "sqrt(2 * solve(Hessian)[theta, theta]) from lme4's own Hessian",
            "logLik": "logLik(m); for 0/1 rows this is the binomial kernel (prefstat's loglik_)",
            "ranef": "conditional modes d_r by rater (prefstat's raters_.position_bias = "
                     "order_effect + d_r)",
            "ranef_condvar": "conditional variance of d_r (ranef(condVar = TRUE) postVar)",
            "dev_exact_at_estimate": "exact Laplace deviance (tolPwrss = 1e-13 devfun) at "
                                     "this fit's (theta, beta)",
            "dev_default_pirls_at_estimate": "lme4's default (tolPwrss = 1e-7) devfun there",
            "exact_laplace": "not lme4: the tight fit polished by Newton steps on an "
                             "extended-precision Laplace objective written out in "
                             "make_rater_glmer.py (independent of prefstat); its SEs use lme4's "
                             "definition without lme4's finite-difference noise; for sd = 0, "
                             "theta_curvature_at_0 < 0 shows theta = 0 is a local maximum",
        },
        "why_tight": WHY_TIGHT,
        "excluded": {
            "raters/sounds.csv, raters/beach_preferences.csv, raters/elochoice_physical.csv":
                "winner/loser format (bottom_item/top_item, Winner/Loser): the presentation "
                "order is not recorded, so an order effect is not estimable (with the winner "
                "as item_a every y is 1: complete separation)",
            "whole urbano file": "the 11 queries have disjoint documents (11 separate "
                                 "comparison graphs); five queries have an item that never "
                                 "wins or never loses (infinite MLE), the other six are used",
        },
    })
    OUT.write_text(json.dumps({"meta": meta, "datasets": entries}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
