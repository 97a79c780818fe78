"""Simple text statistics for style control: length and markdown counts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import DataValidationError, InvalidParameterError, format_examples
from ._base import _Source

__all__ = ["TextStats"]

_HEADER = re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)", re.MULTILINE)

_STATS = {
    "chars": lambda t: len(t),
    "words": lambda t: len(t.split()),
    "lines": lambda t: t.count("\n") + 1 if t else 0,
    "headers": lambda t: len(_HEADER.findall(t)),
    "list_items": lambda t: len(_LIST_ITEM.findall(t)),
    "bold": lambda t: len(_BOLD.findall(t)),
    "code_blocks": lambda t: len(_FENCE.findall(t)) // 2,
}


class TextStats(_Source):
    """Length and markdown counts of texts, the usual "style" covariates.

    Parameters
    ----------
    stats : sequence of str, optional
        Which statistics, in order; all by default: ``chars`` (characters),
        ``words`` (whitespace-separated tokens), ``lines``, ``headers``
        (markdown ``#`` headings), ``list_items`` (``-``, ``*``, ``+`` or
        ``1.`` bullets), ``bold`` (``**bold**`` or ``__bold__`` spans) and
        ``code_blocks`` (fenced blocks, pairs of ``````` or ``~~~`` lines).
    log : bool, default False
        Return ``log(1 + count)`` instead of the counts (length effects are
        often closer to linear in the log).

    Examples
    --------
    >>> from prefstat.features import TextStats
    >>> text = "# Title\\n\\n- one\\n- **two**\\n\\n```\\ncode\\n```"
    >>> stats = TextStats()
    >>> stats.feature_names()
    ['chars', 'words', 'lines', 'headers', 'list_items', 'bold', 'code_blocks']
    >>> stats.fit_transform([text]).astype(int).tolist()
    [[38, 9, 8, 1, 2, 1, 1]]
    """

    def __init__(self, stats: Sequence[str] | None = None, log: bool = False) -> None:
        chosen = list(_STATS) if stats is None else list(stats)
        unknown = [s for s in chosen if s not in _STATS]
        if unknown or not chosen:
            raise InvalidParameterError(
                f"TextStats: unknown statistic(s) {format_examples(unknown)}; choose among "
                f"{format_examples(_STATS, 10)}."
            )
        self.stats = chosen
        self.log = log

    def __repr__(self) -> str:
        return f"TextStats({self.stats!r}, log={self.log})"

    @property
    def cache_key(self) -> str:
        """Identity of the computation (for caching)."""
        return repr(self)

    def feature_names(self) -> list[str]:
        """The statistics' names (``log_`` prefixed with ``log=True``)."""
        return [f"log_{s}" if self.log else s for s in self.stats]

    def transform(self, items: Sequence[Any]) -> np.ndarray:
        """The statistics of every text.

        Parameters
        ----------
        items : sequence of str
            The texts.

        Returns
        -------
        numpy.ndarray
            ``(len(items), len(stats))``.

        Raises
        ------
        DataValidationError
            An item is not a string.
        """
        bad = [k for k, t in enumerate(items) if not isinstance(t, str)]
        if bad:
            raise DataValidationError(
                f"TextStats needs texts; item(s) at position(s) {format_examples(bad)} are "
                f"{format_examples({type(items[k]).__name__ for k in bad})}."
            )
        funcs = [_STATS[s] for s in self.stats]
        out = np.array([[f(t) for f in funcs] for t in items], dtype=np.float64)
        out = out.reshape(len(items), len(funcs))
        return np.log1p(out) if self.log else out
