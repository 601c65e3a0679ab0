"""The documentation as a user meets it: the site builds with warnings as errors, every command
line shown in the README and on the site parses with the tool's own parser, every Python example
runs as written, and every picture is shown and present."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.inputs.text_input import check_one_source
from llm_embedding_ner.model.model_loading import DEFAULT_MODEL
from llm_embedding_ner.options import EXAMPLES, build_parser
from llm_embedding_ner.viewer.outputs import check_outputs

from .test_pipeline import agreeing_conll_text, conll_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
PROGRAM = ("python -m llm_embedding_ner", "python3 -m llm_embedding_ner", "llm_embedding_ner")
# Blocks run elsewhere, on inputs those tests build: the --table queries (tests/viewer/test_table.py).
RUN_ELSEWHERE = ("train-table",)


@dataclass(frozen=True)
class Shown:
    """A command line or Python block as a page shows it, and where."""

    page: str
    line: int  # from 1, the line its block or paragraph starts on
    text: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _blocks(page: Path) -> list[tuple[str, int, str, bool]]:
    """(info, line, content, fenced) of every code block and inline code span of ``page``."""
    found = []
    for token in MarkdownIt("commonmark").enable("table").parse(page.read_text(encoding="utf-8")):
        line = token.map[0] + 1 if token.map else 0
        if token.type == "fence":
            found.append((token.info.strip(), line, token.content, True))
        for child in token.children or []:
            if child.type == "code_inline":
                found.append(("", line, child.content, False))
    return found


def _commands(text: str) -> list[list[str]]:
    """The tool's argument lists in one shell line: after env assignments, in each command of a
    pipe or ``&&`` chain; comments dropped."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    for word in lexer:
        if word in ("|", "&&", ";", "||"):
            commands.append([])
        else:
            commands[-1].append(word)
    found = []
    for words in commands:
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
            words = words[1:]
        joined = " ".join(words)
        for program in PROGRAM:
            if joined == program or joined.startswith(program + " "):
                found.append(words[len(program.split()) :])
                break
    return found


def command_lines(page: Path) -> list[Shown]:
    """Every line of ``page`` that runs the tool: in shell blocks and in inline code."""
    shown = []
    for info, line, content, fenced in _blocks(page):
        if info in ("python", "json", "text"):
            continue
        lines = content.replace("\\\n", " ").splitlines() if fenced else [content]
        for offset, text in enumerate(lines):
            if any(program in text for program in PROGRAM):
                shown.append(Shown(_name(page), line + (offset + 1 if fenced else 0), text.strip()))
    return shown


def help_examples() -> list[Shown]:
    """The examples of ``--help`` (and of the generated command-line page): each is a command, then
    three or more spaces and what it does."""
    lines = [line.strip() for line in EXAMPLES.splitlines()]
    return [
        Shown("--help", i + 1, re.split(r"\s{3,}", line)[0])
        for i, line in enumerate(lines)
        if any(program in line for program in PROGRAM)
    ]


SHOWN = [shown for page in PAGES for shown in command_lines(page)] + help_examples()


def check_command(text: str) -> None:
    """Parse ``text``'s argument lists as the command line does, then check the options against
    each other as it does before any work (in an empty folder, so that no file is in the way)."""
    for args in _commands(text):
        try:
            namespace = build_parser().parse_args(args)
        except SystemExit as e:  # the parser said why on stderr, which pytest shows
            if e.code == 0:  # --help or --version: printed, nothing to check
                continue
            raise AssertionError(f"the tool's parser refuses {text!r}") from e
        check_one_source(namespace.text, namespace.file)
        models = namespace.model or [DEFAULT_MODEL]
        check_outputs(namespace, len(models), namespace.model or [], one_run=bool(namespace.suspects))


def test_the_pages_show_command_lines_to_check() -> None:
    pages = {shown.page for shown in SHOWN}
    assert len(SHOWN) > 60 and "README.md" in pages and "docs/reference/cli.md" in pages
    assert len(help_examples()) >= 8


