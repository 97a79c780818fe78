"""Errors and warnings raised by prefstat.

Every error derives from :class:`PrefstatError` and also from the builtin it
resembles, so ``except ValueError`` keeps working. Every warning derives from
:class:`PrefstatWarning`.

Examples
--------
>>> import pandas as pd
>>> import prefstat
>>> bad = pd.DataFrame({"item_a": ["x"], "item_b": ["y"], "outcome": ["draw"]})
>>> try:
...     prefstat.ComparisonData.from_frame(bad)
... except prefstat.InvalidOutcomeError as err:
...     print(type(err).__name__, isinstance(err, ValueError))
InvalidOutcomeError True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "DataFetchError",
    "DataValidationError",
    "DataWarning",
    "EmptyDataError",
    "FeatureDimensionError",
    "FeatureMismatchError",
    "IdentifiabilityWarning",
    "InvalidItemError",
    "InvalidOutcomeError",
    "InvalidParameterError",
    "InvalidRankingError",
    "InvalidWeightError",
    "MissingColumnError",
    "MissingDependencyError",
    "MissingFeaturesError",
    "NonFiniteFeaturesError",
    "NotFittedError",
    "NotIdentifiableError",
    "PrefstatError",
    "PrefstatWarning",
    "format_examples",
]


def format_examples(values: Iterable[Any], limit: int = 5) -> str:
    """Render at most ``limit`` values, then ``and N more``.

    Parameters
    ----------
    values : iterable
        The offending labels, rows or codes.
    limit : int, default 5
        How many to show.

    Returns
    -------
    str
        A comma-separated list such as ``'a', 'b' and 3 more``.

    Examples
    --------
    >>> format_examples(["x", "y", "z"], limit=2)
    "'x', 'y' and 1 more"
    """
    values = list(values)
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    rest = len(values) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def _plain(value: Any) -> Any:
    """Numpy scalars print as Python scalars (``1``, not ``np.int64(1)``)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "ndim", None) == 0 else value


class PrefstatError(Exception):
    """Root of every error prefstat raises."""


class DataValidationError(PrefstatError, ValueError):
    """Input data that prefstat cannot use as given."""


class MissingColumnError(DataValidationError, KeyError):
    """A column named in the call is absent from the table."""

    def __str__(self) -> str:
        # KeyError's str() is the repr of its argument; keep the message readable.
        return str(self.args[0]) if self.args else ""


class EmptyDataError(DataValidationError):
    """The table has no usable rows, or too few items to compare."""


class InvalidItemError(DataValidationError):
    """Item labels are missing, of mixed types, or compared with themselves."""


class InvalidOutcomeError(DataValidationError):
    """An outcome value is missing or not one of the documented codes."""


class InvalidWeightError(DataValidationError):
    """A weight is missing, negative, infinite or not numeric."""


class InvalidRankingError(DataValidationError):
    """A ranking repeats an item, has gaps, or is otherwise malformed."""


class MissingFeaturesError(DataValidationError, KeyError):
    """An item needs features (to be fitted or predicted) and the source has none for it."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FeatureMismatchError(DataValidationError):
    """The feature table's labels do not match the items of the comparisons."""


class NonFiniteFeaturesError(DataValidationError):
    """A feature source returned infinite or missing values where numbers are needed."""


class FeatureDimensionError(DataValidationError):
    """Features have another shape than expected (e.g. other columns at predict than at fit)."""


class InvalidParameterError(PrefstatError, ValueError):
    """A model or function argument (not the data) has an unusable value."""


class NotIdentifiableError(PrefstatError, ValueError):
    """The requested estimate does not exist for these data.

    Raised when the comparison graph is disconnected or when the data are
    separable (some items never win or never lose within a component), so the
    maximum likelihood estimate is infinite or not unique; and when an order
    effect is asked for that the design confounds with the item strengths
    (e.g. one item always shown first) or that diverges. The
    :class:`~prefstat.diagnostics.Connectivity` result of the data is
    attached as ``connectivity`` (it may be ``None`` when the comparison
    graph is not at fault).
    """

    def __init__(self, message: str, connectivity: Any = None) -> None:
        super().__init__(message)
        self.connectivity = connectivity


class NotFittedError(PrefstatError, ValueError, AttributeError):
    """A fitted attribute was used before ``fit`` was called."""


class MissingDependencyError(PrefstatError, ImportError):
    """An optional dependency (an extra such as ``prefstat[embed]``) is not installed."""


class ConvergenceError(PrefstatError, RuntimeError):
    """The solver stopped without reaching the optimum."""


class DataFetchError(PrefstatError, OSError):
    """A data set could not be downloaded, or its file failed the checksum."""


class PrefstatWarning(UserWarning):
    """Root of every warning prefstat emits."""


class DataWarning(PrefstatWarning):
    """The data were accepted but something about them deserves attention."""


class IdentifiabilityWarning(PrefstatWarning):
    """An estimate exists only because of a penalty or bias reduction."""


class ConvergenceWarning(PrefstatWarning):
    """The solver reached its iteration limit; estimates may be inaccurate."""
