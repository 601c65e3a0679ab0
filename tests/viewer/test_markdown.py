"""The documents render the user's characters, not markup, and every token is one link."""

from __future__ import annotations

import re
from urllib.parse import unquote

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from llm_embedding_ner.analysis.entities import Entity
from llm_embedding_ner.viewer.markdown import (
    comparison_document,
    entities_document,
    escape_inline,
    escape_text,
    text_document,
    tokenized_document,
)

COMMONMARK = MarkdownIt("commonmark")
NASTY = [
    "plain words",
    "*stars* and _underscores_ and `ticks` and \\backslash\\",
    "[x](recording://umap_embeddings[#0]) ![img](a.png)",
    "<script>alert(1)</script> &amp; &#65; <http://example.com>",
    "# heading\n## another\n> quote\n- item\n1. numbered\n+ plus",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "    indented code?\n\ttabbed",
    "line one\nline two\r\nline three\n\nnew paragraph",
    "trailing backslash \\\nnext",
    "===\n---\n***",
    "emoji 🦀, CJK 東京, RTL שלום مرحبا, combining e\u0301",
    "~~strike~~ {braces} a|b ^caret$ 100% #tag @user",
]


def rendered_text(markdown: str, with_code: bool = True) -> str:
    """The visible characters of ``markdown``, line breaks as newlines; code spans (the
    entity type tags) left out unless ``with_code``."""
    out: list[str] = []
    for block in COMMONMARK.parse(markdown):
        if block.type == "paragraph_close" and out:
            out.append("\n\n")
        for child in block.children or []:
            if child.type == "text" or (with_code and child.type == "code_inline"):
                out.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                out.append("\n")
            elif child.type == "html_inline":
                raise AssertionError(f"raw HTML survived: {child.content!r}")
    return "".join(out).strip("\n")


