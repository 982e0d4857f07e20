"""Browser tests: Debian's Chromium driven by Playwright, against the app served in a thread.

One browser and one server (SQLite, the shipped models imported) per test session; each
test gets a fresh browser context (no cookies). Without /usr/bin/chromium (`make test`
installs it when run as root) the browser tests skip, saying so.

Set PERMITFLOW_SCREENSHOTS=docs/screenshots to write the README's screenshots as the tests
pass each page (`python tools/screenshots.py` does that).
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.persistence.schema import upgrade
from engine.services import models
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# As the brief for CI asks: headless, no sandbox (root in CI), nothing fetched by the browser.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROLES = {
    "loket": ["front-office"],
    "teknis": ["technical-team"],
    "kepala": ["head-of-office"],
    "kasir": ["cashier"],
    "supervisor": ["supervisor"],
    "analis": ["analyst"],
}


@dataclass
class Site:
    """The served app: its address, engine context and one token per staff label."""

    base: str
    ctx: EngineContext
    tokens: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app(db_url: str) -> Iterator[Any]:
    """The app on a fresh database (SQLite and PostgreSQL), for the HTTP-level page tests."""
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "page-tests"})
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from werkzeug.serving import make_server

    path = tmp_path_factory.mktemp("web") / "web.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "TESTING": True})
    ctx: EngineContext = app.extensions["permitflow"]
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    tokens = {
        label: make_user(ctx, *roles, name=label.title())[1] for label, roles in ROLES.items()
    }
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{port}", ctx, tokens)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        ctx.session_factory.kw["bind"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "no /usr/bin/chromium: `make test` installs it as root (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives the browser a fresh, temporary user-data directory of its own.
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    tab = context.new_page()
    tab.problems = []  # console errors and CSP refusals seen on the page
    tab.on("console", lambda m: _problem(m) and tab.problems.append(m.text))
    tab.on("response", lambda r: _failed_asset(r) and tab.problems.append(f"{r.status} {r.url}"))
    tab.on("pageerror", lambda exc: tab.problems.append(str(exc)))
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


# Pages answer with their own status (404 for an unknown code, 409, 422 for refused forms) and
# the browser logs each; failed assets and scripts are caught by `_failed_asset` instead.
_PAGE_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of ")


def _problem(message: Any) -> bool:
    return bool(message.type == "error" and not _PAGE_STATUS.match(message.text))


def _failed_asset(response: Any) -> bool:
    return bool(response.status >= 400 and response.request.resource_type != "document")


def sign_in(page: Any, site: Site, label: str) -> None:
    """Sign in (in this page's context) as the staff member `label`."""
    page.goto(site.url("/masuk"))
    page.get_by_label("Token akses").fill(site.tokens[label])
    with page.expect_navigation():
        page.get_by_role("button", name="Masuk").click()


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Keluar").click()


def wait_diagrams(page: Any) -> list[dict[str, Any]]:
    """Wait until every diagram on the page is drawn; each one's state."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pf-diagram')]"
        ".every(d => d.dataset.ready === '1' || d.dataset.ready === 'error')"
    )
    result: list[dict[str, Any]] = page.evaluate(
        "() => [...document.querySelectorAll('.pf-diagram')].map(d => ({id: d.id,"
        " ready: d.dataset.ready, warnings: Number(d.dataset.warnings || 0),"
        " error: d.dataset.error || '', pinned: Number(d.dataset.pinned || 0)}))"
    )
    return result


def axe_violations(page: Any, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (run from the vendored file),
    leaving out the parts named by the CSS selectors in `exclude`."""
    page.add_script_tag(url="/assets/vendor/axe-core/axe.min.js")
    found: list[dict[str, Any]] = page.evaluate(
        """async (exclude) => (await axe.run({include: [document], exclude: exclude.map(s => [s])},
                                             {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""",
        list(exclude),
    )
    return found


def shot(page: Any, name: str) -> None:
    """Save a screenshot for the README when PERMITFLOW_SCREENSHOTS names a folder."""
    folder = os.environ.get("PERMITFLOW_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
