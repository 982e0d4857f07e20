"""Messages through the service layer: correlation, start, idempotency, upload rules."""

from __future__ import annotations

import uuid

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.services import applications, tasks, variables
from engine.services.messages import Message, correlate_message
from tests.factories import FIXTURES, make_region, make_user, upload

MODELS = FIXTURES / "bpmn" / "messages"


def model(name: str) -> bytes:
    return (MODELS / f"{name}.bpmn").read_bytes()


@pytest.fixture
def region(ctx: EngineContext) -> str:
    return make_region(ctx, "3273")


@pytest.fixture
def bank(ctx: EngineContext, region: str):
    return make_user(ctx, "integration", region=region)[0]


@pytest.fixture
def officer(ctx: EngineContext, region: str):
    upload(ctx, region, model("message-catch"))
    return make_user(ctx, "front-office", region=region)[0]


def start(ctx: EngineContext, officer, key: str = "message-catch", data=None):
    return applications.start_application(ctx, officer, "3273", key, {"name": "Siti"}, data or {})


def ready(view) -> list[str]:
    return [t.element_id for t in view.tasks if t.state == "ready"]


def data_of(ctx: EngineContext, app_id: uuid.UUID) -> dict:
    return variables.application_variables(ctx, make_user(ctx, "admin", region=None)[0], app_id)[
        "variables"
    ]


def test_a_message_reaches_the_intermediate_catch_event_and_its_data_the_process(
    ctx: EngineContext, officer, bank
) -> None:
    app = start(ctx, officer, data={"nib": "123"})
    assert app.status == "running" and ready(app) == []
    after = correlate_message(
        ctx, bank, Message("payment-confirmed", {"amount": 50000}, application_id=app.id)
    )
    assert after.id == app.id and ready(after) == ["review"]
    assert data_of(ctx, app.id) == {"nib": "123", "amount": 50000}
    history = [e.action for e in applications.get_application(ctx, officer, app.id).history]
    assert history == ["application.started", "message.correlated"]


def test_correlation_by_tracking_code_and_by_process_variables(
    ctx: EngineContext, officer, bank
) -> None:
    first = start(ctx, officer, data={"nib": "111"})
    second = start(ctx, officer, data={"nib": "222"})
    by_code = correlate_message(
        ctx, bank, Message("payment-confirmed", {}, tracking_code=second.tracking_code)
    )
    assert by_code.id == second.id
    by_value = correlate_message(
        ctx, bank, Message("payment-confirmed", {}, correlation={"nib": "111"})
    )
    assert by_value.id == first.id and ready(by_value) == ["review"]


def test_no_match_is_not_found_and_several_matches_conflict(
    ctx: EngineContext, officer, bank
) -> None:
    with pytest.raises(errors.MessageNotCorrelatedError):
        correlate_message(ctx, bank, Message("payment-confirmed", {}))
    start(ctx, officer, data={"nib": "1"})
    start(ctx, officer, data={"nib": "1"})
    with pytest.raises(errors.MessageAmbiguousError):
        correlate_message(ctx, bank, Message("payment-confirmed", {}))
    with pytest.raises(errors.MessageAmbiguousError):
        correlate_message(ctx, bank, Message("payment-confirmed", {}, correlation={"nib": "1"}))
    with pytest.raises(errors.MessageNotCorrelatedError):
        correlate_message(ctx, bank, Message("payment-confirmed", {}, correlation={"nib": "2"}))
    with pytest.raises(errors.MessageNotCorrelatedError):
        correlate_message(ctx, bank, Message("no-such-message", {}))


def test_a_message_for_an_application_not_waiting_for_it_is_not_found(
    ctx: EngineContext, officer, bank
) -> None:
    app = start(ctx, officer)
    correlate_message(ctx, bank, Message("payment-confirmed", {}, application_id=app.id))
    with pytest.raises(errors.MessageNotCorrelatedError):
        correlate_message(ctx, bank, Message("payment-confirmed", {}, application_id=app.id))


def test_redelivery_with_the_same_message_id_is_answered_once(
    ctx: EngineContext, officer, bank
) -> None:
    app = start(ctx, officer)
    message = Message("payment-confirmed", {"n": 1}, application_id=app.id, message_id="bni-77")
    first = correlate_message(ctx, bank, message)
    again = correlate_message(ctx, bank, message)
    assert again.id == first.id and ready(again) == ["review"]
    history = [e.action for e in applications.get_application(ctx, officer, app.id).history]
    assert history.count("message.correlated") == 1


def test_subscriptions_are_indexed_and_closed_when_taken(ctx: EngineContext, officer, bank) -> None:
    app = start(ctx, officer)
    with ctx.reader() as uow:
        rows = uow.repos.messages.waiting_for(app.id)
        assert [(r.element_id, r.name, r.region_code) for r in rows] == [
            ("wait_paid", "payment-confirmed", "3273")
        ]
        assert uow.repos.messages.waiting_named("3273", "payment-confirmed") == [app.id]
    correlate_message(ctx, bank, Message("payment-confirmed", {}, application_id=app.id))
    with ctx.reader() as uow:
        assert uow.repos.messages.waiting_for(app.id) == []
        assert uow.repos.messages.waiting_named("3273", "payment-confirmed") == []


def test_a_receive_task_waits_for_its_message(ctx: EngineContext, region: str, bank) -> None:
    upload(ctx, region, model("receive-task"))
    officer, _ = make_user(ctx, "front-office", region=region)
    app = start(ctx, officer, "receive-task")
    assert ready(app) == []
    after = correlate_message(
        ctx, bank, Message("oss-callback", {"nib": "9"}, application_id=app.id)
    )
    assert ready(after) == ["review"] and data_of(ctx, app.id)["nib"] == "9"


