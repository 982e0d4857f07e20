"""The results table: one row per figure, printed and written to `bench/results.md`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TIMES = "\u00d7"  # the multiplication sign of "4.9x", spelled so linters see no look-alike
COLUMNS = ("#", "section", "what is measured", "db", "result", "noise / spread",
           "compared with", "ratio", "target", "met")


@dataclass(frozen=True, slots=True)
class Row:
    """One measured figure and what it is set against."""

    section: str
    measure: str
    db: str
    result: str
    noise: str = ""
    compared: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


def verdict(ok: bool) -> str:
    """How the `met` column reads."""
    return "yes" if ok else "**no**"


def ratio(value: float, reference: float) -> str:
    """value / reference, as "12.3" followed by the multiplication sign."""
    if reference <= 0:
        return ""
    quotient = value / reference
    digits = 2 if quotient < 1 else 1 if quotient < 100 else 0
    return f"{quotient:.{digits}f}{TIMES}"


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for number, row in enumerate(rows, 1):
        cells = (str(number), row.section, row.measure, row.db, row.result, row.noise,
                 row.compared, row.ratio, row.target, row.met)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def document(
    machine: list[tuple[str, str]], rows: list[Row], notes: list[str], title: str
) -> str:
    """The whole results file: machine, table, notes."""
    parts = [f"# {title}", "", "Written by `python -m bench` (`make bench`); do not edit by hand.",
             "", "## Machine", ""]
    parts += [f"- **{label}**: {value}" for label, value in machine]
    parts += ["", "## Results", "", table(rows), ""]
    if notes:
        parts += ["## Notes from this run", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(parts)


def write(path: Path, text: str) -> None:
    """Write the results file."""
    path.write_text(text, encoding="utf-8")
