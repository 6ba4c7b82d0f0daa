"""ResultStore: where results live, under file:// (default) or s3:// (boto3).

Layout (same under both)::

    {root}/sweeps/{sweep_id}/manifest.json
    {root}/sweeps/{sweep_id}/items/{item_key}/attempt-{n}/...   logs, written first
    {root}/sweeps/{sweep_id}/items/{item_key}/result.json       the commit record, written last and once
    {root}/sweeps/{sweep_id}/reports/...

Commit protocol: logs first, ``result.json`` last with create-if-absent semantics (``os.link`` on a
file system, ``IfNoneMatch="*"`` on S3 where the server honours it, probed once), so a second commit of
the same key is a no-op and a reader never sees a result without its logs.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import structlog

from orchestrator.errors import ConfigError
from workers.errors import InfraError, one_line

log = structlog.get_logger(__name__)

_TEMP_SUFFIX = ".tmp"


def _is_temp(name: str) -> bool:
    """A FileStore temp file (``.NAME.RANDOM.tmp``), never a key of its own."""
    return name.startswith(".") and name.endswith(_TEMP_SUFFIX)


RESULT, FAILURE, ATTEMPT_DIR = "result.json", "failure.json", "attempt-"


@dataclass(frozen=True)
class SweepPaths:
    """Object keys of one sweep, relative to the store root: the storage layout, defined once."""

    sweep_id: str

    @property
    def root(self) -> str:
        return f"sweeps/{self.sweep_id}"

    @property
    def manifest(self) -> str:
        return f"{self.root}/manifest.json"

    @property
    def items(self) -> str:
        return f"{self.root}/items/"

    def item(self, key: str) -> str:
        return f"{self.root}/items/{key}"

    def result(self, key: str) -> str:
        return f"{self.item(key)}/{RESULT}"

    def failure(self, key: str) -> str:
        """The latest infrastructure failure of an item without a verdict (overwritten; not a commit)."""
        return f"{self.item(key)}/{FAILURE}"

    def attempt(self, key: str, n: int) -> str:
        return f"{self.item(key)}/{ATTEMPT_DIR}{n}"

    def attempt_number(self, key: str, object_key: str) -> int | None:
        """n of an object key under ``attempt(key, n)``, else None."""
        head = f"{self.item(key)}/{ATTEMPT_DIR}"
        if not object_key.startswith(head):
            return None
        number = object_key[len(head) :].split("/", 1)[0]
        return int(number) if number.isdigit() else None

    def report(self, name: str) -> str:
        return f"{self.root}/reports/{name}"


class ResultStore(Protocol):
    """What the control plane needs from object storage. Every backend offers all of it (the conformance
    suite, tests/integration/test_store_conformance.py, runs each method on each backend); errors that
    outlast the backend's own retries raise InfraError."""

    url: str

    def ensure_ready(self) -> None:
        """Make the store usable (create the bucket or directory); safe to call concurrently."""
        ...

    def put(self, key: str, data: bytes) -> None: ...
    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Write ``data`` only if ``key`` does not exist; True when this call wrote it (commits)."""
        ...

    def get(self, key: str) -> bytes | None: ...
    def get_many(self, keys: Sequence[str]) -> Iterator[bytes | None]:
        """``get`` of each key, in order (a remote store reads several at a time)."""
        ...

    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> Iterator[str]: ...
    def keys_named(self, prefix: str, name: str) -> Iterator[str]:
        """Keys ``{prefix}{child}/{name}`` that exist, one level below ``prefix`` (which ends in "/")."""
        ...

    def get_named(self, prefix: str, name: str) -> Iterator[tuple[str, bytes]]:
        """``(key, data)`` of every ``{prefix}{child}/{name}``, in key order."""
        ...

    def delete(self, key: str) -> None: ...


class FileStore:
    """A directory on a (possibly shared) file system."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = f"file://{self.root}"
        self._root = str(self.root)  # keys are joined as strings: pathlib costs more than the I/O here

    def _file(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"unsafe store key {key!r}")
        return f"{self._root}/{key}" if key else self._root

    def put(self, key: str, data: bytes) -> None:
        path = self._file(key)
        tmp = self._write_temp(path, data)
        os.replace(tmp, path)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._file(key)
        tmp = self._write_temp(path, data)
        try:
            os.link(tmp, path)  # atomic create-if-absent, also on NFS
            return True
        except FileExistsError:
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    @staticmethod
    def _write_temp(path: str, data: bytes) -> str:
        parent, name = os.path.split(path)
        try:
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{name}.", suffix=_TEMP_SUFFIX)
        except FileNotFoundError:  # first object under this prefix
            os.makedirs(parent, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{name}.", suffix=_TEMP_SUFFIX)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    def get(self, key: str) -> bytes | None:
        try:  # plain fds: a buffered file object costs more than reading a result.json
            fd = os.open(self._file(key), os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError):  # no object under this key
            return None
        try:
            chunks = [os.read(fd, _READ)]
            while len(chunks[-1]) == _READ:  # a short read of a regular file is its end: one call mostly
                chunks.append(os.read(fd, _READ))
            return b"".join(chunks)
        except IsADirectoryError:  # a prefix, not an object
            return None
        finally:
            os.close(fd)

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._file(key))

    def list(self, prefix: str) -> Iterator[str]:
        """Keys starting with ``prefix`` (a plain string prefix, as on S3), temp files left out."""
        parent = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self._file(parent)
        if not os.path.isdir(base):
            return
        strip = len(self._root.rstrip("/")) + 1
        for dirpath, dirs, files in os.walk(base):
            rel = dirpath[strip:]
            rel = f"{rel}/" if rel else ""
            dirs[:] = [d for d in dirs if f"{rel}{d}/".startswith(prefix)]  # only where keys can match
            for name in files:
                if f"{rel}{name}".startswith(prefix) and not _is_temp(name):
                    yield f"{rel}{name}"

    def _children(self, prefix: str) -> tuple[str, ...]:
        """Names of the directories one level below ``prefix`` (which ends in "/"), sorted."""
        try:
            with os.scandir(self._file(prefix.rstrip("/"))) as entries:
                return tuple(sorted(e.name for e in entries if e.is_dir(follow_symlinks=False)))
        except (FileNotFoundError, NotADirectoryError):
            return ()

    def keys_named(self, prefix: str, name: str) -> Iterator[str]:
        """Keys ``{prefix}{child}/{name}`` that exist, one level below ``prefix`` (which ends in "/"):
        e.g. every item's result.json without walking the attempt directories beside them."""
        base = self._file(prefix.rstrip("/"))
        for child in self._children(prefix):
            if os.path.isfile(f"{base}/{child}/{name}"):
                yield f"{prefix}{child}/{name}"

    def get_named(self, prefix: str, name: str) -> Iterator[tuple[str, bytes]]:
        """``(key, data)`` of every ``{prefix}{child}/{name}``, children in sorted order: e.g. every
        item's result.json, read without a stat per item (an item without one is skipped)."""
        for child in self._children(prefix):
            key = f"{prefix}{child}/{name}"
            data = self.get(key)
            if data is not None:
                yield key, data

    def get_many(self, keys: Sequence[str]) -> Iterator[bytes | None]:
        return map(self.get, keys)

    def ensure_ready(self) -> None:
        os.makedirs(self._root, exist_ok=True)

    def delete(self, key: str) -> None:
        with contextlib.suppress(
            FileNotFoundError, IsADirectoryError, NotADirectoryError
        ):  # a no-op, as on S3
            os.unlink(self._file(key))


