"""The checks every ResultStore backend passes (file://, and s3:// on a real SeaweedFS server)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support.s3server import SeaweedS3, new_bucket_store

from orchestrator.commit import commit_result, committed_keys, failures, load_results, record_failure
from orchestrator.store import FileStore, ResultStore, S3Store, SweepPaths, _is_transient
from workers.models import Attempt, Result

BLOB = bytes(range(256)) * 3 + b"\x00\r\n\xff"
SWEEP = "sweep-1"


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest) -> ResultStore:
    backend: ResultStore = request.getfixturevalue(f"{request.param}_store")
    return backend


def put_many(store: ResultStore, items: dict[str, bytes]) -> None:
    with ThreadPoolExecutor(8) as pool:  # boto3's default connection pool holds 10
        list(pool.map(lambda kv: store.put(*kv), items.items()))


# --- objects --------------------------------------------------------------------------------------------


def test_put_get_round_trip_binary(store: ResultStore) -> None:
    store.put("a/b/blob.bin", BLOB)
    assert store.get("a/b/blob.bin") == BLOB
    store.put("a/b/blob.bin", b"second")
    assert store.get("a/b/blob.bin") == b"second"
    store.put("a/empty", b"")
    assert store.get("a/empty") == b""


def test_get_missing_is_none(store: ResultStore) -> None:
    assert store.get("no/such/key") is None
    store.put("dir/key", b"x")
    assert store.get("dir") is None  # a prefix of keys is not an object


def test_exists(store: ResultStore) -> None:
    assert store.exists("x/y.json") is False
    store.put("x/y.json", b"{}")
    assert store.exists("x/y.json") is True
    assert store.exists("x") is False
    assert store.exists("x/y") is False


def test_delete(store: ResultStore) -> None:
    store.put("d/k", b"1")
    store.put("d/keep", b"2")
    store.delete("d/k")
    assert store.get("d/k") is None
    assert store.exists("d/k") is False
    assert set(store.list("d/")) == {"d/keep"}
    store.delete("d/never-existed")  # a no-op, as on S3
    store.delete("d")  # a prefix of keys, not an object: a no-op too
    assert store.get("d/keep") == b"2"


def test_list_prefix_nested(store: ResultStore) -> None:
    keys = [
        "sweeps/s1/manifest.json",
        "sweeps/s1/items/k1/result.json",
        "sweeps/s1/items/k1/attempt-1/test_output.txt",
        "sweeps/s1/items/k2/attempt-2/run.log",
        "sweeps/s10/manifest.json",
        "top.txt",
    ]
    put_many(store, {k: k.encode() for k in keys})
    assert set(store.list("sweeps/s1/")) == set(keys[:4])
    assert set(store.list("sweeps/s1/items/k1/")) == set(keys[1:3])
    assert set(store.list("sweeps/s1")) == set(keys[:5])  # a string prefix, as on S3
    assert set(store.list("sweeps/s1/items/k")) == set(keys[1:4])
    assert set(store.list("top")) == {"top.txt"}
    assert set(store.list("")) == set(keys)
    assert list(store.list("nothing/")) == []


def test_list_more_than_one_page(store: ResultStore) -> None:
    items = {f"many/{i % 7}/obj-{i:05d}": str(i).encode() for i in range(1100)}
    put_many(store, items)
    store.put("many-not/x", b"")
    listed = list(store.list("many/"))
    assert len(listed) == 1100
    assert set(listed) == set(items)


# --- create-if-absent -----------------------------------------------------------------------------------


def test_put_if_absent_once(store: ResultStore) -> None:
    assert store.put_if_absent("c/result.json", b"first") is True
    assert store.put_if_absent("c/result.json", b"second") is False
    assert store.get("c/result.json") == b"first"
    assert list(store.list("c/")) == ["c/result.json"]


def test_put_if_absent_concurrent_one_winner(store: ResultStore) -> None:
    store.put_if_absent("warm/up", b"")  # S3: run the conditional-put probe before the race
    for round_ in range(2):  # SeaweedFS makes losers wait on a lock: ~2 s a round
        key = f"race/{round_}/result.json"
        barrier = threading.Barrier(8)

        def commit(i: int, key: str = key, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            return store.put_if_absent(key, f"writer-{i}".encode())

        with ThreadPoolExecutor(8) as pool:
            won = list(pool.map(commit, range(8)))
        assert won.count(True) == 1
        assert store.get(key) == f"writer-{won.index(True)}".encode()


def test_unsafe_keys_refused_on_file_store(file_store: FileStore, tmp_path: Path) -> None:
    for key in ("/etc/passwd", "../escape", "a/../../escape", "a/.."):
        with pytest.raises(ValueError, match="unsafe store key"):
            file_store.put(key, b"x")
        with pytest.raises(ValueError, match="unsafe store key"):
            file_store.get(key)
    assert not (tmp_path / "escape").exists()


# --- the commit protocol --------------------------------------------------------------------------------


class RecordingStore:
    """Delegates to a real store and records the order of writes."""

    def __init__(self, inner: ResultStore) -> None:
        self.inner = inner
        self.url = inner.url
        self.writes: list[tuple[str, str]] = []

    def put(self, key: str, data: bytes) -> None:
        self.writes.append(("put", key))
        self.inner.put(key, data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self.writes.append(("put_if_absent", key))
        return self.inner.put_if_absent(key, data)

    def get(self, key: str) -> bytes | None:
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str) -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.writes.append(("delete", key))
        self.inner.delete(key)


def make_result(key: str, verdict: Any = "resolved") -> Result:
    return Result(
        key=key,
        sweep_id=SWEEP,
        instance_id="demo__calc-1",
        repo="demo/calc",
        run="gold",
        repeat=0,
        seed=1234,
        verdict=verdict,
        reason="all FAIL_TO_PASS pass",
        patch_exists=True,
        patch_applied=True,
        test_exit_code=0,
        attempts=[Attempt(n=1, started_at=1.0, finished_at=2.5, verdict=verdict)],
        candidate_metadata={"scaffold": "none"},
    )


def make_outdir(root: Path, key: str, attempts: int = 1) -> Path:
    outdir = root / key
    for n in range(1, attempts + 1):
        (outdir / f"attempt-{n}").mkdir(parents=True)
        (outdir / f"attempt-{n}" / "test_output.txt").write_bytes(f"output of {key} #{n}\n".encode() + BLOB)
        (outdir / f"attempt-{n}" / "report.json").write_text(f'{{"{key}": {{"resolved": true}}}}')
    return outdir


def test_commit_uploads_logs_then_result(store: ResultStore, tmp_path: Path) -> None:
    paths = SweepPaths(SWEEP)
    recording = RecordingStore(store)
    assert commit_result(recording, make_result("k1"), make_outdir(tmp_path, "k1", attempts=2)) is True

    logs = {f"{paths.attempt('k1', n)}/{name}" for n in (1, 2) for name in ("test_output.txt", "report.json")}
    assert recording.writes[-1] == ("put_if_absent", paths.result("k1"))  # the commit record comes last
    written_before = {key for _op, key in recording.writes[:-1]}
    assert logs <= written_before
    assert set(store.list(paths.item("k1") + "/")) == {*written_before, paths.result("k1")}
    assert store.get(f"{paths.attempt('k1', 2)}/test_output.txt") == b"output of k1 #2\n" + BLOB
    record = Result.model_validate_json(store.get(paths.result("k1")) or b"")
    assert record.log_files["attempt-1/report.json"] == f"{paths.attempt('k1', 1)}/report.json"
    assert set(record.log_files.values()) == logs


def test_second_commit_is_a_noop(store: ResultStore, tmp_path: Path) -> None:
    paths = SweepPaths(SWEEP)
    assert commit_result(store, make_result("k1"), make_outdir(tmp_path / "a", "k1")) is True
    before = {key: store.get(key) for key in store.list(paths.item("k1") + "/")}

    again = make_outdir(tmp_path / "b", "k1")
    (again / "attempt-1" / "test_output.txt").write_text("a different run")
    assert commit_result(store, make_result("k1", verdict="unresolved"), again) is False
    assert {key: store.get(key) for key in store.list(paths.item("k1") + "/")} == before


def test_committed_keys_and_load_results(store: ResultStore, tmp_path: Path) -> None:
    paths = SweepPaths(SWEEP)
    results = [make_result("k1"), make_result("k2", verdict="unresolved")]
    for r in results:
        assert commit_result(store, r, make_outdir(tmp_path, r.key)) is True
    store.put(f"{paths.attempt('k3', 1)}/test_output.txt", b"logs, but the commit never happened")
    store.put(f"{paths.attempt('k4', 1)}/result.json", b"{}")  # not the commit record of k4
    store.put(SweepPaths("other").result("k5"), make_result("k5").model_dump_json().encode())

    assert committed_keys(store, SWEEP) == {"k1", "k2"}
    loaded = load_results(store, SWEEP)
    assert [r.key for r in loaded] == ["k1", "k2"]
    for want, got in zip(results, loaded, strict=True):
        assert got.model_dump(exclude={"log_files"}) == want.model_dump(exclude={"log_files"})
        assert got.log_files == {
            "attempt-1/report.json": f"{paths.attempt(want.key, 1)}/report.json",
            "attempt-1/test_output.txt": f"{paths.attempt(want.key, 1)}/test_output.txt",
        }
    assert committed_keys(store, "never-ran") == set()
    assert load_results(store, "never-ran") == []


def test_keys_named_and_get_named_look_one_level_down(store: ResultStore) -> None:
    put_many(
        store,
        {
            "p/items/b/result.json": b"B",
            "p/items/a/result.json": b"A",
            "p/items/a/attempt-1/result.json": b"not one level down",
            "p/items/c/failure.json": b"C",
            "p/itemsx/d/result.json": b"another prefix",
        },
    )
    assert sorted(store.keys_named("p/items/", "result.json")) == [
        "p/items/a/result.json",
        "p/items/b/result.json",
    ]
    assert list(store.get_named("p/items/", "result.json")) == [
        ("p/items/a/result.json", b"A"),
        ("p/items/b/result.json", b"B"),
    ]
    assert list(store.keys_named("p/items/", "failure.json")) == ["p/items/c/failure.json"]
    assert list(store.keys_named("nothing/", "result.json")) == []


def test_get_many_keeps_order_and_gives_none_for_missing(store: ResultStore) -> None:
    put_many(store, {"m/1": b"one", "m/3": b"three"})
    assert list(store.get_many(["m/3", "m/2", "m/1"])) == [b"three", None, b"one"]


def test_ensure_ready_is_idempotent(store: ResultStore) -> None:
    store.ensure_ready()
    store.ensure_ready()
    store.put("r/x", b"x")
    assert store.get("r/x") == b"x"


def test_an_infra_failure_is_recorded_beside_the_item_not_committed(
    store: ResultStore, tmp_path: Path
) -> None:
    failed = make_result("k9", verdict="error")
    record_failure(store, failed)
    assert committed_keys(store, SWEEP) == set()
    assert [r.key for r in failures(store, SWEEP)] == ["k9"]
    assert commit_result(store, make_result("k9"), make_outdir(tmp_path, "k9")) is True
    assert failures(store, SWEEP) == []  # a verdict since: no longer a failure


# --- S3 only ----------------------------------------------------------------------------------------


@pytest.mark.s3
def test_s3_get_many_keeps_order_across_chunks(s3_store: S3Store) -> None:
    keys = [f"many/{i:05d}" for i in range(1050)]  # more than one chunk of 1,000
    for i, key in enumerate(keys):
        if i % 7:
            s3_store.put(key, str(i).encode())
    got = list(s3_store.get_many(keys))
    assert got == [None if i % 7 == 0 else str(i).encode() for i in range(1050)]


@pytest.mark.s3
def test_s3_conditional_put_probe(s3_store: S3Store) -> None:
    assert s3_store._conditional is None
    assert s3_store.put_if_absent("p/result.json", b"1") is True
    assert s3_store._conditional is True  # SeaweedFS honours IfNoneMatch="*"
    assert list(s3_store.list("_probe/")) == []  # the probe cleans up after itself


@pytest.mark.s3
def test_s3_pause_and_resume(s3_server: SeaweedS3, s3_store: S3Store) -> None:
    s3_store.put("k", b"v")
    client = s3_server.client(max_attempts=1, timeout_s=1)
    s3_server.pause()
    try:
        with pytest.raises(Exception, match=r"[Tt]imeout"):
            client.get_object(Bucket=s3_store.bucket, Key=f"{s3_store.prefix}/k")
    finally:
        s3_server.resume()
    assert s3_store.get("k") == b"v"


@pytest.mark.s3
def test_s3_ensure_bucket_is_idempotent_and_race_free(s3_server: SeaweedS3) -> None:
    bucket = f"t-race-{uuid.uuid4().hex[:12]}"
    stores = [
        S3Store(bucket, f"p{i}", endpoint_url=s3_server.endpoint_url, region=s3_server.region)
        for i in range(4)
    ]
    barrier = threading.Barrier(len(stores))

    def ensure(store: S3Store) -> None:
        barrier.wait()
        store.ensure_bucket()

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(ensure, stores))
    stores[0].ensure_bucket()
    stores[0].put("k", b"v")
    assert stores[1].get("k") is None
    assert stores[0].get("k") == b"v"


def test_s3_transient_errors_are_retried_and_others_are_not() -> None:
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    def client_error(status: int, code: str) -> ClientError:
        response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(response, "PutObject")

    url = "http://127.0.0.1:1/b/k"
    for transient in (
        EndpointConnectionError(endpoint_url=url),
        ConnectionClosedError(endpoint_url=url),
        ReadTimeoutError(endpoint_url=url),
        client_error(500, "InternalError"),
        client_error(503, "SlowDown"),
        client_error(429, "TooManyRequests"),
    ):
        assert _is_transient(transient), transient
    for final in (
        client_error(404, "NoSuchKey"),
        client_error(412, "PreconditionFailed"),
        client_error(501, "NotImplemented"),
        client_error(403, "AccessDenied"),
        ValueError("x"),
    ):
        assert not _is_transient(final), final


@pytest.mark.s3
def test_s3_commit_survives_server_outage(s3_server: SeaweedS3, tmp_path: Path) -> None:
    store = new_bucket_store(s3_server, retry_deadline_s=90)
    assert commit_result(store, make_result("before"), make_outdir(tmp_path, "before")) is True
    outcome: dict[str, Any] = {}

    def commit_during_outage() -> None:
        try:
            outdir = make_outdir(tmp_path, "during")
            outcome["committed"] = commit_result(store, make_result("during"), outdir)
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    worker = threading.Thread(target=commit_during_outage)
    t0 = time.monotonic()
    with s3_server.outage():  # killed here; restarted on the same data and ports when the block ends
        worker.start()
        time.sleep(5)
        assert worker.is_alive()  # still retrying: nothing reached the server
    worker.join(timeout=90)
    assert not worker.is_alive()
    assert outcome == {"committed": True}, outcome
    assert time.monotonic() - t0 >= 5
    assert committed_keys(store, SWEEP) == {"before", "during"}
    paths = SweepPaths(SWEEP)
    for key in ("before", "during"):
        log = store.get(f"{paths.attempt(key, 1)}/test_output.txt")
        assert log == f"output of {key} #1\n".encode() + BLOB
    assert [r.key for r in load_results(store, SWEEP)] == ["before", "during"]
