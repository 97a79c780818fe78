"""The feature-source protocol and the sources that need no optional dependency.

A feature source turns items (labels, texts) into a 2-D array of numbers:
``fit(items)`` learns whatever it needs from the training items and returns
itself; ``transform(items)`` returns one row per item. Models call nothing
else, so any object with those two methods works (scikit-learn transformers
included); :func:`as_feature_source` wraps tables, callables and such objects
into this small protocol.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..exceptions import (
    DataValidationError,
    FeatureDimensionError,
    FeatureMismatchError,
    InvalidParameterError,
    MissingFeaturesError,
    NonFiniteFeaturesError,
    format_examples,
)

__all__ = [
    "FeatureSource",
    "FunctionFeatures",
    "Lookup",
    "SklearnFeatures",
    "Stack",
    "as_feature_source",
    "item_difference",
]


@runtime_checkable
class FeatureSource(Protocol):
    """What a model needs from a feature source: ``fit`` and ``transform``.

    ``fit(items)`` returns the source itself; ``transform(items)`` returns a
    2-D array with one row per item. Sources may also tell the names of their
    columns (``feature_names()``) and whether a row of missing values means
    "no features for this item" (``missing_allowed``, true for tables).
    """

    def fit(self, items: Sequence[Any]) -> Any:
        """Learn from the training items; return the source."""

    def transform(self, items: Sequence[Any]) -> Any:
        """One row of features per item."""


class _Source:
    """Base of prefstat's feature sources (names, fit_transform, repr)."""

    #: Whether a row with missing values means the item has no features.
    missing_allowed = False

    def fit(self, items: Sequence[Any]) -> _Source:
        """Learn from the training items (nothing to learn by default).

        Parameters
        ----------
        items : sequence
            The training items.

        Returns
        -------
        self
        """
        return self

    def transform(self, items: Sequence[Any]) -> np.ndarray:  # pragma: no cover - abstract
        """One row of features per item."""
        raise NotImplementedError

    def fit_transform(self, items: Sequence[Any]) -> np.ndarray:
        """``fit(items)`` then ``transform(items)``.

        Parameters
        ----------
        items : sequence
            The items.

        Returns
        -------
        numpy.ndarray
            One row per item.
        """
        return self.fit(items).transform(items)

    def feature_names(self) -> list[str] | None:
        """Column names, when the source knows them (``None`` otherwise)."""
        return None


