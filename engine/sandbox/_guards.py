"""Size checks done before an operation that could allocate or compute without bound.

A tick per loop iteration cannot stop one operation that runs in C for minutes or fills the
memory: `9**9**9`, `'a' * 10**10`, `1 << 10**9`, `'x'.ljust(10**9)`, `f"{x:>999999999}"`,
`str()` of a list holding a million references to a megabyte string. The policy rewrites
`+ * ** << %`, f-strings and `{**d}` into the methods below, and `_getattr_` hands out
checked versions of the methods that grow text, lists, dicts and sets, so each such result
is sized before it exists; what they create also counts towards the run's total (`charge`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.sandbox._limits import (
    ScriptForbiddenError,
    ScriptLimitExceededError,
    charge,
    fail,
)

# Integers: money is whole rupiah; 65,536 bits (~19,700 digits) is far beyond any real
# amount and keeps even quadratic operations (division) in the millisecond range.
MAX_INT_BITS = 65_536
MAX_MODPOW_BITS = 2_048  # pow(a, e, m) costs bits(e) x bits(m)**1.6: 4096 bits take 0.2 s
MAX_STRFTIME_CHARS = 1_000  # C strftime may use a buffer of 256 x the format's length
_TEXT = (str, bytes)
_SEQUENCES = (str, bytes, list, tuple)
_CONTAINERS = (list, tuple, set, frozenset)
_SIZED = (list, tuple, dict, set, frozenset, str, bytes, range)
_FLAT = frozenset({int, bool, float, complex, type(None), date, time, datetime, timedelta})
# format-spec mini-language: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_SPEC = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d+))?[bcdeEfFgGnosxX%]?",
    re.DOTALL,
)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
_Args = tuple[Any, ...]
_Kwargs = dict[str, Any]


def footprint(value: object, limit: int) -> int:
    """Approximate size of `value` with shared references counted each time.

    Characters of text plus slots of containers, walked without recursion; returns as
    soon as the count passes `limit` (so cycles and deep sharing end quickly).
    """
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        kind = type(item)
        if kind in _FLAT:
            continue
        if isinstance(item, _TEXT):
            total += len(item)
        elif isinstance(item, dict):
            total += 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += len(item)
            if not _FLAT.issuperset(map(type, item)):  # [0] * n needs no walk of its items
                stack.extend(item)
        elif isinstance(item, BaseException):
            stack.extend(item.args)
    return total


class SizeGuards:
    """The checked operators, formatting and methods of one engine's limits."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size

    def check_size(self, size: int, what: str) -> None:
        """Refuse a result of more than `max_size` characters or items.

        Raises:
            ScriptLimitExceededError: `size` is over the bound.
        """
        if size > self.max_size:
            fail(
                ScriptLimitExceededError(
                    f"{what} would be larger than {self.max_size} characters or items"
                )
            )

    def check_footprint(self, value: object, what: str) -> None:
        """Refuse rendering or repeating `value` when its footprint is over the bound.

        Raises:
            ScriptLimitExceededError: the value is too large.
        """
        self.check_size(footprint(value, self.max_size), what)

    # Operators ----------------------------------------------------------------------------

    def add(self, a: Any, b: Any, op: Callable[[Any, Any], Any] = operator.add) -> Any:
        """`a + b`; concatenations are sized first.

        Raises:
            ScriptLimitExceededError: the concatenation would be too large.
        """
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self.check_size(len(a) + len(b), "the concatenation")
            charge(len(a) + len(b))
        return op(a, b)

    def mul(self, a: Any, b: Any, op: Callable[[Any, Any], Any] = operator.mul) -> Any:
        """`a * b`; big integers and repetitions are sized first.

        Raises:
            ScriptLimitExceededError: the product or repetition would be too large.
        """
        if isinstance(a, int) and isinstance(b, int):
            if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                fail(ScriptLimitExceededError(f"the product would exceed {MAX_INT_BITS} bits"))
        elif isinstance(a, _SEQUENCES) and isinstance(b, int):
            self._check_repeat(a, b)
        elif isinstance(b, _SEQUENCES) and isinstance(a, int):
            self._check_repeat(b, a)
        return op(a, b)

    def _check_repeat(self, sequence: Any, times: int) -> None:
        if times <= 1:
            return
        self.check_size(len(sequence) * times, "the repetition")
        if isinstance(sequence, (list, tuple)):
            # [s] * n with a big s multiplies what str(), == and sorted() must walk later.
            inner = footprint(sequence, self.max_size // times + 1)
            self.check_size(inner * times, "the repetition")
        charge(len(sequence) * times)

    def power(self, a: Any, b: Any, mod: Any = None) -> Any:
        """`a ** b` and `pow()`; integer powers are sized first.

        Raises:
            ScriptLimitExceededError: the power would be too large.
        """
        if not (isinstance(a, int) and isinstance(b, int)):
            return pow(a, b, mod)
        if mod is None and b > 1 and abs(a) > 1 and (a.bit_length() - 1) * b > MAX_INT_BITS:
            fail(ScriptLimitExceededError(f"the power would exceed {MAX_INT_BITS} bits"))
        if isinstance(mod, int) and max(b.bit_length(), mod.bit_length()) > MAX_MODPOW_BITS:
            fail(
                ScriptLimitExceededError(
                    f"pow() with a modulus takes numbers of at most {MAX_MODPOW_BITS} bits"
                )
            )
        return pow(a, b, mod)

    def lshift(self, a: Any, b: Any, op: Callable[[Any, Any], Any] = operator.lshift) -> Any:
        """`a << b`, sized first.

        Raises:
            ScriptLimitExceededError: the shifted integer would be too large.
        """
        if isinstance(a, int) and isinstance(b, int) and a and a.bit_length() + b > MAX_INT_BITS:
            fail(ScriptLimitExceededError(f"the shift would exceed {MAX_INT_BITS} bits"))
        return op(a, b)

    def mod(self, a: Any, b: Any, op: Callable[[Any, Any], Any] = operator.mod) -> Any:
        """`a % b`; printf-style formatting is sized first.

        Raises:
            ScriptForbiddenError: a `*` width.
            ScriptLimitExceededError: the widths or the arguments are too large.
        """
        if isinstance(a, _TEXT):
            text = a.decode("latin-1") if isinstance(a, bytes) else a
            size = len(text) + _percent_widths(text) + footprint(b, self.max_size)
            self.check_size(size, "the formatted text")
            charge(size)
        return op(a, b)

    def sized(self, container: Any) -> Any:
        """`container` unchanged, its length counted (`{**d}` copies it).

        Raises:
            ScriptLimitExceededError: the run created too much in total.
        """
        if isinstance(container, _SIZED):
            charge(len(container))
        return container

    # Formatting ---------------------------------------------------------------------------

    def format_field(self, value: Any, conversion: int, spec: str) -> str:
        """One f-string field: `f"{value!conversion:spec}"` with its width checked.

        Raises:
            ScriptForbiddenError: a format spec the sandbox cannot size.
            ScriptLimitExceededError: the width, precision or value is too large.
        """
        if conversion != -1:
            value = self.text(value) if conversion == ord("s") else self._repr(value, conversion)
        elif not isinstance(value, (str, int, float)):
            self.check_footprint(value, "the formatted value")
        if spec:
            self._check_spec(value, spec)
        return format(value, spec)

    def fstring(self, *parts: str) -> str:
        """The text of an f-string, from its constant parts and formatted fields.

        Raises:
            ScriptLimitExceededError: the text would be too large.
        """
        size = sum(map(len, parts))
        self.check_size(size, "the f-string")
        charge(size)
        return "".join(parts)

    def _repr(self, value: Any, conversion: int) -> str:
        self.check_footprint(value, "the formatted value")
        return ascii(value) if conversion == ord("a") else repr(value)

    def _check_spec(self, value: Any, spec: str) -> None:
        if isinstance(value, (date, time)):  # their __format__ is strftime
            self._check_strftime(spec)
            return
        match = _SPEC.fullmatch(spec)
        if match is None or not isinstance(value, (str, int, float)):
            fail(ScriptForbiddenError(f"format spec {spec[:40]!r} is not supported here"))
        for number in match.group("width", "precision"):
            self.check_size(int(number or 0), "the formatted field")

    def _check_strftime(self, pattern: object) -> None:
        if isinstance(pattern, str) and len(pattern) > MAX_STRFTIME_CHARS:
            fail(
                ScriptLimitExceededError(
                    f"a date format may have at most {MAX_STRFTIME_CHARS} characters"
                )
            )

    def text(self, *args: Any, **kwargs: Any) -> str:
        """`str(x)`, with `x` sized first when it is a container.

        Raises:
            ScriptLimitExceededError: the text would be too large.
        """
        if args and not isinstance(args[0], (str, int, float)):
            self.check_footprint(args[0], "the text")
        return str(*args, **kwargs)  # charged by _call_ like any call's new result

    # Growing methods (handed out by _getattr_) ---------------------------------------------

    def method(self, receiver: object, name: str, bound: Any) -> Any:
        """A checked stand-in for a method that can grow its result, else `bound`."""
        check = _METHOD_CHECKS.get(name)
        if check is None or not isinstance(receiver, check[0]):
            return bound

        def checked(*args: Any, **kwargs: Any) -> Any:
            return bound(*check[1](self, receiver, args, kwargs), **kwargs)

        return checked

    # Each check gets the receiver and the call's arguments, refuses or returns the
    # positional arguments to pass on; a malformed call is left to the method's own TypeError.

    def _padded(self, text: Any, args: _Args, kwargs: _Kwargs) -> _Args:
        width = _argument(args, kwargs, 0, "width", 0)
        if isinstance(width, int):
            self.check_size(width, "the padded text")
        return args

    def _expanded(self, text: Any, args: _Args, kwargs: _Kwargs) -> _Args:
        tabsize = _argument(args, kwargs, 0, "tabsize", 8)
        if isinstance(tabsize, int):
            tabs = text.count("\t" if isinstance(text, str) else b"\t")
            self.check_size(len(text) + tabs * tabsize, "the expanded text")
        return args

    def _replaced(self, text: Any, args: _Args, kwargs: _Kwargs) -> _Args:
        old, new = _argument(args, kwargs, 0, "old", None), _argument(args, kwargs, 1, "new", None)
        count = _argument(args, kwargs, 2, "count", -1)
        if isinstance(old, _TEXT) and isinstance(new, _TEXT) and isinstance(count, int):
            hits = text.count(old) if old else len(text) + 1
            hits = hits if count < 0 else min(hits, count)
            self.check_size(len(text) + hits * (len(new) - len(old)), "the replaced text")
        return args

    def _joined(self, separator: Any, args: _Args, kwargs: _Kwargs) -> _Args:
        if len(args) != 1:
            return args
        items = list(args[0])  # a generator is consumed once, here; its items were counted
        sizes = sum(len(item) for item in items if isinstance(item, _TEXT))
        self.check_size(sizes + len(separator) * max(len(items) - 1, 0), "the joined text")
        return (items,)

    def _extended(self, target: Any, args: _Args, kwargs: _Kwargs) -> _Args:
        # list.extend(x), dict.update(x), set.update(*xs): the receiver grows by the items.
        args = tuple(arg if isinstance(arg, _SIZED) else list(arg) for arg in args)
        added = sum(map(len, args)) + len(kwargs)
        self.check_size(len(target) + added, f"the {type(target).__name__}")
        charge(added)
        return args

    def _strftime(self, when: Any, args: _Args, kwargs: _Kwargs) -> _Args:
        self._check_strftime(_argument(args, kwargs, 0, "format", None))
        return args


def _argument(args: _Args, kwargs: _Kwargs, index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _percent_widths(text: str) -> int:
    total = 0
    for match in _PERCENT_SPEC.finditer(text):
        for number in match.groups():
            if number == "*":
                fail(ScriptForbiddenError("'*' widths in %-formatting are not allowed"))
            total += int(number or 0)
    return total


_Check = Callable[..., "_Args"]
_METHOD_CHECKS: dict[str, tuple[type | tuple[type, ...], _Check]] = {
    "ljust": (_TEXT, SizeGuards._padded),
    "rjust": (_TEXT, SizeGuards._padded),
    "center": (_TEXT, SizeGuards._padded),
    "zfill": (_TEXT, SizeGuards._padded),
    "expandtabs": (_TEXT, SizeGuards._expanded),
    "replace": (_TEXT, SizeGuards._replaced),
    "join": (_TEXT, SizeGuards._joined),
    "extend": (list, SizeGuards._extended),
    "update": ((dict, set), SizeGuards._extended),
    "strftime": ((date, time), SizeGuards._strftime),
}
SIZED_METHODS = frozenset(_METHOD_CHECKS)
