"""Vendor the web console's JavaScript and CSS from the npm registry into the package.

    python tools/vendor_assets.py            # re-extract the pinned versions (checks integrity)
    python tools/vendor_assets.py --latest   # move every pin to the registry's newest version

Each package is fetched with npm's own client (`npm pack`), its tarball checked against the
registry's `dist.integrity` (pinned below, so a changed tarball is refused), and only the
files the console serves are extracted into `api/web/static/vendor/<package>/`, with the
package's licence. `VENDORED.json` and `VENDORED.md` beside them list package, version,
licence, integrity and files. Nothing is fetched when the server runs: the files are
committed, and `make serve` has no build step.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "api" / "web" / "static" / "vendor"

# package -> version, the registry's integrity of its tarball, and the files to keep
# (tarball path under `package/` -> name in the vendor folder).
PINS: dict[str, dict[str, object]] = {
    "bpmn-js": {
        "version": "18.31.1",
        "integrity": "sha512-Hc7LzrgwfcBRUAdI/380Q2v1MJ115atGEVGadawLfDbHdo+r+IkmNj8fuYPFmWglUYt1KYIaC46OeX16HGTKQw==",  # noqa: E501
        "license": "bpmn.io License (MIT terms; the bpmn.io watermark must stay visible)",
        "use": "the diagram viewer (navigated viewer: pan and zoom, no editing)",
        "files": {
            "dist/bpmn-navigated-viewer.production.min.js": (
                "bpmn-navigated-viewer.production.min.js"
            ),
            "dist/assets/diagram-js.css": "diagram-js.css",
            "dist/assets/bpmn-js.css": "bpmn-js.css",
            "LICENSE": "LICENSE",
        },
    },
    "swagger-ui-dist": {
        "version": "5.36.0",
        "integrity": "sha512-Lt6/Kb0gXmLdiabLhvso4VdJP9V7qJWB0zh0gzeXUV3+CMOTzMmvpJRSXN7EAjfwixwmoi9ezDbLHiexC7lA9A==",  # noqa: E501
        "license": "Apache-2.0",
        "use": "/api/docs, the OpenAPI document as pages",
        "files": {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "LICENSE": "LICENSE",
            "NOTICE": "NOTICE",
        },
    },
    "chart.js": {
        "version": "4.6.2",
        "integrity": "sha512-xachB+pPHjp0syJi7llUBA1w3kMYl6NF3o7eVrvjnWCT+IB2zMaF2pX5UYDiwbbfsioFEIRnAjreNOMsGj5TIA==",  # noqa: E501
        "license": "MIT",
        "use": "the SLA report's chart",
        "files": {"dist/chart.umd.min.js": "chart.umd.min.js", "LICENSE.md": "LICENSE.md"},
    },
    "axe-core": {
        "version": "4.14.1",
        "integrity": "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",  # noqa: E501
        "license": "MPL-2.0",
        "use": "accessibility checks: the browser tests run it inside each page",
        "files": {"axe.min.js": "axe.min.js", "LICENSE": "LICENSE"},
    },
}


def integrity_of(data: bytes) -> str:
    """The npm `dist.integrity` (SRI sha512) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def npm(*args: str) -> str:
    """Run the npm client; its output (arguments are this script's own, not user input)."""
    command = ["npm", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603


def latest(name: str) -> tuple[str, str]:
    """The registry's newest version of `name` and that tarball's integrity."""
    info = json.loads(npm("view", name, "version", "dist.integrity", "--json"))
    return info["version"], info["dist.integrity"]


def fetch(name: str, version: str, workdir: Path) -> bytes:
    """The package tarball, through `npm pack`."""
    out = json.loads(npm("pack", f"{name}@{version}", "--json", "--pack-destination", str(workdir)))
    return (workdir / out[0]["filename"]).read_bytes()


def extract(name: str, pin: dict[str, object], tarball: bytes, workdir: Path) -> list[str]:
    """Unpack the pinned files of one package into the vendor folder; their names."""
    target = VENDOR / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = workdir / f"{name}.tgz"
    archive.write_bytes(tarball)
    files: dict[str, str] = pin["files"]  # type: ignore[assignment]
    with tarfile.open(archive) as tar:
        for inner, out in files.items():
            member = tar.extractfile(f"package/{inner}")
            if member is None:
                raise SystemExit(f"{name}: {inner} is not in the tarball")
            (target / out).write_bytes(member.read())
    return sorted(files.values())


def write_manifest(entries: list[dict[str, object]]) -> None:
    """VENDORED.json (read by tests and the README) and VENDORED.md (for people)."""
    (VENDOR / "VENDORED.json").write_text(json.dumps(entries, indent=2) + "\n", "utf-8")
    lines = [
        "# Vendored assets",
        "",
        "Written by `tools/vendor_assets.py` from the npm registry; do not edit by hand.",
        "",
        "| package | version | licence | used for | files |",
        "|---|---|---|---|---|",
    ]
    for e in entries:
        files = ", ".join(f"`{f}`" for f in e["files"])  # type: ignore[attr-defined]
        lines.append(f"| {e['name']} | {e['version']} | {e['license']} | {e['use']} | {files} |")
    (VENDOR / "VENDORED.md").write_text("\n".join(lines) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    """Vendor every pinned package (or the newest ones with --latest)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latest", action="store_true", help="move pins to the newest versions")
    args = parser.parse_args(argv)
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, pin in PINS.items():
            if args.latest:
                pin["version"], pin["integrity"] = latest(name)
                print(f"{name}: newest is {pin['version']} (update PINS to keep it)")
            tarball = fetch(name, str(pin["version"]), Path(tmp))
            if integrity_of(tarball) != pin["integrity"]:
                print(f"{name}@{pin['version']}: integrity mismatch, refused", file=sys.stderr)
                return 1
            files = extract(name, pin, tarball, Path(tmp))
            entries.append({
                "name": name, "version": pin["version"], "license": pin["license"],
                "integrity": pin["integrity"], "use": pin["use"], "files": files,
            })  # fmt: skip
            print(f"{name}@{pin['version']}: {len(files)} files")
    write_manifest(entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
