"""`permitflow keys` and `permitflow documents verify`, and the key directory's files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from engine.documents import KeyStore, signature_valid
from engine.domain.errors import SigningKeyUnavailableError
from tests.test_cli import ok, refused, run  # noqa: F401 - the fixture


def test_keys_rotate_and_list_and_an_unknown_document(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("PERMITFLOW_SIGNING_KEY_DIR", str(tmp_path / "keys"))
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    first = ok(run("keys", "rotate", "3273"))[-1].split("\t")
    second = ok(run("keys", "rotate", "3273"))[-1].split("\t")
    assert first[0] != second[0] and first[1] == "ed25519" and len(first[2]) == 64
    listed = [line.split("\t") for line in ok(run("keys", "list", "3273"))]
    assert [row[0] for row in listed] == [second[0], first[0]]
    assert listed[0][3] == "active" and listed[1][3] != "active"
    assert (tmp_path / "keys" / "3273" / f"{first[0]}.pem").is_file()
    refused(run("documents", "verify", "PBG-3273-2026-000001"), "no such document")
    refused(run("keys", "rotate", "9999"), "not found")


def test_private_keys_are_owner_only_files_encrypted_with_the_passphrase(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", b"correct horse battery staple")
    made = store.generate("3510")
    path = tmp_path / "keys" / "3510" / f"{made.key_id}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    signature = store.sign(made.key_id, b"statement")
    assert signature_valid(made.public_key, b"statement", signature)
    assert not signature_valid(made.public_key, b"statement!", signature)
    with pytest.raises(SigningKeyUnavailableError) as wrong:
        KeyStore(tmp_path / "keys", b"wrong").sign(made.key_id, b"statement")
    assert made.key_id in str(wrong.value) and "PRIVATE" not in str(wrong.value)
    with pytest.raises(SigningKeyUnavailableError):
        KeyStore(tmp_path / "elsewhere").sign(made.key_id, b"statement")
    with pytest.raises(SigningKeyUnavailableError, match="ValueError"):  # not a key id: no path
        store.sign("../../etc/passwd", b"statement")
