"""prefstat.datasets.fetch_*: data home, local copies, downloads and checksums.

Downloads go to an HTTP server on 127.0.0.1 that serves a temporary folder; no
test touches the network. The registered checksums and data-home paths are
checked against the shared data folder where it is present.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import json
import threading
from pathlib import Path

import pandas as pd
import pytest

import prefstat
from prefstat import datasets
from prefstat.datasets import _fetch

ARENA_ROWS = [
    {"question_id": 0, "model_a": "gpt", "model_b": "llama", "winner": "model_a"},
    {"question_id": 1, "model_a": "llama", "model_b": "claude", "winner": "tie"},
]


class _Server:
    """A static file server on 127.0.0.1 that counts the requests it answers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def log_request(self, code="-", size="-"):
                server.requests.append(self.path)

            def log_message(self, *args):
                pass  # keep the test output clean

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, name: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/{name}"

    def publish(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return self.url(name)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    srv = _Server(root)
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join()


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _register(monkeypatch, name: str, **changes) -> _fetch._DataFile:
    spec = dataclasses.replace(_fetch._FILES[name], **changes)
    monkeypatch.setitem(_fetch._FILES, name, spec)
    return spec


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ data home
def test_data_home_argument_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("PREFSTAT_DATA", raising=False)
    assert datasets.get_data_home() == tmp_path / "user" / ".cache" / "prefstat"
    monkeypatch.setenv("PREFSTAT_DATA", str(tmp_path / "env"))
    assert datasets.get_data_home() == tmp_path / "env"
    assert datasets.get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert datasets.get_data_home("~/x") == tmp_path / "user" / "x"
    monkeypatch.setenv("PREFSTAT_DATA", "")
    assert datasets.get_data_home() == tmp_path / "user" / ".cache" / "prefstat"


def test_environment_variable_names_the_data_home(monkeypatch, server, home):
    data = _jsonl(ARENA_ROWS)
    _register(monkeypatch, "arena_battles", url=server.publish("b.jsonl", data), sha256=_sha(data))
    monkeypatch.setenv("PREFSTAT_DATA", str(home))
    datasets.fetch_arena_battles()
    assert (home / "llm" / "arena_hard_battles.jsonl").read_bytes() == data


# ------------------------------------------------------------------ downloads
def test_download_checks_and_keeps_the_file_then_reads_it_locally(monkeypatch, server, home):
    data = _jsonl(ARENA_ROWS)
    _register(monkeypatch, "arena_battles", url=server.publish("b.jsonl", data), sha256=_sha(data))
    first = datasets.fetch_arena_battles(home)
    assert server.requests == ["/b.jsonl"]
    kept = home / "llm" / "arena_hard_battles.jsonl"
    assert kept.read_bytes() == data
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no partial file left
    pd.testing.assert_frame_equal(first, pd.DataFrame(ARENA_ROWS))
    second = datasets.fetch_arena_battles(home)
    assert server.requests == ["/b.jsonl"]  # the second call read the local copy
    pd.testing.assert_frame_equal(first, second)


def test_download_with_a_wrong_checksum_is_an_error_and_saves_nothing(
        monkeypatch, server, home):
    data = _jsonl(ARENA_ROWS)
    _register(monkeypatch, "arena_battles", url=server.publish("b.jsonl", data),
              sha256=_sha(b"something else"))
    with pytest.raises(prefstat.DataFetchError, match="SHA-256") as info:
        datasets.fetch_arena_battles(home)
    assert isinstance(info.value, OSError) and isinstance(info.value, prefstat.PrefstatError)
    assert not (home / "llm").exists() or not any((home / "llm").iterdir())


def test_a_missing_remote_file_is_a_fetch_error(monkeypatch, server, home):
    _register(monkeypatch, "hh_rlhf", url=server.url("absent.jsonl.gz"))
    with pytest.raises(prefstat.DataFetchError, match="could not download"):
        datasets.fetch_hh_rlhf(home)
    assert server.requests == ["/absent.jsonl.gz"]


def test_gzipped_jsonl_download(monkeypatch, server, home):
    rows = [{"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi"}]
    data = gzip.compress(_jsonl(rows))
    _register(monkeypatch, "hh_rlhf", url=server.publish("t.jsonl.gz", data), sha256=_sha(data))
    pd.testing.assert_frame_equal(datasets.fetch_hh_rlhf(home), pd.DataFrame(rows))
    assert (home / "llm" / "hh_rlhf_harmless_base_test.jsonl.gz").read_bytes() == data


def test_pandalm_download_writes_nan_tokens_as_empty_strings(monkeypatch, server, home):
    published = b'[\n    {\n        "input": NaN,\n        "annotator1": 0\n    }\n]'
    kept = b'[\n    {\n        "input": "",\n        "annotator1": 0\n    }\n]'
    _register(monkeypatch, "pandalm", url=server.publish("testset-v1.json", published),
              sha256=_sha(kept))
    got = datasets.fetch_pandalm(home)
    assert (home / "llm" / "pandalm_testset_v1.json").read_bytes() == kept
    pd.testing.assert_frame_equal(got, pd.DataFrame({"input": [""], "annotator1": [0]}))


def test_download_if_missing_false_makes_no_request(monkeypatch, server, home):
    _register(monkeypatch, "arena_battles", url=server.url("b.jsonl"))
    with pytest.raises(prefstat.DataFetchError, match="download_if_missing=False"):
        datasets.fetch_arena_battles(home, download_if_missing=False)
    assert server.requests == []


# ---------------------------------------------------------------- local copies
def test_a_damaged_local_copy_is_an_error_and_is_kept(monkeypatch, server, home):
    data = _jsonl(ARENA_ROWS)
    _register(monkeypatch, "arena_battles", url=server.publish("b.jsonl", data), sha256=_sha(data))
    kept = home / "llm" / "arena_hard_battles.jsonl"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(data[:-10])
    with pytest.raises(prefstat.DataFetchError, match="delete it"):
        datasets.fetch_arena_battles(home)
    assert kept.read_bytes() == data[:-10]
    assert server.requests == []


@pytest.mark.parametrize("fetch, path", [
    (datasets.fetch_tulu_human_eval, "llm/tulu1_human_eval.csv"),
    (datasets.fetch_nascar, "rankings/nascar2002.csv"),
    (datasets.fetch_sounds, "raters/sounds.csv"),
])
def test_converted_files_are_read_from_the_data_home_only(fetch, path, home):
    with pytest.raises(prefstat.DataFetchError, match="no copy of the converted file"):
        fetch(home)
    local = home / path
    local.parent.mkdir(parents=True)
    local.write_text("x,y\n1,2\n")
    with pytest.raises(prefstat.DataFetchError, match="expected"):
        fetch(home)


def test_every_fetch_function_has_a_registered_file():
    fetchers = {n.removeprefix("fetch_") for n in datasets.__all__ if n.startswith("fetch_")}
    assert fetchers == set(_fetch._FILES)
    for spec in _fetch._FILES.values():
        assert spec.url is None or spec.url.startswith(
            ("https://raw.githubusercontent.com/", "https://media.githubusercontent.com/media/"))


# ------------------------------------------------- the shared data folder
SHARED_SHAPES = {
    # README of ../shared/data: rows of each file.
    "arena_battles": (2136, 4),
    "tulu_human_eval": (1150, 15),  # 15 columns: all of the source's
    "pandalm": (999, 10),
    "hh_rlhf": (2312, 2),
    "nascar": (36 * 43, 3),
    "sounds": (46 * 30, 3),
    "wmt12": (12339, 21),
}


@pytest.mark.parametrize("name", sorted(SHARED_SHAPES))
def test_registered_paths_and_checksums_match_the_shared_data(name, shared):
    spec = _fetch._FILES[name]
    home = shared(spec.path).parents[1]  # skips where ../shared/data is absent
    fetch = getattr(datasets, f"fetch_{name}")
    assert fetch(home, download_if_missing=False).shape == SHARED_SHAPES[name]
