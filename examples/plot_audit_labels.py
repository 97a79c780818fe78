"""
Auditing human preference labels before training on them
=========================================================

Tülu 1's human evaluation (Wang et al., 2023) asked 16 evaluators to compare
the answers of two language models to the same prompt on a 5-point scale,
from "A is better" to "B is better". Tables like it train reward models and
rank models on leaderboards, so before using one it is worth reading it:
which models does it really separate, does one score per model describe the
preferences, and which evaluators or labels should not be trusted?
:func:`prefstat.audit` answers these in one call. At the end, a second table,
PandaLM's test set with three annotators per pair, shows what the audit says
about agreement.
"""

# %%
# The labels
# ----------
# :func:`prefstat.datasets.fetch_tulu_human_eval` reads the table from the data
# home. Each row is one evaluator's judgement of two answers to one prompt
# (``instance_id``), shown in random order.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import prefstat
from prefstat.convert import from_graded, from_multi_annotator
from prefstat.datasets import fetch_pandalm, fetch_tulu_human_eval
from prefstat.plotting import plot_raters

raw = fetch_tulu_human_eval()
raw[["instance_id", "model_a", "model_b", "preference", "evaluator"]].head()

# %%
# The 5-point scale becomes a graded outcome: an ordered categorical whose
# levels run from the strongest preference for the first answer to the
# strongest for the second. The prompt and both answers stay in the table.
LEVELS = ["a-is-better", "a-is-slightly-better", "tie", "b-is-slightly-better", "b-is-better"]
labels = from_graded(raw, "preference", LEVELS, item_a="model_a", item_b="model_b",
                     rater="evaluator")

# %%
# One call
# --------
# ``unit="instance_id"`` says what was judged: agreement compares the
# judgements of one prompt, and the bootstrap behind the rank intervals
# resamples whole prompts. The default 200 replicates keep the audit to
# seconds.
report = prefstat.audit(labels, rater="rater", unit="instance_id", random_state=0)
report.summary()

# %%
# What the data can and cannot support, in plain sentences:
for sentence in report.sentences:
    print("-", sentence)

# %%
# The leaderboard
# ---------------
# Bradley–Terry log-strengths with Davidson's tie model (a third of the
# judgements are ties) and an advantage for the answer shown first. ChatGPT
# and Tülu 65B each hold a rank of their own; the two weaker models share
# ranks 3–4: their rank intervals overlap.
report.leaderboard[["rank", "estimate", "ci_lower", "ci_upper", "rank_lower",
                    "rank_upper", "comparisons"]].round(3)

# %%
# Every model was compared with Tülu 65B only, so the comparison graph is a
# star: no three models were all compared with one another, and the data
# cannot show an intransitive cycle, however the models relate. The
# transitivity section says so:
report.sections["transitivity"].sentences

# %%
# Raters and suspect labels
# -------------------------
# The rater table, flagged raters first. Evaluator ``tu`` chose the answer
# shown first in 23 of 27 decisive judgements, beyond chance after Holm's
# adjustment over the 16 evaluators.
report.sections["agreement"].tables["Raters"].head(6).round(3)

# %%
# The suspect rows are labels that look random given the consensus of the
# prompt's other judgements and their rater's reliability. The most suspect
# are ``tu``'s first-shown choices against the consensus:
suspects = report.sections["suspects"].tables["Suspect rows (most suspect first)"]
suspects.head(5).round(3)

# %%
# Most suspects are ties called where the other evaluators of the prompt saw a
# clear winner. Ties carry no preference, so they never reach a reward model's
# training pairs; the decisive suspects do, unless left out.
suspects["outcome"].value_counts()

# %%
# The whole report is one HTML page, with its figures embedded, that opens
# offline:
page = Path(tempfile.mkdtemp()) / "tulu_audit.html"
report.to_html(page)
print(f"{page.stat().st_size / 1e3:.0f} kB")

# %%
# Cleaned pairs for a reward model
# --------------------------------
# :meth:`~prefstat.AuditReport.export_rlhf` writes the decisive judgements back
# as ``prompt, chosen, rejected`` texts, leaving out every flagged rater's rows
# and every suspect label (ties carry no preference and are left out too).
pairs = report.export_rlhf(prompt="prompt", text_a="completion_a", text_b="completion_b")
print(f"{len(pairs)} of {int((labels['outcome'] != 'tie').sum())} decisive judgements kept")
pairs.head(3).map(lambda text: text[:60])

# %%
# Three annotators per pair: PandaLM
# ----------------------------------
# PandaLM's test set has the same three annotators label each of 999 answer
# pairs (0 a tie, 1 the first response better, 2 the second). The audit
# measures their agreement, unit by unit: all three agree on 879 pairs.
panda = fetch_pandalm()
models = panda["cmp_key"].str.split("_", n=1, expand=True)
panda_labels = from_multi_annotator(
    panda.assign(model_1=models[0], model_2=models[1]),
    ["annotator1", "annotator2", "annotator3"], {0: "tie", 1: "a", 2: "b"},
    item_a="model_1", item_b="model_2")
panda_report = prefstat.audit(panda_labels, rater="rater", unit="unit", random_state=0)
panda_report.agreement.statistics.loc[
    ["percent_agreement", "percent_agreement_no_ties", "unanimous", "krippendorff_alpha"],
    ["estimate", "ci_lower", "ci_upper"]].round(3)

# %%
# No annotator is flagged, and the accuracy ceiling says how well any model of
# these labels can agree with a held-out one:
panda_report.agreement.accuracy_ceiling[["estimate", "ci_lower", "ci_upper"]].round(3)

# %%
# The flags
# ---------
# Everything the Tülu audit flagged, in one table, most severe first (the
# suspect labels are one row each; ``rows`` points back to the table).
report.flags[["kind", "severity", "subject", "evidence"]].head(8)

# %%
# The rater map puts each evaluator's share of first-shown wins against the
# reliability the mixture model estimates; ``tu`` stands out to the right.
fig, ax = plt.subplots(figsize=(7, 4.5))
plot_raters(report.agreement, ax=ax)
plt.show()
