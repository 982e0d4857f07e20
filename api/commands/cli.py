"""The `permitflow` command: each subcommand is a thin wrapper over one service call."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from api.config import (
    NOTIFY_SETTINGS,
    configuration_problems,
    delivery_settings,
    describe_problems,
    setting,
    token_lifetime,
)
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.domain.definitions import ImportOutcome
from engine.domain.errors import EngineError
from engine.persistence import schema
from engine.services import models, regions, users

TIMEOUT_SETTINGS = ("DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT", "DB_LOCK_TIMEOUT")


def database_url() -> str:
    """PERMITFLOW_DATABASE_URL, as every command reads it."""
    return str(setting("DATABASE_URL"))


def engine_context() -> EngineContext:
    from api.wiring import build_context, database_timeouts

    return build_context(
        database_url(),
        timeouts=database_timeouts({n: setting(n) for n in TIMEOUT_SETTINGS}),
        read_url=setting("DATABASE_READ_URL") or None,
        cpu_seconds=setting("SCRIPT_CPU_SECONDS"),
        max_iterations=setting("SCRIPT_MAX_ITERATIONS"),
        max_state_bytes=setting("MAX_STATE_BYTES"),
        delivery=delivery_settings({n: setting(n) for n in NOTIFY_SETTINGS}),
        signing_key_dir=setting("SIGNING_KEY_DIR"),
        signing_key_passphrase=setting("SIGNING_KEY_PASSPHRASE"),
        public_url=setting("PUBLIC_URL"),
        live_cache_size=setting("LIVE_CACHE_SIZE"),
    )


def _fail(exc: EngineError) -> None:
    click.echo(f"error: {exc.detail}", err=True)
    for problem in exc.problems:
        where = ", ".join(f"{k}={v}" for k, v in problem.as_dict().items() if k != "message")
        click.echo(f"  - {problem.message}" + (f" ({where})" if where else ""), err=True)
    sys.exit(1)


class _Group(click.Group):
    """Turns engine errors into a message and exit status 1 instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EngineError as exc:
            _fail(exc)


@click.group(cls=_Group)
def main() -> None:
    """permitflow: BPMN permit procedures for Indonesian regional governments."""
    # Before any command reads a setting: every problem of the PERMITFLOW_* environment at
    # once (a typo, a value that cannot be read), exit status 2 like a usage error, no
    # traceback. `create_app` checks the same for a server started another way.
    problems = configuration_problems()
    if problems:
        click.echo(f"error: {describe_problems(problems)}", err=True)
        sys.exit(2)


@main.group(cls=_Group)
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema (PERMITFLOW_DATABASE_URL)."""
    schema.upgrade(database_url(), revision)
    click.echo(f"database at {revision}")


@main.group("regions", cls=_Group)
def regions_group() -> None:
    """Regions."""


@regions_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--timezone", default="Asia/Jakarta", show_default=True)
def regions_add(code: str, name: str, timezone: str) -> None:
    """Add a region (Kemendagri/BPS code, e.g. 3273)."""
    region = regions.create_region(engine_context(), SYSTEM, code, name, timezone)
    click.echo(f"region {region.code} {region.name} ({region.timezone})")


@regions_group.command("powers")
@click.argument("code")
@click.option("--acts-for-applicant", "acting", multiple=True, help="a role; repeat for several")
@click.option("--records-payments", "paying", multiple=True, help="a role; repeat for several")
def regions_powers(code: str, acting: tuple[str, ...], paying: tuple[str, ...]) -> None:
    """Declare which roles act for the applicant and record payments in a region (a power
    not given keeps its declaration or default); print every power's roles."""
    context = engine_context()
    declared = regions.get_powers(context, SYSTEM, code)
    declared.update({k: list(v) for k, v in
                     (("acts-for-applicant", acting), ("records-payments", paying)) if v})
    for power, roles in regions.set_powers(context, SYSTEM, code, declared).items():
        click.echo(f"{power}: {', '.join(roles)}")


