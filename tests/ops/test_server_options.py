"""`permitflow serve`'s gunicorn settings: the app's JSON line is the only request log."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from gunicorn.config import Config

from api.commands import server
from api.commands.server import gunicorn_options


def test_gunicorn_writes_no_access_line_of_its_own() -> None:
    options = gunicorn_options("127.0.0.1", 8000, workers=2, threads=4)
    config = Config()
    for key, value in options.items():
        config.set(key, value)
    # gunicorn's line repeated the app's with the raw path (a tracking code, a task id).
    assert config.accesslog is None
    assert (config.workers, config.threads) == (2, 4)
    assert config.worker_class_str == "api.commands.server.ProblemWorker"


def test_heartbeat_files_live_in_memory_when_the_machine_has_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(server, "SHARED_MEMORY", str(tmp_path))
    assert gunicorn_options("h", 1, workers=1, threads=1)["worker_tmp_dir"] == str(tmp_path)
    monkeypatch.setattr(server, "SHARED_MEMORY", str(tmp_path / "absent"))
    assert "worker_tmp_dir" not in gunicorn_options("h", 1, workers=1, threads=1)


def test_each_worker_freezes_what_the_app_built_out_of_the_collectors_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = object()
    monkeypatch.setattr(server, "create_app", lambda: built)
    before = gc.get_freeze_count()
    try:
        application = server._Gunicorn({"bind": "127.0.0.1:0"})
        assert application.load() is built
        # The app's objects (and everything else alive then) are in the permanent
        # generation: a full collection during a request no longer walks them.
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