class Lookup(_Source):
    """Features looked up in a table indexed by item label.

    Parameters
    ----------
    table : pandas.DataFrame or numpy.ndarray
        One row per item, numeric columns. A DataFrame is indexed by item
        label; an array needs the labels as ``items``.
    items : sequence, optional
        Row labels of an array ``table``.

    Notes
    -----
    A row with a missing value means "no features for this item": a model
    then gives the item a free strength of its own (BradleyTerry2's
    convention for players with missing predictors). An item absent from the
    table is an error, not a missing row.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.features import Lookup
    >>> table = pd.DataFrame({"size": [1.0, 2.0]}, index=["x", "y"])
    >>> Lookup(table).fit(["x", "y"]).transform(["y", "x"])
    array([[2.],
           [1.]])
    """

    missing_allowed = True

    def __init__(self, table: pd.DataFrame | np.ndarray, items: Sequence[Any] | None = None
                 ) -> None:
        if isinstance(table, pd.Series):
            table = table.to_frame()
        if not isinstance(table, pd.DataFrame):
            values = np.asarray(table)
            if values.ndim != 2 or items is None:
                raise DataValidationError(
                    "Lookup expects a DataFrame indexed by item label, or a 2-D array with "
                    f"its row labels as items=; got {type(table).__name__} of shape "
                    f"{getattr(values, 'shape', '?')} and items={'given' if items else None}."
                )
            table = pd.DataFrame(values, index=pd.Index(list(items)),
                                 columns=[f"x{k}" for k in range(values.shape[1])])
        bad = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])
               or pd.api.types.is_bool_dtype(table[c])]
        if bad:
            raise DataValidationError(
                f"feature table columns must be numeric; {format_examples(bad)} are not "
                f"(dtypes {format_examples([str(table[c].dtype) for c in bad])}). Encode "
                "categories explicitly, e.g. pandas.get_dummies(table, drop_first=True, "
                "dtype=float), and booleans with .astype(float)."
            )
        if table.index.has_duplicates:
            raise FeatureMismatchError(
                "the feature table lists item(s) more than once: "
                f"{format_examples(table.index[table.index.duplicated()].unique())}. "
                "Give each item one row."
            )
        self.table = table

    def __repr__(self) -> str:
        return f"Lookup({self.table.shape[0]} items x {self.table.shape[1]} features)"

    def feature_names(self) -> list[str]:
        """The table's column names."""
        return [str(c) for c in self.table.columns]

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """Rows of the table for ``items`` (in that order).

        Parameters
        ----------
        items : sequence
            Item labels, each in the table's index.

        Returns
        -------
        numpy.ndarray
            ``(len(items), n_features)`` floats; NaN where the table has none.

        Raises
        ------
        FeatureMismatchError
            None of several items is in the table, or the labels differ from
            the table's index only in type (the string "1" against the number 1).
        MissingFeaturesError
            Some items are not in the table.
        """
        labels = pd.Index(list(items))
        codes = self.table.index.get_indexer(labels)
        missing = codes < 0
        if missing.any():
            unknown = pd.unique(np.asarray(labels[missing], dtype=object))
            as_text = pd.Index(self.table.index.astype(str))
            hint = ""
            if as_text.get_indexer(labels[missing].astype(str)).min() >= 0:
                hint = (" The labels match as text: the table's index and the items have "
                        "different types (convert one, e.g. table.index.astype(str)).")
            if missing.all() and (hint or len(unknown) > 1):
                raise FeatureMismatchError(
                    "none of the items is in the feature table: items such as "
                    f"{format_examples(unknown, 3)}, table index such as "
                    f"{format_examples(self.table.index, 3)}." + hint
                )
            raise MissingFeaturesError(
                f"{len(unknown)} item(s) have no row in the feature table: "
                f"{format_examples(unknown)}. Add their rows (a row of NaN gives an item a "
                "free strength of its own), or drop their comparisons."
            )
        return self.table.to_numpy(dtype=np.float64, na_value=np.nan)[codes]


class FunctionFeatures(_Source):
    """Features computed by any function of a list of items.

    Parameters
    ----------
    func : callable
        ``func(list_of_items)`` returns an array-like of shape
        ``(len(items), n_features)``.
    names : sequence of str, optional
        Column names.

    Examples
    --------
    >>> from prefstat.features import FunctionFeatures
    >>> lengths = FunctionFeatures(lambda texts: [[len(t)] for t in texts], names=["chars"])
    >>> lengths.fit_transform(["ab", "abcd"]).ravel().tolist()
    [2.0, 4.0]
    """

    def __init__(self, func: Callable[[list[Any]], Any], names: Sequence[str] | None = None
                 ) -> None:
        self.func = func
        self.names = None if names is None else [str(n) for n in names]

    def __repr__(self) -> str:
        return f"FunctionFeatures({getattr(self.func, '__name__', type(self.func).__name__)})"

    def feature_names(self) -> list[str] | None:
        """The names given, if any."""
        return self.names

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """``func(list(items))`` as a float array.

        Parameters
        ----------
        items : sequence
            The items.

        Returns
        -------
        numpy.ndarray
        """
        return _as_matrix(self.func(list(items)), "the feature function")


