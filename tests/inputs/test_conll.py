"""CoNLL files in every tagging scheme: read into IOB2, broken tags repaired with one warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.inputs.conll import parse_conll

IOBES = (
    "EU S-ORG\nrejects O\nthe O\nEuropean B-ORG\nCentral I-ORG\nBank E-ORG\n\nPeter B-PER\nBlackburn E-PER\n"
)
EXPECTED = ["B-ORG", "O", "O", "B-ORG", "I-ORG", "I-ORG", "B-PER", "I-PER"]


def read(content: str, scheme: str = "auto") -> list[str]:
    (document,) = parse_conll(content, "gold.txt", scheme)
    return document.gold_tags


def test_iobes_and_bilou_become_the_same_iob2_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read(IOBES) == EXPECTED
        assert read(IOBES.replace("S-", "U-").replace("E-", "L-")) == EXPECTED
        assert read(IOBES, scheme="iobes") == EXPECTED


def test_broken_tags_are_repaired_with_one_warning_naming_the_first() -> None:
    broken = "Ada B-PER\nsaid O\nLovelace E-PER\nin O\nLondon B-LOC\n"  # lines 1 and 3 and 5
    with pytest.warns(UserWarning) as caught:
        tags = read(broken)
    (warning,) = caught
    message = str(warning.message)
    assert message.startswith("gold.txt: 3 tags break the IOBES scheme (the first at gold.txt:1)")
    assert "seqeval" in message
    # seqeval's default mode: each becomes a one-word entity.
    assert tags == ["B-PER", "O", "B-PER", "O", "B-LOC"]


def test_iob2_asked_for_counts_an_inside_without_a_start() -> None:
    content = "Ada O\nLovelace I-PER\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read(content) == ["O", "B-PER"]  # IOB1, CoNLL-2003's own scheme: nothing broken
    with pytest.warns(UserWarning, match=r"1 tag break the IOB2 scheme \(the first at gold.txt:2\)"):
        assert read(content, scheme="iob2") == ["O", "B-PER"]


@pytest.mark.parametrize(
    ("content", "scheme", "message"),
    [
        ("Ada S-PER\n", "iob2", r"gold.txt:1: tag 'S-PER' is not an IOB2 tag: O, or B-TYPE, I-TYPE"),
        ("Ada B-PER\nLovelace L-PER\n", "iobes", r"gold.txt:2: tag 'L-PER' is not an IOBES tag"),
        ("Ada S-PER\n\nParis U-LOC\n", "auto", "mixes IOBES tags .* and BILOU tags .*--scheme iobes"),
    ],
)
def test_tags_outside_the_scheme_are_errors(content: str, scheme: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        read(content, scheme)


def test_iobes_gold_scores_as_seqeval_scores_the_original_tags(dslim_model, tmp_path: Path) -> None:
    from seqeval.metrics import classification_report

    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.pipeline import analyze

    from ..test_pipeline import by_sentence, conll_text

    iob2 = conll_text(seed=11, iob1=False)
    # Spell the same entities in IOBES: the last word of each entity E-, a one-word entity S-.
    lines = iob2.splitlines()
    iobes = []
    for i, line in enumerate(lines):
        fields = line.split()
        if len(fields) < 2 or fields[-1] == "O":
            iobes.append(line)
            continue
        following = lines[i + 1].split() if i + 1 < len(lines) else []
        ends = not (len(following) >= 2 and following[-1] == f"I-{fields[-1][2:]}")
        prefix = {("B", True): "S", ("B", False): "B", ("I", True): "E", ("I", False): "I"}[
            fields[-1][0], ends
        ]
        iobes.append(" ".join([*fields[:-1], f"{prefix}-{fields[-1][2:]}"]))
    path = tmp_path / "gold.iobes"
    path.write_text("\n".join(iobes) + "\n", encoding="utf-8")
    a = analyze(read_corpus(None, str(path), ""), dslim_model)
    original = by_sentence(
        [line.split()[-1] for line in iobes if len(line.split()) >= 2 and "DOCSTART" not in line],
        a.gold.word_sentence,
    )
    predicted = by_sentence(a.gold.predicted_tags, a.gold.word_sentence)
    report = classification_report(original, predicted, output_dict=True, zero_division=0)
    assert a.gold.evaluation.micro.f1 == pytest.approx(report["micro avg"]["f1-score"])
    for entity_type, scores in a.gold.evaluation.per_type.items():
        assert scores.f1 == pytest.approx(report[entity_type]["f1-score"])
        assert scores.support == report[entity_type]["support"]
