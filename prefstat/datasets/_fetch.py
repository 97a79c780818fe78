"""Real preference data sets, downloaded at a pinned revision and checked.

Each data set is one file with a fixed place in the *data home* (for example
``llm/arena_hard_battles.jsonl``) and a SHA-256 checksum. A fetch function
reads the file from the data home when it is there, and otherwise downloads
it from its original location at a pinned commit, checks the checksum and
keeps it. A file that fails the checksum is never used or replaced silently:
that is a :class:`~prefstat.DataFetchError`.

The data home is, in this order: the ``data_home`` argument, the environment
variable ``PREFSTAT_DATA``, or ``~/.cache/prefstat``. Its layout is that of the
project's shared data folder, so pointing ``PREFSTAT_DATA`` at a copy of it
makes every fetch local.

The checksums were computed from the files as the project keeps them. The
download URLs were written offline and have not been fetched (the machine that
wrote them has no network): they are unverified until a first download
succeeds, and the checksum guards against a wrong one.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..exceptions import DataFetchError

__all__ = [
    "fetch_arena_battles",
    "fetch_hh_rlhf",
    "fetch_nascar",
    "fetch_pandalm",
    "fetch_sounds",
    "fetch_tulu_human_eval",
    "fetch_wmt12",
    "get_data_home",
]

DATA_HOME_ENV = "PREFSTAT_DATA"
_DEFAULT_HOME = Path("~") / ".cache" / "prefstat"
_TIMEOUT_SECONDS = 60.0
_GITHUB_RAW = "https://raw.githubusercontent.com"
_GITHUB_LFS = "https://media.githubusercontent.com/media"  # files kept in Git LFS


@dataclass(frozen=True)
class _DataFile:
    """One data set's file: where it lives in the data home and where it came from."""

    path: str
    sha256: str
    origin: str
    url: str | None
    prepare: Callable[[bytes], bytes] | None = None


def _pandalm_null_to_empty(raw: bytes) -> bytes:
    # Upstream writes missing strings as the bare token NaN, which is not JSON; the
    # kept file has "" in those 221 places and is otherwise byte-identical. The
    # published file's own SHA-256, rebuilt from the kept one, is 77ad325f0a82046b
    # fc59b4cb545d77a97f08daf8d2a3b29a0da3dad983f1dd40 (unverified).
    return raw.replace(b': NaN', b': ""')


