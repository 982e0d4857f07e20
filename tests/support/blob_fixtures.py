"""The two document stores for tests: a directory, and moto's S3 server on loopback.

Import the fixtures into a conftest (`from tests.support.blob_fixtures import ...`); a test
taking `blob_store` runs once per store.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.persistence.blob_store import BlobStore, FileSystemBlobStore, S3BlobStore

S3_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    """The endpoint URL of a moto S3 server on 127.0.0.1 (any free port)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **S3_CREDENTIALS)


def new_bucket(endpoint: str) -> str:
    name = f"permitflow-test-{next(_buckets)}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["fs", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """A fresh, empty store of each kind."""
    if request.param == "fs":
        return FileSystemBlobStore(tmp_path / "documents")
    endpoint = request.getfixturevalue("moto_s3")
    return S3BlobStore(new_bucket(endpoint), client=s3_client(endpoint))
