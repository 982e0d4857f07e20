"""Regions' Ed25519 signing keys: private halves in a key directory, public halves anywhere.

Where the private keys live (and why): one PEM file per key, `<dir>/<region>/<key id>.pem`,
PKCS#8, created with mode 0600 in directories of mode 0700, under the directory named by
`PERMITFLOW_SIGNING_KEY_DIR` (a mounted secret volume in production). With
`PERMITFLOW_SIGNING_KEY_PASSPHRASE` set, each file is encrypted at rest with it (PKCS#8's
best available encryption); without it the files rely on the file system's permissions. The
database holds only public keys, so a copy of the database (a backup, a replica) can verify
every document but sign none. A private key is never logged, returned or stored elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.domain.errors import SigningKeyUnavailableError

_KEY_ID = re.compile(r"^\d{2,8}-[0-9a-f]{16}$")
_REGION = re.compile(r"^\d{2,8}$")


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key pair just made: its id and public half (hex of the 32 raw bytes)."""

    key_id: str
    public_key: str


@dataclass(frozen=True)
class KeyStore:
    """The directory of private keys, and the passphrase that encrypts them (if any)."""

    directory: Path
    passphrase: bytes | None = None

    def generate(self, region: str) -> NewKey:
        """Make a key pair for `region`, write its private half, return id and public half."""
        if not _REGION.match(region):
            raise ValueError(f"not a region code: {region!r}")
        private = Ed25519PrivateKey.generate()
        public = public_hex(private.public_key())
        key_id = f"{region}-{hashlib.sha256(bytes.fromhex(public)).hexdigest()[:16]}"
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(self.passphrase)
            if self.passphrase else serialization.NoEncryption()
        )
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        folder = self.directory / region
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self._path(key_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        return NewKey(key_id, public)

    def sign(self, key_id: str, message: bytes) -> str:
        """The hex Ed25519 signature of `message` by the private key `key_id`.

        Raises: SigningKeyUnavailableError when the key file is missing or unreadable.
        """
        try:
            pem = self._path(key_id).read_bytes()
            private = serialization.load_pem_private_key(pem, self.passphrase)
        except (OSError, ValueError, TypeError) as exc:
            # The message names the key id and the failure kind, never the key material.
            raise SigningKeyUnavailableError(
                f"the private signing key {key_id} cannot be read from the key directory "
                f"({type(exc).__name__}); see PERMITFLOW_SIGNING_KEY_DIR"
            ) from None
        if not isinstance(private, Ed25519PrivateKey):
            raise SigningKeyUnavailableError(f"the signing key {key_id} is not an Ed25519 key")
        return private.sign(message).hex()

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise ValueError(f"not a key id: {key_id!r}")
        return self.directory / key_id.split("-")[0] / f"{key_id}.pem"


@dataclass(frozen=True)
class DocumentSettings:
    """What issuing needs from configuration: the key directory, and the public address
    of this service (the QR code and the page print `<public_url>/verify/<number>`)."""

    keys: KeyStore
    public_url: str = "http://127.0.0.1:8000"

    def verify_url(self, number: str) -> str:
        """The public verification page of a document."""
        return f"{self.public_url.rstrip('/')}/verify/{number}"


def public_hex(key: Ed25519PublicKey) -> str:
    """A public key as hex of its 32 raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def signature_valid(public_key: str, message: bytes, signature: str) -> bool:
    """Whether `signature` (hex) is the Ed25519 signature of `message` by `public_key` (hex)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
