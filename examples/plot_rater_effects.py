"""
Rater random effects: who is biased, who is noisy, what the consensus looks like after accounting for them
==========================================================================================================

Human preference labels come from people, and people differ: one evaluator
favours the answer shown first, another clicks almost at random, a third
reads the scale the wrong way round. :class:`prefstat.RaterBradleyTerry`
puts these differences into the Bradley–Terry model as random effects, one
set per rater. A judgement by rater :math:`r` of answers :math:`a` (shown
first) and :math:`b` prefers :math:`a` with log-odds

.. math::

   (1 + e_r)\\,(s_a - s_b) + h + d_r,

where :math:`s` are the consensus log-strengths, :math:`h` the pooled
advantage of the first-shown answer, :math:`d_r \\sim N(0, \\sigma_d^2)` the
rater's own extra position bias and :math:`1 + e_r`, with
:math:`e_r \\sim N(0, \\sigma_e^2)`, the rater's reliability: 1 for a typical
rater, 0 for one who answers at random, negative for one who reverses the
scale. The model is fitted by Laplace-approximate marginal likelihood, as
lme4's ``glmer`` does (:doc:`/user_guide/rater_effects`).

Three questions, on two real tables of human labels: how much do the raters
differ (the variance components), which raters differ (the per-rater
effects), and does accounting for them move the leaderboard?
"""  # noqa: E501 (the title is one line)

# %%
# Tülu 1: sixteen evaluators, order randomised
# --------------------------------------------
# Tülu 1's human evaluation (Wang et al., 2023) asked 16 evaluators to compare
# two models' answers to one prompt on a 5-point scale. The two answers were
# shown in random order, so a preference for the first one can be told apart
# from a preference for a model.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import prefstat
from prefstat.convert import collapse_graded, from_graded, from_multi_annotator
from prefstat.datasets import fetch_pandalm, fetch_tulu_human_eval

raw = fetch_tulu_human_eval()
LEVELS = ["a-is-better", "a-is-slightly-better", "tie", "b-is-slightly-better", "b-is-better"]
graded = from_graded(raw, "preference", LEVELS, item_a="model_a", item_b="model_b",
                     rater="evaluator")

# %%
# The rater model is binary, so the 5-point scale is collapsed explicitly:
# "slightly better" and "better" both become a win, the middle level a tie
# (:func:`~prefstat.convert.collapse_graded`; the grade is lost, which is the
# price of this model).
#
# **Ties are dropped, in plain view.** The alternative,
# ``tie_handling="half"``, scores a tie as half a win for each side. That
# pulls the rater's log-odds towards 0, exactly what a low reliability
# does, so an evaluator who often answers "tie" would be read as one who
# answers at random: "cannot decide" and "decides carelessly" would become
# one number. On the decisive judgements the likelihood is a proper binomial
# one, and reliability means only what it says: how closely a rater's
# choices follow the consensus. (How often each rater calls a tie is a
# separate, simpler statistic: ``tie_rate`` in
# :func:`prefstat.diagnostics.agreement`'s rater table.)
tulu = collapse_graded(graded)
tulu_decisive = tulu[tulu["outcome"] != "tie"]
print(f"{len(tulu)} judgements, {int((tulu['outcome'] == 'tie').sum())} ties dropped, "
      f"{len(tulu_decisive)} decisive, by {tulu_decisive['rater'].nunique()} evaluators")

# %%
# Fit
# ---
# Position bias and reliability per evaluator, with the pooled order effect
# ``h``. The summary starts with the variance components: one standard
# deviation per rater effect, with a profile-likelihood interval.
tulu_model = prefstat.RaterBradleyTerry(position_bias=True, reliability=True).fit(tulu_decisive)
tulu_model.summary()

# %%
# How much do the evaluators differ?
# ----------------------------------
# The variance components, with their 95% intervals:
tulu_model.variance_components_.round(3)

