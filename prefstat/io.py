"""Comparisons from Arrow, Polars, Parquet and Dask, counted in memory or out of core.

Two ways in, depending on whether the rows fit in memory:

Rows that fit
    :func:`read_comparisons` validates and encodes a pandas DataFrame, a
    ``pyarrow.Table`` or a ``polars.DataFrame`` into a
    :class:`~prefstat.ComparisonData` that every model accepts. Label columns
    are read as categoricals, so each distinct label is checked and hashed once
    rather than once per row.
Rows that do not fit
    :func:`aggregate_parquet` streams Parquet files batch by batch and
    :func:`aggregate_dask` counts the partitions of a Dask DataFrame on a
    cluster. Both return the sufficient statistics, a
    :class:`~prefstat.PairCounts`: their size grows with the number of distinct
    pairs (times raters), not with the number of rows.
    :func:`counts_to_frame` turns them into a weighted canonical table that
    models fit with ``weight="weight"``, giving the estimates the in-memory
    path gives.

Every slice of rows goes through :meth:`prefstat.ComparisonData.from_frame`,
so out-of-core input is held to the same checks: an unknown outcome, a missing
label or a self-comparison raises the same typed error, naming the file or
partition and the rows.

Optional dependencies load on first use; a missing one raises
:class:`~prefstat.MissingDependencyError` naming the extra to install:
``parquet`` (pyarrow) for Arrow and Parquet, ``polars``, and ``dask``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Hashable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _encoding as enc
from ._partial_counts import Accumulator, PartialCounts, count_slice, merge
from .convert import from_counts
from .data import OUTCOMES, ComparisonData, PairCounts
from .exceptions import (
    DataValidationError,
    EmptyDataError,
    InvalidParameterError,
    MissingDependencyError,
)

if TYPE_CHECKING:
    import dask.dataframe as dd
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

__all__ = ["aggregate_dask", "aggregate_parquet", "counts_to_frame", "read_comparisons"]

#: Rows per batch read by :func:`aggregate_parquet` (about 100 MB of working memory).
DEFAULT_BATCH_SIZE = 1 << 20
# Batches pyarrow may decode ahead of the one being counted: reading overlaps counting,
# and memory stays at a few batches.
_BATCH_READAHEAD = 2

# Doctests whose examples need an optional package (read by the project's conftest.py).
__doctest_requires__ = {
    "read_comparisons": ("pyarrow",),
    "aggregate_parquet": ("pyarrow",),
    "counts_to_frame": ("pyarrow",),
    "aggregate_dask": ("dask.dataframe",),
}


def read_comparisons(
    table: pd.DataFrame | pa.Table | pa.RecordBatch | pl.DataFrame,
    *,
    item_a: str = "item_a",
    item_b: str = "item_b",
    outcome: str = "outcome",
    rater: str | None = None,
    weight: str | None = None,
    items: Sequence[Any] | None = None,
) -> ComparisonData:
    """Validate and encode a comparison table from pandas, Arrow or Polars.

    Arrow and Polars tables are converted to pandas with their label columns
    (``item_a``, ``item_b``, ``rater``, ``outcome``) as categoricals, which
    :meth:`~prefstat.ComparisonData.from_frame` encodes from their distinct
    values instead of row by row. Other columns convert as ``to_pandas``
    converts them and are kept as contest-level columns.

    Arrow and Polars have no marker for a graded scale: an ordered dictionary
    outcome (a Polars ``Enum``) is read as nominal codes. Build graded
    outcomes in pandas with :func:`prefstat.convert.from_graded`.

    Parameters
    ----------
    table : pandas.DataFrame, pyarrow.Table, pyarrow.RecordBatch or polars.DataFrame
        One row per judgement (see :mod:`prefstat.data`).
    item_a, item_b, outcome, rater, weight : str
        Column names, as in :meth:`~prefstat.ComparisonData.from_frame`.
    items : sequence, optional
        The full item set, in the order to use.

    Returns
    -------
    ComparisonData
        Accepted by every model's ``fit``.

    Raises
    ------
    DataValidationError
        ``table`` is none of the accepted types (a ``polars.LazyFrame`` must
        be collected, or written to Parquet for :func:`aggregate_parquet`).
    MissingColumnError, EmptyDataError, InvalidItemError, InvalidOutcomeError, InvalidWeightError
        As raised by :meth:`~prefstat.ComparisonData.from_frame`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from prefstat import BradleyTerry
    >>> from prefstat.io import read_comparisons
    >>> table = pa.table({"item_a": ["x", "y", "x", "z"], "item_b": ["y", "z", "z", "x"],
    ...                   "outcome": ["a", "a", "b", "a"]})
    >>> data = read_comparisons(table)
    >>> list(data.items), data.a.tolist()
    (['x', 'y', 'z'], [0, 1, 0, 2])
    >>> BradleyTerry(penalty=0.1).fit(data).strengths_.shape
    (3, 6)
    """
    where = "read_comparisons"
    df = _as_pandas(table, [item_a, item_b, rater, outcome], outcome, where)
    return ComparisonData.from_frame(df, item_a=item_a, item_b=item_b, outcome=outcome,
                                     rater=rater, weight=weight, items=items)


def aggregate_parquet(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | ds.Dataset,
    *,
    item_a: str = "item_a",
    item_b: str = "item_b",
    outcome: str = "outcome",
    rater: str | None = None,
    weight: str | None = None,
    ordered: bool = True,
    items: Sequence[Any] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    filter: pc.Expression | None = None,
) -> PairCounts:
    """Count comparisons in Parquet files too large for memory, batch by batch.

    The files are read ``batch_size`` rows at a time (string label columns
    straight into dictionaries). Each batch is validated and encoded by
    :meth:`~prefstat.ComparisonData.from_frame` with its own labels, counted,
    and merged into the running counts under a vocabulary that grows as new
    labels appear. Memory is about one batch plus the counts, whatever the
    number of rows. The result equals
    ``ComparisonData.from_frame(all_rows, ...).pair_counts(ordered=ordered,
    by_rater=rater is not None)``: items (and raters) sorted, cells sorted.

    Parameters
    ----------
    source : path, list of paths or pyarrow.dataset.Dataset
        A Parquet file, a directory of them (folders named like ``rater=r1``
        become a column, as in :func:`pandas.read_parquet`), a list of files,
        or an open ``pyarrow.dataset.Dataset`` (other filesystems, other
        partitioning schemes).
    item_a, item_b, outcome, rater, weight : str
        Column names, as in :meth:`~prefstat.ComparisonData.from_frame`.
        Outcomes are nominal codes (graded scales are not counted here).
    ordered : bool, default True
        Keep (i shown first, j second) apart from (j, i), as in
        :meth:`~prefstat.ComparisonData.pair_counts`.
    items : sequence, optional
        The full item set, in the order to use; a label outside it is an
        error.
    batch_size : int, default 1,048,576
        Rows per batch at most; a batch of 10^6 rows takes about 100 MB of
        working memory. Batches do not span the files' row groups.
    filter : pyarrow.compute.Expression, optional
        Count only the rows it selects, e.g. ``pc.field("date") >= "2024-06"``;
        files whose partition values rule them out are not opened. Row
        numbers in errors then count the selected rows.

    Returns
    -------
    PairCounts
        Counts per pair (and rater, when ``rater`` is given); ``row_cell`` is
        not recorded.

    Raises
    ------
    MissingDependencyError
        pyarrow is not installed (``pip install 'prefstat[parquet]'``).
    MissingColumnError, DataValidationError
        A named column is absent, or named twice; the files cannot be read.
    InvalidItemError, InvalidOutcomeError, InvalidWeightError
        As :meth:`~prefstat.ComparisonData.from_frame` raises them, with the
        file and batch in front; the rows named count from 0 in each file.
    EmptyDataError
        The files hold no rows.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from prefstat.io import aggregate_parquet
    >>> df = pd.DataFrame({"item_a": ["x", "y", "x", "z"], "item_b": ["y", "x", "z", "y"],
    ...                    "outcome": ["a", "a", "b", "tie"]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     df.to_parquet(f"{tmp}/battles.parquet", row_group_size=2)
    ...     counts = aggregate_parquet(f"{tmp}/battles.parquet", ordered=False, batch_size=2)
    >>> counts.to_frame()
      item_a item_b    a    b  tie  tie_bothbad
    0      x      y  1.0  1.0  0.0          0.0
    1      x      z  0.0  1.0  0.0          0.0
    2      y      z  0.0  0.0  1.0          0.0
    """
    where = "aggregate_parquet"
    pa_ = _require("pyarrow", "parquet", where)
    ds_ = _require("pyarrow.dataset", "parquet", where)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidParameterError(
            f"{where}: batch_size= expects a positive number of rows, got {batch_size!r}."
        )
    columns = _columns(item_a, item_b, outcome, rater, weight)
    labels = [item_a, item_b, rater, outcome]
    try:
        if isinstance(source, ds_.Dataset):
            dataset = source
        else:
            fmt = ds_.ParquetFileFormat(read_options=ds_.ParquetReadOptions(
                dictionary_columns=[c for c in labels if c is not None]))
            paths = [os.fspath(p) for p in source] if _is_path_list(source) else os.fspath(source)
            dataset = ds_.dataset(paths, format=fmt, partitioning="hive")
        _check_columns(dataset.schema.names, columns, where)
        counts = Accumulator()
        k = 0
        # File by file: a dataset-wide scan reads ahead without bound when counting is
        # slower than reading, and its memory then grows with the rows.
        for fragment in dataset.get_fragments(filter=filter):
            name = getattr(fragment, "path", "the in-memory data")
            start = 0
            for batch in fragment.to_batches(
                schema=dataset.schema, columns=[c for c in columns.values() if c is not None],
                filter=filter, batch_size=batch_size, batch_readahead=_BATCH_READAHEAD,
            ):
                df = _as_pandas(batch, labels, outcome, where)
                df.index = pd.RangeIndex(start, start + batch.num_rows)
                counts.add(count_slice(
                    df, columns, ordered, items,
                    f"{where}: file {name!r}, batch {k} (rows {start} to "
                    f"{start + batch.num_rows - 1} of that file)",
                ))
                start += batch.num_rows
                k += 1
    except pa_.ArrowException as err:
        raise DataValidationError(f"{where}: pyarrow could not read {source!r}: {err}") from err
    return _result(counts.result(), where)


def aggregate_dask(
    ddf: dd.DataFrame,
    *,
    item_a: str = "item_a",
    item_b: str = "item_b",
    outcome: str = "outcome",
    rater: str | None = None,
    weight: str | None = None,
    ordered: bool = True,
    items: Sequence[Any] | None = None,
    split_every: int = 8,
) -> PairCounts:
    """Count the comparisons of a Dask DataFrame on its cluster.

    Each partition is validated, encoded and counted where it lives (with
    :meth:`~prefstat.ComparisonData.from_frame` and its own sorted labels);
    the partial counts are then merged in a tree, ``split_every`` at a time,
    each merge moving codes into the sorted union of the labels. One pass over
    the data: no separate pass to collect the labels first. Only counts
    travel, and the result comes back to the client as a
    :class:`~prefstat.PairCounts`, equal to
    ``ComparisonData.from_frame(ddf.compute(), ...).pair_counts(...)``.

    The work runs on the active Dask scheduler: a ``distributed.Client``
    connected to a cluster if one exists, else Dask's default local
    scheduler. Workers need prefstat installed.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One row per judgement.
    item_a, item_b, outcome, rater, weight : str
        Column names, as in :meth:`~prefstat.ComparisonData.from_frame`.
    ordered : bool, default True
        Keep (i shown first, j second) apart from (j, i).
    items : sequence, optional
        The full item set, in the order to use.
    split_every : int, default 8
        How many partial results each merge task combines.

    Returns
    -------
    PairCounts

    Raises
    ------
    MissingDependencyError
        Dask is not installed (``pip install 'prefstat[dask]'``).
    MissingColumnError, DataValidationError, InvalidParameterError
        A named column is absent or named twice; ``ddf`` is not a Dask
        DataFrame; ``split_every`` is below 2.
    InvalidItemError, InvalidOutcomeError, InvalidWeightError
        As :meth:`~prefstat.ComparisonData.from_frame` raises them, with the
        partition number in front; the rows named are index labels of that
        partition.
    EmptyDataError
        The DataFrame has no rows.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from prefstat.io import aggregate_dask
    >>> df = pd.DataFrame({"item_a": ["x", "y", "x", "z"], "item_b": ["y", "x", "z", "y"],
    ...                    "outcome": ["a", "a", "b", "tie"]})
    >>> counts = aggregate_dask(dd.from_pandas(df, npartitions=2), ordered=False)
    >>> counts.counts.tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
    """
    where = "aggregate_dask"
    dask = _require("dask", "dask", where)
    dd_ = _require("dask.dataframe", "dask", where)
    if not isinstance(ddf, dd_.DataFrame):
        raise DataValidationError(
            f"{where}: argument ddf expects a dask.dataframe.DataFrame, got "
            f"{type(ddf).__name__}. For a pandas DataFrame use ComparisonData.from_frame; "
            "for Parquet files, aggregate_parquet or dask.dataframe.read_parquet."
        )
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise InvalidParameterError(
            f"{where}: split_every= expects a whole number of at least 2, got {split_every!r}."
        )
    columns = _columns(item_a, item_b, outcome, rater, weight)
    _check_columns(list(ddf.columns), columns, where)
    parts = ddf[[c for c in columns.values() if c is not None]].to_delayed()
    level = [dask.delayed(count_slice)(part, columns, ordered, items, f"{where}: partition {i}")
             for i, part in enumerate(parts)]
    while len(level) > 1:
        level = [dask.delayed(merge)(level[i:i + split_every])
                 for i in range(0, len(level), split_every)]
    (result,) = dask.compute(*level)
    return _result(result, where)


def counts_to_frame(counts: PairCounts) -> pd.DataFrame:
    """Expand pair counts to the canonical weighted comparison table.

    One row per non-zero count: ``item_a, item_b, outcome`` (and ``rater``)
    and ``weight``, via :meth:`PairCounts.to_frame
    <prefstat.PairCounts.to_frame>` and :func:`prefstat.convert.from_counts`.
    Fitting it with ``weight="weight"`` gives the estimates the rows would
    give. Cells whose counts are all zero (rows of weight 0) produce no row;
    pass ``items=counts.items`` to ``fit`` to keep their items.

    Parameters
    ----------
    counts : PairCounts
        Nominal counts, e.g. from :func:`aggregate_parquet`,
        :func:`aggregate_dask` or :meth:`ComparisonData.pair_counts
        <prefstat.ComparisonData.pair_counts>`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataValidationError
        The counts are of a graded scale's levels.
    EmptyDataError
        Every count is zero.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from prefstat import BradleyTerry
    >>> from prefstat.io import aggregate_parquet, counts_to_frame
    >>> df = pd.DataFrame({"item_a": ["x", "y", "x", "z", "y", "z"],
    ...                    "item_b": ["y", "z", "z", "x", "x", "y"],
    ...                    "outcome": ["a", "a", "b", "b", "a", "a"]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     df.to_parquet(f"{tmp}/battles.parquet")
    ...     counts = aggregate_parquet(f"{tmp}/battles.parquet")
    >>> table = counts_to_frame(counts)
    >>> table
      item_a item_b outcome  weight
    0      x      y       a     1.0
    1      x      z       b     1.0
    2      y      x       a     1.0
    3      y      z       a     1.0
    4      z      x       b     1.0
    5      z      y       a     1.0
    >>> streamed = BradleyTerry().fit(table, weight="weight", items=counts.items)
    >>> in_memory = BradleyTerry().fit(df)
    >>> bool((streamed.strengths_ == in_memory.strengths_).all(axis=None))
    True
    """
    if counts.columns != OUTCOMES:
        raise DataValidationError(
            f"counts_to_frame: the counts are per level of a graded scale "
            f"({', '.join(counts.columns)}); it expands nominal counts "
            f"({', '.join(OUTCOMES)}). Collapse the scale first "
            "(prefstat.convert.collapse_graded)."
        )
    return from_counts(counts.to_frame(), wins_a="a", wins_b="b", ties="tie",
                       ties_bothbad="tie_bothbad",
                       rater="rater" if counts.rater is not None else None)


# ------------------------------------------------------------------ helpers
def _require(module: str, extra: str, where: str) -> ModuleType:
    """Import an optional dependency, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"{where} needs {module.split('.')[0]}, which is not installed. Install the "
            f"optional extra: pip install 'prefstat[{extra}]'."
        ) from err


def _columns(item_a: str, item_b: str, outcome: str, rater: str | None,
             weight: str | None) -> dict[str, Hashable | None]:
    return {"item_a": item_a, "item_b": item_b, "outcome": outcome, "rater": rater,
            "weight": weight}


def _check_columns(names: Sequence[Hashable], columns: dict[str, Hashable | None],
                   where: str) -> None:
    """Run the column-name checks of ``from_frame`` before any row is read."""
    try:
        enc.check_columns(pd.DataFrame(columns=list(names)), columns, where)
    except EmptyDataError:
        pass  # the names passed; the rows are checked batch by batch


def _is_path_list(source: Any) -> bool:
    return isinstance(source, Sequence) and not isinstance(source, (str, bytes))


def _as_pandas(table: Any, labels: Sequence[Hashable | None], outcome: Hashable,
               where: str) -> pd.DataFrame:
    """Convert ``table`` to pandas; Arrow label columns become categoricals."""
    if isinstance(table, pd.DataFrame):
        return table
    package = type(table).__module__.split(".")[0]
    if package == "polars":
        pl_ = _require("polars", "polars", where)
        if isinstance(table, pl_.LazyFrame):
            raise DataValidationError(
                f"{where}: got a polars LazyFrame; collect() it first, or write it to Parquet "
                "(LazyFrame.sink_parquet) and count it with prefstat.io.aggregate_parquet."
            )
        if isinstance(table, pl_.DataFrame):
            _require("pyarrow", "parquet", where)
            table = table.to_arrow()
            package = "pyarrow"
    if package == "pyarrow":
        pa_ = _require("pyarrow", "parquet", where)
        if isinstance(table, pa_.RecordBatch):
            table = pa_.Table.from_batches([table])
        if isinstance(table, pa_.Table):
            return _labels_as_dictionaries(table, labels, outcome).to_pandas()
    raise DataValidationError(
        f"{where}: expects a pandas DataFrame, a pyarrow Table or RecordBatch, or a polars "
        f"DataFrame; got {type(table).__module__}.{type(table).__name__}."
    )


def _labels_as_dictionaries(table: pa.Table, labels: Sequence[Hashable | None],
                            outcome: Hashable) -> pa.Table:
    """Dictionary-encode string label columns; an outcome dictionary loses its order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in dict.fromkeys(c for c in labels if c is not None):
        if name not in table.column_names:
            continue  # from_frame names the missing column
        i = table.column_names.index(name)
        column = table.column(i)
        kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            column = pc.dictionary_encode(column)
        elif pa.types.is_dictionary(kind) and kind.ordered and name == outcome:
            column = column.cast(pa.dictionary(kind.index_type, kind.value_type))
        else:
            continue
        table = table.set_column(i, table.field(i).with_type(column.type), column)
    return table


def _result(result: PartialCounts | None, where: str) -> PairCounts:
    if result is None:
        raise EmptyDataError(
            f"{where}: the data have no rows. Check the path or the partitions, and any "
            "filter applied before."
        )
    return result.to_pair_counts()
