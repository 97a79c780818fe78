"""
A linear reward model on HH-RLHF: how much does the text predict the preference?
================================================================================

A reward model scores a response; a preference between two responses is then
a Bradley–Terry comparison of their scores. With item features, prefstat fits
the simplest honest reward model: the strength of a response is ``x · beta``,
a linear function of features computed from its text, fitted by maximum
likelihood with standard errors, and it scores responses it has never seen.

We use Anthropic's HH-RLHF harmlessness test pairs (2,312 dialogues, a
``chosen`` and a ``rejected`` continuation each) and compare three feature
sets on held-out pairs: the length of the answer alone, TF-IDF + SVD text
features, and (where sentence-transformers is installed) MiniLM sentence
embeddings. The question is what each buys in held-out accuracy, with an
interval around it.
"""

# %%
# The pairs
# ---------
# :func:`prefstat.convert.from_rlhf` makes the canonical table: ``item_a`` is
# the chosen dialogue, ``item_b`` the rejected one, the outcome is always
# ``"a"``. The two dialogues of a pair share their beginning and differ in
# the last assistant turn, so the features are computed from that turn.
import importlib.util

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

import prefstat
from prefstat.convert import from_rlhf
from prefstat.datasets import fetch_hh_rlhf
from prefstat.evaluation import evaluate
from prefstat.features import FunctionFeatures, SklearnFeatures, Standardize, TextStats

pairs = from_rlhf(fetch_hh_rlhf(), prompt=None)


def last_turn(dialogue: str) -> str:
    """The final assistant turn of a dialogue."""
    return dialogue.rsplit("\n\nAssistant:", 1)[-1].strip()


print(last_turn(pairs["item_a"].iloc[0])[:300])

# %%
# Hold out 30% of the pairs. Every response occurs in one pair only, so the
# held-out responses are new to the model: it scores them from their
# features alone.
rng = np.random.default_rng(0)
held_out = rng.random(len(pairs)) < 0.3
train, test = pairs[~held_out], pairs[held_out]
len(train), len(test)

# %%
# Length only
# -----------
# One feature: the log of the number of words of the answer, standardised.
# Its coefficient says how the odds of being preferred change per standard
# deviation of log length.
words = FunctionFeatures(
    lambda texts: TextStats(["words"], log=True).transform([last_turn(t) for t in texts]),
    names=["log_words"],
)
length_model = prefstat.BradleyTerry().fit(train, item_features=Standardize(words))
length_model.params_

# %%
# In this harmlessness set, *shorter* answers win: many preferred answers
# are brief refusals. The length model gets this much right on the held-out
# pairs (Wilson 95% interval):
length_eval = evaluate(length_model, test)
length_eval

# %%
# TF-IDF + SVD
# ------------
# Any scikit-learn transformer is a feature source: here TF-IDF of the final
# turn, reduced to 64 dimensions by a truncated SVD (fitted on the training
# responses only). The ridge penalty on ``beta`` is chosen by 5-fold
# cross-validation of the held-out log-likelihood.
tfidf = make_pipeline(
    TfidfVectorizer(preprocessor=lambda t: last_turn(t).lower(), min_df=2, sublinear_tf=True),
    TruncatedSVD(64, random_state=0),
)
PENALTIES = [0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0]
text_model = prefstat.BradleyTerry(penalty="cv", cv_penalties=PENALTIES, random_state=0)
text_model.fit(train, item_features=SklearnFeatures(tfidf))
text_model.cv_results_[["penalty", "mean_loglik", "se"]]

# %%
text_eval = evaluate(text_model, test)
text_eval

# %%
# The fitted model scores any new answer: its reward and a standard error
# (of ``x · beta``).
text_model.predict_reward([
    "\n\nAssistant: I'm sorry, I can't help with that.",
    "\n\nAssistant: Sure! Here is how you do it, step by step.",
])

# %%
# Sentence embeddings (optional)
# ------------------------------
# With the ``embed`` extra (``pip install "prefstat[embed]"``) the features
# can be MiniLM sentence embeddings (384 dimensions). Embedding all 4,624
# answers takes minutes on a CPU, so this section, run only where
# sentence-transformers is installed, uses a random subsample of 400
# training and 200 held-out pairs, and refits the TF-IDF model on the same
# subsample for a like-for-like comparison.
rows = [("length only", len(train), length_eval), ("TF-IDF + SVD", len(train), text_eval)]
if importlib.util.find_spec("sentence_transformers") is not None:
    from prefstat.features import SentenceEmbedding

    embed = SentenceEmbedding()
    minilm = FunctionFeatures(lambda texts: embed.transform([last_turn(t) for t in texts]))
    small_train = train.sample(400, random_state=1)
    small_test = test.sample(200, random_state=1)
    for name, source in [("TF-IDF + SVD", SklearnFeatures(tfidf)), ("MiniLM", minilm)]:
        small = prefstat.BradleyTerry(penalty="cv", cv_penalties=PENALTIES, random_state=0)
        small.fit(small_train, item_features=source)
        rows.append((f"{name} (subsample)", len(small_train), evaluate(small, small_test)))

# %%
# What each feature set buys
# --------------------------
# Held-out accuracy with 95% intervals. Chance is 50%.
table = pd.DataFrame(
    [{"features": name, "training pairs": n, "held-out pairs": e.n_decisive,
      "accuracy": e.accuracy, "ci_lower": e.accuracy_ci[0], "ci_upper": e.accuracy_ci[1],
      "log_loss": e.log_loss} for name, n, e in rows]
).set_index("features")
table.round(3)

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
y = np.arange(len(table))
left.errorbar(table["accuracy"], y,
              xerr=[table["accuracy"] - table["ci_lower"], table["ci_upper"] - table["accuracy"]],
              fmt="o", color="C0", capsize=3)
left.axvline(0.5, color="grey", lw=1, ls="--")
left.set_yticks(y, table.index)
left.invert_yaxis()
left.set_xlabel("held-out accuracy (95% interval)")
calibration = text_eval.calibration
right.plot([0.5, 1], [0.5, 1], color="grey", lw=1, ls="--")
right.errorbar(calibration["mean_predicted"], calibration["observed"],
               yerr=[calibration["observed"] - calibration["ci_lower"],
                     calibration["ci_upper"] - calibration["observed"]],
               fmt="o-", color="C1", capsize=3)
right.set_xlabel("predicted probability of the favoured answer")
right.set_ylabel("observed share it won")
right.set_title("TF-IDF + SVD calibration", fontsize=10)
fig.tight_layout()

# %%
# Reading the result: the TF-IDF features beat length alone by a few points
# (about 60% against 55% here), and the intervals, about ±3.5 points with
# 700 held-out pairs, overlap: the gain is real but not large. On a 400-pair
# subsample, 384 embedding dimensions are more than the ridge-penalised
# model can pin down, so MiniLM does not beat TF-IDF there; it needs more
# pairs. A linear reward on these features is far from the reward models
# trained on this data, but it is a baseline with honest uncertainty, and
# its coefficients can be inspected and tested like any regression's.
