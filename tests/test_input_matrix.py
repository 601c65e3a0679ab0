"""What people paste: each input gives a correct recording (exit 0) or one ``error:`` line (exit 2).

In every successful case the entities' offsets slice the text exactly, every token is one working
link in the tokenized document, and the text document shows the user's characters, not markup.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_embedding_ner.cli import main
from llm_embedding_ner.pipeline import analyze

from .test_cli import read_rrd
from .viewer.test_markdown import link_tokens, normalise, paragraph_indent_free, rendered_text

TEXTS = {
    "single character": "x",
    "one 20,000-character word": "a" * 20_000,
    "control characters": "tab\there, bell\a, escape\x1b[31m red, form\x0cfeed, vertical\x0btab, DEL\x7f",
    "CRLF line ends": "Angela Merkel met\r\nEmmanuel Macron\r\n\r\nin Paris.\r\n",
    "emoji": "Microsoft 🦀🚀 loves 👩‍👩‍👧 families in Paris 🇫🇷",
    "CJK": "東京とParisで、Angela Merkelさんが話した。北京大学",
    "right-to-left": "שלום Paris مرحبا بكم في London",
    "combining marks": "Cafe\u0301 in Kraków with Zoe\u0308 and n\u0303 and a\u0301\u0300\u0302",
    "markdown and HTML": (
        "[x](recording://umap_embeddings[#0]) <script>alert(1)</script> `code` ``two``\n"
        "# heading\n| a | b |\n|---|---|\n*star* _under_ \\back\\slash\\ ~~s~~ &amp; <b>bold</b>"
    ),
    "only punctuation": "!?.,;:()[]{}<>\"'`~@#$%^&*-_=+|\\/",
    "words the tokenizer maps to [UNK]": "Ωμέγα ψυχή Ж ЯЁ ℵ ∀x∃y ⌘ Paris",
}


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, Path]:
    out = tmp_path / "out.rrd"
    code = main([*args, "--headless", "--save", str(out), "-q"])
    return code, capsys.readouterr().err, out


@pytest.mark.parametrize("case", TEXTS)
def test_text_gives_a_correct_recording(case: str, dslim_model, dslim_model_dir, tmp_path, capsys) -> None:
    text = TEXTS[case]
    source = tmp_path / "input.txt"
    source.write_bytes(text.encode("utf-8"))  # exactly these characters, CRLF included
    code, stderr, out = run(tmp_path, capsys, "--model", str(dslim_model_dir), "--file", str(source))
    assert code == 0, stderr
    assert all(line.startswith("warning: ") for line in stderr.splitlines()), stderr

    logged = read_rrd(out)
    n_points = len(logged["/umap_embeddings"]["Points3D:positions"])
    tokens = logged["/umap_embeddings"]["Token"]
    assert n_points == len(tokens) == len(dslim_model.tokenizer(text, add_special_tokens=False).input_ids)
    links = link_tokens(logged["/tokenized_text"]["TextDocument:text"][0])
    assert [href for _, href in links] == [f"recording://umap_embeddings[#{i}]" for i in range(n_points)]

    shown = rendered_text(logged["/text"]["TextDocument:text"][0], with_code=False).replace("\u202f", "")
    assert paragraph_indent_free(shown) == paragraph_indent_free(normalise(text))

    analysis = analyze(text, dslim_model)
    assert all(text[e.start : e.end] == e.text for e in analysis.entities)
    assert analysis.tokens == tokens


def ordinary_text(size: int) -> str:
    """About ``size`` characters of varied news-like sentences and paragraphs."""
    import random

    rng = random.Random(0)
    people = [
        "Angela Merkel",
        "Ada Lovelace",
        "Kofi Annan",
        "Marie Curie",
        "Nelson Mandela",
        "Jacinda Ardern",
    ]
    places = ["Paris", "Nairobi", "São Paulo", "Kraków", "the Vistula", "New York", "Geneva", "Osaka"]
    groups = ["the United Nations", "Microsoft", "the World Health Organization", "Siemens", "Reuters"]
    verbs = ["met", "visited", "praised", "criticised", "interviewed", "thanked", "left", "joined"]
    days = ["on Monday", "last week", "in March", "yesterday", "in 1998", "after the summit"]
    parts: list[str] = []
    length = 0
    while length < size:
        sentence = f"{rng.choice(people)} {rng.choice(verbs)} {rng.choice(groups)} in {rng.choice(places)} "
        sentence += rng.choice(days) + (".\n\n" if rng.random() < 0.1 else ". ")
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)


def test_one_megabyte_of_ordinary_text(short_window_model_dir, tmp_path, capsys) -> None:
    from transformers import AutoTokenizer

    text = ordinary_text(1_000_000)
    source = tmp_path / "big.txt"
    source.write_text(text, encoding="utf-8")
    # Few neighbours keep UMAP on ~350k points to about two minutes here; the pipeline is the same.
    code, stderr, out = run(
        tmp_path, capsys, "--model", str(short_window_model_dir), "--file", str(source), "--n-neighbors", "4"
    )
    assert code == 0, stderr
    logged = read_rrd(out)
    tokenizer = AutoTokenizer.from_pretrained(short_window_model_dir)
    n_tokens = len(tokenizer(text, add_special_tokens=False, verbose=False).input_ids)
    assert len(logged["/umap_embeddings"]["Points3D:positions"]) == n_tokens > 150_000
    assert logged["/tokenized_text"]["TextDocument:text"][0].startswith("*Showing the first 5,000 of")
    assert logged["/text"]["TextDocument:text"][0].startswith("*Showing the first ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b" \n\t\r\n ", "empty"),
        (b"caf\xe9 cr\xe8me", "not valid UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"text with a NUL\x00 byte", "binary"),
    ],
)
def test_bad_files_end_with_one_error_line(
    content: bytes, message: str, dslim_model_dir, tmp_path, capsys
) -> None:
    source = tmp_path / "input.bin"
    source.write_bytes(content)
    code, stderr, out = run(tmp_path, capsys, "--model", str(dslim_model_dir), "--file", str(source))
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and message in stderr
    assert not out.exists()
