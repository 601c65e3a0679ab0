"""The suspect gold labels for people and other tools: a JSON Lines file (``--suspects``) and a
few lines on the terminal.

The file is one object per suspect, most suspect first, with exactly the fields of
``Suspect.record``. An existing file is never overwritten: the command refuses it before any
work (outputs.py), and a file that appears meanwhile makes the write fail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..analysis.suspects import Suspect

TERMINAL_SHOWN = 5


def write_suspects(path: str, suspects: Sequence[Suspect]) -> str:
    """Write ``suspects`` to the new file ``path``; the line that says so. Raises OSError."""
    with open(path, "x", encoding="utf-8") as out:
        for rank, suspect in enumerate(suspects, start=1):
            out.write(json.dumps(suspect.record(rank), ensure_ascii=False) + "\n")
    return f"{len(suspects):,} suspect gold labels written to {path}"


def terminal_lines(suspects: Sequence[Suspect], path: str | None) -> list[str]:
    """How many suspects, the first few in one line each, and where the rest are."""
    if not suspects:
        return ["suspect gold labels: none (no span where the evidence favours another label)"]
    lines = [f"{len(suspects):,} suspect gold labels, most suspect first:"]
    for rank, s in enumerate(suspects[:TERMINAL_SHOWN], start=1):
        text = s.text if len(s.text) <= 40 else s.text[:39] + "…"
        lines.append(
            f"  {rank}. {text!r} {s.gold} -> {s.suggested} ({s.kind}, score {s.score:.2f}) "
            f"document {s.document}, sentence {s.sentence}, words [{s.words[0]}, {s.words[1]})"
        )
    if path is None:
        lines.append("  all of them in the viewer's Suspects tab; --suspects FILE.jsonl writes them out")
    return lines
