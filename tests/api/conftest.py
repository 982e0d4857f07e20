from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from tests.factories import make_user
from tests.support.blob_fixtures import blob_store, moto_s3  # noqa: F401


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True,
                      "SIGNING_KEY_DIR": str(tmp_path / "signing-keys")})
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    _, token = make_user(app.extensions["permitflow"], "admin", region=None, name="admin")
    return {"Authorization": f"Bearer {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
