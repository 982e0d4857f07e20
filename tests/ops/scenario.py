"""A small scenario for the operations tests: a region, a counter officer, a two-step model."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from tests.factories import make_region, make_user, tiny_bpmn, upload

APPLICANT = {"name": "Siti Aminah", "nik": "3273014501900002", "phone": "081234567890"}


@dataclass
class World:
    officer: dict[str, str]  # headers with the officer's bearer token
    token: str


def world(app: Flask, steps: int = 2, fee: str = "0") -> World:
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=steps, fee=fee))
    _, token = make_user(ctx, "front-office", region="3273", name="Dewi")
    return World({"Authorization": f"Bearer {token}"}, token)


def start_body() -> dict[str, object]:
    return {"process_key": "tiny", "applicant": dict(APPLICANT), "data": {}}
