"""FileStore specifics: atomic create-if-absent, temp files, store URLs."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from orchestrator.errors import ConfigError
from orchestrator.store import FileStore, S3Store, open_store


def test_put_if_absent_links_a_complete_file(file_store: FileStore) -> None:
    assert file_store.put_if_absent("items/k/result.json", b'{"verdict": "resolved"}') is True
    path = file_store.root / "items/k/result.json"
    assert path.read_bytes() == b'{"verdict": "resolved"}'
    assert path.stat().st_nlink == 1  # the temp name it was linked from is gone
    assert file_store.put_if_absent("items/k/result.json", b"other") is False
    assert os.listdir(path.parent) == ["result.json"]


def test_put_if_absent_from_many_threads_has_one_winner_and_never_replaces(file_store: FileStore) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(16)

    def commit(i: int) -> None:
        barrier.wait()
        if file_store.put_if_absent("k/result.json", f"w{i}".encode()):
            winners.append(i)

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    path = file_store.root / "k/result.json"
    inode = path.stat().st_ino
    assert file_store.put_if_absent("k/result.json", b"late") is False
    assert path.stat().st_ino == inode  # a reader holding the file keeps the same one
    assert file_store.get("k/result.json") == f"w{winners[0]}".encode()
    assert os.listdir(path.parent) == ["result.json"]


def test_temp_files_are_never_listed(file_store: FileStore) -> None:
    file_store.put("items/k/attempt-1/test_output.txt", b"out")
    file_store.put("items/k/attempt-1/notes.tmp", b"a key of its own that happens to end in .tmp")
    leftover = file_store.root / "items/k/.result.json.x1y2z3.tmp"  # a writer died before its link
    leftover.write_bytes(b"partial")
    assert sorted(file_store.list("items/")) == [
        "items/k/attempt-1/notes.tmp",
        "items/k/attempt-1/test_output.txt",
    ]
    assert file_store.exists("items/k/result.json") is False


def test_list_keys_use_forward_slashes_and_skip_unrelated_dirs(file_store: FileStore) -> None:
    for key in ("sweeps/a/items/k1/result.json", "sweeps/ab/manifest.json", "sweeps/b/manifest.json"):
        file_store.put(key, b"{}")
    assert sorted(file_store.list("sweeps/a")) == ["sweeps/a/items/k1/result.json", "sweeps/ab/manifest.json"]
    assert list(file_store.list("sweeps/a/items/k1/result.json")) == ["sweeps/a/items/k1/result.json"]
    assert list(file_store.list("sweeps/c/")) == []
    assert list(FileStore(file_store.root / "not-made-yet").list("")) == []


def test_relative_file_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("file://./results")
    assert isinstance(store, FileStore)
    assert store.root == tmp_path / "results"
    assert store.url == f"file://{tmp_path}/results"
    store.put("x", b"1")
    assert (tmp_path / "results" / "x").read_bytes() == b"1"

    bare = open_store("results")
    assert isinstance(bare, FileStore)
    assert bare.root == tmp_path / "results"
    absolute = open_store(f"file://{tmp_path}/abs")
    assert isinstance(absolute, FileStore)
    assert absolute.root == tmp_path / "abs"


def test_s3_url_without_bucket_is_a_one_line_config_error() -> None:
    for url in ("s3://", "s3:///prefix"):
        with pytest.raises(ConfigError) as info:
            open_store(url)
        message = str(info.value)
        assert "\n" not in message
        assert "no bucket" in message
        assert "s3://BUCKET/PREFIX" in message


def test_unsupported_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported store URL 'gs://bucket/x'"):
        open_store("gs://bucket/x")


def test_s3_url_parses_bucket_and_prefix() -> None:
    store = open_store("s3://my-bucket/team/results/", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.url) == (
        "my-bucket",
        "team/results",
        "s3://my-bucket/team/results",
    )
    assert store.endpoint_url == "http://127.0.0.1:9"


def test_keys_named_lists_one_level_below_the_prefix(file_store: FileStore) -> None:
    for key in (
        "s/items/a/result.json",
        "s/items/b/attempt-1/result.json",
        "s/items/c/result.json",
        "s/items/c/attempt-1/started.json",
        "s/itemsx/d/result.json",
        "s/items/result.json",
    ):
        file_store.put(key, b"{}")
    assert sorted(file_store.keys_named("s/items/", "result.json")) == [
        "s/items/a/result.json",
        "s/items/c/result.json",
    ]
    assert list(file_store.keys_named("s/none/", "result.json")) == []
    assert list(file_store.keys_named("s/items/result.json/", "x")) == []  # a file, not a directory