GET_WORKERS = 16
_READ = 1 << 20


class S3Store:
    """An S3 bucket (AWS, MinIO, SeaweedFS...). Credentials come from boto3's standard chain."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        retry_deadline_s: float = 300.0,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.endpoint_url = endpoint_url
        self.retry_deadline_s = retry_deadline_s
        cfg = Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            s3={"addressing_style": "path"},
            max_pool_connections=GET_WORKERS,
        )
        self._client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=cfg)
        self._conditional: bool | None = None

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _retry(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=wait_exponential(multiplier=0.5, max=10),
            stop=stop_after_delay(self.retry_deadline_s),
            reraise=True,
            before_sleep=lambda rs: log.warning("s3 retry", op=what, attempt=rs.attempt_number),
        )
        try:
            return retrying(fn, *args, **kwargs)
        except Exception as exc:
            if _is_transient(exc):
                raise InfraError(f"S3 {what} failed after retries: {_short_error(exc)}") from exc
            raise

    def put(self, key: str, data: bytes) -> None:
        self._retry("put", self._client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        if self._conditional is None:
            self._conditional = self._probe_conditional()
        if not self._conditional:  # single writer per key: the scheduler guarantees it
            if self.exists(key):
                return False
            self.put(key, data)
            return True
        try:
            self._retry(
                "commit",
                self._client.put_object,
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                IfNoneMatch="*",
            )
            return True
        except Exception as exc:
            if _status(exc) in (409, 412):
                return False
            raise

    def _probe_conditional(self) -> bool:
        """Does the server refuse a second ``IfNoneMatch="*"`` put? An outage is raised, not taken for no."""
        probe = f"_probe/{uuid.uuid4().hex}"
        self.put(probe, b"1")
        try:
            self._retry(
                "probe",
                self._client.put_object,
                Bucket=self.bucket,
                Key=self._key(probe),
                Body=b"2",
                IfNoneMatch="*",
            )
            honoured = False
        except InfraError:
            raise
        except Exception as exc:  # 412: honoured; 400/501 for an unknown header: not honoured
            honoured = _status(exc) in (409, 412)
        with contextlib.suppress(Exception):
            self.delete(probe)
        log.debug("s3 conditional put", honoured=honoured, url=self.url)
        return honoured

    def get(self, key: str) -> bytes | None:
        def get_body() -> bytes:  # the body is read inside the retry: a connection can drop mid-body
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
            return body

        try:
            data: bytes = self._retry("get", get_body)
        except Exception as exc:
            if _status(exc) == 404:
                return None
            raise
        return data

    def get_many(self, keys: Sequence[str]) -> Iterator[bytes | None]:
        """``get`` of every key, in order, ``GET_WORKERS`` at a time: reading many small objects is
        bound by the round trip, not the bandwidth (100,000 results one by one take minutes)."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(GET_WORKERS, thread_name_prefix="evalfleet-s3-get") as pool:
            for start in range(0, len(keys), 1000):  # a chunk at a time: no 100,000 futures at once
                yield from pool.map(self.get, keys[start : start + 1000])

    def exists(self, key: str) -> bool:
        try:
            self._retry("head", self._client.head_object, Bucket=self.bucket, Key=self._key(key))
            return True
        except Exception as exc:
            if _status(exc) == 404:
                return False
            raise

    def list(self, prefix: str) -> Iterator[str]:
        token: str | None = None
        strip = len(self.prefix) + 1 if self.prefix else 0
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._key(prefix)}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._retry("list", self._client.list_objects_v2, **kwargs)
            for obj in page.get("Contents", []):
                yield obj["Key"][strip:]
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def delete(self, key: str) -> None:
        self._retry("delete", self._client.delete_object, Bucket=self.bucket, Key=self._key(key))

    def keys_named(self, prefix: str, name: str) -> Iterator[str]:
        """One listing of everything below ``prefix`` (S3 has no directories to walk one level of)."""
        depth = prefix.count("/") + 1
        return (k for k in self.list(prefix) if k.endswith(f"/{name}") and k.count("/") == depth)

    def get_named(self, prefix: str, name: str) -> Iterator[tuple[str, bytes]]:
        keys = sorted(self.keys_named(prefix, name))
        for key, data in zip(keys, self.get_many(keys), strict=True):
            if data is not None:
                yield key, data

    def ensure_ready(self) -> None:
        self.ensure_bucket()

    def ensure_bucket(self) -> None:
        try:
            self._retry("head bucket", self._client.head_bucket, Bucket=self.bucket)
        except Exception as exc:
            if _status(exc) != 404:
                raise
            try:
                self._retry(
                    "create bucket",
                    self._client.create_bucket,
                    Bucket=self.bucket,
                    **bucket_location(self._client.meta.region_name),
                )
            except Exception as exc:
                if _error_code(exc) != "BucketAlreadyOwnedByYou":  # another process made it meanwhile
                    raise