def test_an_interrupting_boundary_message_cancels_the_step(
    ctx: EngineContext, region: str, bank
) -> None:
    upload(ctx, region, model("message-boundary"))
    officer, _ = make_user(ctx, "front-office", region=region)
    app = start(ctx, officer, "message-boundary")
    assert ready(app) == ["review"]
    after = correlate_message(
        ctx, bank, Message("withdrawn", {"why": "applicant withdrew"}, application_id=app.id)
    )
    assert after.status == "completed" and after.tasks == []
    full = applications.get_application(ctx, officer, app.id)
    assert {t.element_id: t.state for t in full.tasks} == {"review": "cancelled"}


def test_a_non_interrupting_boundary_message_runs_beside_the_step(
    ctx: EngineContext, region: str, bank
) -> None:
    upload(ctx, region, model("message-boundary"))
    officer, _ = make_user(ctx, "front-office", region=region)
    app = start(ctx, officer, "message-boundary")
    after = correlate_message(
        ctx, bank, Message("note-added", {"note": "x"}, application_id=app.id)
    )
    assert sorted(ready(after)) == ["read_note", "review"]
    review = next(t for t in after.tasks if t.element_id == "review")
    note = next(t for t in after.tasks if t.element_id == "read_note")
    tasks.complete_task(ctx, officer, note.id, {})
    done = tasks.complete_task(ctx, officer, review.id, {})
    assert done.status == "completed"


def test_a_message_start_event_starts_an_application_and_plain_start_is_refused(
    ctx: EngineContext, region: str, bank
) -> None:
    upload(ctx, region, model("message-start"))
    officer, _ = make_user(ctx, "front-office", region=region)
    with pytest.raises(errors.StartsByMessageError, match="oss-application-submitted"):
        start(ctx, officer, "message-start")
    app = correlate_message(
        ctx, bank, Message("oss-application-submitted", {"nib": "5"}, message_id="oss-1")
    )
    assert app.process_key == "message-start" and ready(app) == ["review"]
    assert data_of(ctx, app.id) == {"nib": "5"}
    again = correlate_message(
        ctx, bank, Message("oss-application-submitted", {"nib": "5"}, message_id="oss-1")
    )
    assert again.id == app.id
    listed = applications.list_applications(ctx, officer, process_key="message-start")
    assert listed.total == 1


def test_only_admins_and_integration_accounts_send_messages_within_their_region(
    ctx: EngineContext, officer, bank
) -> None:
    app = start(ctx, officer)
    with pytest.raises(errors.PermissionDeniedError):
        correlate_message(ctx, officer, Message("payment-confirmed", {}, application_id=app.id))
    make_region(ctx, "3510")
    elsewhere, _ = make_user(ctx, "integration", region="3510")
    with pytest.raises(errors.NotFoundError):
        correlate_message(ctx, elsewhere, Message("payment-confirmed", {}, application_id=app.id))
    admin, _ = make_user(ctx, "admin", region=None)
    assert (
        correlate_message(ctx, admin, Message("payment-confirmed", {}, application_id=app.id)).id
        == app.id
    )


def test_a_message_must_name_one_target_at_most(ctx: EngineContext, officer, bank) -> None:
    app = start(ctx, officer)
    with pytest.raises(errors.InvalidInputError) as refused:
        correlate_message(
            ctx,
            bank,
            Message("payment-confirmed", {}, application_id=app.id, correlation={"a": 1}),
        )
    assert refused.value.problems[0].field == "correlation"


@pytest.mark.parametrize(
    ("name", "remove", "element"),
    [
        ("receive-task", ' messageRef="Message_oss"', "wait_oss"),
        ("message-catch", ' messageRef="Message_paid"', "wait_paid"),
        ("message-boundary", ' messageRef="Message_note"', "on_note"),
        ("message-catch", ' name="payment-confirmed"', "Message_paid"),
    ],
)
def test_a_catcher_without_a_named_message_is_refused_at_upload(
    ctx: EngineContext, region: str, name: str, remove: str, element: str
) -> None:
    broken = model(name).decode().replace(remove, "").encode()
    with pytest.raises(errors.ModelInvalidError) as refused:
        upload(ctx, region, broken)
    (problem,) = refused.value.problems
    assert problem.element_id == element and problem.line is not None
    assert "bpmn:message" in problem.message and "name" in problem.message


@pytest.mark.parametrize("target", ["catch", "start"])
def test_concurrent_redeliveries_of_one_message_id_all_get_the_first_answer(
    ctx: EngineContext, officer, bank, target: str
) -> None:
    from tests.service.test_concurrency import race

    if target == "catch":
        app = start(ctx, officer)
        message = Message("payment-confirmed", {"n": 1}, application_id=app.id, message_id="r-1")
    else:
        upload(ctx, "3273", model("message-start"))
        message = Message("oss-application-submitted", {"nib": "7"}, message_id="oss-r-1")
    outcomes = race(lambda _: correlate_message(ctx, bank, message), threads=6)
    assert [o.trace for o in outcomes if o.error] == [], "\n".join(o.trace for o in outcomes if o.error)[-3000:]
    answered = {o.value.id for o in outcomes}
    assert len(answered) == 1
    (app_id,) = answered
    history = [e.action for e in applications.get_application(ctx, officer, app_id).history]
    assert history.count("message.correlated") == 1