def normalise(text: str) -> str:
    """What the documents promise to keep: characters, line breaks, paragraph breaks;
    indentation shows as no-break spaces."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = []
    for line in lines:
        stripped = line.lstrip(" \t")
        kept.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    return "\n".join(kept).strip("\n")


def link_tokens(markdown: str, bold: bool = False) -> list[tuple[str, str]]:
    """(visible text, href) of every link in ``markdown``; with ``bold``, only of bold links."""
    links = []
    for block in COMMONMARK.parse(markdown):
        children = block.children or []
        for i, child in enumerate(children):
            if child.type == "link_open":
                inside = []
                for inner in children[i + 1 :]:
                    if inner.type == "link_close":
                        break
                    inside.append(inner)
                if bold and not any(t.type == "strong_open" for t in inside):
                    continue
                links.append(("".join(t.content for t in inside), unquote(str(child.attrs["href"]))))
    return links


def paragraph_indent_free(text: str) -> str:
    # markdown-it trims Unicode spaces at a paragraph's start (JavaScript's trim()); CommonMark
    # and the viewer's renderer trim only ASCII whitespace. Compare without that indentation.
    return re.sub("(^|\n\n)\u00a0+", r"\1", text)


@pytest.mark.parametrize("text", NASTY)
def test_escaped_text_renders_as_written(text: str) -> None:
    assert paragraph_indent_free(rendered_text(escape_text(text))) == paragraph_indent_free(normalise(text))


@pytest.mark.parametrize("text", NASTY)
def test_blocks_are_only_paragraphs(text: str) -> None:
    kinds = {token.type for token in COMMONMARK.parse(escape_text(text))}
    assert kinds <= {"paragraph_open", "paragraph_close", "inline"}


def test_escape_inline_escapes_every_ascii_punctuation_character() -> None:
    punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    assert escape_inline(punctuation) == "".join("\\" + c for c in punctuation)
    assert escape_inline("Zürich 東京") == "Zürich 東京"


def test_tokenized_document_has_one_working_link_per_token() -> None:
    text = "[x](y) *a* `b`\nC:\\path ]] ##"
    tokens = [
        "[",
        "x",
        "]",
        "(",
        "y",
        ")",
        "*",
        "a",
        "*",
        "`",
        "b",
        "`",
        "C",
        ":",
        "\\",
        "path",
        "]",
        "]",
        "#",
        "#",
    ]
    offsets, cursor = [], 0
    for token in tokens:
        start = text.index(token, cursor)
        offsets.append((start, start + len(token)))
        cursor = start + len(token)
    word_ids = np.arange(len(tokens))
    links = link_tokens(tokenized_document(text, tokens, np.asarray(offsets), word_ids))
    assert links == [(t, f"recording://umap_embeddings[#{i}]") for i, t in enumerate(tokens)]


def test_pieces_of_a_word_join_without_space() -> None:
    text = "Skłodowska won"
    tokens = ["Skł", "odowska", "won"]  # link texts: token_display.py has taken "##" off
    offsets = np.asarray([(0, 3), (3, 10), (11, 14)])
    document = tokenized_document(text, tokens, offsets, np.asarray([0, 0, 1]))
    assert document == (
        "[Skł](recording://umap_embeddings[#0])[odowska](recording://umap_embeddings[#1]) "
        "[won](recording://umap_embeddings[#2])"
    )
    assert rendered_text(document) == "Skłodowska won"


def test_tokenized_document_keeps_line_breaks() -> None:
    text = "a\nb\n\nc"
    offsets = np.asarray([(0, 1), (2, 3), (5, 6)])
    assert rendered_text(tokenized_document(text, ["a", "b", "c"], offsets, np.arange(3))) == "a\nb\n\nc"


def entity(text: str, start: int, end: int, entity_type: str, first_token: int = 0) -> Entity:
    return Entity(entity_type, start, end, text[start:end], 0.9, first_token, first_token + 1)


def test_text_document_links_entities_and_shows_types() -> None:
    text = "*Ada* met [Bob] in\nNew York"
    entities = [entity(text, 1, 4, "PER", 1), entity(text, 11, 14, "PER", 5), entity(text, 19, 27, "LOC", 8)]
    document = text_document(text, entities)
    assert link_tokens(document, bold=True) == [
        ("Ada", "recording://umap_embeddings[#1]"),
        ("Bob", "recording://umap_embeddings[#5]"),
        ("New York", "recording://umap_embeddings[#8]"),
    ]
    shown = rendered_text(document).replace("\u202f", "")
    assert shown == "*AdaPER* met [BobPER] in\nNew YorkLOC"


def test_entity_spanning_a_line_break_stays_linked_on_both_lines() -> None:
    text = "see New\nYork now"
    document = text_document(text, [entity(text, 4, 12, "LOC", 1)])
    assert [t for t, _ in link_tokens(document, bold=True)] == ["New", "York"]
    assert rendered_text(document).replace("\u202f", "") == "see New\nYorkLOC now"


def test_entities_document_lists_unique_entities_with_counts() -> None:
    text = "Paris Paris London Ada"
    entities = [
        entity(text, 0, 5, "LOC"),
        entity(text, 6, 11, "LOC"),
        entity(text, 12, 18, "LOC"),
        entity(text, 19, 22, "PER"),
    ]
    document = entities_document(entities, ["LOC", "PER", "ORG"])
    assert document == "### Location\n\n- Paris (2)\n- London (1)\n\n### Person\n\n- Ada (1)"
    assert entities_document([], ["LOC"]) == "*No named entities found.*"


def test_long_documents_show_their_beginning_and_say_so() -> None:
    tokens = [f"t{i}" for i in range(30)]
    offsets = np.asarray([(3 * i, 3 * i + 2) for i in range(30)])
    text = " ".join(tokens)
    document = tokenized_document(text, tokens, offsets, np.arange(30), max_tokens=10)
    assert document.startswith("*Showing the first 10 of 30 tokens")
    assert len(link_tokens(document)) == 10

    long_text = "word " * 100
    entities = [entity(long_text, 0, 4, "PER"), entity(long_text, 400, 404, "PER", 80)]
    shown = text_document(long_text, entities, max_characters=50)
    assert shown.startswith("*Showing the first 49 of 500 characters.*")
    assert [t for t, _ in link_tokens(shown, bold=True)] == ["word"]  # the entity past the cut is not shown


def visible(text: str) -> str:
    """The characters a reader sees, whitespace runs counted as one space (layout is checked by
    the example tests above). CommonMark turns NUL into U+FFFD."""
    return re.sub(r"\s+", " ", text.replace("\x00", "\ufffd")).strip()


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_unicode_text_renders_back_to_its_characters(text: str) -> None:
    document = escape_text(text)
    assert {t.type for t in COMMONMARK.parse(document)} <= {"paragraph_open", "paragraph_close", "inline"}
    assert visible(rendered_text(document)) == visible(text)


@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp")),
            min_size=1,
            max_size=8,
        ),
        min_size=1,
        max_size=40,
    )
)
@settings(max_examples=300, deadline=None)
def test_any_tokens_give_exactly_one_link_each(tokens: list[str]) -> None:
    text = " ".join(tokens)
    offsets, cursor = [], 0
    for token in tokens:
        offsets.append((cursor, cursor + len(token)))
        cursor += len(token) + 1
    document = tokenized_document(text, tokens, np.asarray(offsets), np.arange(len(tokens)))
    links = link_tokens(document)
    assert [href for _, href in links] == [f"recording://umap_embeddings[#{i}]" for i in range(len(tokens))]
    assert [shown for shown, _ in links] == tokens


def test_no_hard_break_dangles_before_a_line_of_other_whitespace() -> None:
    # Found by hypothesis: a form feed alone on the last line left a literal backslash.
    for text in ("0\r\x0c", "a\n\u3000", "a\n\x0b\nb"):
        assert visible(rendered_text(escape_text(text))) == visible(text)


def test_whitespace_at_the_ends_of_a_bold_part_stays_outside_it() -> None:
    # "Dear Barack  \nObama": once written "**Barack  **", which CommonMark does not close.
    text = "Dear Barack  \nObama, hi"
    document = text_document(text, [entity(text, 5, 19, "PER", 1)])
    assert [t for t, _ in link_tokens(document, bold=True)] == ["Barack", "Obama"]
    assert "*" not in rendered_text(document)


@given(
    text=st.text(alphabet="ab* \t\n\u00a0\u3000", min_size=1, max_size=40),
    cuts=st.lists(st.integers(0, 40), max_size=8, unique=True),
)
@settings(max_examples=300, deadline=None)
def test_every_entity_part_renders_bold_whatever_whitespace_surrounds_it(text: str, cuts: list[int]) -> None:
    # Entities as the decoder makes them: no whitespace at either end.
    bounds = sorted(c for c in cuts if c <= len(text))
    entities = []
    for start, end in zip(bounds[::2], bounds[1::2], strict=False):
        span = text[start:end]
        start, end = start + len(span) - len(span.lstrip()), end - len(span) + len(span.rstrip())
        if end > start:
            entities.append(entity(text, start, end, "PER", len(entities)))
    document = text_document(text, entities)
    expected = [part.strip() for e in entities for part in re.split(r"\r\n|\r|\n", e.text) if part.strip()]
    assert [t for t, _ in link_tokens(document, bold=True)] == expected
    assert visible(rendered_text(document, with_code=False).replace("\u202f", "")) == visible(text)


def test_an_empty_metadata_value_leaves_no_italics_open() -> None:
    from llm_embedding_ner.viewer.markdown import document_header

    header = document_header(0, 2, {"title": "  ", "": "x", "source": "wiki"})
    shown = rendered_text(header)
    assert "*" not in shown and 'title: ""' in shown and "source: wiki" in shown
    assert any(t.type == "em_open" for block in COMMONMARK.parse(header) for t in block.children or [])


def test_a_type_that_neither_the_model_nor_the_gold_data_has_has_no_f1() -> None:
    # dslim-like model against an OntoNotes-like one, on CoNLL gold: the first cannot predict GPE
    # and the gold data has none, so GPE has no F1 there; the second missed every PER (F1 0).
    f1 = [{"PER": 0.8, "micro": 0.8}, {"PER": 0.0, "GPE": 0.0, "micro": 0.0}]
    body = comparison_document(["dslim", "onto"], ["PER", "GPE"], f1, [None, None], [0.5], False)
    rows = [line for line in body.splitlines() if line.startswith("| 0:") or line.startswith("| 1:")]
    assert rows == ["| 0: dslim | 0.8000 | n/a | 0.8000 |", "| 1: onto | 0.0000 | 0.0000 | 0.0000 |"]


def test_a_suspects_evidence_in_words_names_its_context_and_its_runs_checkpoints() -> None:
    from llm_embedding_ner.analysis.suspects import Suspect
    from llm_embedding_ner.viewer.markdown import evidence_words

    evidence = {
        "model": {"gold_probability": 0.9, "suggested_probability": 0.05},
        "consistency": {"O": 10, "ORG": 3},
        "consistency_in_context": {"O": 0.02, "ORG": 3.0},
        "dynamics": {
            "checkpoints": ["checkpoint-5", "checkpoint-10", "final"],
            "gold_probability": [0.1, None, 0.9],
        },
    }
    s = Suspect(0, 1, "ORG", "LOC", "wrong type", 0.5, evidence)
    assert evidence_words(s) == (
        "model: ORG 0.90, LOC 0.05 · the same words elsewhere: O 10, ORG 3 · "
        "weighed by how alike their documents are: ORG 3.0, O 0.0 · "
        "ORG through the run's checkpoints: 0.10 → ? → 0.90"
    )
