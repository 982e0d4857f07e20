"""The names a sandboxed script sees, and the checks on what it hands back.

Scripts get no module, no `type`, no `getattr`: only a curated set of builtins, the
`datetime` classes, and the guard functions the policy's rewriting calls. Attribute access
goes through `guarded_getattr`, which allows only non-underscore attributes of plain data
(text, numbers, containers, dates, exceptions) and of the classes handed out here, so a
module or foreign object that found its way into task data stays closed.
"""

from __future__ import annotations

import builtins
import operator
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from types import (
    BuiltinFunctionType,
    ClassMethodDescriptorType,
    FunctionType,
    MethodDescriptorType,
    MethodWrapperType,
    WrapperDescriptorType,
)
from typing import Any

from RestrictedPython.Guards import guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from engine.sandbox._builtins import (
    RECEIVERS,
    SAFE_CLASSES,
    SAFE_EXCEPTIONS,
    SAFE_FUNCTIONS,
)
from engine.sandbox._guards import MAX_INT_BITS, SIZED_METHODS, SizeGuards
from engine.sandbox._limits import (
    Budget,
    ScriptError,
    ScriptForbiddenError,
    ScriptLimitExceededError,
    charge,
    fail,
)
from engine.sandbox._policy import FILENAME, FORBIDDEN_ATTRIBUTES

MAX_ROUND_DIGITS = 10_000  # round(1, -10**6) computes 10**(10**6)