# URLs: unverified (written offline), pinned to the commit of the stored revision.
_FILES: dict[str, _DataFile] = {
    "arena_battles": _DataFile(
        path="llm/arena_hard_battles.jsonl",
        sha256="2bef2a4521cdc69742c25fa6c5a4b989b98a574b57c854550f2affc9ec5781f1",
        origin="lmarena/arena-hard-auto, data/arena_hard_battles.jsonl at commit 74e8b6f0",
        url=f"{_GITHUB_RAW}/lmarena/arena-hard-auto/74e8b6f0ae60529b62c4c2feb71a479ae1311e2d"
            "/data/arena_hard_battles.jsonl",
    ),
    "hh_rlhf": _DataFile(
        path="llm/hh_rlhf_harmless_base_test.jsonl.gz",
        sha256="ebfaaed21162a4de120ae85366075b34425e2a6303fac59b99555002f7016f03",
        origin="anthropics/hh-rlhf, harmless-base/test.jsonl.gz at commit 0398e363",
        # hh-rlhf keeps *.jsonl.gz in Git LFS; the raw URL would serve the pointer file.
        url=f"{_GITHUB_LFS}/anthropics/hh-rlhf/0398e3636f8d641a03d65b9362aa091297f28564"
            "/harmless-base/test.jsonl.gz",
    ),
    "pandalm": _DataFile(
        path="llm/pandalm_testset_v1.json",
        sha256="cc154f9067c7382d7ea86f8f246511a5e1ac87e1fddd845c5938d789505b07a4",
        origin="WeOpenML/PandaLM, data/testset-v1.json at commit 65d7cff5 (NaN tokens "
               'written as "")',
        url=f"{_GITHUB_RAW}/WeOpenML/PandaLM/65d7cff541edaa2d1be0f4b206c31fae42bc334b"
            "/data/testset-v1.json",
        prepare=_pandalm_null_to_empty,
    ),
    "wmt12": _DataFile(
        path="rankings/wmt12_rnk_results.csv",
        sha256="6e3380d1ae571652a66ca6785ec2eb699a55df4c83d899f0ff9267727796d62d",
        origin="Perilon/Meteor_POS, wmt_data/wmt12-manual-evaluation/wmt12.RNK_results.csv "
               "at commit 98a35170 (the WMT12 manual evaluation's ranking results)",
        url=f"{_GITHUB_RAW}/Perilon/Meteor_POS/98a3517055140ac8c98be186914494a2b4122776"
            "/wmt_data/wmt12-manual-evaluation/wmt12.RNK_results.csv",
    ),
    # The next three are CSV conversions of an Excel workbook or an R data file; no
    # copy of the CSV is published, so they are read from the data home only.
    "tulu_human_eval": _DataFile(
        path="llm/tulu1_human_eval.csv",
        sha256="bc1eeace5e59139aa4ebf007db796e843d93b5491fc48f1f8dbb39c55ca1cef5",
        origin="allenai/open-instruct, human_eval/data/eval_annotations_tulu_1.xlsx at commit "
               "2d59731a, converted to CSV with all columns kept",
        url=None,
    ),
    "nascar": _DataFile(
        path="rankings/nascar2002.csv",
        sha256="380f74e581d49f06691247de41f5e2ceb546686ad6fb6fe379701f8810380efc",
        origin="hturner/PlackettLuce, data/nascar.rda at commit d3c00b0c, converted to a long "
               "CSV (race, driver, position)",
        url=None,
    ),
    "sounds": _DataFile(
        path="raters/sounds.csv",
        sha256="1ad1d673af3e0b892a348a01366d52c684043e2638e118aa932d2aecc005c5f4",
        origin="ocbe-uio/BayesMallows, data/sounds.rda at commit 8f031257, converted to CSV",
        url=None,
    ),
}


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The folder where fetched data sets are kept.

    Parameters
    ----------
    data_home : str or path-like, optional
        Use this folder. By default the environment variable
        ``PREFSTAT_DATA`` names it, or else ``~/.cache/prefstat``.

    Returns
    -------
    pathlib.Path
        The folder, with ``~`` expanded. It is not created here.

    Examples
    --------
    >>> from prefstat.datasets import get_data_home
    >>> get_data_home("/tmp/prefstat-data").as_posix()
    '/tmp/prefstat-data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or _DEFAULT_HOME
    return Path(data_home).expanduser()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
            return response.read()
    except (OSError, http.client.HTTPException) as err:
        raise DataFetchError(f"could not download {url}: {err}") from err


def _fetch_file(name: str, data_home: str | os.PathLike[str] | None,
                download_if_missing: bool) -> Path:
    """Path to the checked file in the data home, downloading it if needed."""
    spec = _FILES[name]
    home = get_data_home(data_home)
    target = home / spec.path
    if target.is_file():
        found = _sha256(target.read_bytes())
        if found != spec.sha256:
            fix = "delete it to download the pinned one" if spec.url else "replace it"
            raise DataFetchError(
                f"{target} has SHA-256 {found}, expected {spec.sha256} (the file from "
                f"{spec.origin}). It is damaged or a different revision; {fix}, or point "
                f"data_home (or {DATA_HOME_ENV}) at a folder with the right copy."
            )
        return target
    if spec.url is None:
        raise DataFetchError(
            f"{spec.path} is not in the data home {home}, and it cannot be downloaded: it is a "
            f"conversion of {spec.origin}, and no copy of the converted file is published. "
            f"Put the file at {target}, or point data_home (or {DATA_HOME_ENV}) at a folder "
            "that has it."
        )
    if not download_if_missing:
        raise DataFetchError(
            f"{spec.path} is not in the data home {home} and download_if_missing=False; "
            f"pass download_if_missing=True to download it from {spec.url}."
        )
    data = _download(spec.url)
    if spec.prepare is not None:
        data = spec.prepare(data)
    found = _sha256(data)
    if found != spec.sha256:
        raise DataFetchError(
            f"the file downloaded from {spec.url} has SHA-256 {found}, expected "
            f"{spec.sha256}; nothing was saved. The source may have moved or changed; "
            f"put a checked copy at {target} instead."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, target)
    return target