# %%
# A component estimated at exactly 0 is a **singular fit** (lme4's term):
# the marginal likelihood is highest with no variation between raters in
# that effect, so the model sets every rater's effect to the typical value.
# Its standard error is undefined (the estimate sits on the boundary of the
# parameter space) and its interval runs from 0: the upper limit is the
# largest spread the data cannot rule out. It does not say the raters are
# identical; it says these judgements cannot tell them apart.
for component, row in tulu_model.variance_components_.iterrows():
    state = "singular: no detectable variation" if row["singular"] else "estimated"
    print(f"{component}: sd = {row['sd']:.3f}, 95% interval [{row['ci_lower']:.3f}, "
          f"{row['ci_upper']:.3f}] ({state})")


# %%
# Which evaluators differ?
# ------------------------
# ``raters_`` holds each evaluator's conditional modes (the shrunken
# estimates) and conditional standard errors: ``position_bias`` is the
# evaluator's total first-position advantage ``h + d_r``, ``reliability`` is
# ``1 + e_r``. To see what the pooling does, the caterpillar plot also shows
# each evaluator fitted *alone*: a logistic regression of "first answer
# preferred" on the consensus difference :math:`s_a - s_b`, whose intercept
# is the evaluator's own position bias and whose slope is their own
# reliability, with no borrowing of strength from the other evaluators.
def own_fits(rows, strengths):
    """Each rater alone: intercept (position bias) and slope (reliability), with SEs."""
    out = {}
    for rater, group in rows.groupby("rater"):
        diff = (strengths.reindex(group["item_a"]).to_numpy()
                - strengths.reindex(group["item_b"]).to_numpy())
        y = (group["outcome"] == "a").to_numpy(dtype=float)
        X = np.column_stack([np.ones_like(diff), diff])
        beta = np.zeros(2)
        for _ in range(30):  # Newton–Raphson for a two-parameter logistic regression
            p = 1.0 / (1.0 + np.exp(-X @ beta))
            info = X.T @ (X * (p * (1.0 - p))[:, None])
            beta = beta + np.linalg.solve(info, X.T @ (y - p))
        se = np.sqrt(np.diag(np.linalg.inv(info)))
        out[rater] = {"position_bias": beta[0], "position_bias_se": se[0],
                      "reliability": beta[1], "reliability_se": se[1]}
    return pd.DataFrame(out).T


def caterpillar(model, rows, title):
    """Per-rater position bias and reliability, +-1.96 conditional SE, and the raters alone."""
    raters = model.raters_.sort_values("position_bias")
    alone = own_fits(rows, model.strengths_["estimate"]).reindex(raters.index)
    h = model.params_.loc[("order_effect", "order_effect"), "estimate"]
    sd = model.variance_components_["sd"]
    y = np.arange(len(raters))
    fig, axes = plt.subplots(1, 2, sharey=True, figsize=(8, 1.8 + 0.3 * len(raters)))
    panels = [("position_bias", "position bias h + d_r (log-odds)", [0.0, h]),
              ("reliability", "reliability 1 + e_r", [0.0, 1.0])]
    for ax, (col, label, lines) in zip(axes, panels):
        ax.errorbar(alone[col], y + 0.2, xerr=1.96 * alone[f"{col}_se"], fmt="o", ms=4,
                    mfc="white", color="0.6", lw=0.8, label="rater alone (no pooling)")
        ax.errorbar(raters[col], y - 0.1, xerr=1.96 * raters[f"{col}_se"], fmt="o", ms=5,
                    color="C0", capsize=2, label="random effect (shrunken)")
        for x, style in zip(lines, [":", "--"]):
            ax.axvline(x, color="0.3", ls=style, lw=0.8)
        ax.set_xlabel(label)
        ax.set_title(f"{col.replace('_', ' ')}: sd = {sd[col]:.2f}"
                     + (" (singular)" if sd[col] == 0 else ""), fontsize="medium")
    axes[0].set_yticks(y, [f"{r} ({int(n)})" for r, n in raters["n_judgements"].items()])
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2,
               fontsize="small", frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    return fig


# %%
# Blue: the model's estimates, ±1.96 conditional standard errors. Grey: each
# evaluator alone (the number after the name is their count of decisive
# judgements). The dashed lines mark the typical rater (``h`` and 1), the
# dotted ones no position bias and a rater who answers at random.
caterpillar(tulu_model, tulu_decisive, "Tülu 1: evaluators' effects, 95% conditional intervals")
plt.show()

