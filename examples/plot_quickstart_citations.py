"""
Quick start: which statistics journal is cited most?
====================================================

Stigler (1994) counted how often four statistics journals cited one another.
Read each citation as a paired comparison won by the journal that is cited,
and the Bradley–Terry model turns the counts into one "export" score per
journal, with a standard error for each. This is the example with which
Agresti (2002) introduces the model and the first one in the vignette of R's
BradleyTerry2, so the numbers below can be checked against R.
"""

# %%
# The table
# ---------
# :func:`prefstat.datasets.load_citations` returns the published counts,
# bundled with prefstat. In the square form, cell (i, j) is the number of
# times journal i (row) was cited by journal j (column); self-citations are
# not comparisons and are set to 0.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import prefstat
from prefstat.datasets import load_citations

load_citations("matrix")

# %%
# Models read the canonical comparison table: one row per pair and outcome,
# with the number of citations in ``weight``. Outcome ``"a"`` means
# ``item_a`` was cited by ``item_b``.
citations = load_citations()
citations

# %%
# Fit the Bradley–Terry model
# ---------------------------
# ``reference="Biometrika"`` fixes Biometrika's log-strength at 0, as
# BradleyTerry2's ``BTm`` does by default (its first factor level), so every
# other estimate is a log odds ratio against Biometrika.
model = prefstat.BradleyTerry(reference="Biometrika").fit(citations, weight="weight")
model.summary()

# %%
# The same numbers as R
# ---------------------
# R's BradleyTerry2 (version 1.1.2, R 4.2.2), fitted with
# ``BTm(cbind(win1, win2), journal1, journal2, ~journal, id = "journal",
# data = citations.sf)`` as in its vignette, reports these log-strengths and
# standard errors (the ``citations_bt_ml`` entry of the project's reference
# fits):
#
# ============  ==================  ==================
# journal       estimate            standard error
# ============  ==================  ==================
# Biometrika    0 (reference)       0 (reference)
# Comm Statist  −2.94907249684391   0.102545335369857
# JASA          −0.479569769751992  0.0605887292396263
# JRSS-B        0.268954055819472   0.0708299651057058
# ============  ==================  ==================
#
# with residual deviance 4.29338396988906 on 3 degrees of freedom and a
# log-likelihood kernel of −1622.8898088276. prefstat's fit agrees to about
# ten decimal places:
r_estimates = pd.DataFrame(
    {"estimate": [0.0, -2.94907249684391, -0.479569769751992, 0.268954055819472],
     "se": [0.0, 0.102545335369857, 0.0605887292396263, 0.0708299651057058]},
    index=pd.Index(["Biometrika", "Comm Statist", "JASA", "JRSS-B"], name="item"),
)
comparison = model.strengths_[["estimate", "se"]].join(r_estimates.add_suffix("_R"))
comparison["largest difference"] = np.maximum(
    (comparison["estimate"] - comparison["estimate_R"]).abs(),
    (comparison["se"] - comparison["se_R"]).abs(),
)
comparison

# %%
print(f"deviance {model.deviance_:.10f} (R: 4.2933839699), "
      f"log-likelihood {model.loglik_:.8f} (R: -1622.8898088)")

# %%
# What the strengths mean
# -----------------------
# A difference of log-strengths is a log odds. For a citation exchanged
# between JRSS-B and Communications in Statistics, the model gives the
# probability that JRSS-B is the one cited:
model.predict_proba("JRSS-B", "Comm Statist").round(3)

# %%
# The deviance of 4.29 on 3 degrees of freedom says that one score per journal
# describes all six pairs well. The picture to keep: each journal's
# log-strength with its 95% interval, against Biometrika.
table = model.strengths_.sort_values("estimate")
fig, ax = plt.subplots(figsize=(6, 2.8))
ax.errorbar(table["estimate"], np.arange(len(table)),
            xerr=[table["estimate"] - table["ci_lower"], table["ci_upper"] - table["estimate"]],
            fmt="o", color="C0", capsize=3)
ax.axvline(0, color="grey", lw=0.8, ls="--")
ax.set_yticks(np.arange(len(table)), table.index)
ax.set_xlabel("log-strength against Biometrika (95% Wald interval)")
ax.set_title("Citation 'export' strength of four statistics journals")
fig.tight_layout()

# %%
# JRSS-B is cited more than Biometrika, relative to how often it cites back,
# and Communications in Statistics far less than any other journal. The
# intervals do not overlap, so the order is clear on these data.
#
# Next: :doc:`/user_guide/bradley_terry` explains ties, order effects and
# identification, and :ref:`sphx_glr_auto_examples_plot_arena_leaderboard.py`
# applies the same model to battles between language models.