@main.group("users", cls=_Group)
def users_group() -> None:
    """Users and their tokens."""


@users_group.command("add")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="repeat for several roles")
@click.option("--region", default=None, help="region code (not needed for admins)")
def users_add(name: str, roles: tuple[str, ...], region: str | None) -> None:
    """Create a user (known roles only); its token is printed once, alone on the last line."""
    user = users.add_user(engine_context(), SYSTEM, name, list(roles), region, _lifetime())
    expires = user.expires_at.isoformat() if user.expires_at else "never"
    click.echo(
        f"user {user.id} {user.name} roles={','.join(user.roles)} region={user.region_code or '-'}"
        f" token expires {expires}"
    )
    click.echo(user.token)


def _lifetime() -> Any:
    return token_lifetime(setting("TOKEN_LIFETIME_DAYS"))


@users_group.command("list")
@click.option("--region", default=None)
def users_list(region: str | None) -> None:
    """Users, their roles and their tokens' states (never the tokens)."""
    for user in users.list_users(engine_context(), SYSTEM, region):
        state = "active" if user["active"] else "disabled"
        click.echo(f"user {user['id']} {user['name']} roles={','.join(user['roles'])} "
                   f"region={user['region'] or '-'} {state}")
        for token in user["tokens"]:
            expires = token["expires_at"].isoformat() if token["expires_at"] else "never"
            click.echo(f"  token {token['id']} {token['state']} expires {expires}")


@users_group.command("token")
@click.argument("user_id", type=int)
def users_token(user_id: int) -> None:
    """Issue a new token to a user; it is printed once, alone on the last line."""
    issued = users.issue_token(engine_context(), SYSTEM, user_id, _lifetime())
    expires = issued["expires_at"].isoformat() if issued["expires_at"] else "never"
    click.echo(f"token {issued['id']} of user {user_id} expires {expires}")
    click.echo(issued["token"])


@users_group.command("revoke")
@click.argument("user_id", type=int)
@click.argument("token_id", type=int)
def users_revoke(user_id: int, token_id: int) -> None:
    """Revoke one token of a user (see `users list`)."""
    users.revoke_token(engine_context(), SYSTEM, user_id, token_id)
    click.echo(f"token {token_id} of user {user_id} revoked")


@users_group.command("disable")
@click.argument("user_id", type=int)
def users_disable(user_id: int) -> None:
    """Disable a user: every token of theirs stops working."""
    users.disable_user(engine_context(), SYSTEM, user_id)
    click.echo(f"user {user_id} disabled")


@main.group("models", cls=_Group)
def models_group() -> None:
    """Process models."""


@models_group.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def models_import(directory: Path) -> None:
    """Import DIR/<region>/<key>/ packages; unchanged ones are skipped."""
    for region, key, version, outcome in models.import_directory(
        engine_context(), SYSTEM, directory
    ):
        line = f"{region}/{key}@{version} {outcome}"
        if outcome == ImportOutcome.KEPT_UPLOAD:
            line += (
                f": version {version} was uploaded, not imported; the shipped package is not "
                "published over it (upload it to publish it)"
            )
        click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="API processes (gunicorn)")
@click.option("--threads", default=4, show_default=True, type=int, help="threads per API process")
@click.option("--no-worker", is_flag=True, help="do not run the SLA/timer worker beside the API")
def serve(host: str, port: int, workers: int, threads: int, no_worker: bool) -> None:
    """Serve the API and the web console with gunicorn."""
    from api.commands.server import run_server
    from api.config import MissingSecretError, ensure_secret_key

    try:
        ensure_secret_key()  # before the fork: every gunicorn worker signs sessions alike
    except MissingSecretError as exc:
        raise click.ClickException(str(exc)) from None

    run_server(host, port, workers=workers, threads=threads, with_worker=not no_worker)


@main.command()
@click.option(
    "--keep",
    type=click.Path(path_type=Path),
    default=None,
    help="keep the demo database at this path instead of a temporary file",
)
def demo(keep: Path | None) -> None:
    """Run scripted applications through the shipped models on a throw-away SQLite database."""
    from api.commands.demo import run_demo

    if run_demo(keep, click.echo):
        sys.exit(1)


