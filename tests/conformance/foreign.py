"""The acceptance sweep: models drawn in other tools, uploaded and driven over HTTP.

Each `.bpmn` file under a directory (SpiffWorkflow's test models, Camunda's examples, the
BPMN MIWG reference models; none of them is in this repository) is annotated as an analyst
would (`annotate.py`: DESIGN §2 and nothing more), uploaded through
`POST /api/v1/regions/{region}/process-models`, and, when accepted, started and driven:
every ready step completed with data its form accepts, messages the application waits for
delivered through `POST /api/v1/messages`, external tasks fetched and completed, due timers
fired by moving the clock on and running a worker pass. It stops when the application ends
or when nothing is ready and nothing waits: a stall.

Outcomes: `ran` (completed), `refused` (422 whose every problem is located and plain),
`unplain` (a refusal with an unlocated problem, a Python repr or another product's jargon),
`incident` (the application stopped in `error`; its error names the element), `stalled`,
`endless` (still running after MAX_ACTIONS actions: a loop the data does not leave), `500`,
`rejected` (another 4xx answered to a well-formed request), `skipped` (not a BPMN model with
a process: no analyst would upload it).

    python -m tests.conformance.foreign DIR [DIR ...] [--database-url URL] [--show refused]
"""

from __future__ import annotations

import io
import logging
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from engine.domain.actors import SYSTEM
from engine.services import users
from engine.services.worker import run_pass
from tests.conformance.annotate import Annotated, NotAModelError, annotate
from tests.conformance.runner import REGION, START
from tests.factories import Clock

MAX_ACTIONS = 80
MAX_RETRIES = 3  # retries after an incident, each with the data it missed
LOOP = 3  # completions of one step after which a waiting timer or message goes first
ACCEPTABLE = ("ran", "refused", "incident", "skipped")
# What a plain message never shows: a Python repr, an exception's class, the library's
# names, or another product's jargon.
UNPLAIN = [
    re.compile(p) for p in (
        r"0x[0-9a-fA-F]{6,}", r"<[A-Za-z_][\w.]* (object )?at ", r"Traceback", r"[Ss]piff",
        r"\b[A-Z][a-zA-Z]+(Error|Exception)\b", r"NoneType", r"\bTaskSpec\b", r"task_spec",
        r"\boperator\b", r"\bbpmn_id\b", r"__\w+__", r"\{'", r"\['",
    )
]


@dataclass
class Outcome:
    file: str
    outcome: str
    detail: str = ""
    actions: int = 0


def unplain(problem: dict[str, Any]) -> str | None:
    """Why a refusal's problem is not located and plain (None: it is)."""
    message = str(problem.get("message", ""))
    if not any(problem.get(k) for k in ("element_id", "line", "field")):
        return f"not located: {message}"
    for pattern in UNPLAIN:
        if pattern.search(message):
            return f"not plain ({pattern.pattern}): {message}"
    return None


