"""Markdown for the text documents (and the metrics), with the user's characters kept literal.

Rerun renders TextDocuments as CommonMark. The user's text and the tokens are data, not
markup, so every ASCII punctuation character gets a backslash (CommonMark defines that escape
for all of them, and it renders as the bare character), line starts cannot open code blocks,
and line breaks stay line breaks.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..analysis.entities import Entity, display_names
from ..analysis.evaluation import Evaluation, Scores
from ..analysis.suspects import Suspect

# The viewer lays out a whole document at once; past these sizes it stops being readable (and
# responsive), so long inputs show their beginning and say so. Every token is still a point.
MAX_LINKED_TOKENS = 5_000
MAX_TEXT_CHARACTERS = 30_000
MAX_ENTITIES_PER_TYPE = 200
MAX_SUSPECTS_SHOWN = 100

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NBSP = "\u00a0"
_NARROW_NBSP = "\u202f"  # keeps an entity's type tag visually apart without a line break
EMPTY_VALUE = '""'  # how an empty metadata value is shown
NO_SCORE = "n/a"  # a model without labels has no F1 and no entities; a type no one has, no F1


def point_link(index: int, entity_path: str = "umap_embeddings") -> str:
    """Link target that selects point ``index`` of ``entity_path`` in the Rerun viewer."""
    return f"recording://{entity_path}[#{index}]"


def escape_inline(text: str) -> str:
    """Escape ``text`` (no line breaks) so CommonMark shows it character for character."""
    return _PUNCTUATION.sub(r"\\\1", text)


def escape_text(text: str) -> str:
    """Escape multi-line ``text`` so CommonMark shows it as written (see ``_render_lines``)."""
    return _render_lines(text, lambda start, end: escape_inline(text[start:end]))


def text_document(text: str, entities: Sequence[Entity], max_characters: int = MAX_TEXT_CHARACTERS) -> str:
    """The original text, each entity in bold, linked to its first token's point, its type after it.

    A text longer than ``max_characters`` is cut at a line or word break, with a note saying so.
    """
    note = ""
    if len(text) > max_characters:
        cut = max(text.rfind("\n", 0, max_characters), text.rfind(" ", 0, max_characters))
        cut = cut if cut > max_characters // 2 else max_characters
        note = f"*Showing the first {cut:,} of {len(text):,} characters.*\n\n"
        text = text[:cut]
        entities = [e for e in entities if e.end <= cut]
    pending = list(entities)  # sorted by start, non-overlapping
    next_entity = 0

    def render(start: int, end: int) -> str:
        nonlocal next_entity
        out: list[str] = []
        cursor = start
        i = next_entity
        while i < len(pending) and pending[i].start < end:
            entity = pending[i]
            a, b = max(entity.start, cursor), min(entity.end, end)
            # Whitespace at either end of the bold part (an entity running over a line break)
            # stays outside it: CommonMark neither opens "** x" nor closes "x **".
            part = text[a:b]
            a, b = a + len(part) - len(part.lstrip()), b - len(part) + len(part.rstrip())
            if b > a:
                out.append(escape_inline(text[cursor:a]))
                # Bold inside the link: "[" and "]" are punctuation, so the "**" always open and close.
                out.append(f"[**{escape_inline(text[a:b])}**]({point_link(entity.first_token)})")
                cursor = b
            if entity.end > end:  # continues on the next line
                break
            out.append(_NARROW_NBSP + _code_span(entity.type))
            i += 1
        next_entity = i
        out.append(escape_inline(text[cursor:end]))
        return "".join(out)

    return note + _render_lines(text, render)


def _render_lines(text: str, render: Callable[[int, int], str]) -> str:
    """Lay out ``text`` line by line, ``render(start, end)`` giving each line's inline markdown.

    Single line breaks become hard breaks and blank lines stay paragraph breaks; leading spaces
    and tabs become no-break spaces, which keep the indentation visible without turning the
    line into a code block (where escapes would show).
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))

    def blank(span: tuple[int, int]) -> bool:
        # As the renderer trims a paragraph's end: any Unicode whitespace (form feeds, ideographic
        # spaces, ...), so no hard break is left dangling before a line of only that.
        return not text[span[0] : span[1]].replace("\ufeff", "").strip()

    out: list[str] = []
    for i, (line_start, line_end) in enumerate(spans):
        content_start = line_start
        while content_start < line_end and text[content_start] in " \t":
            content_start += 1
        line = _NBSP * (content_start - line_start) + render(content_start, line_end)
        # A trailing backslash is CommonMark's hard line break; none before a blank line or at the end.
        hard_break = i + 1 < len(spans) and not blank(spans[i]) and not blank(spans[i + 1])
        out.append(line + "\\" if hard_break else line)
    return "\n".join(out)


