"""Where applicants' documents are kept: by content hash, on the file system or S3.

A blob's key is the SHA-256 of its bytes (64 lowercase hex digits, checked before any path
or key is made from it), so a file name can never choose where anything is written, the same
document uploaded twice is stored once, and what is read back is checked against its name.
Writing is idempotent; the database row that refers to a blob is committed after the blob is
written (a failed commit can leave an unreferenced blob, never a row without its bytes).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from engine.domain.errors import DocumentStoreError

_DIGEST = re.compile(r"[0-9a-f]{64}")


def digest_of(data: bytes) -> str:
    """The content hash a blob is stored under."""
    return hashlib.sha256(data).hexdigest()


def _checked(digest: str) -> str:
    if not _DIGEST.fullmatch(digest):
        raise ValueError("a blob key is a SHA-256 in lowercase hex")
    return digest


def _verified(digest: str, data: bytes) -> bytes:
    if digest_of(data) != digest:
        raise DocumentStoreError(f"the stored document {digest[:12]} no longer matches its hash")
    return data


class BlobStore(Protocol):
    """Content-addressed bytes."""

    name: str

    def put(self, digest: str, data: bytes, media_type: str) -> None:
        """Keep `data` under `digest` (its SHA-256); nothing happens when it is there."""

    def get(self, digest: str) -> bytes:
        """The bytes under `digest`, checked against it. Raises: DocumentStoreError."""

    def delete(self, digest: str) -> None:
        """Forget the bytes under `digest` (no error when absent)."""


class FileSystemBlobStore:
    """Blobs as files `<root>/sha256/ab/cd/<digest>`, written to a temporary file in the same
    directory and renamed into place (a reader never sees half a file)."""

    name = "fs"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        digest = _checked(digest)
        return self.root / "sha256" / digest[:2] / digest[2:4] / digest

    def put(self, digest: str, data: bytes, media_type: str) -> None:
        path = self._path(digest)
        if path.exists():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o440)
            os.replace(temporary, path)
        except OSError as exc:
            raise DocumentStoreError(f"the document store cannot write: {exc.strerror}") from exc

    def get(self, digest: str) -> bytes:
        try:
            data = self._path(digest).read_bytes()
        except OSError as exc:
            raise DocumentStoreError(f"the document {digest[:12]} is not in the store") from exc
        return _verified(digest, data)

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)


class S3BlobStore:
    """Blobs as objects `<prefix>sha256/<digest>` of one bucket of any S3-compatible store
    (AWS S3, MinIO, Ceph); credentials come from boto3's usual chain (environment, files)."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "documents/",
        client: Any = None,
    ) -> None:
        if client is None:
            import boto3  # imported on use: a file-system deployment never loads it

            client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region)
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def _key(self, digest: str) -> str:
        return f"{self.prefix}sha256/{_checked(digest)}"

    def put(self, digest: str, data: bytes, media_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(digest), Body=data, ContentType=media_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise DocumentStoreError(f"the document store cannot write: {exc}") from exc

    def get(self, digest: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self._key(digest))
            data: bytes = found["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise DocumentStoreError(f"the document {digest[:12]} is not in the store") from exc
        return _verified(digest, data)

    def delete(self, digest: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))
        except (BotoCoreError, ClientError) as exc:
            raise DocumentStoreError(f"the document store cannot delete: {exc}") from exc
