"""Reading each family's piece convention, and the characters a piece stands for."""

from __future__ import annotations

import pytest

from llm_embedding_ner.model.vocabulary import (
    PieceStyle,
    _byte_decoder,
    is_space_only,
    piece_characters,
    piece_style,
    starts_with_space,
)

from ..families import FAMILIES, WORDPIECE_FAMILIES

WORDPIECE = PieceStyle(continuation_prefix="##", unk_token="[UNK]")
BYTE_LEVEL = PieceStyle(byte_level=True, unk_token="<unk>")
SENTENCEPIECE = PieceStyle(space_marker="▁", unk_token="<unk>")
MIXED = "Dear Zoë, São Paulo's 東京 😀 (Kraków)!\nNew  York.\tEnd"


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_style_is_read_from_its_tokenizer(family: str, family_models: dict) -> None:
    style = piece_style(family_models[family].tokenizer)
    expected = {
        "roberta": BYTE_LEVEL,
        "xlm-roberta": SENTENCEPIECE,
        "deberta-v3": PieceStyle(space_marker="▁", unk_token="[UNK]"),
    }
    assert style == expected.get(family, WORDPIECE)
    assert style.marks_word_starts == (family not in WORDPIECE_FAMILIES)


def test_sentencepiece_bpe_with_a_replace_decoder_and_a_bare_wordpiece_model() -> None:
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    llama_like = Tokenizer(models.BPE(vocab={"<unk>": 0, "▁a": 1}, merges=[], unk_token="<unk>"))
    llama_like.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=llama_like, unk_token="<unk>")
    assert piece_style(tokenizer) == SENTENCEPIECE

    bare = Tokenizer(models.WordPiece(vocab={"[UNK]": 0, "a": 1, "##b": 2}, unk_token="[UNK]"))
    assert piece_style(PreTrainedTokenizerFast(tokenizer_object=bare, unk_token="[UNK]")) == WORDPIECE

    plain = Tokenizer(models.WordLevel(vocab={"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    assert piece_style(PreTrainedTokenizerFast(tokenizer_object=plain, unk_token="[UNK]")) == PieceStyle(
        unk_token="[UNK]"
    )


def test_byte_table_is_gpt2s() -> None:
    from tokenizers import pre_tokenizers

    table = _byte_decoder()
    assert sorted(table.values()) == list(range(256))
    assert set(table) == set(pre_tokenizers.ByteLevel.alphabet())
    assert (table["Ġ"], table["Ċ"], table["ĉ"], table["A"]) == (0x20, 0x0A, 0x09, 0x41)


def test_byte_level_pieces_spell_the_text_back(family_models: dict) -> None:
    tokenizer = family_models["roberta"].tokenizer
    pieces = tokenizer.convert_ids_to_tokens(tokenizer(MIXED, add_special_tokens=False).input_ids)
    assert any(piece_characters(p, BYTE_LEVEL) == "\ufffd" for p in pieces)  # "ë" was split in two
    table = _byte_decoder()
    assert b"".join(bytes(table[c] for c in p) for p in pieces).decode("utf-8") == MIXED


@pytest.mark.parametrize(
    ("piece", "style", "characters", "space", "space_only"),
    [
        ("Mer", WORDPIECE, "Mer", False, False),
        ("##kel", WORDPIECE, "kel", False, False),
        ("##", WORDPIECE, "##", False, False),  # the text "##" itself
        ("ĠMerkel", BYTE_LEVEL, " Merkel", True, False),
        ("kel", BYTE_LEVEL, "kel", False, False),
        ("ĠSÃ", BYTE_LEVEL, " S\ufffd", True, False),  # "S" and half of "ã"
        ("Ã«", BYTE_LEVEL, "ë", False, False),
        ("Ġ", BYTE_LEVEL, " ", True, True),
        ("ĊĊ", BYTE_LEVEL, "\n\n", True, True),
        ("ĉ", BYTE_LEVEL, "\t", True, True),
        ("<mask>", BYTE_LEVEL, "<mask>", False, False),  # an added token, not bytes
        ("▁Merkel", SENTENCEPIECE, " Merkel", True, False),
        ("▁", SENTENCEPIECE, " ", True, True),
        ("kel", SENTENCEPIECE, "kel", False, False),
    ],
)
def test_piece_characters(
    piece: str, style: PieceStyle, characters: str, space: bool, space_only: bool
) -> None:
    assert piece_characters(piece, style) == characters
    assert starts_with_space(piece, style) is space
    assert is_space_only(piece, style) is space_only