def bucket_location(region: str | None) -> dict[str, Any]:
    """create_bucket's location for the client's region (store.region, else AWS_DEFAULT_REGION): S3
    puts a bucket created without one in us-east-1, and refuses that from another region's endpoint."""
    if not region or region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": region}}


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(code) if code is not None else None
    return None


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _is_transient(exc: BaseException) -> bool:
    """Worth retrying: no connection, a connection dropped mid-request or mid-body, 5xx (not 501), 429."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError, IncompleteReadError

    transient = (BotoConnectionError, HTTPClientError, IncompleteReadError, ConnectionError, TimeoutError)
    if isinstance(exc, transient):
        return True
    status = _status(exc)
    return status is not None and ((status >= 500 and status != 501) or status == 429)


def _short_error(exc: BaseException) -> str:
    return one_line(exc, 200)


def open_store(
    url: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    retry_window_s: float = 300.0,
) -> ResultStore:
    """A store from its URL: ``file://DIR`` (relative DIR allowed), a bare path, or ``s3://BUCKET/PREFIX``.
    ``retry_window_s``: how long an S3 call is retried on connection errors and 5xx before it fails."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = url[len("file://") :] if url.startswith("file://") else url
        return FileStore(Path(path or "."))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigError(f"no bucket in {url!r}", field="store.url", fix="write s3://BUCKET/PREFIX")
        endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        store = S3Store(
            parsed.netloc, parsed.path, endpoint_url=endpoint, region=region, retry_deadline_s=retry_window_s
        )
        return store
    raise ConfigError(
        f"unsupported store URL {url!r}", field="store.url", fix="use file://DIR or s3://BUCKET/PREFIX"
    )