class _CheckedType(type):
    """Metaclass of the `str` and `int` scripts see.

    Calling the class goes through a size check, while `isinstance(x, str)` and unbound
    methods such as `str.lower` behave exactly like the real type's.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._construct(*args, **kwargs)  # type: ignore[attr-defined]

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls.__bases__[0])

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls.__bases__[0])


def _checked_type(real: type, construct: Any) -> type:
    return _CheckedType(real.__name__, (real,), {"__slots__": (), "_construct": construct})


def _checked_int(*args: Any, **kwargs: Any) -> int:
    number = int(*args, **kwargs)  # int('f' * 10**6, 16) is quick, but then every use is slow
    if number.bit_length() > MAX_INT_BITS:
        fail(ScriptLimitExceededError(f"the integer would exceed {MAX_INT_BITS} bits"))
    return number


class Runtime:
    """The builtins and guard functions of one engine's limits (shared by its runs)."""

    def __init__(self, max_size: int) -> None:
        self.sized = SizeGuards(max_size)
        self._inplace = _inplace_operators(self.sized)
        self.str_type = _checked_type(str, staticmethod(self.sized.text))
        self.int_type = _checked_type(int, staticmethod(_checked_int))
        self.classes = frozenset({*SAFE_CLASSES, *SAFE_EXCEPTIONS, self.str_type, self.int_type})
        self.builtins = self._builtins()
        self._builtin_ids = frozenset(id(value) for value in self.builtins.values())

    def _builtins(self) -> dict[str, Any]:
        sized = self.sized
        names: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_FUNCTIONS}
        names.update((cls.__name__, cls) for cls in (*SAFE_CLASSES, *SAFE_EXCEPTIONS))
        names.update(
            str=self.str_type,
            int=self.int_type,
            range=self.checked_range,
            round=self.checked_round,
            sum=self.checked_sum,
            pow=sized.power,
            isinstance=self.checked_isinstance,
        )
        names.update(  # the guards the policy's rewriting calls
            _getattr_=self.guarded_getattr,
            _write_=self.guarded_write,
            _call_=self.call,
            _inplacevar_=self.inplacevar,
            _getitem_=_getitem,
            _unpack_sequence_=_unpack_sequence,
            _add_=sized.add,
            _mul_=sized.mul,
            _pow_=sized.power,
            _lshift_=sized.lshift,
            _mod_=sized.mod,
            _format_=sized.format_field,
            _fstring_=sized.fstring,
            _sized_=sized.sized,
            _reraise_=_reraise,
        )
        return names

    def for_budget(self, budget: Budget) -> dict[str, Any]:
        """The builtins of one run whose code counts iterations and steps."""
        names = dict(self.builtins)
        names.update(
            _tick_=budget.tick,
            _step_=budget.step,
            _getiter_=budget.getiter,
            _iter_unpack_sequence_=partial(_iter_unpack_sequence, budget),
        )
        return names

    def call(self, function: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Every call in a script: only known callables, and what they create is counted.

        Raises:
            ScriptForbiddenError: `function` came from outside (e.g. a callable in task data).
            ScriptLimitExceededError: the run created too much in total.
        """
        if id(function) not in self._builtin_ids:
            self._check_callable(function)
        result = function(*args, **kwargs)
        if type(result) in _CHARGED and sys.getrefcount(result) <= _FRESH:
            charge(len(result))
        return result

    def _check_callable(self, function: Any) -> None:
        kind = type(function)
        if kind is FunctionType:  # defined by the script, or a checked method of ours
            allowed = function.__code__.co_filename in _OWN_CODE
        elif kind in _BOUND_NATIVE:  # 'a'.upper, datetime.now, but not os.system
            owner = function.__self__
            allowed = isinstance(owner, RECEIVERS) or (
                isinstance(owner, type) and owner in self.classes
            )
        elif kind in _UNBOUND_NATIVE:  # str.lower
            allowed = issubclass(function.__objclass__, RECEIVERS)
        else:
            allowed = isinstance(function, type) and function in self.classes
        if not allowed:
            fail(ScriptForbiddenError(f"calling a {kind.__name__} is not allowed"))

    # Guarded builtins -------------------------------------------------------------------

    def checked_range(self, *args: Any) -> range:
        """`range()` of at most `max_collection_size` numbers.

        Raises:
            ScriptLimitExceededError: the range is longer.
        """
        numbers = range(*args)
        try:
            length = len(numbers)
        except OverflowError:
            length = self.sized.max_size + 1
        self.sized.check_size(length, "the range")
        return numbers

    def checked_round(self, number: Any, ndigits: Any = None) -> Any:
        """`round()` with at most 10,000 digits either side of the point.

        Raises:
            ScriptLimitExceededError: `ndigits` is larger.
        """
        if isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
            fail(ScriptLimitExceededError(f"round() takes at most {MAX_ROUND_DIGITS} digits"))
        return round(number, ndigits)

    def checked_sum(self, iterable: Any, /, start: Any = 0) -> Any:
        """`sum()` of numbers or durations (adding lists or strings is quadratic).

        Raises:
            ScriptForbiddenError: `start` is not a number or a timedelta.
        """
        if not isinstance(start, (int, float, timedelta)):
            fail(ScriptForbiddenError("sum() adds numbers only; use a loop or ''.join()"))
        return sum(iterable, start)

    def checked_isinstance(self, value: Any, classinfo: Any) -> bool:
        """`isinstance()` against the classes scripts are given.

        Raises:
            ScriptForbiddenError: `classinfo` holds anything else.
        """
        infos = classinfo if isinstance(classinfo, tuple) else (classinfo,)
        if not all(isinstance(info, type) and info in self.classes for info in infos):
            fail(ScriptForbiddenError("isinstance() takes only the builtin types"))
        return isinstance(value, classinfo)

    # Guard functions the policy's rewriting calls -----------------------------------------

    def guarded_getattr(self, obj: Any, name: Any) -> Any:
        """`obj.name` for plain data and the given classes; checked growing methods.

        Raises:
            ScriptForbiddenError: the attribute or the object is not accessible.
        """
        if (
            not isinstance(name, str)
            or name.startswith("_")
            or name in INSPECT_ATTRIBUTES
            or name in FORBIDDEN_ATTRIBUTES
        ):
            fail(ScriptForbiddenError(f"attribute {name!r} is not allowed"))
        if isinstance(obj, type):
            if obj not in self.classes:
                fail(ScriptForbiddenError(f"attributes of {obj.__name__} are not available"))
            if name in SIZED_METHODS:
                fail(ScriptForbiddenError(f"call .{name}() on a value, not on its type"))
        elif not isinstance(obj, RECEIVERS):
            fail(
                ScriptForbiddenError(
                    f"attributes of {type(obj).__name__} objects are not available"
                )
            )
        return self.sized.method(obj, name, getattr(obj, name))

    def guarded_write(self, obj: Any) -> Any:
        """The target of `obj[k] = v`, `del obj[k]`, `obj.a = v`: dicts and lists only.

        Raises:
            ScriptForbiddenError: `obj` is anything else.
        """
        if isinstance(obj, list):
            return _ListWriter(obj, self.sized)
        if not isinstance(obj, dict):
            fail(ScriptForbiddenError(f"a {type(obj).__name__} cannot be changed in place"))
        return obj

    def inplacevar(self, op: str, target: Any, value: Any) -> Any:
        """`target op= value` (with the size checks of the plain operator).

        Raises:
            ScriptForbiddenError: an unknown operator.
        """
        function = self._inplace.get(op)
        if function is None:
            fail(ScriptForbiddenError(f"operator {op} is not supported"))
        return function(target, value)


_BOUND_NATIVE = (BuiltinFunctionType, MethodWrapperType)
_UNBOUND_NATIVE = (MethodDescriptorType, ClassMethodDescriptorType, WrapperDescriptorType)
_OWN_CODE = frozenset({FILENAME, SizeGuards.method.__code__.co_filename})
# Results whose length is what they allocate.
_CHARGED = frozenset({list, tuple, dict, set, frozenset, str, bytes})
# sys.getrefcount() of an object held only by `_call_`'s local and getrefcount's argument:
# a result with more references already existed (task data, a constant) and is not new.
_FRESH = 2


def _reraise() -> None:
    """First statement of every `except` block: limits and refusals go on propagating."""
    caught = sys.exc_info()[1]
    if isinstance(caught, (ScriptError, RecursionError, MemoryError)):
        raise caught


def _getitem(container: Any, key: Any) -> Any:
    """`container[key]`; a slice is a new object and is charged."""
    result = container[key]
    if type(key) is slice and type(result) in _CHARGED:
        charge(len(result))
    return result


class _ListWriter:
    """What `_write_` hands out for a list: `x[a:b] = y` is sized first (it can double x)."""

    __slots__ = ("_items", "_sized")

    def __init__(self, items: list[Any], sized: SizeGuards) -> None:
        self._items = items
        self._sized = sized

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, slice):
            if not isinstance(value, (list, tuple, str, bytes, range)):
                value = list(value)
            self._sized.check_size(len(self._items) + len(value), "the list")
            charge(len(value))
        self._items[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._items[key]


def _inplace_operators(sized: SizeGuards) -> dict[str, Callable[[Any, Any], Any]]:
    return {
        "+=": partial(sized.add, op=operator.iadd),
        "*=": partial(sized.mul, op=operator.imul),
        "**=": sized.power,
        "<<=": partial(sized.lshift, op=operator.ilshift),
        "%=": partial(sized.mod, op=operator.imod),
        "|=": partial(_union, sized),
        "-=": operator.isub,
        "/=": operator.itruediv,
        "//=": operator.ifloordiv,
        ">>=": operator.irshift,
        "&=": operator.iand,
        "^=": operator.ixor,
    }


def _union(sized: SizeGuards, target: Any, value: Any) -> Any:
    if isinstance(target, (dict, set)) and isinstance(value, (dict, set, frozenset)):
        sized.check_size(len(target) + len(value), f"the {type(target).__name__}")
        charge(len(value))
    return operator.ior(target, value)


def _unpack_sequence(iterable: Any, spec: dict[str, Any], _getiter: Any) -> list[Any]:
    # a, *b = x copies x into a list: charged as a new list, not ticked item by item
    # (ticking would charge every pair of a `for k, v in ...` loop three times).
    items: list[Any] = guarded_unpack_sequence(iterable, spec, iter)
    charge(len(items))
    return items


def _iter_unpack_sequence(
    budget: Budget, iterable: Any, spec: dict[str, Any], _getiter: Any
) -> Iterator[list[Any]]:
    for item in budget.getiter(iterable):
        yield guarded_unpack_sequence(item, spec, iter)