# %%
# Read the grey points first. Alone, the evaluators' reliabilities scatter
# widely, some below 0, but the evaluators with extreme values are the ones
# with few judgements and wide intervals: the scatter is what sampling noise
# alone would produce, so the reliability component is estimated at 0 and
# every blue point sits at 1. The position biases behave the same way, with
# one evaluator far to the right on their own. The random effect pulls that
# evaluator most of the way back to the pool: with a Gaussian distribution
# of biases whose spread the other evaluators pin down as small, a few
# dozen judgements are not enough to keep an extreme value. The two views
# disagree on purpose: the shrunken one is the better bet for any single
# evaluator, the unpooled one is what a per-rater test (the audit's) uses.
alone = own_fits(tulu_decisive, tulu_model.strengths_["estimate"])
top = alone["position_bias"].idxmax()
first_won = (tulu_decisive["outcome"] == "a").groupby(tulu_decisive["rater"]).agg(["sum", "size"])
print(f"{top}: first-shown answer preferred in {first_won.loc[top, 'sum']} of "
      f"{first_won.loc[top, 'size']} decisive judgements; alone, position bias "
      f"{alone.loc[top, 'position_bias']:.2f} ± {1.96 * alone.loc[top, 'position_bias_se']:.2f}; "
      f"shrunken, {tulu_model.raters_.loc[top, 'position_bias']:.2f} ± "
      f"{1.96 * tulu_model.raters_.loc[top, 'position_bias_se']:.2f}")


# %%
# The table to act on
# -------------------
# One row per evaluator, least reliable first: by the model's reliability,
# then (where the model cannot separate them) by the evaluator's reliability
# alone. ``own bias`` is ``d_r``, the evaluator's position bias beyond the
# pooled ``h``. The verdict comes in two strengths:
#
# * a **flag** when the model's conditional interval excludes the typical
#   value: reliability below 1 (noisy), an interval that reaches 0 (no
#   better than random) or lies below it (reversed scale), or a position
#   bias of the evaluator's own;
# * **watch** when only the evaluator alone shows it. That is a per-rater
#   test at the 5% level with no correction for testing every evaluator on
#   two effects, so some watches are expected by chance; they mark where
#   more judgements would settle the question, not labels to discard.
def rater_table(model, rows):
    r = model.raters_
    alone = own_fits(rows, model.strengths_["estimate"]).reindex(r.index)
    h = model.params_.loc[("order_effect", "order_effect"), "estimate"]
    own = r["position_bias"] - h
    rel_lo = r["reliability"] - 1.96 * r["reliability_se"]
    rel_hi = r["reliability"] + 1.96 * r["reliability_se"]
    alone_biased = (alone["position_bias"] - h).abs() > 1.96 * alone["position_bias_se"]
    alone_noisy = alone["reliability"] + 1.96 * alone["reliability_se"] < 1
    verdict = np.select(
        [rel_hi < 0, rel_lo <= 0, rel_hi < 1, own.abs() > 1.96 * r["position_bias_se"],
         alone_noisy & alone_biased, alone_noisy, alone_biased],
        ["flag: reversed scale?", "flag: no better than random", "flag: noisier than typical",
         "flag: own position bias", "watch: noisy and biased alone", "watch: noisy alone",
         "watch: position bias alone"], default="keep")
    table = pd.DataFrame({
        "judgements": r["n_judgements"].astype(int),
        "agreement": r["agreement"],
        "first shown won": (rows["outcome"] == "a").groupby(rows["rater"]).mean(),
        "own bias": own,
        "bias ±": 1.96 * r["position_bias_se"],
        "reliability": r["reliability"],
        "reliability ±": 1.96 * r["reliability_se"],
        "reliability alone": alone["reliability"],
        "alone ±": 1.96 * alone["reliability_se"],
        "verdict": verdict,
    }, index=r.index)
    return table.sort_values(["reliability", "reliability alone"])


tulu_table = rater_table(tulu_model, tulu_decisive)
tulu_table.round(3)

