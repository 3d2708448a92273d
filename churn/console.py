"""Plain-text tables for the terminal: the one table printer of the CLI and the benchmarks."""
from __future__ import annotations


def text_table(heads: list, rows: list[list], *, rule: bool = False) -> str:
    """``heads`` and ``rows`` as left-aligned columns two spaces apart, each as wide as its
    widest cell (trailing spaces trimmed); ``rule`` draws a line of dashes under the heads."""
    cells = [[str(c) for c in heads]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(heads))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
