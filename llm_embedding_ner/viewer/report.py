"""What the terminal shows once a run is done: separation scores by layer, and the entity-level
scores against gold labels (a comparison: one line per model, see comparison_logging)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis.changes import Comparison
    from ..analysis.result import Analysis


def summary(result: Analysis | Comparison, suspects_file: str | None = None) -> list[str]:
    """What the terminal shows after the run: separation scores, and F1 and the suspect gold
    labels with gold labels (``suspects_file``: where they are being written)."""
    from ..analysis.result import Analysis

    if not isinstance(result, Analysis):
        from .comparison_logging import score_lines

        return [score_lines(result)]
    lines = []
    if any(not math.isnan(view.separation) for view in result.layers):  # nan: too few tokens to score
        lines.append(separation_table(result))
    if result.gold is not None:
        lines.append(scores_line(result))
        if result.gold.word_probabilities is not None:
            from .suspects_file import terminal_lines

            lines += terminal_lines(result.suspects, suspects_file)
    return lines


def separation_table(analysis: Analysis) -> str:
    """The separation scores per layer, as lines of text."""
    lines = [
        "separation of entity types by layer (how many of each token's 5 nearest neighbours share its"
        " type; 1 = fully apart):",
        "  layer  hidden space  3D projection",
    ]
    for view in analysis.layers:
        lines.append(f"  {view.layer:>5}  {view.separation:>12.2f}  {view.separation_3d:>13.2f}")
    return "\n".join(lines)


def scores_line(analysis: Analysis) -> str:
    assert analysis.gold is not None
    micro = analysis.gold.evaluation.micro
    return (
        f"entity-level scores (exact match, as seqeval): precision {micro.precision:.3f}, recall "
        f"{micro.recall:.3f}, F1 {micro.f1:.3f} over {micro.support:,} gold entities; per type in the "
        "viewer's Metrics"
    )
