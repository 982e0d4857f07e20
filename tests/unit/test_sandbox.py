"""The sandbox for analysts' Python: what runs, what is refused, and that every bomb stops.

Expressions and scripts run through `SandboxedScriptEngine().environment` (task data in,
result or changed data out); the workflow tests run real BPMN through SpiffWorkflow.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.sandbox._runtime import Runtime
from engine.workflow.script_engine import (
    SandboxedScriptEngine,
    ScriptError,
    ScriptForbiddenError,
    ScriptLimitExceededError,
    ScriptLimits,
    check_code,
)

ENGINE = SandboxedScriptEngine()
# CPU seconds of this process: a generous bound for "stopped quickly" that other load on
# the machine cannot break (wall time is not asserted anywhere: shared machines are noisy).
QUICK = 5.0
HANG_GUARD = 120  # wall seconds a join may wait before the test gives up on a thread


def evaluate(expression: str, **data: Any) -> Any:
    return ENGINE.environment.evaluate(expression, data)


def execute(script: str, **data: Any) -> dict[str, Any]:
    ENGINE.environment.execute(script, data)
    return data


# Allowed code gives the right results -------------------------------------------------------


@pytest.mark.parametrize(("expression", "data", "expected"), [
    ("amount > 1000000 and kind == 'PBG'", {"amount": 2_500_000, "kind": "PBG"}, True),
    ("luas <= 100 or fungsi in ('hunian', 'sosial')", {"luas": 150, "fungsi": "usaha"}, False),
    ("not approved", {"approved": False}, True),
    ('"PT2H"', {}, "PT2H"),
    ('f"PT{hours}H"', {"hours": 4}, "PT4H"),
    ('f"P{days}D" if days else "PT1H"', {"days": 3}, "P3D"),
    ("f'{amount:,}|{ratio:.1%}|{name!r:>6}'", {"amount": 1500000, "ratio": 0.25, "name": "x"},
     "1,500,000|25.0%|   'x'"),
    ("[d['name'] for d in docs if d['ok']]",
     {"docs": [{"name": "ktp", "ok": True}, {"name": "npwp", "ok": False}]}, ["ktp"]),
    ("{k: v * 2 for k, v in fees.items()}", {"fees": {"a": 1, "b": 2}}, {"a": 2, "b": 4}),
    ("sum(x for x in range(5))", {}, 10),
    ("len(items) > 0 and all(i['qty'] > 0 for i in items)", {"items": [{"qty": 1}]}, True),
    ("sorted(names, key=str.lower)", {"names": ["b", "A", "c"]}, ["A", "b", "c"]),
    ("max(a, b) - min(a, b) + abs(-3) + round(2.5) + divmod(7, 2)[0]", {"a": 1, "b": 5}, 12),
    ("pow(2, 10) + 2 ** 10 + (1 << 3)", {}, 2056),
    ("isinstance(v, (int, float)) and not isinstance(v, str)", {"v": 3}, True),
    ("int('42') + int(2.9) + float('1.5')", {}, 45.5),
    ("str(5) + '-' + 'a,b'.split(',')[1].upper()", {}, "5-B"),
    ("date(2027, 1, 31) + timedelta(days=1)", {}, date(2027, 2, 1)),
    ("(submitted + timedelta(hours=2)).isoformat()", {"submitted": datetime(2027, 1, 4, 9)},
     "2027-01-04T11:00:00"),
    ("f'{d:%Y-%m-%d}'", {"d": date(2027, 1, 4)}, "2027-01-04"),
    ("(lambda n: n * 1000)(fee)", {"fee": 5}, 5000),
    ("'x'.ljust(3, '-') + 'ab' * 2 + '%05d' % 42", {}, "x--abab00042"),
    ("type == 'baru'", {"type": "baru"}, True),  # a field named like a builtin stays usable
])
def test_allowed_expressions_give_the_right_result(expression, data, expected):
    assert check_code(expression, mode="eval") == []
    assert evaluate(expression, **data) == expected


FEE_SCRIPT = """\
RATE_PER_M2 = 10000
def retribusi(luas, koefisien):
    return int(luas * RATE_PER_M2 * koefisien)

