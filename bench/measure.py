"""Timing helpers: samples in seconds, summarized as medians and percentiles."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Summary:
    """Order statistics of a list of durations (seconds)."""

    n: int
    median: float
    p10: float
    p90: float
    p95: float
    runs: tuple[float, float, int] | None = None  # p10, p90 and count of per-run medians

    @classmethod
    def of(cls, samples: list[float], groups: list[list[float]] | None = None) -> Summary:
        """Summarize `samples` (at least one); `groups` are the samples of each repetition."""
        if not samples:
            raise ValueError("no samples")
        ordered = sorted(samples)
        runs = None
        if groups is not None and len(groups) > 1:
            medians = sorted(statistics.median(g) for g in groups if g)
            runs = (percentile(medians, 10), percentile(medians, 90), len(medians))
        return cls(
            n=len(ordered),
            median=statistics.median(ordered),
            p10=percentile(ordered, 10),
            p90=percentile(ordered, 90),
            p95=percentile(ordered, 95),
            runs=runs,
        )

    def noise(self, scale: float = 1e3, unit: str = "ms") -> str:
        """The noise column: the p10-p90 of per-repetition medians when there are
        repetitions, else the p10-p90 of the samples."""
        if self.runs is not None:
            low, high, count = self.runs
            return f"medians of {count} runs: p10-p90 {_fmt(low * scale)}-{_fmt(high * scale)} " \
                   f"{unit} ({self.n} samples)"
        return f"p10-p90 {_fmt(self.p10 * scale)}-{_fmt(self.p90 * scale)} {unit}, n={self.n}"


def _fmt(value: float) -> str:
    return f"{value:.{_digits(value)}f}"


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, round(pct / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    """A duration in milliseconds with sensible precision."""
    value = seconds * 1e3
    return f"{value:.{_digits(value)}f} ms"


def _digits(value: float) -> int:
    return 2 if value < 10 else 1 if value < 100 else 0


class Stopwatch:
    """Collects durations of timed blocks."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.groups: list[list[float]] = [[]]

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Time the block and keep its duration."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(time.perf_counter() - started)

    def add(self, seconds: float) -> None:
        """Keep a duration measured elsewhere."""
        self.samples.append(seconds)
        self.groups[-1].append(seconds)

    def next_run(self) -> None:
        """Start the next repetition (its samples form one group for the noise column)."""
        if self.groups[-1]:
            self.groups.append([])

    def summary(self) -> Summary:
        """Summary of everything timed so far."""
        return Summary.of(self.samples, [g for g in self.groups if g])


def repeat(fn: Callable[[], object], times: int, warmup: int = 2) -> Summary:
    """Call `fn` `warmup` times untimed, then `times` times timed."""
    for _ in range(warmup):
        fn()
    watch = Stopwatch()
    for _ in range(times):
        with watch.timed():
            fn()
    return watch.summary()


def spread(values: list[float]) -> str:
    """Min-max of repeated rates or durations, as "a-b"."""
    low, high = min(values), max(values)
    digits = 1 if high < 100 else 0
    return f"{low:.{digits}f}-{high:.{digits}f}"