def fetch_arena_battles(data_home: str | os.PathLike[str] | None = None, *,
                        download_if_missing: bool = True) -> pd.DataFrame:
    """LLM-judge battles between LLMs from Arena-Hard-Auto, in the arena format.

    2,136 battles (``question_id, model_a, model_b, winner``) judged by an LLM
    on Arena-Hard prompts; ``winner`` is ``"model_a"``, ``"model_b"``,
    ``"tie"`` or ``"tie (bothbad)"``. Convert with
    :func:`prefstat.convert.from_arena`.

    Parameters
    ----------
    data_home : str or path-like, optional
        Where data sets are kept; see :func:`get_data_home`.
    download_if_missing : bool, default True
        Download the file when it is not in the data home; with ``False`` a
        missing file is an error.

    Returns
    -------
    pandas.DataFrame
        The file as published, one battle per row.

    Raises
    ------
    DataFetchError
        The file is missing and cannot be downloaded, or it fails the
        checksum.

    See Also
    --------
    prefstat.convert.from_arena : to the canonical comparison table.

    Notes
    -----
    Source: ``data/arena_hard_battles.jsonl`` of the repository
    lmarena/arena-hard-auto (Apache-2.0), at commit 74e8b6f0 (the file was
    later removed from the repository). Kept in the data home as
    ``llm/arena_hard_battles.jsonl``. Li et al. (2024), "From crowdsourced
    data to high-quality benchmarks: Arena-Hard and BenchBuilder pipeline",
    arXiv:2406.11939.

    Examples
    --------
    >>> from prefstat.datasets import fetch_arena_battles
    >>> battles = fetch_arena_battles()  # doctest: +SKIP
    >>> battles.shape  # doctest: +SKIP
    (2136, 4)
    >>> battles["winner"].value_counts().to_dict()  # doctest: +SKIP
    {'model_b': 1758, 'model_a': 347, 'tie': 31}
    """
    path = _fetch_file("arena_battles", data_home, download_if_missing)
    return pd.read_json(path, lines=True)


def fetch_tulu_human_eval(data_home: str | os.PathLike[str] | None = None, *,
                          download_if_missing: bool = True) -> pd.DataFrame:
    """Human judgements of LLM answer pairs on a 5-point scale (Tülu 1).

    1,150 judgements by 16 evaluators (``evaluator``) of two models' answers
    to one prompt (``model_a, model_b, completion_a, completion_b``), the
    order of the answers randomised. ``preference`` is one of
    ``"a-is-better"``, ``"a-is-slightly-better"``, ``"tie"``,
    ``"b-is-slightly-better"``, ``"b-is-better"``: a graded outcome for
    :func:`prefstat.convert.from_graded`.

    Parameters
    ----------
    data_home : str or path-like, optional
        Where data sets are kept; see :func:`get_data_home`.
    download_if_missing : bool, default True
        Accepted for a uniform signature; this file is never downloaded
        (see Notes).

    Returns
    -------
    pandas.DataFrame
        The CSV as kept, one judgement per row, all columns of the source.

    Raises
    ------
    DataFetchError
        The file is not in the data home, or it fails the checksum.

    See Also
    --------
    prefstat.convert.from_graded : to the canonical table with a graded outcome.

    Notes
    -----
    Source: ``human_eval/data/eval_annotations_tulu_1.xlsx`` of the
    repository allenai/open-instruct (Apache-2.0), at commit 2d59731a,
    converted to CSV with all columns kept. Only the workbook is published,
    so the CSV cannot be downloaded: put it in the data home as
    ``llm/tulu1_human_eval.csv``. Wang et al. (2023), "How far can camels
    go? Exploring the state of instruction tuning on open resources",
    arXiv:2306.04751.

    Examples
    --------
    >>> from prefstat.datasets import fetch_tulu_human_eval
    >>> tulu = fetch_tulu_human_eval()  # doctest: +SKIP
    >>> tulu.shape  # doctest: +SKIP
    (1150, 15)
    """
    path = _fetch_file("tulu_human_eval", data_home, download_if_missing)
    return pd.read_csv(path)