class Sweep:
    """Uploads and drives models through one Flask app (one database, one region)."""

    def __init__(self, app: Flask) -> None:
        self.app, self.client = app, app.test_client()
        self.ctx = app.extensions["permitflow"]
        self.clock = Clock(START)
        self.ctx.clock = self.clock
        self.tokens: dict[str, str] = {}
        self.count, self.region = 0, REGION
        self.done: list[str] = []  # the element ids completed in the application driven
        self.sent: list[tuple[str, str]] = []  # the messages delivered to it

    def new_region(self) -> None:
        """Each model gets a region of its own: message names of one model do not reach
        another's applications, as in two regions."""
        self.count += 1
        self.region, self.tokens = f"{1100 + self.count}", {}
        admin = users.add_user(self.ctx, SYSTEM, "admin", ["admin"], None).token
        made = self.client.post("/api/v1/regions", json={"code": self.region, "name": "Kota"},
                                headers={"Authorization": f"Bearer {admin}"})
        assert made.status_code == 201, made.json

    def token(self, role: str) -> str:
        if role not in self.tokens:
            made = users.add_user(self.ctx, SYSTEM, f"petugas {role}", [role], self.region)
            self.tokens[role] = made.token
        return self.tokens[role]

    def call(self, method: str, url: str, role: str, **kw: Any) -> tuple[int, Any]:
        maker = kw.pop("files", None)
        for _ in range(2):
            headers = {"Authorization": f"Bearer {self.token(role)}"}
            try:
                files = {"data": maker()} if maker else {}  # a file is read once
                got = getattr(self.client, method)(url, headers=headers, **kw, **files)
            except Exception as exc:  # an exception escaping the app is a 500 too
                return 500, f"{type(exc).__name__}: {exc}"
            if got.status_code != 401:
                break
            self.tokens.pop(role)  # expired: the clock moved on past the token's life
        return got.status_code, got.json if got.is_json else got.get_data(as_text=True)

    def model(self, path: Path) -> Outcome:
        name = str(path)
        self.new_region()
        key = f"m{self.count:03d}-" + re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
        try:
            model = annotate(path.read_bytes(), key[:60].rstrip("-"))
        except NotAModelError as exc:
            return Outcome(name, "skipped", str(exc))
        status, body = self.upload(model)
        if status == 422:
            problems = body.get("errors", []) if isinstance(body, dict) else []
            bad = [why for p in problems if (why := unplain(p))]
            listed = "; ".join(f"{p.get('element_id') or p.get('line')}: {p.get('message')}"
                               for p in problems)
            return Outcome(name, "unplain" if bad or not problems else "refused",
                           "; ".join(bad) if bad else listed)
        if status != 201:
            return Outcome(name, "500" if status >= 500 else "rejected", f"upload {status}: {body}")
        return self.drive(name, model)

    def upload(self, model: Annotated) -> tuple[int, Any]:
        def files() -> dict[str, Any]:
            return {"bpmn": (io.BytesIO(model.bpmn), f"{model.key}.bpmn"),
                    "forms": [(io.BytesIO(b), n) for n, b in model.forms.items()]}

        return self.call("post", f"/api/v1/regions/{self.region}/process-models", "analyst",
                         files=files, content_type="multipart/form-data")

    def start(self, model: Annotated) -> tuple[int, Any]:
        status, body = self.call(
            "post", f"/api/v1/regions/{self.region}/applications", "front-office",
            json={"process_key": model.key, "applicant": {"name": "Siti Aminah"}, "data": {}})
        if status == 409 and isinstance(body, dict) and body.get("type", "").endswith(
                "starts-by-message"):
            for name in start_messages(model.bpmn):
                status, body = self.call("post", "/api/v1/messages", "integration",
                                         json={"name": name, "data": {}})
                if status == 200:
                    return 201, body
        return status, body

    def drive(self, name: str, model: Annotated) -> Outcome:
        status, body = self.start(model)
        if status != 201:
            return Outcome(name, "500" if status >= 500 else "rejected", f"start {status}: {body}")
        app_id, self.sent, retries = uuid.UUID(body["id"]), [], 0
        for n in range(MAX_ACTIONS):
            status, app = self.call("get", f"/api/v1/applications/{app_id}", "front-office")
            if status != 200:
                return Outcome(name, "500" if status >= 500 else "rejected", f"read {status}", n)
            if app["status"] == "completed":
                return Outcome(name, "ran", f"after {retries} retries" if retries else "", n)
            if app["status"] == "error":
                fix = repair(app.get("error") or {})
                if fix is None or retries >= MAX_RETRIES:
                    return Outcome(name, "incident", str(app.get("error")), n)
                retries += 1  # as an operator would: give the missing data and retry
                status, body = self.call(
                    "post", f"/api/v1/applications/{app_id}/retry", "supervisor",
                    json={"data": fix, "reason": "data yang kurang dilengkapi"},
                )
                if status >= 400:
                    kind = "500" if status >= 500 else "rejected"
                    return Outcome(name, kind, f"retry {fix}: {status} {body}", n)
                continue
            if app["status"] != "running":
                return Outcome(name, app["status"], "", n)
            status, answer = self.act(app, model)
            if status is None:
                return Outcome(name, "stalled", answer, n)
            if status >= 500:
                return Outcome(name, "500", answer, n)
            if status >= 400:
                return Outcome(name, "rejected", answer, n)
        return Outcome(name, "endless", f"still running after {MAX_ACTIONS} actions", MAX_ACTIONS)

    def act(self, app: dict[str, Any], model: Annotated) -> tuple[int | None, str]:
        """One action on a running application; (None, why) when there is none to take."""
        ready = [t for t in app["tasks"] if t["state"] == "ready"]
        done = self.done = [t["element_id"] for t in app["tasks"] if t["state"] == "completed"]
        looping = any(done.count(t["element_id"]) >= LOOP for t in ready)
        if ready and not looping:  # a step done LOOP times: let a waiting event end the loop
            return self.complete(ready[0], model)
        with self.ctx.uow() as uow:
            app_id = uuid.UUID(app["id"])
            waiting = [(m.name, m.element_id) for m in uow.repos.messages.waiting_for(app_id)]
            topics = [(x.topic, x.element_id) for x in uow.repos.external_tasks.pending_for(app_id)
                      if x.status == "open"]
            timers = sorted((t.due_at, t.element_id) for t in uow.repos.timers.waiting_for(app_id))
        if waiting:  # the one delivered least often first (a parallel multiple event waits for all)
            waiting.sort(key=lambda m: self.sent.count(m))
            self.sent.append(waiting[0])
            status, body = self.call("post", "/api/v1/messages", "integration", json={
                "name": waiting[0][0], "application_id": app["id"], "data": {}})
            return status, f"message {waiting[0]}: {status} {body}"
        if topics:
            return self.external(*topics[0])
        if timers:
            due = timers[0][0]
            due = due if due.tzinfo else due.replace(tzinfo=UTC)
            self.clock.now = max(self.clock.now, due.astimezone(START.tzinfo)) + timedelta(minutes=1)
            try:
                run_pass(self.ctx, self.clock.now)
            except Exception as exc:
                return 500, f"timer {timers[0][1]}: {type(exc).__name__}: {exc}"
            return 200, ""
        if ready:
            return self.complete(ready[0], model)
        waits = sorted({t["element_id"] for t in app["tasks"] if t["state"] != "completed"})
        return None, f"nothing ready, nothing waits (open: {waits})"

    def complete(self, task: dict[str, Any], model: Annotated) -> tuple[int, str]:
        role = "front-office" if task["role"] in ("applicant", "pemohon") else task["role"]
        data = dict(model.data.get(task["element_id"], {"catatan": "diperiksa"}))
        rounds = self.done.count(task["element_id"]) - LOOP + 1
        if rounds > 0 and model.answers:  # going round: answer what the conditions ask
            answer = model.answers[(rounds - 1) % len(model.answers)]
            data = {k: answer if isinstance(v, str) else v for k, v in data.items()}
        status, body = self.call("post", f"/api/v1/tasks/{task['id']}/complete", role,
                                 json={"data": data})
        return status, f"complete {task['element_id']}: {status} {body}"

    def external(self, topic: str, element_id: str) -> tuple[int, str]:
        status, fetched = self.call("post", "/api/v1/external-tasks/fetch-and-lock",
                                    "external-worker", json={
                                        "worker_id": "sweep", "max_tasks": 1, "lock_duration": 60000,
                                        "topics": [{"name": topic}]})
        if status != 200 or not fetched:
            return status if status != 200 else 409, f"fetch {topic}: {status} {fetched}"
        task_id = fetched[0]["id"]
        status, body = self.call("post", f"/api/v1/external-tasks/{task_id}/complete",
                                 "external-worker", json={"worker_id": "sweep", "variables": {}})
        return status, f"external {element_id}: {status} {body}"