@main.command()
@click.option("--once", is_flag=True, help="run one pass and exit")
@click.option("--now", "now_text", default=None, help="ISO time to run at (replay); implies --once")
@click.option(
    "--interval",
    default=None,
    type=float,
    help="seconds between passes [default: PERMITFLOW_WORKER_INTERVAL or 30]",
)
@click.option(
    "--metrics-port",
    default=0,
    type=click.IntRange(0, 65535),
    help="answer Prometheus metrics on this port (0: not; `serve`'s own worker needs none)",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
def worker(
    once: bool,
    now_text: str | None,
    interval: float | None,
    metrics_port: int,
    metrics_host: str,
) -> None:
    """Fire due timers, mark overdue steps and applications, deliver due notifications."""
    from api.commands.worker import run_forever
    from api.observability import configure_logging
    from engine.services.ops import record_heartbeat
    from engine.services.worker import run_pass

    context = engine_context()
    if once or now_text:
        report = run_pass(context, aware_time(now_text) if now_text else None)
        record_heartbeat(context, 0)
        click.echo(
            f"timers fired: {report.timers_fired}, steps breached: {report.steps_breached}, "
            f"applications breached: {report.applications_breached}"
            + (f", timers failed: {report.timers_failed}" if report.timers_failed else "")
            + _notifications_line(report.notifications)
        )
        return
    # The long-running worker logs as the API does (JSON lines); --once prints its report.
    configure_logging(setting("LOG_LEVEL"), str(setting("LOG_FORMAT")).lower())
    stop = threading.Event()
    # SIGTERM (systemd stop, `kill`): finish the item in hand (a timer, a batch of breaches:
    # each its own transaction), skip the rest of the pass and exit 0; nothing is left
    # half-done, and the next worker's pass takes what this one did not reach.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_forever(
        context,
        interval or setting("WORKER_INTERVAL"),
        stop,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        metrics_token=str(setting("METRICS_TOKEN") or ""),
    )


def _notifications_line(report: Any) -> str:
    if not (report.sent or report.failed or report.dead or report.purged):
        return ""
    return (f", notifications sent: {report.sent}, failed: {report.failed}, "
            f"dead letters: {report.dead}, purged: {report.purged}")


def aware_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the time with its offset, e.g. 2026-03-16T10:00:00+07:00")
    return moment


@models_group.command("diff")
@click.argument("a")
@click.argument("b")
def models_diff(a: str, b: str) -> None:
    """Print the structural diff of two versions, each REGION/KEY@VERSION (e.g. 3273/pbg@1)."""
    from engine.domain.diff import render_text
    from engine.services.versions import diff_versions

    click.echo(render_text(diff_versions(engine_context(), SYSTEM, a, b)), nl=False)


@models_group.command("publish")
@click.argument("region")
@click.argument("key")
@click.argument("version", type=int)
def models_publish(region: str, key: str, version: int) -> None:
    """Publish a version: new applications start on the newest published one."""
    from engine.services.versions import publish_version

    found = publish_version(engine_context(), SYSTEM, region, key, version)
    click.echo(f"{found.region}/{found.key}@{found.version} {found.status}")


@models_group.command("retire")
@click.argument("region")
@click.argument("key")
@click.argument("version", type=int)
def models_retire(region: str, key: str, version: int) -> None:
    """Retire a version: running applications finish on it, new ones do not start on it."""
    from engine.services.versions import retire_version

    found = retire_version(engine_context(), SYSTEM, region, key, version)
    click.echo(f"{found.region}/{found.key}@{found.version} {found.status}")


def _register_more() -> None:
    from api.commands import audit, backups, calendar, keys, money

    calendar.register(main, _Group)
    audit.register(main, _Group)
    money.register(main, _Group)
    backups.register(main, _Group)
    keys.register(main, _Group)


_register_more()


if __name__ == "__main__":
    main()