def fetch_pandalm(data_home: str | os.PathLike[str] | None = None, *,
                  download_if_missing: bool = True) -> pd.DataFrame:
    """PandaLM's test set: 999 LLM answer pairs, each labelled by 3 annotators.

    Each row holds an instruction and input, two responses
    (``response1, response2``) from two of 5 models named in ``cmp_key``
    (``"<model1>_<model2>"``), and the labels of the same three annotators
    (``annotator1, annotator2, annotator3``: 0 a tie, 1 response1 better,
    2 response2 better). Convert with
    :func:`prefstat.convert.from_multi_annotator`.

    Parameters
    ----------
    data_home : str or path-like, optional
        Where data sets are kept; see :func:`get_data_home`.
    download_if_missing : bool, default True
        Download the file when it is not in the data home; with ``False`` a
        missing file is an error.

    Returns
    -------
    pandas.DataFrame
        The JSON records, one answer pair per row.

    Raises
    ------
    DataFetchError
        The file is missing and cannot be downloaded, or it fails the
        checksum.

    See Also
    --------
    prefstat.convert.from_multi_annotator : to the canonical table, one row per label.

    Notes
    -----
    Source: ``data/testset-v1.json`` of the repository WeOpenML/PandaLM
    (Apache-2.0), at commit 65d7cff5. The published file writes 221 missing
    strings as the bare token ``NaN``, which is not JSON; the kept file
    (``llm/pandalm_testset_v1.json`` in the data home) has ``""`` there and
    is otherwise the same bytes. Wang et al. (2023), "PandaLM: an automatic
    evaluation benchmark for LLM instruction tuning optimization",
    arXiv:2306.05087.

    Examples
    --------
    >>> from prefstat.datasets import fetch_pandalm
    >>> panda = fetch_pandalm()  # doctest: +SKIP
    >>> panda.shape  # doctest: +SKIP
    (999, 10)
    """
    path = _fetch_file("pandalm", data_home, download_if_missing)
    with path.open(encoding="utf-8") as handle:
        return pd.DataFrame(json.load(handle))


def fetch_hh_rlhf(data_home: str | os.PathLike[str] | None = None, *,
                  download_if_missing: bool = True) -> pd.DataFrame:
    """Anthropic's HH-RLHF harmlessness test pairs (``chosen``, ``rejected``).

    2,312 pairs of dialogues that share a beginning and differ in the last
    assistant turn, in the format reward models train on. Convert with
    :func:`prefstat.convert.from_rlhf`.

    Parameters
    ----------
    data_home : str or path-like, optional
        Where data sets are kept; see :func:`get_data_home`.
    download_if_missing : bool, default True
        Download the file when it is not in the data home; with ``False`` a
        missing file is an error.

    Returns
    -------
    pandas.DataFrame
        Columns ``chosen`` and ``rejected``, one pair per row.

    Raises
    ------
    DataFetchError
        The file is missing and cannot be downloaded, or it fails the
        checksum.

    See Also
    --------
    prefstat.convert.from_rlhf : to the canonical comparison table.

    Notes
    -----
    Source: ``harmless-base/test.jsonl.gz`` of the repository
    anthropics/hh-rlhf (MIT), at commit 0398e363; kept gzipped as
    ``llm/hh_rlhf_harmless_base_test.jsonl.gz``. Bai et al. (2022),
    "Training a helpful and harmless assistant with reinforcement learning
    from human feedback", arXiv:2204.05862.

    Examples
    --------
    >>> from prefstat.datasets import fetch_hh_rlhf
    >>> pairs = fetch_hh_rlhf()  # doctest: +SKIP
    >>> pairs.shape  # doctest: +SKIP
    (2312, 2)
    """
    path = _fetch_file("hh_rlhf", data_home, download_if_missing)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return pd.read_json(handle, lines=True)


def fetch_nascar(data_home: str | os.PathLike[str] | None = None, *,
                 download_if_missing: bool = True) -> pd.DataFrame:
    """Finishing orders of the 36 races of the 2002 NASCAR season.

    The long ranking table ``race, driver, position`` of 87 drivers (43 per
    race, 1,548 rows), Hunter's (2004) Plackett–Luce example. Read it with
    :func:`prefstat.convert.validate_rankings` (``ranking="race"``,
    ``item="driver"``, ``rank="position"``).

    Parameters
    ----------
    data_home : str or path-like, optional
        Where data sets are kept; see :func:`get_data_home`.
    download_if_missing : bool, default True
        Accepted for a uniform signature; this file is never downloaded
        (see Notes).

    Returns
    -------
    pandas.DataFrame
        One row per driver and race.

    Raises
    ------
    DataFetchError
        The file is not in the data home, or it fails the checksum.

    See Also
    --------
    prefstat.convert.rankings_to_pairs : rankings as paired comparisons.

    Notes
    -----
    Source: ``data/nascar.rda`` of the R package PlackettLuce (repository
    hturner/PlackettLuce, GPL-3), at commit d3c00b0c, converted to the long
    CSV. Only the R data file is published, so the CSV cannot be downloaded:
    put it in the data home as ``rankings/nascar2002.csv``. Hunter (2004),
    "MM algorithms for generalized Bradley–Terry models", *Annals of
    Statistics* 32, 384–406.

    Examples
    --------
    >>> from prefstat.datasets import fetch_nascar
    >>> races = fetch_nascar()  # doctest: +SKIP
    >>> races["race"].nunique(), races["driver"].nunique()  # doctest: +SKIP
    (36, 87)
    """
    path = _fetch_file("nascar", data_home, download_if_missing)
    return pd.read_csv(path)