# %%
# ``agreement`` is the share of an evaluator's judgements that follow the
# consensus order of the two models; ``first shown won`` the share won by
# the answer shown first. The verdict counts, and how many watches chance
# alone would produce if no evaluator differed from the pool:
print(tulu_table["verdict"].value_counts().to_string())
print(f"expected false watches: about {0.05 * 2 * len(tulu_table):.1f}")

# %%
# Conditional standard errors treat the variance components as known. With a
# singular component they are NaN (the model has set that effect to its typical
# value for everyone: there is no per-rater estimate), so a flag can only come
# from a component that is
# estimated above 0; the grey points and the interval of the standard
# deviation say how much could be hiding below that.


# %%
# Does the consensus move?
# ------------------------
# The consensus strengths next to a plain Bradley–Terry fit with a pooled
# order effect on the same decisive judgements:
def consensus(model, rows):
    plain = prefstat.BradleyTerry(order_effect=True).fit(rows)
    both = pd.DataFrame({
        "rater effects": model.params_["estimate"],
        "rater effects se": model.params_["se"],
        "plain": plain.params_["estimate"],
        "plain se": plain.params_["se"],
    })
    both["shift / se"] = (both["rater effects"] - both["plain"]) / both["plain se"]
    return both


tulu_consensus = consensus(tulu_model, tulu_decisive)
tulu_consensus.round(3)

# %%
# With one small variance component and one at 0 the two fits nearly
# coincide. The largest shift of an estimate, in units of its standard
# error:
print(f"{tulu_consensus['shift / se'].abs().max():.2f}")

# %%
# The order effect's standard error grows: with a position bias per
# evaluator, ``h`` is the mean of a distribution of biases, and its precision
# is limited by the number of evaluators, not only by the number of
# judgements.
h_se = tulu_consensus.loc[("order_effect", "order_effect"), ["rater effects se", "plain se"]]
print(f"se of h: {h_se['rater effects se']:.3f} with rater effects, {h_se['plain se']:.3f} plain")

# %%
# PandaLM: three annotators, order fixed
# --------------------------------------
# PandaLM's test set has the same three annotators label each of 999 answer
# pairs (0 a tie, 1 the first response better, 2 the second), so each
# annotator judged nearly a thousand pairs. The same choice about ties:
# dropped, in plain view.
panda = fetch_pandalm()
models = panda["cmp_key"].str.split("_", n=1, expand=True)
pandalm = from_multi_annotator(
    panda.assign(model_1=models[0], model_2=models[1]),
    ["annotator1", "annotator2", "annotator3"], {0: "tie", 1: "a", 2: "b"},
    item_a="model_1", item_b="model_2")
pandalm_decisive = pandalm[pandalm["outcome"] != "tie"]
print(f"{len(pandalm)} judgements, {int((pandalm['outcome'] == 'tie').sum())} ties dropped, "
      f"{len(pandalm_decisive)} decisive, by {pandalm_decisive['rater'].nunique()} annotators")

# %%
# Unlike Tülu, the order is not randomised: ``response1`` always belongs to
# the model whose name sorts first (reading ``response1`` as the one shown
# first, as the file's layout suggests). Every pair appears in one order only:
pd.crosstab(pandalm_decisive["item_a"], pandalm_decisive["item_b"])

# %%
# The order effect is then estimable only through the Bradley–Terry form
# itself, not from a design that swaps positions: with every pair in one
# fixed order, a first-position advantage shows up only as a failure of the
# strengths to add up around triples of models, which is also what an
# intransitive preference would look like. Expect a position bias with a
# wide interval, and strengths whose standard errors grow because they
# share information with it.
pandalm_model = prefstat.RaterBradleyTerry(position_bias=True, reliability=True).fit(
    pandalm_decisive)
pandalm_model.variance_components_.round(3)

# %%
for component, row in pandalm_model.variance_components_.iterrows():
    state = "singular: no detectable variation" if row["singular"] else "estimated"
    print(f"{component}: sd = {row['sd']:.3f}, 95% interval [{row['ci_lower']:.3f}, "
          f"{row['ci_upper']:.3f}] ({state})")
h_row = pandalm_model.params_.loc[("order_effect", "order_effect")]
print(f"pooled order effect h = {h_row['estimate']:.3f} (se {h_row['se']:.3f})")

