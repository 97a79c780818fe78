"""Item features for structured preference models ("reward models").

A model fitted with ``item_features=`` gives each item with features the
strength ``x_i · beta`` (a linear reward on the features) instead of a free
parameter; see :meth:`prefstat.BradleyTerry.fit`. The features come from a
*feature source*, any object with ``fit(items)`` (returning itself) and
``transform(items)`` (a 2-D array, one row per item):

* a table indexed by item label (:class:`Lookup`; a DataFrame is wrapped
  automatically), whose rows of missing values mark items without features;
* any callable of a list of items (:class:`FunctionFeatures`);
* any scikit-learn transformer or pipeline, e.g. TF-IDF followed by
  ``TruncatedSVD`` on texts (:class:`SklearnFeatures`);
* text statistics for style control: length, markdown headers, list items,
  bold spans, code blocks (:class:`TextStats`);
* sentence-transformers embeddings, an optional extra
  (:class:`SentenceEmbedding`, ``pip install "prefstat[embed]"``);

and wrappers that combine or reshape them: :class:`Stack` (side by side),
:class:`Standardize`, :class:`PCA` (with whitening), :class:`Cached`
(computed once per distinct text, keyed by its hash). :func:`item_difference`
builds contest-by-item interaction columns.
"""

from __future__ import annotations

from ._base import (
    FeatureSource,
    FunctionFeatures,
    Lookup,
    SklearnFeatures,
    Stack,
    as_feature_source,
    item_difference,
)
from ._embed import Cached, SentenceEmbedding
from ._text import TextStats
from ._transforms import PCA, Standardize

__all__ = [
    "PCA",
    "Cached",
    "FeatureSource",
    "FunctionFeatures",
    "Lookup",
    "SentenceEmbedding",
    "SklearnFeatures",
    "Stack",
    "Standardize",
    "TextStats",
    "as_feature_source",
    "item_difference",
]