@pytest.mark.parametrize("shown", SHOWN, ids=str)
def test_every_command_line_shown_parses(
    shown: Shown, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    check_command(shown.text)


@pytest.mark.parametrize(
    "stale",
    [
        "python -m llm_embedding_ner --gold-file dev.conll",  # an option it does not have
        "cat a.txt | python -m llm_embedding_ner --file - --layers none",  # a value it does not take
        "HF_HUB_OFFLINE=1 python -m llm_embedding_ner --model a --model b --ray",  # options at odds
        "python -m llm_embedding_ner --text hi --file a.txt",
    ],
)
def test_a_stale_command_line_is_caught(stale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.md"
    page.write_text(f"Run it:\n\n```sh\n{stale}\n```\n\nor `{stale}`.\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = command_lines(page)
    assert [s.text for s in found] == [stale, stale]
    with pytest.raises((AssertionError, UserError)):  # the parser's refusal, or the tool's
        check_command(found[0].text)


def python_examples() -> list[Shown]:
    return [
        Shown(_name(page), line, content)
        for page in PAGES
        for info, line, content, fenced in _blocks(page)
        if fenced and info == "python" and not any(name in content for name in RUN_ELSEWHERE)
    ]


@pytest.fixture(scope="module")
def example_folder(
    dslim_model_dir: Path, trainer_run: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A folder where the names the examples use are small local models and files: the Hub ids
    and model folders (a directory of that name is read as a local model), a Trainer run, CoNLL
    files, and the suspects file the run on dev.conll writes."""
    from llm_embedding_ner.model.model_loading import load_model
    from llm_embedding_ner.viewer.suspects_file import write_suspects

    folder = tmp_path_factory.mktemp("examples")
    for name in ("dslim/bert-base-NER", "bert-base-cased", "my-ner"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).symlink_to(dslim_model_dir, target_is_directory=True)
    (folder / "runs").mkdir()
    (folder / "runs" / "ner").symlink_to(trainer_run, target_is_directory=True)
    model = load_model(str(dslim_model_dir), device="cpu")
    (folder / "dev.conll").write_text(agreeing_conll_text(model, folder, seed=5), encoding="utf-8")
    (folder / "train.txt").write_text(conll_text(seed=6, iob1=True), encoding="utf-8")
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.pipeline import analyze

    analysis = analyze(read_corpus(None, str(folder / "dev.conll"), ""), model)
    assert analysis.suspects, "the example on the suspects file needs some"
    write_suspects(str(folder / "dev-suspects.jsonl"), analysis.suspects)
    return folder


def test_the_pages_show_python_examples() -> None:
    pages = {shown.page for shown in python_examples()}
    assert {"README.md", "docs/getting-started.md", "docs/tutorials/maps.md"} <= pages


@pytest.mark.parametrize("example", python_examples(), ids=lambda s: f"{s.page}:{s.line}")
def test_every_python_example_runs(
    example: Shown, example_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rerun as rr

    for entry in example_folder.iterdir():  # a folder of its own: an example may write a file
        (tmp_path / entry.name).symlink_to(entry)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rr.init("llm_embedding_ner-docs-test")
    rr.memory_recording()  # "the current Rerun recording" of the examples, kept in memory
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example.text, str(example), "exec"), {"__name__": "__example__"})


def test_every_picture_is_shown_and_present() -> None:
    images = {path.relative_to(DOCS) for path in (DOCS / "images").glob("*") if path.is_file()}
    shown: set[Path] = set()
    for page in PAGES:
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            path = (page.parent / target).resolve()
            assert path.is_file(), f"{_name(page)} shows {target}, which is not there"
            if path.is_relative_to(DOCS):
                shown.add(path.relative_to(DOCS))
    assert images - shown == set(), "pictures no page shows"


def test_the_readme_links_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), f"README links to {target}, which is not there"
    assert len(readme.splitlines()) <= 150


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    """mkdocs build --strict: a broken link or anchor, a page out of the navigation, a docstring
    mkdocstrings cannot read fail it. The generated pages hold every option and public name."""
    import llm_embedding_ner

    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    options = [
        flag
        for action in build_parser()._actions
        if action.help != argparse.SUPPRESS
        for flag in action.option_strings
    ]
    assert all(flag in cli for flag in options), [flag for flag in options if flag not in cli]
    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    public = [name for name in llm_embedding_ner.__all__ if not name.startswith("_")]
    missing = [
        name
        for name in public
        if f'id="llm_embedding_ner.{llm_embedding_ner._PUBLIC[name]}.{name}"' not in api
    ]
    assert missing == []