def _code_span(text: str) -> str:
    """``text`` as a code span, fenced with more backticks than it contains."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def tokenized_document(
    text: str,
    link_texts: Sequence[str],
    offsets: np.ndarray,
    word_ids: np.ndarray,
    max_tokens: int = MAX_LINKED_TOKENS,
    first_point: int = 0,
    space_only: np.ndarray | None = None,
    text_between: bool = False,
) -> str:
    """Every token a link to its point (token ``i`` is point ``first_point + i``), shown as
    ``link_texts[i]`` (see model/token_display.py). Pieces of one word join without a space, words are
    separated by a space; the text's line breaks are kept so the document still looks like the
    text. A token that stands only for whitespace (``space_only``, shown as ␣ or ↵) ends its
    line, and the line break it read comes after it. Past ``max_tokens`` the document stops,
    with a note saying so. ``text_between``: the tokens are a sample (point_sample.py), and the
    text between two of them, the tokens left out, is written as plain text."""
    parts: list[str] = []
    if len(link_texts) > max_tokens:
        parts.append(
            f"*Showing the first {max_tokens:,} of {len(link_texts):,} tokens; every token is a point in "
            "the 3D view, where hovering shows it.*\n\n"
        )
        link_texts = link_texts[:max_tokens]
    if space_only is None:
        space_only = np.zeros(len(link_texts), dtype=bool)
    # Where the text not yet laid out begins.
    gap_from = 0 if text_between else int(offsets[0, 0]) if len(link_texts) else 0
    for i, link_text in enumerate(link_texts):
        start, end = int(offsets[i, 0]), int(offsets[i, 1])
        if text_between and text[gap_from:start].strip():
            parts.append(_plain_text(text[gap_from:start]))
        elif i > 0 and word_ids[i] != word_ids[i - 1]:
            parts.append(_separator(text[gap_from:start]))
        parts.append(f"[{escape_inline(link_text)}]({point_link(first_point + i)})")
        # A line-break token (↵) is shown, and its break laid out before the next word.
        gap_from = max(gap_from, start if space_only[i] else end)
    if text_between and len(link_texts) < max_tokens:
        parts.append(_plain_text(text[gap_from:]))
    return "".join(parts)


def _separator(gap: str) -> str:
    """What the whitespace ``gap`` between two words becomes: a space, a line break, or a new
    paragraph for several."""
    newlines = len(_LINE_BREAK.findall(gap))
    return " " if newlines == 0 else "\\\n" if newlines == 1 else "\n\n"


def _plain_text(gap: str) -> str:
    """Text between tokens, as plain Markdown: its words escaped, its whitespace laid out as
    between linked words ("" where there is none, so a word's pieces stay joined)."""
    return "".join(
        escape_inline(part) if i % 2 == 0 else _separator(part)
        for i, part in enumerate(re.split(r"(\s+)", gap))
        if part
    )


def entities_document(entities: Sequence[Entity], types: Sequence[str]) -> str:
    """Unique entities grouped by type, most frequent first, each with its count."""
    if not entities:
        return "*No named entities found.*"
    sections: list[str] = []
    for entity_type, name in zip(types, display_names(types), strict=True):
        counts = Counter(e.text for e in entities if e.type == entity_type)
        if not counts:
            continue
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        lines = "\n".join(f"- {_one_line(text)} ({count})" for text, count in ordered[:MAX_ENTITIES_PER_TYPE])
        if len(ordered) > MAX_ENTITIES_PER_TYPE:
            lines += f"\n- *... and {len(ordered) - MAX_ENTITIES_PER_TYPE:,} more*"
        sections.append(f"### {escape_inline(name)}\n\n{lines}")
    return "\n\n".join(sections)


def _one_line(text: str) -> str:
    return escape_inline(" ".join(text.split()))


def document_header(index: int, count: int, metadata: dict[str, object]) -> str:
    """ "Document 3 of 12", then the document's metadata (JSON Lines fields) as key: value."""
    fields = [f"Document {index} of {count:,} (numbered from 0, as on the `document` timeline)"]
    for key, value in metadata.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        # An empty value shows as "": nothing may stand between a space and the closing "*".
        fields.append(f"{_one_line(str(key)) or EMPTY_VALUE}: {_one_line(shown) or EMPTY_VALUE}")
    return "*" + " · ".join(fields) + "*\n\n"


def metrics_document(evaluation: Evaluation, types: Sequence[str], source: str) -> str:
    """Entity-level precision, recall, F1 and support per type and averaged (as seqeval's
    classification_report), then which types were taken for which."""
    names = dict(zip(types, display_names(types), strict=True))

    def row(name: str, s: Scores) -> str:
        return f"| {name} | {s.precision:.4f} | {s.recall:.4f} | {s.f1:.4f} | {s.support:,} |"

    lines = [
        f"## Entity-level scores against {escape_inline(source)}",
        "",
        "Exact match: an entity counts as found with the same type and exactly the same words "
        "(seqeval's default mode, IOB2).",
        "",
        "| type | precision | recall | F1 | support |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        row(escape_inline(f"{t} ({names[t]})" if names.get(t, t) != t else t), s)
        for t, s in evaluation.per_type.items()
    ]
    lines += [
        row("**micro avg**", evaluation.micro),
        row("**macro avg**", evaluation.macro),
        row("**weighted avg**", evaluation.weighted),
        "",
        "## Confusion between types",
        "",
        "Rows: gold entities; columns: the prediction with exactly the same words. *none*: no "
        "gold entity there (spurious) or no prediction with those words (missed or wrong boundaries).",
        "",
    ]
    gold_types = sorted({g for g, _ in evaluation.confusion if g is not None})
    predicted_types = sorted({p for _, p in evaluation.confusion if p is not None})
    columns: list[str | None] = [*predicted_types, None]
    lines.append("| gold \\ predicted | " + " | ".join(escape_inline(c or "none") for c in columns) + " |")
    lines.append("| --- |" + " ---: |" * len(columns))
    for gold in [*gold_types, None]:
        counts = [evaluation.confusion.get((gold, c), 0) for c in columns]
        cells = ["" if gold is None and c is None else f"{n:,}" for n, c in zip(counts, columns, strict=True)]
        lines.append(f"| {escape_inline(gold or 'none')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_document(
    models: Sequence[str],
    types: Sequence[str],
    f1: Sequence[Mapping[str, float] | None] | None,
    counts: Sequence[Mapping[str, int] | None],
    agreement: Sequence[float],
    per_word: bool,
) -> str:
    """The models side by side, one row each (a run can have dozens of checkpoints): with gold
    labels each one's F1 per type (``f1``: per model, type -> F1 and "micro" -> micro F1, None
    for a model without labels), otherwise its number of entities per type; then how many
    words each model tags as the one before it does."""
    names = [escape_inline(t) for t in types]  # the short names: a column per type must fit
    points = "one point per word (the models' tokenizers differ)" if per_word else "one point per token"
    lines = [f"## {len(models)} models compared", "", f"Numbered as on the `model` timeline; {points}.", ""]
    if f1 is not None:
        lines += ["### Entity-level F1 against the gold labels", ""]
        columns, keys = [*names, "**micro avg**"], [*types, "micro"]
        # A type neither in the gold data nor predicted by the model has no F1 (seqeval omits it).
        rows = [None if s is None else [f"{s[k]:.4f}" if k in s else NO_SCORE for k in keys] for s in f1]
    else:
        lines += ["### Entities found per type", ""]
        columns, keys = names, list(types)
        rows = [None if c is None else [f"{c.get(k, 0):,}" for k in keys] for c in counts]
    lines += ["| model | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
    for i, (model, row) in enumerate(zip(models, rows, strict=True)):
        lines.append(
            f"| {i}: {escape_inline(model)} | " + " | ".join(row or [NO_SCORE] * len(columns)) + " |"
        )
    lines += ["", "### Agreement between consecutive models", ""]
    for i, share in enumerate(agreement):
        said = f"{share:.1%} of words tagged alike"
        if math.isnan(share):
            said = f"{NO_SCORE} (a model without labels)"
        lines.append(f"- {i} → {i + 1}: {said}")
    return "\n".join(lines)


def suspects_document(
    suspects: Sequence[Suspect], first_tokens: Sequence[int], cloud: str, shown: int = MAX_SUSPECTS_SHOWN
) -> str:
    """The ``shown`` most suspect gold labels: gold -> suggested, the evidence in words, and the
    sentence with the span's words in bold, each a link to its point in ``cloud``.
    ``first_tokens``: each word's first token (-1 for a word without one)."""
    lines = [
        "## Suspect gold labels",
        "",
        f"{len(suspects):,} spans whose gold label the evidence doubts, most suspect first"
        + (f"; the first {shown} here." if len(suspects) > shown else ".")
        + " A bold word selects its point in the Suspects cloud.",
    ]
    for rank, s in enumerate(suspects[:shown], start=1):
        start, end = s.words
        sentence_first = s.first_word - start
        marked = []
        for i, word in enumerate(s.sentence_words):
            token = first_tokens[sentence_first + i]
            if start <= i < end:
                word = f"**{escape_inline(word)}**"
                marked.append(f"[{word}]({point_link(token, cloud)})" if token >= 0 else word)
            else:
                marked.append(escape_inline(word))
        lines += [
            "",
            f"**{rank}.** {escape_inline(s.gold)} → **{escape_inline(s.suggested)}** · {s.kind} · "
            f"score {s.score:.3f} · document {s.document}, sentence {s.sentence}  ",
            " ".join(marked) + "  ",
            f"*{escape_inline(evidence_words(s))}*",
        ]
    return "\n".join(lines)


def evidence_words(s: Suspect) -> str:
    """A suspect's evidence in one line: the model's probabilities, the neighbours' votes, how
    the same words are labelled elsewhere (and in documents alike), and, for a training run, the
    gold label's probability at each checkpoint."""
    model = s.evidence.get("model", {})
    neighbours = s.evidence.get("neighbours", {})
    elsewhere = s.evidence.get("consistency", {})
    parts = []
    if isinstance(model, Mapping) and model:
        gold, suggested = model["gold_probability"], model["suggested_probability"]
        parts.append(f"model: {s.gold} {gold:.2f}, {s.suggested} {suggested:.2f}")
    if isinstance(neighbours, Mapping) and neighbours.get("total"):
        parts.append(f"neighbours: {neighbours['disagree']} of {neighbours['total']} not {s.gold}")
    if isinstance(elsewhere, Mapping) and elsewhere:
        counts = ", ".join(f"{label} {n}" for label, n in sorted(elsewhere.items(), key=lambda kv: -kv[1]))
        parts.append(f"the same words elsewhere: {counts}")
    alike = s.evidence.get("consistency_in_context", {})
    if isinstance(alike, Mapping) and alike:
        weights = ", ".join(f"{label} {w:.1f}" for label, w in sorted(alike.items(), key=lambda kv: -kv[1]))
        parts.append(f"weighed by how alike their documents are: {weights}")
    dynamics = s.evidence.get("dynamics", {})
    if isinstance(dynamics, Mapping) and dynamics.get("gold_probability"):
        trace = " → ".join("?" if p is None else f"{p:.2f}" for p in dynamics["gold_probability"])
        parts.append(f"{s.gold} through the run's checkpoints: {trace}")
    return " · ".join(parts)
