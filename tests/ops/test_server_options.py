"""`permitflow serve`'s gunicorn settings: the app's JSON line is the only request log."""

from __future__ import annotations

from gunicorn.config import Config

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