class SklearnFeatures(_Source):
    """Any scikit-learn-style transformer (``fit`` / ``transform`` on a list of items).

    A copy of the estimator is fitted, so the object passed in is left as it
    was. Sparse output (e.g. ``TfidfVectorizer``) is made dense.

    Parameters
    ----------
    estimator : object
        With ``fit(X)`` and ``transform(X)``, ``X`` a list of items; e.g. a
        ``make_pipeline(TfidfVectorizer(), TruncatedSVD(32))``.
    prefix : str, default "x"
        Column names are ``prefix0, prefix1, ...`` unless the estimator gives
        ``get_feature_names_out()``.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from prefstat.features import SklearnFeatures
    >>> source = SklearnFeatures(CountVectorizer()).fit(["a cat", "a dog"])
    >>> source.feature_names(), source.transform(["dog dog"]).tolist()
    (['cat', 'dog'], [[0.0, 2.0]])
    """

    def __init__(self, estimator: Any, prefix: str = "x") -> None:
        if not (hasattr(estimator, "fit") and hasattr(estimator, "transform")):
            raise InvalidParameterError(
                f"SklearnFeatures needs an object with fit() and transform(); got "
                f"{type(estimator).__name__}."
            )
        self.estimator = estimator
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"SklearnFeatures({type(self.estimator).__name__})"

    def fit(self, items: Sequence[Any]) -> SklearnFeatures:
        """Fit a copy of the estimator on ``items``.

        Parameters
        ----------
        items : sequence
            The training items.

        Returns
        -------
        self
        """
        self.fitted_ = copy.deepcopy(self.estimator).fit(list(items))
        return self

    def feature_names(self) -> list[str] | None:
        """``get_feature_names_out()`` of the fitted estimator, when it has one."""
        fitted = getattr(self, "fitted_", None)
        try:
            return [str(n) for n in fitted.get_feature_names_out()]
        except (AttributeError, TypeError, ValueError):
            return None

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """The fitted estimator's ``transform``, dense.

        Parameters
        ----------
        items : sequence
            The items.

        Returns
        -------
        numpy.ndarray
        """
        fitted = getattr(self, "fitted_", None)
        if fitted is None:
            raise InvalidParameterError("SklearnFeatures: call fit(items) before transform.")
        out = fitted.transform(list(items))
        if hasattr(out, "toarray"):
            out = out.toarray()
        return _as_matrix(out, f"{type(self.estimator).__name__}.transform")


class Stack(_Source):
    """Several sources side by side (their columns concatenated).

    Parameters
    ----------
    *sources : feature sources
        Anything :func:`as_feature_source` accepts.

    Examples
    --------
    >>> from prefstat.features import Stack, TextStats, FunctionFeatures
    >>> both = Stack(TextStats(["chars"]), FunctionFeatures(lambda t: [[1.0]] * len(t), ["one"]))
    >>> both.fit_transform(["hello"]).tolist(), both.feature_names()
    ([[5.0, 1.0]], ['chars', 'one'])
    """

    def __init__(self, *sources: Any) -> None:
        if not sources:
            raise InvalidParameterError("Stack needs at least one feature source.")
        self.sources = [as_feature_source(s) for s in sources]
        self.missing_allowed = any(getattr(s, "missing_allowed", False) for s in self.sources)

    def __repr__(self) -> str:
        return f"Stack({', '.join(repr(s) for s in self.sources)})"

    def fit(self, items: Sequence[Any]) -> Stack:
        """Fit every source.

        Parameters
        ----------
        items : sequence
            The training items.

        Returns
        -------
        self
        """
        for source in self.sources:
            source.fit(items)
        return self

    def feature_names(self) -> list[str] | None:
        """Names of every source's columns, in order (``None`` if a source has none)."""
        names: list[str] = []
        for source in self.sources:
            own = getattr(source, "feature_names", lambda: None)()
            if own is None:
                return None
            names += own
        return names

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """Every source's columns, concatenated.

        Parameters
        ----------
        items : sequence
            The items.

        Returns
        -------
        numpy.ndarray
        """
        return np.hstack([_as_matrix(s.transform(items), repr(s)) for s in self.sources])


def as_feature_source(obj: Any) -> Any:
    """Wrap ``obj`` into the feature-source protocol.

    Parameters
    ----------
    obj : object
        A feature source (returned as is); a DataFrame or Series indexed by
        item label (:class:`Lookup`); an object with ``fit`` and
        ``transform``, such as a scikit-learn transformer or pipeline
        (:class:`SklearnFeatures`); or a callable of a list of items
        (:class:`FunctionFeatures`).

    Returns
    -------
    feature source

    Raises
    ------
    InvalidParameterError
        ``obj`` is none of these.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.features import as_feature_source
    >>> as_feature_source(pd.DataFrame({"x": [1.0]}, index=["a"]))
    Lookup(1 items x 1 features)
    """
    if isinstance(obj, _Source):
        return obj
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return Lookup(obj)
    if hasattr(obj, "fit") and hasattr(obj, "transform"):
        return SklearnFeatures(obj)
    if callable(obj):
        return FunctionFeatures(obj)
    raise InvalidParameterError(
        f"cannot use a {type(obj).__name__} as item features; pass a DataFrame indexed by "
        "item label, a callable of a list of items, a scikit-learn transformer, or a "
        "prefstat.features source (e.g. TextStats())."
    )


