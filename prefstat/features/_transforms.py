"""Standardisation, PCA and whitening of another source's features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import InvalidParameterError, NonFiniteFeaturesError
from ._base import _Source, as_feature_source, feature_names, transform_checked

__all__ = ["PCA", "Standardize"]


class _Wrapped(_Source):
    """A transformation fitted on the rows of another source (complete rows only)."""

    def __init__(self, source: Any) -> None:
        self.source = as_feature_source(source)
        self.missing_allowed = getattr(self.source, "missing_allowed", False)

    def _fit_rows(self, items: Sequence[Any]) -> np.ndarray:
        self.source.fit(items)
        rows = transform_checked(self.source, list(items))
        self.names_in_ = feature_names(self.source, rows.shape[1])
        complete = rows[~np.isnan(rows).any(axis=1)]
        if complete.shape[0] < 2:
            raise NonFiniteFeaturesError(
                f"{type(self).__name__} needs at least two items with complete features; "
                f"got {complete.shape[0]}."
            )
        return complete


class Standardize(_Wrapped):
    """Centre and scale another source's columns (mean 0, standard deviation 1).

    Fitted on the training items; a column with no spread is centred only.
    Coefficients are then per standard deviation of each feature.

    Parameters
    ----------
    source : feature source
        Anything :func:`~prefstat.features.as_feature_source` accepts.

    Examples
    --------
    >>> from prefstat.features import Standardize, TextStats
    >>> z = Standardize(TextStats(["chars"])).fit(["a", "abc"])
    >>> z.transform(["a", "abc", "ab"]).ravel().tolist()
    [-0.7071067811865475, 0.7071067811865475, 0.0]
    """

    def __repr__(self) -> str:
        return f"Standardize({self.source!r})"

    def fit(self, items: Sequence[Any]) -> Standardize:
        """Fit the source, then the columns' means and standard deviations.

        Parameters
        ----------
        items : sequence
            The training items.

        Returns
        -------
        self
        """
        rows = self._fit_rows(items)
        self.mean_ = rows.mean(axis=0)
        scale = rows.std(axis=0, ddof=1)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def feature_names(self) -> list[str]:
        """The source's column names."""
        return self.names_in_

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """Standardised features.

        Parameters
        ----------
        items : sequence
            The items.

        Returns
        -------
        numpy.ndarray
        """
        return (transform_checked(self.source, list(items), self.mean_.size)
                - self.mean_) / self.scale_


class PCA(_Wrapped):
    """Principal components (optionally whitened) of another source's features.

    Parameters
    ----------
    source : feature source
        Anything :func:`~prefstat.features.as_feature_source` accepts.
    n_components : int, optional
        Components kept (all by default, up to the rank).
    whiten : bool, default False
        Scale every component to unit variance on the training items, so
        that a ridge penalty treats all directions alike.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from prefstat.features import PCA
    >>> table = pd.DataFrame({"u": [0.0, 1.0, 2.0, 3.0], "v": [0.0, 2.0, 4.0, 6.1]},
    ...                      index=list("abcd"))
    >>> pcs = PCA(table, n_components=1, whiten=True).fit(list("abcd"))
    >>> round(float(pcs.transform(list("abcd")).std(ddof=1)), 6)
    1.0
    """

    def __init__(self, source: Any, n_components: int | None = None, whiten: bool = False
                 ) -> None:
        super().__init__(source)
        if n_components is not None and int(n_components) < 1:
            raise InvalidParameterError(f"n_components must be >= 1, got {n_components!r}.")
        self.n_components = n_components
        self.whiten = whiten

    def __repr__(self) -> str:
        return f"PCA({self.source!r}, n_components={self.n_components}, whiten={self.whiten})"

    def fit(self, items: Sequence[Any]) -> PCA:
        """Fit the source, then the principal axes of its rows.

        Parameters
        ----------
        items : sequence
            The training items.

        Returns
        -------
        self
        """
        rows = self._fit_rows(items)
        self.mean_ = rows.mean(axis=0)
        _, sing, vt = np.linalg.svd(rows - self.mean_, full_matrices=False)
        rank = int((sing > sing[0] * 1e-12).sum()) if sing.size else 0
        k = rank if self.n_components is None else min(int(self.n_components), rank)
        self.components_ = vt[:k]
        sd = sing[:k] / np.sqrt(rows.shape[0] - 1)
        self.scale_ = sd if self.whiten else np.ones(k)
        self.explained_variance_ = sd**2
        return self

    def feature_names(self) -> list[str]:
        """``pc1, pc2, ...``."""
        return [f"pc{k + 1}" for k in range(self.components_.shape[0])]

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """Component scores (whitened if asked).

        Parameters
        ----------
        items : sequence
            The items.

        Returns
        -------
        numpy.ndarray
        """
        rows = transform_checked(self.source, list(items), self.mean_.size)
        return (rows - self.mean_) @ self.components_.T / self.scale_
