"""The names a sandboxed script sees: safe builtin functions, classes and exceptions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

SAFE_FUNCTIONS = (
    "len",
    "min",
    "max",
    "abs",
    "sorted",
    "reversed",
    "enumerate",
    "zip",
    "any",
    "all",
    "divmod",
    "chr",
    "ord",
)
SAFE_CLASSES = (
    bool,
    float,
    list,
    dict,
    set,
    frozenset,
    tuple,
    datetime,
    date,
    time,
    timedelta,
    timezone,
)
SAFE_EXCEPTIONS = (
    Exception,
    ArithmeticError,
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    LookupError,
    NameError,
    OverflowError,
    RuntimeError,
    TypeError,
    ValueError,
    ZeroDivisionError,
)
RECEIVERS: tuple[type, ...] = (
    str,
    bytes,
    int,
    float,
    complex,
    list,
    tuple,
    dict,
    set,
    frozenset,
    range,
    date,
    time,
    timedelta,
    timezone,
    BaseException,
    type(None),
    type({}.keys()),
    type({}.values()),
    type({}.items()),
)
