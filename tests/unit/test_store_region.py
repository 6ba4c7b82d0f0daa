"""The store's region: botocore reads AWS_DEFAULT_REGION (the Kubernetes Secret sets it, not AWS_REGION),
store.region wins, and a bucket made outside us-east-1 is created in that region."""

from __future__ import annotations

import pytest

from orchestrator.store import S3Store, bucket_location


def test_a_bucket_is_created_in_the_clients_region() -> None:
    assert bucket_location(None) == {}
    assert bucket_location("us-east-1") == {}  # S3's default: a constraint would be refused
    assert bucket_location("eu-west-1") == {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}


def test_the_region_comes_from_aws_default_region_unless_the_config_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    store = S3Store("bucket", "p", endpoint_url="http://127.0.0.1:9")
    assert store._client.meta.region_name == "eu-central-1"
    assert S3Store(
        "bucket", "p", endpoint_url="http://127.0.0.1:9", region="ap-south-1"
    )._client.meta.region_name == ("ap-south-1")
