"""Gold tags in IOB1, IOB2, IOBES and BILOU read as seqeval's default mode reads them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from llm_embedding_ner.inputs.tag_schemes import broken_tags, detect_scheme, read_chunks, to_iob2

from ..analysis.test_evaluation import assert_equals_report, assert_equals_seqeval

TYPES = ["PER", "LOC", "ORG"]


def tags_of(prefixes: str, min_size: int = 1, max_size: int = 14) -> st.SearchStrategy[list[str]]:
    tag = st.one_of(
        st.just("O"), st.builds(lambda p, t: f"{p}-{t}", st.sampled_from(prefixes), st.sampled_from(TYPES))
    )
    return st.lists(tag, min_size=min_size, max_size=max_size)


def seqeval_chunks(tags: list[str]) -> set[tuple[str, int, int]]:
    iobes = [t.replace("U-", "S-", 1).replace("L-", "E-", 1) for t in tags]  # seqeval's letters
    return {(t, start, end + 1) for t, start, end in get_entities(iobes)}


@pytest.mark.parametrize("prefixes", ["BI", "BIES", "BILU"])
@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_chunks_equal_seqeval_default_mode(prefixes: str, data: st.DataObject) -> None:
    tags = data.draw(tags_of(prefixes))
    assert set(read_chunks(tags)) == seqeval_chunks(tags)
    iob2 = to_iob2(tags)
    assert all(t == "O" or t[:2] in ("B-", "I-") for t in iob2)
    assert set(read_chunks(iob2)) == seqeval_chunks(tags)  # the same entities, spelled in IOB2


@pytest.mark.parametrize("prefixes", ["BIES", "BILU"])
@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_scores_on_converted_gold_equal_seqeval_on_the_original(prefixes: str, data: st.DataObject) -> None:
    gold = data.draw(st.lists(tags_of(prefixes), min_size=1, max_size=5))
    predicted = [data.draw(tags_of("BI", len(s), len(s))) for s in gold]
    if not any(t != "O" for s in gold + predicted for t in s):
        return  # seqeval reports nothing without a single entity
    # seqeval on the original gold (BILOU under IOBES letters), ours on the IOB2 it becomes.
    original = [[t.replace("U-", "S-", 1).replace("L-", "E-", 1) for t in s] for s in gold]
    from seqeval.metrics import classification_report

    ours_gold = [to_iob2(s) for s in gold]
    expected = classification_report(original, predicted, output_dict=True, zero_division=0)
    converted = classification_report(ours_gold, predicted, output_dict=True, zero_division=0)
    assert converted == expected
    assert_equals_seqeval(ours_gold, predicted)


@st.composite
def well_formed(draw: st.DrawFn, prefixes: str, length: int) -> list[str]:
    """``length`` tags that keep their scheme: entities of one or more words, spelled as the
    scheme says (``prefixes``: its begin, inside, last and unit letters)."""
    begin, inside, last, unit = prefixes
    tags: list[str] = []
    while len(tags) < length:
        size = draw(st.integers(0, min(4, length - len(tags))))  # 0: an O
        t = draw(st.sampled_from(TYPES))
        if size == 0:
            tags.append("O")
        elif size == 1:
            tags.append(f"{unit}-{t}")
        else:
            tags += [f"{begin}-{t}", *[f"{inside}-{t}"] * (size - 2), f"{last}-{t}"]
    return tags


@pytest.mark.parametrize("prefixes", ["BIES", "BILU"])
@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_iobes_and_bilou_scores_equal_seqeval_strict_mode(prefixes: str, data: st.DataObject) -> None:
    # Strict mode reads tags as their scheme means them; for BILOU only it does (see below).
    from seqeval.metrics import classification_report
    from seqeval.scheme import BILOU, IOBES

    lengths = data.draw(st.lists(st.integers(1, 12), min_size=1, max_size=4))
    gold = [data.draw(well_formed(prefixes, n)) for n in lengths]
    predicted = [data.draw(well_formed(prefixes, n)) for n in lengths]
    if not any(t != "O" for s in gold + predicted for t in s):
        return  # seqeval reports nothing without a single entity
    scheme = IOBES if prefixes == "BIES" else BILOU
    strict = classification_report(
        gold, predicted, mode="strict", scheme=scheme, output_dict=True, zero_division=0
    )
    assert_equals_report([to_iob2(s) for s in gold], [to_iob2(s) for s in predicted], strict)


def test_bilou_units_are_entities_of_their_own_unlike_seqevals_default_mode() -> None:
    # seqeval's default mode knows no U- or L-: it reads two units of one type as one entity.
    tags = ["U-PER", "U-PER", "B-LOC", "L-LOC", "U-LOC"]
    assert read_chunks(tags) == [("PER", 0, 1), ("PER", 1, 2), ("LOC", 2, 4), ("LOC", 4, 5)]
    with pytest.warns(UserWarning):
        assert get_entities(tags)[0] == ("PER", 0, 1)  # one PER over both words


def test_iob1_becomes_iob2() -> None:
    iob1 = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG"]
    assert to_iob2(iob1) == ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG"]
    iob2 = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]
    assert to_iob2(iob2) == iob2


def test_iobes_and_bilou_become_iob2() -> None:
    iobes = ["B-PER", "E-PER", "S-LOC", "O", "B-ORG", "I-ORG", "E-ORG", "S-ORG"]
    expected = ["B-PER", "I-PER", "B-LOC", "O", "B-ORG", "I-ORG", "I-ORG", "B-ORG"]
    assert to_iob2(iobes) == expected
    bilou = [t.replace("E-", "L-").replace("S-", "U-") for t in iobes]
    assert to_iob2(bilou) == expected


@pytest.mark.parametrize(
    ("tags", "scheme", "broken"),
    [
        (["B-PER", "E-PER", "S-LOC", "O"], "iobes", []),
        (["O", "E-PER", "O"], "iobes", [1]),  # an end without a start
        (["B-PER", "O"], "iobes", [0]),  # a start without an end
        (["B-PER", "I-PER", "O"], "iobes", [1]),  # ... and an inside without an end
        (["B-PER", "E-LOC"], "iobes", [0, 1]),  # types that do not match
        (["U-PER", "B-LOC", "L-LOC"], "bilou", []),
        (["O", "L-PER", "U-LOC", "I-LOC"], "bilou", [1, 3]),
        (["O", "I-PER", "I-PER", "B-LOC"], "iob2", [1]),
        (["O", "I-PER", "I-PER", "B-LOC"], "iob1", []),  # IOB1 begins entities with I-
        (["B-PER", "I-PER"], "iob2", []),
    ],
)
def test_tags_that_break_their_scheme(tags: list[str], scheme: str, broken: list[int]) -> None:
    assert broken_tags(tags, scheme) == broken


def test_scheme_from_the_prefixes_found() -> None:
    assert detect_scheme({"B", "I"}) == "iob1"
    assert detect_scheme({"I"}) == "iob1"
    assert detect_scheme({"B", "I", "E", "S"}) == "iobes"
    assert detect_scheme({"S"}) == "iobes"
    assert detect_scheme({"B", "L", "U"}) == "bilou"
    assert detect_scheme({"S", "U"}) is None  # mixed: the user must say