# %%
# A standard deviation estimated from three raters carries little
# information about the population of annotators, but each of these three
# judged nearly a thousand pairs, so their own effects are measured
# precisely; the caterpillar plot shows how alike they are.
caterpillar(pandalm_model, pandalm_decisive, "PandaLM: annotators' effects")
plt.show()

# %%
pandalm_table = rater_table(pandalm_model, pandalm_decisive)
pandalm_table.round(3)

# %%
pandalm_consensus = consensus(pandalm_model, pandalm_decisive)
pandalm_consensus.round(3)

# %%
# With every component at 0 the rater-effects fit *is* the plain one. What
# does cost precision here is the fixed order: the strengths' standard errors
# with the order effect, and without it (which assumes no position bias at
# all):
no_order = prefstat.BradleyTerry(order_effect=False).fit(pandalm_decisive)
pd.DataFrame({"se with h": pandalm_model.strengths_["se"],
              "se without h": no_order.strengths_["se"]}).round(3)

# %%
# A caution that applies to both fits: the three annotators judged the
# *same* 999 pairs, and many Tülu prompts were judged by several evaluators.
# The model treats judgements as independent given the rater effects, so
# the standard errors of the strengths ignore the shared prompt. The plain
# model's cluster bootstrap (:doc:`/user_guide/leaderboards`) resamples
# whole prompts and shows how much wider they should be.

# %%
# Taste
# -----
# ``taste=True`` adds an effect ``u_ri`` for every item a rater judged: the
# rater liking a model more, or less, than the consensus. Each rater's block
# of effects then has size 2 + the number of items they judged, which is
# small here, so the fit is quick on both tables:
for name, rows in [("Tülu", tulu_decisive), ("PandaLM", pandalm_decisive)]:
    with_taste = prefstat.RaterBradleyTerry(position_bias=True, reliability=True,
                                            taste=True).fit(rows)
    row = with_taste.variance_components_.loc["taste"]
    print(f"{name}: block size {2 + int(with_taste.raters_['n_items'].max())}, taste sd = "
          f"{row['sd']:.3f}, 95% interval [{row['ci_lower']:.3f}, {row['ci_upper']:.3f}]"
          + (" (singular)" if row["singular"] else ""))

# %%
# What to act on
# --------------
# The consensus strengths with and without rater effects, with 95% Wald
# intervals, for both tables. Where the variance components are small or 0,
# the rater-effects fit reproduces the plain one, and the leaderboard can be
# read from either; where a component is large, the rater-effects intervals
# are the honest ones. Neither table gives a reason to drop an evaluator:
# no model flag fires, and the evaluators marked *watch* on Tülu (the one
# with the extreme raw position bias, the one whose few judgements mostly
# go against the consensus) are where a few dozen more judgements would
# settle whether the effect is theirs or chance. PandaLM's next step is a
# design step, not a rater step: swapping the order of the two responses
# for half the pairs would measure position bias directly.
for name, table in [("Tülu", tulu_table), ("PandaLM", pandalm_table)]:
    verdicts = table["verdict"]
    print(f"{name}: {int(verdicts.str.startswith('flag').sum())} flagged, "
          f"{int(verdicts.str.startswith('watch').sum())} to watch "
          f"({', '.join(table.index[verdicts.str.startswith('watch')]) or 'none'}), "
          f"{int((verdicts == 'keep').sum())} kept")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for ax, (name, table) in zip(axes, [("Tülu 1", tulu_consensus),
                                    ("PandaLM", pandalm_consensus)]):
    items = table.loc["item"].sort_values("plain")
    rows = np.arange(len(items))
    for offset, col, label, colour in [(-0.12, "plain", "plain Bradley–Terry", "C1"),
                                       (0.12, "rater effects", "with rater effects", "C0")]:
        ax.errorbar(items[col], rows + offset, xerr=1.96 * items[f"{col} se"], fmt="o", ms=4,
                    capsize=3, color=colour, label=label)
    ax.set_yticks(rows, items.index)
    ax.set_xlabel("consensus log-strength (sum zero)")
    ax.set_title(name)
axes[0].legend(loc="lower right", fontsize="x-small")
fig.tight_layout()
plt.show()