def fetch_sounds(data_home: str | os.PathLike[str] | None = None, *,
                 download_if_missing: bool = True) -> pd.DataFrame:
    """Pairwise choices of 46 assessors among 12 sounds, with cycles.

    Each assessor compared 30 pairs of sounds and chose the one that sounded
    more human-made: ``top_item`` was preferred to ``bottom_item``. The
    choices are documented to contain intransitive cycles. Convert with
    :func:`prefstat.convert.from_winner_loser` (``winner="top_item"``,
    ``loser="bottom_item"``, ``rater="assessor"``).

    Parameters
    ----------
    data_home : str or path-like, optional
        Where data sets are kept; see :func:`get_data_home`.
    download_if_missing : bool, default True
        Accepted for a uniform signature; this file is never downloaded
        (see Notes).

    Returns
    -------
    pandas.DataFrame
        Columns ``assessor, bottom_item, top_item``, one choice per row.

    Raises
    ------
    DataFetchError
        The file is not in the data home, or it fails the checksum.

    See Also
    --------
    prefstat.convert.from_winner_loser : to the canonical comparison table.

    Notes
    -----
    Source: ``data/sounds.rda`` of the R package BayesMallows (repository
    ocbe-uio/BayesMallows, GPL-3), at commit 8f031257, converted to CSV. Only
    the R data file is published, so the CSV cannot be downloaded: put it in
    the data home as ``raters/sounds.csv``. Barrett and Crispino (2018), "The
    impact of 3-D sound spatialisation on listeners' understanding of human
    agency in acousmatic music", *Journal of New Music Research* 47(5),
    399–415.

    Examples
    --------
    >>> from prefstat.datasets import fetch_sounds
    >>> sounds = fetch_sounds()  # doctest: +SKIP
    >>> sounds.shape, sounds["assessor"].nunique()  # doctest: +SKIP
    ((1380, 3), 46)
    """
    path = _fetch_file("sounds", data_home, download_if_missing)
    return pd.read_csv(path)


def fetch_wmt12(data_home: str | os.PathLike[str] | None = None, *,
                download_if_missing: bool = True) -> pd.DataFrame:
    """Human rankings of machine translations from the WMT12 manual evaluation.

    12,339 rankings by 230 judges (``judgeId``), each of five system outputs
    for one source sentence, in 8 language pairs (``srclang``, ``trglang``).
    The five displayed slots are the columns ``system1Id`` ... ``system5Id``
    with ranks ``system1rank`` ... ``system5rank`` (1 = best; ties allowed;
    ``-1`` = left blank). Convert one language pair with
    :func:`prefstat.convert.from_wide_rankings` (``slots=``, ``blank=-1``,
    ``gaps="rerank"``).

    Parameters
    ----------
    data_home : str or path-like, optional
        Where data sets are kept; see :func:`get_data_home`.
    download_if_missing : bool, default True
        Download the file when it is not in the data home; with ``False`` a
        missing file is an error.

    Returns
    -------
    pandas.DataFrame
        The CSV as published, one ranking per row (21 columns).

    Raises
    ------
    DataFetchError
        The file is missing and cannot be downloaded, or it fails the
        checksum.

    See Also
    --------
    prefstat.convert.from_wide_rankings : to the canonical long ranking table.

    Notes
    -----
    Source: ``wmt_data/wmt12-manual-evaluation/wmt12.RNK_results.csv`` of the
    repository Perilon/Meteor_POS, at commit 98a35170 (a copy of the WMT12
    manual evaluation's public release; no licence stated). Kept in the data
    home as ``rankings/wmt12_rnk_results.csv``. Callison-Burch et al. (2012),
    "Findings of the 2012 Workshop on Statistical Machine Translation",
    *Proceedings of the Seventh Workshop on Statistical Machine Translation*,
    10–51.

    Examples
    --------
    >>> from prefstat.datasets import fetch_wmt12
    >>> wmt = fetch_wmt12()  # doctest: +SKIP
    >>> wmt.shape, wmt["judgeId"].nunique()  # doctest: +SKIP
    ((12339, 21), 230)
    """
    path = _fetch_file("wmt12", data_home, download_if_missing)
    return pd.read_csv(path)
