"""Reading a model package from a directory or from one uploaded zip file.

A package is `model.bpmn` (or the single `*.bpmn`), `forms/*.json` and optionally
`standard.json` and `decisions/*.dmn` (DMN fee tables its formulas name); other files
(scenarios, README) are ignored. A zip may hold these at its root or inside one top folder.
Zips are untrusted: size, entry count and compression ratio are bounded, and entry names must
be plain relative paths.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from engine.domain.definitions import ModelPackage
from engine.domain.errors import ModelInvalidError
from engine.domain.problems import Problem
from engine.modeling.documents import MAX_JSON_BYTES
from engine.modeling.xmlsafe import MAX_BPMN_BYTES

MAX_ZIP_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 200
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, for entries past a few kilobytes
_RATIO_FREE_BYTES = 64 * 1024
_IGNORED_PREFIXES = ("__MACOSX/",)


def read_package_dir(path: Path) -> ModelPackage:
    """The package in `process_models/<region>/<key>/`.

    Raises: ModelInvalidError when the directory holds no BPMN file or several.
    """
    path = Path(path)
    bpmn_path = _choose_bpmn([p.name for p in path.glob("*.bpmn") if p.is_file()], str(path))
    forms_dir = path / "forms"
    forms = {p.name: p.read_bytes() for p in sorted(forms_dir.glob("*.json")) if p.is_file()}
    standard = path / "standard.json"
    decisions_dir = path / "decisions"
    decisions = {
        p.name: p.read_bytes() for p in sorted(decisions_dir.glob("*.dmn")) if p.is_file()
    }
    return ModelPackage(
        bpmn=(path / bpmn_path).read_bytes(),
        forms=forms,
        standard=standard.read_bytes() if standard.is_file() else None,
        bpmn_name=bpmn_path,
        decisions=decisions,
    )


def _choose_bpmn(names: Iterable[str], where: str) -> str:
    names = sorted(names)
    if "model.bpmn" in names:
        return "model.bpmn"
    if len(names) == 1:
        return names[0]
    found = ", ".join(names) if names else "none"
    raise _refused(f"{where} must hold model.bpmn or exactly one *.bpmn file (found: {found})")


def _refused(*messages: str) -> ModelInvalidError:
    problems = [Problem(m) for m in messages]
    noun = "problem" if len(problems) == 1 else "problems"
    return ModelInvalidError(f"{len(problems)} {noun} in the package", problems)


def read_package_zip(data: bytes) -> ModelPackage:
    """The package inside one uploaded zip file.

    Raises: ModelInvalidError when the zip is not a zip, breaks a limit, has unsafe
    entry names, or holds no single BPMN file.
    """
    if len(data) > MAX_ZIP_BYTES:
        raise _refused(f"the zip file is {len(data):,} bytes; the limit is {MAX_ZIP_BYTES:,}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _read_archive(archive)
    except ModelInvalidError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise _refused(f"the upload is not a readable zip file: {exc}") from None


def _read_archive(archive: zipfile.ZipFile) -> ModelPackage:
    entries = [
        i
        for i in archive.infolist()
        if not i.is_dir() and not i.filename.startswith(_IGNORED_PREFIXES)
    ]
    _check_entries(entries)
    names = _strip_top_folder([i.filename for i in entries])
    by_name = dict(zip(names, entries, strict=True))
    bpmn_name = _choose_bpmn([n for n in names if "/" not in n and n.endswith(".bpmn")], "the zip")
    forms = {
        PurePosixPath(n).name: _read(archive, i, MAX_JSON_BYTES)
        for n, i in by_name.items()
        if _is_form(n)
    }
    standard = by_name.get("standard.json")
    decisions = {
        PurePosixPath(n).name: _read(archive, i, MAX_JSON_BYTES)
        for n, i in by_name.items()
        if _is_decision(n)
    }
    return ModelPackage(
        bpmn=_read(archive, by_name[bpmn_name], MAX_BPMN_BYTES),
        forms=forms,
        standard=_read(archive, standard, MAX_JSON_BYTES) if standard else None,
        bpmn_name=bpmn_name,
        decisions=decisions,
    )


def _is_form(name: str) -> bool:
    path = PurePosixPath(name)
    return len(path.parts) == 2 and path.parts[0] == "forms" and path.suffix == ".json"


def _is_decision(name: str) -> bool:
    path = PurePosixPath(name)
    return len(path.parts) == 2 and path.parts[0] == "decisions" and path.suffix == ".dmn"


def _check_entries(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ENTRIES:
        raise _refused(f"the zip holds {len(entries)} files; the limit is {MAX_ENTRIES}")
    problems = [m for info in entries for m in _entry_problems(info)]
    names = [i.filename for i in entries]
    problems += [f"the zip holds {n!r} twice" for n in sorted(set(names)) if names.count(n) > 1]
    total = sum(i.file_size for i in entries)
    if total > MAX_TOTAL_BYTES:
        problems.append(f"the zip unpacks to {total:,} bytes; the limit is {MAX_TOTAL_BYTES:,}")
    if problems:
        raise _refused(*problems)


def _entry_problems(info: zipfile.ZipInfo) -> list[str]:
    name = info.filename
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or "\\" in name or ":" in name or ".." in path.parts:
        return [
            f"the zip entry {name!r} is not a plain relative path (no absolute paths, "
            "drive letters, backslashes or '..')"
        ]
    if info.flag_bits & 0x1:
        return [f"the zip entry {name!r} is encrypted"]
    if info.file_size > _RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(
        info.compress_size, 1
    ):
        return [
            f"the zip entry {name!r} is compressed more than {MAX_RATIO}:1; refused as a "
            "possible zip bomb"
        ]
    return []


def _strip_top_folder(names: list[str]) -> list[str]:
    """Names relative to the package root: drop one top folder that holds everything."""
    tops = {PurePosixPath(n).parts[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        prefix = tops.pop() + "/"
        return [n[len(prefix) :] for n in names]
    return names


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    # Read at most limit + 1 bytes: the header's size may lie.
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise _refused(f"{info.filename!r} is larger than {limit:,} bytes")
    return data