koefisien = 1.5 if fungsi == 'usaha' else 1.0
fee = retribusi(luas, koefisien)
items = [{'name': d, 'fee': 25000} for d in documents]
for item in items:
    fee += item['fee']
total = 0
while total < fee:
    total = total + 100000
try:
    discount = 1000000 // diskon_persen
except ZeroDivisionError:
    discount = 0
summary = f"Retribusi {fee:,} rupiah untuk {len(items)} dokumen"
"""


def test_a_fee_script_lands_in_task_data_and_stays_json_serializable():
    data = execute(FEE_SCRIPT, luas=120, fungsi="usaha", documents=["ktp", "imb"],
                   diskon_persen=0)

    assert data["fee"] == 1_850_000
    assert data["total"] == 1_900_000
    assert data["discount"] == 0
    assert data["summary"] == "Retribusi 1,850,000 rupiah untuk 2 dokumen"
    assert "retribusi" not in data and "__builtins__" not in data  # callables are dropped
    assert json.loads(json.dumps(data)) == data


def test_check_code_accepts_the_fee_script():
    assert check_code(FEE_SCRIPT, mode="exec") == []


# Forbidden things are refused at upload (with a line) and at run time -----------------------


FORBIDDEN = [
    ("x = 1\nimport os", "exec", 2, "imports are not allowed"),
    ("x = 1\nfrom os import system", "exec", 2, "imports are not allowed"),
    ("__import__('os').system('id')", "eval", 1, "'__import__'"),
    ("().__class__.__base__.__subclasses__()", "eval", 1, "'__subclasses__'"),
    ("[c for c in ().__class__.__bases__[0].__subclasses__()\n"
     " if c.__name__ == 'catch_warnings'][0]()._module.__builtins__", "eval", 1, "'__class__'"),
    ("x = 1\ny = open('/etc/passwd').read()", "exec", 2, "'open' is not allowed"),
    ("eval('1')", "eval", 1, "'eval' is not allowed"),
    ("exec('x = 1')", "exec", 1, "'exec' is not allowed"),
    ("compile('1', 'f', 'eval')", "eval", 1, "'compile' is not allowed"),
    ("getattr(x, '__class__')", "eval", 1, "'getattr' is not allowed"),
    ("vars()", "eval", 1, "'vars' is not allowed"),
    ("globals()['x']", "eval", 1, "'globals' is not allowed"),
    ("type(x).mro()", "eval", 1, "type() is not allowed"),
    ("type('X', (), {})", "eval", 1, "type() is not allowed"),
    ('"{0.__class__}".format(1)', "eval", 1, "'format' is not allowed"),
    ("x = 1\ng = (i for i in [1])\nf = g.gi_frame.f_back", "exec", 3, "'gi_frame'"),
    ("class A:\n    pass", "exec", 1, "class definitions are not allowed"),
    ("print(1)", "exec", 1, "print is not available"),
    ("with x:\n    pass", "exec", 1, "'with' statements are not allowed"),
    ("def g():\n    yield 1", "exec", 2, "generators ('yield') are not allowed"),
    ("x = 1\nd['k'] += 1", "exec", 2, "x[k] op= y"),
    ("@d['f']\ndef g():\n    pass", "exec", 2, "decorators are not allowed"),
    ("x = (1,\n", "exec", 1, "syntax error"),
]


@pytest.mark.parametrize(("source", "mode", "line", "message"), FORBIDDEN)
def test_check_code_refuses_with_the_line(source, mode, line, message):
    problems = check_code(source, mode=mode)

    assert problems, source
    assert any(p.startswith(f"line {line}: ") and message in p for p in problems), problems


@pytest.mark.parametrize(("source", "mode", "line", "message"), FORBIDDEN)
def test_the_engine_refuses_the_same_code_at_run_time(source, mode, line, message):
    run = evaluate if mode == "eval" else execute
    with pytest.raises((ScriptForbiddenError, SyntaxError)) as caught:
        run(source, x=1, d={"k": 1})
    assert message in str(caught.value) or "syntax" in message


def test_check_code_never_raises():
    assert check_code(None, mode="eval") == ["the code must be text"]  # type: ignore[arg-type]
    assert check_code("1", mode="single") == ["unknown mode 'single'"]  # type: ignore[arg-type]
    assert check_code("x" * 20_001, mode="eval") == ["the code is longer than 20000 characters"]
    assert check_code("1" + "+1" * 9_000, mode="eval")  # too deep for the compiler
    assert check_code("\x00", mode="eval")
    assert check_code("", mode="exec") == []


@pytest.mark.parametrize(("expression", "data"), [
    ("os.system('id')", {"os": __import__("os")}),  # task data can contain anything
    ("f('id')", {"f": __import__("os").system}),
    ("obj.anything", {"obj": object()}),
    ("d['f']()", {"d": {"f": print}}),
    ("str.maketrans('a', 'b')", {}),
    ("isinstance(1, t)", {"t": threading.Thread}),
])
def test_foreign_objects_in_task_data_stay_closed(expression, data):
    with pytest.raises(ScriptForbiddenError):
        evaluate(expression, **data)


def test_runtime_attribute_guard_refuses_what_upload_would():
    getattr_ = Runtime(max_size=1000).guarded_getattr
    with pytest.raises(ScriptForbiddenError):
        getattr_(1, "__class__")
    with pytest.raises(ScriptForbiddenError):
        getattr_("{0.__class__}", "format")
    with pytest.raises(ScriptForbiddenError):
        getattr_((i for i in []), "gi_frame")


def test_a_bare_type_is_only_a_name_and_calling_it_fails_at_run_time():
    assert check_code("t = type", mode="exec") == []
    with pytest.raises(NameError):
        execute("t = type\nu = t(1)")


def test_task_data_cannot_replace_a_guard():
    with pytest.raises(ScriptForbiddenError):
        evaluate("x.y", _getattr_=lambda obj, name: obj, x=1)


def test_values_task_data_cannot_store_are_refused():
    with pytest.raises(ScriptError, match="set"):
        execute("s = {1, 2}")
    with pytest.raises(ScriptError, match="generator"):
        execute("g = (i for i in [1])")


# Every bomb is stopped quickly ---------------------------------------------------------------


BOMBS = [
    ("exec", "while True:\n    pass"),
    ("exec", "def f(n):\n    return f(n + 1)\nf(0)"),
    ("exec", "def f(n):\n    try:\n        f(n + 1)\n    except Exception:\n"
             "        f(n + 1)\nf(0)"),
    ("exec", "f = lambda: f()\nf()"),
    ("eval", "[i * j for i in range(10**5) for j in range(10**5)]"),
    ("eval", "sum(1 for i in range(10**6) for j in range(10**6))"),
    ("eval", "9**9**9"),
    ("eval", "pow(10, 10**8)"),
    ("eval", "pow(10**19000, 10**19000, 10**19000 + 1)"),
    ("eval", "'a' * 10**10"),
    ("eval", "[0] * 10**9"),
    ("eval", "1 << 10**9"),
    ("eval", "list(range(10**12))"),
    ("eval", "round(1, -10**7)"),
    ("eval", "int('f' * 100000, 16)"),
    ("eval", "'x'.ljust(10**9)"),
    ("eval", "'x'.zfill(10**9)"),
    ("eval", "'\\t'.expandtabs(10**9)"),
    ("eval", "('a' * 1000).replace('a', 'b' * 10**6)"),
    ("eval", "f'{1:>999999999}'"),
    ("eval", "f'{1:.{n}f}'"),
    ("eval", "'%999999999d' % 1"),
    ("eval", "str([s] * 1000)"),
    ("eval", "[[0] * 10**6 for i in range(1000)]"),
    ("eval", "','.join([s, s])"),
    ("exec", "s = 'ab'\nwhile True:\n    s = s + s"),
    ("exec", "s = 'ab'\nwhile True:\n    s += s"),
    ("exec", "x = [1]\nwhile True:\n    x.extend(x)"),
    ("exec", "x = [1]\nwhile True:\n    x = [*x, *x]"),
    ("exec", "x = [1]\nwhile True:\n    x[len(x):] = x"),
    ("exec", "keep = []\nwhile True:\n    a, *b = range(10**6)\n    keep.append(b)"),
    ("exec", "d = dict.fromkeys(range(10**6))\nkeep = []\nwhile True:\n    keep.append({**d})"),
    ("exec", "s = set(range(10**6))\nwhile True:\n    s.update(range(len(s), 2 * len(s)))"),
    ("exec", "x = []\nfor i in range(60):\n    x = [x, x]\ny = str(x)"),
    ("exec", "x = []\nx.append(x)"),  # a cycle cannot be stored
    ("exec", "try:\n    while True:\n        pass\nexcept Exception:\n    pass\nok = True"),
    ("exec", "def f():\n    try:\n        while True:\n            pass\n    finally:\n"
             "        return 1\nok = f()"),
]


@pytest.mark.parametrize(("mode", "source"), BOMBS)
def test_bombs_stop_quickly_with_a_limit_error(mode, source):
    run = evaluate if mode == "eval" else execute
    started = time.process_time()
    with pytest.raises(ScriptLimitExceededError):
        run(source, s="a" * 900_000, n=10**9)
    assert time.process_time() - started < QUICK


def test_star_widths_in_percent_formatting_are_refused():
    with pytest.raises(ScriptForbiddenError):
        evaluate("'%*d' % (10**9, 1)")


def test_cpu_time_bound_stops_a_loop_the_iteration_bound_would_allow():
    environment = SandboxedScriptEngine(
        ScriptLimits(cpu_seconds=0.2, max_iterations=10**12)).environment
    started = time.process_time()
    with pytest.raises(ScriptLimitExceededError, match="CPU time"):
        environment.execute("x = 0\nwhile True:\n    x = x + 1", {})
    assert time.process_time() - started < QUICK


def test_cpu_time_bound_covers_straight_line_code():
    environment = SandboxedScriptEngine(ScriptLimits(cpu_seconds=0.05)).environment
    script = "y = max(r) + min(r)\n" * 1000  # no loop, no call of ours, nothing allocated
    started = time.process_time()
    with pytest.raises(ScriptLimitExceededError, match="CPU time"):
        environment.execute(script, {"r": list(range(100_000))})
    assert time.process_time() - started < QUICK


def test_the_bounds_hold_in_a_thread():
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            execute("while True:\n    pass")
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    started = time.process_time()
    worker.start()
    worker.join(HANG_GUARD)
    assert not worker.is_alive()
    assert time.process_time() - started < QUICK
    assert len(outcome) == 1 and isinstance(outcome[0], ScriptLimitExceededError)


def test_a_runaway_thread_does_not_disturb_a_concurrent_run():
    results: dict[str, Any] = {}

    def run(name: str, script: str) -> None:
        try:
            results[name] = execute(script)
        except ScriptError as exc:
            results[name] = exc

    runaway = threading.Thread(target=run, args=("runaway", "while True:\n    pass"))
    normal = threading.Thread(target=run, args=(
        "normal", "total = 0\nfor i in range(50000):\n    total = total + i"))
    for worker in (runaway, normal):
        worker.start()
    for worker in (runaway, normal):
        worker.join(HANG_GUARD)
    assert isinstance(results["runaway"], ScriptLimitExceededError)
    assert results["normal"]["total"] == sum(range(50000))


def test_limits_are_per_run_so_normal_runs_follow_a_runaway():
    with pytest.raises(ScriptLimitExceededError):
        execute("while True:\n    pass")
    assert execute("x = sum(range(1000))")["x"] == 499500


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="cpu_seconds"):
        ScriptLimits(cpu_seconds=0)


def test_source_length_is_bounded_at_run_time():
    engine = SandboxedScriptEngine(ScriptLimits(max_source_chars=10))
    with pytest.raises(ScriptLimitExceededError):
        engine.environment.evaluate("1 + 1 + 1 + 1", {})


# In a real workflow ----------------------------------------------------------------------------


def _bpmn(script: str, condition: str, timer: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="urn:t">
  <bpmn:process id="permit" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute_fee" name="Compute fee">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="f4">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:timerEventDefinition id="timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{escape(timer)}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end_review"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_direct"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute_fee"/>
    <bpmn:sequenceFlow id="f2" sourceRef="compute_fee" targetRef="gw"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="wait">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end_direct"/>
    <bpmn:sequenceFlow id="f5" sourceRef="wait" targetRef="end_review"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def _workflow(script: str, *, condition: str = "fee > 100000",
              timer: str = 'f"PT{hours}H"', **data: Any) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(_bpmn(script, condition, timer), "x.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("permit"), {}, script_engine=ENGINE)
    workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
    return workflow


def _serializer() -> BpmnWorkflowSerializer:
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


FEE = "fee = 50000 + max(luas - 100, 0) * 1000\nhours = 2"


def test_a_normal_process_completes_through_script_and_gateway():
    workflow = _workflow(FEE, luas=80)
    workflow.do_engine_steps()

    assert workflow.is_completed()
    done = {t.task_spec.name: t for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert "end_direct" in done and "end_review" not in done
    assert done["end_direct"].data == {"luas": 80, "fee": 50000, "hours": 2}


def test_the_other_branch_arms_an_f_string_timer():
    workflow = _workflow(FEE, luas=200)
    before = datetime.now().astimezone()
    workflow.do_engine_steps()

    assert not workflow.is_completed()
    [event] = workflow.waiting_events()
    due = datetime.fromisoformat(event.value)
    assert timedelta(hours=2) <= due - before < timedelta(hours=2, minutes=1)


def test_a_runaway_script_fails_its_task_and_the_workflow_still_serializes():
    workflow = _workflow("x = 0\nwhile True:\n    x = x + 1")
    started = time.process_time()

    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()

    assert time.process_time() - started < QUICK
    error = caught.value
    assert isinstance(error.__cause__, ScriptLimitExceededError)
    assert error.task.task_spec.name == "compute_fee"
    assert error.line_number == 2 and error.error_line == "while True:"
    [failed] = workflow.get_tasks(state=TaskState.ERROR)
    assert failed.task_spec.name == "compute_fee"

    serializer = _serializer()
    restored = serializer.deserialize_json(serializer.serialize_json(workflow))
    restored.script_engine = ENGINE
    assert [t.task_spec.name for t in restored.get_tasks(state=TaskState.ERROR)] == [
        "compute_fee"]


def test_a_forbidden_condition_fails_the_gateway_at_run_time():
    workflow = _workflow(FEE, condition="__import__('os').system('id') == 0", luas=80)

    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()

    assert isinstance(caught.value.__cause__, ScriptForbiddenError)
    assert [t.task_spec.name for t in workflow.get_tasks(state=TaskState.ERROR)] == ["gw"]


def test_script_errors_surface_as_spiffworkflow_does_even_with_odd_arguments():
    workflow = _workflow("x = 1\ny = {}[5]")

    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()

    assert str(caught.value).startswith("KeyError:5")
    assert caught.value.line_number == 2
    assert isinstance(caught.value.__cause__, KeyError)


def test_a_deserialized_workflow_runs_with_an_assigned_engine():
    serializer = _serializer()
    saved = serializer.serialize_json(_workflow(FEE, luas=80))
    workflow = serializer.deserialize_json(saved)
    workflow.script_engine = ENGINE
    workflow.do_engine_steps()
    assert workflow.is_completed()


def test_validate_raises_syntax_error_as_dmn_expects():
    with pytest.raises(SyntaxError):
        ENGINE.validate("< 100")
    ENGINE.validate("v < 100")