def repair(error: dict[str, Any]) -> dict[str, Any] | None:
    """The data an operator would give to retry an application stopped by `error`: the
    variable a condition or script missed, the list a multi-instance step runs over, the
    key a data object wanted; None when the error is not about missing data."""
    message = str(error.get("message", ""))
    if found := re.search(r"runs once per item of '(\w+)'", message):
        return {found[1]: [1, 2, 3]}
    if found := re.search(r"name '(\w+)' is not defined|reads '(\w+)', which is not in", message):
        return {found[1] or found[2]: 0}  # falsy: a loop condition lets go, a default flow
    if found := re.search(r"data object .* \(under the key '(\w+)'", message):
        return {found[1]: "ya"}
    return None


def start_messages(bpmn: bytes) -> list[str]:
    """The names of the messages that start the executable process."""
    from lxml import etree

    root = etree.fromstring(bpmn, etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"b": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    names = {m.get("id"): m.get("name") or m.get("id") for m in root.iterfind("b:message", ns)}
    refs = root.xpath("//b:process[@isExecutable='true']/b:startEvent/b:messageEventDefinition"
                      "/@messageRef", namespaces=ns)
    return [names.get(str(r), str(r)) for r in refs]


def corpus(directories: list[Path]) -> list[Path]:
    """Every `.bpmn` file under `directories`, in a stable order."""
    return sorted({p for d in directories for p in d.rglob("*.bpmn") if p.is_file()})


def table(outcomes: list[Outcome]) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    rows = ["| outcome | models |", "|---|---|"]
    rows += [f"| {k} | {v} |" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    from api import create_app
    from engine.persistence.schema import upgrade

    parser = argparse.ArgumentParser(prog="python -m tests.conformance.foreign")
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--database-url", help="a migrated, empty database (default: SQLite)")
    parser.add_argument("--show", action="append", default=[], help="print this outcome's rows")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    url = args.database_url
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp()}/sweep.db"
        upgrade(url)
    sweep = Sweep(create_app({"DATABASE_URL": url, "TESTING": True}))
    outcomes = []
    for path in corpus(args.directories):
        outcome = sweep.model(path)
        outcomes.append(outcome)
        if outcome.outcome in args.show or "all" in args.show:
            print(f"{outcome.outcome:9} {outcome.actions:3} {path}\n          {outcome.detail[:600]}")
    print(table(outcomes))
    return 0 if all(o.outcome in ACCEPTABLE for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
