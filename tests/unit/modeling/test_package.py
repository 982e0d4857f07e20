"""Reading packages from a directory and from an (untrusted) zip upload."""

from __future__ import annotations

import io
import zipfile

import pytest

from engine.domain.errors import ModelInvalidError
from engine.modeling import compile_model, read_package_dir, read_package_zip
from engine.modeling.package import MAX_ENTRIES

from .support import FIXTURES, fixture


def _zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _package_files(prefix: str = "") -> dict[str, bytes]:
    root = FIXTURES / "camunda-pbg"
    files = {f"{prefix}model.bpmn": (root / "model.bpmn").read_bytes(),
             f"{prefix}standard.json": (root / "standard.json").read_bytes()}
    for form in (root / "forms").glob("*.json"):
        files[f"{prefix}forms/{form.name}"] = form.read_bytes()
    return files


def _refusal(data: bytes) -> str:
    with pytest.raises(ModelInvalidError) as caught:
        read_package_zip(data)
    return " | ".join(p.message for p in caught.value.problems)


def test_directory_package():
    package = read_package_dir(FIXTURES / "camunda-pbg")
    assert package.bpmn_name == "model.bpmn"
    assert set(package.forms) == {"application.json", "payment.json", "verification.json"}
    assert package.standard is not None


def test_directory_without_single_bpmn(tmp_path):
    with pytest.raises(ModelInvalidError, match="1 problem"):
        read_package_dir(tmp_path)
    (tmp_path / "a.bpmn").write_bytes(b"x")
    (tmp_path / "b.bpmn").write_bytes(b"x")
    with pytest.raises(ModelInvalidError) as caught:
        read_package_dir(tmp_path)
    assert "found: a.bpmn, b.bpmn" in caught.value.problems[0].message


@pytest.mark.parametrize("prefix", ["", "pbg/"])
def test_zip_at_root_or_in_one_top_folder(prefix):
    files = {**_package_files(prefix), f"{prefix}scenarios/happy.json": b"{}",
             "__MACOSX/._model.bpmn": b"junk"}
    package = read_package_zip(_zip(files))
    assert package.bpmn == fixture("camunda-pbg/model.bpmn")
    assert set(package.forms) == {"application.json", "payment.json", "verification.json"}
    assert compile_model(package).key == "pbg"


def test_zip_with_a_single_differently_named_bpmn():
    files = _package_files()
    files["pbg.bpmn"] = files.pop("model.bpmn")
    assert read_package_zip(_zip(files)).bpmn_name == "pbg.bpmn"


@pytest.mark.parametrize("name", ["../model.bpmn", "/etc/model.bpmn", "forms/../../x.json",
                                  "C:/model.bpmn", "forms\\x.json"])
def test_zip_with_unsafe_entry_names(name):
    files = {**_package_files(), name: b"{}"}
    assert "is not a plain relative path" in _refusal(_zip(files))


def test_zip_bomb_ratio():
    files = {**_package_files(), "forms/huge.json": b" " * 2_000_000}
    assert "possible zip bomb" in _refusal(_zip(files))


def test_zip_with_too_many_entries():
    files = {**_package_files(), **{f"scenarios/{n}.json": b"{}" for n in range(MAX_ENTRIES)}}
    assert f"the limit is {MAX_ENTRIES}" in _refusal(_zip(files))


def test_oversized_bpmn_inside_a_zip():
    files = {"model.bpmn": b"<x>" + b"<!-- -->" * 700_000 + b"</x>"}
    assert "larger than" in _refusal(_zip(files, zipfile.ZIP_STORED))


@pytest.mark.parametrize("data", [b"", b"not a zip", fixture("minimal.bpmn"),
                                  _zip({"model.bpmn": b"x"})[:-30]],
                         ids=["empty", "text", "bpmn", "truncated-zip"])
def test_not_a_zip(data):
    assert "not a readable zip file" in _refusal(data)


def test_zip_without_bpmn_or_with_two():
    assert "found: none" in _refusal(_zip({"forms/a.json": b"{}"}))
    assert "found: a.bpmn, b.bpmn" in _refusal(_zip({"a.bpmn": b"", "b.bpmn": b""}))


def test_zip_with_bad_contents_fails_at_compile_with_located_problems():
    files = _package_files()
    files["forms/payment.json"] = b'{"type": 3}'
    package = read_package_zip(_zip(files))
    with pytest.raises(ModelInvalidError) as caught:
        compile_model(package)
    assert {p.file for p in caught.value.problems} == {"forms/payment.json"}