def feature_names(source: Any, width: int) -> list[str]:
    """The source's column names, or ``x0, x1, ...``; checked against the width."""
    names = getattr(source, "feature_names", lambda: None)()
    if names is None:
        return [f"x{k}" for k in range(width)]
    if len(names) != width:
        raise FeatureDimensionError(
            f"the feature source names {len(names)} columns but returned {width}."
        )
    return list(names)


def transform_checked(source: Any, items: Sequence[Any], width: int | None = None
                      ) -> np.ndarray:
    """``source.transform(items)`` as a checked float matrix.

    Infinite values are an error; missing values too, unless the source says
    a missing row means "no features" (tables). ``width`` is the number of
    columns seen at fit time.
    """
    values = _as_matrix(source.transform(items), repr(source))
    if values.shape[0] != len(items):
        raise FeatureDimensionError(
            f"the feature source returned {values.shape[0]} rows for {len(items)} items."
        )
    if width is not None and values.shape[1] != width:
        raise FeatureDimensionError(
            f"the feature source returned {values.shape[1]} columns here but {width} when the "
            "model was fitted; predict with the same features (and the same fitted source)."
        )
    infinite = np.isinf(values).any(axis=1)
    missing = np.isnan(values).any(axis=1)
    bad = infinite | (missing & ~getattr(source, "missing_allowed", False))
    if bad.any():
        rows = np.flatnonzero(bad)
        labels = [items[k] for k in rows[:5]]
        raise NonFiniteFeaturesError(
            f"the feature source {source!r} returned infinite or missing values for "
            f"{rows.size} item(s), such as {format_examples(labels, 3)} (rows "
            f"{format_examples(rows)}). Check the source (empty texts, overflow) or drop "
            "those items."
        )
    return values


def _as_matrix(values: Any, what: str) -> np.ndarray:
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise FeatureDimensionError(
            f"{what} must return numbers, one row per item; got {type(values).__name__}."
        ) from err
    if out.ndim != 2:
        raise FeatureDimensionError(
            f"{what} must return a 2-D array (items x features); got {out.ndim} dimension(s) "
            f"with shape {out.shape}."
        )
    return out


def item_difference(data: pd.DataFrame, values: pd.Series | pd.DataFrame,
                    item_a: str = "item_a", item_b: str = "item_b") -> pd.Series | pd.DataFrame:
    """Per comparison, an item-level value of ``item_a`` minus that of ``item_b``.

    The building block of contest-by-item interactions: BradleyTerry2's
    ``COV[student]lev:School[..]`` is the contest column
    ``(COV == lev) * item_difference(data, schools["School"])``.

    Parameters
    ----------
    data : pandas.DataFrame
        The comparison table.
    values : pandas.Series or pandas.DataFrame
        Indexed by item label (one or several columns).
    item_a, item_b : str
        Columns of the first- and second-shown item.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Aligned with ``data``'s rows.

    Raises
    ------
    MissingFeaturesError
        An item of ``data`` is not in ``values``' index.

    Examples
    --------
    >>> import pandas as pd
    >>> from prefstat.features import item_difference
    >>> df = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "z"], "outcome": ["a", "b"]})
    >>> latin = pd.Series({"x": 1.0, "y": 0.0, "z": 1.0})
    >>> item_difference(df, latin).tolist()
    [1.0, -1.0]
    """
    table = values.to_frame() if isinstance(values, pd.Series) else values
    source = Lookup(table)
    diff = (source.transform(list(data[item_a])) - source.transform(list(data[item_b])))
    if isinstance(values, pd.Series):
        return pd.Series(diff[:, 0], index=data.index, name=values.name)
    return pd.DataFrame(diff, index=data.index, columns=table.columns)
