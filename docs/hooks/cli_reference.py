"""MkDocs hook: the command-line reference, written from the tool's own parser at build time.

A page holding the line ``<!-- options from the parser -->`` gets, in its place, every option
of ``llm_embedding_ner.options.build_parser()`` by group: its flags, value, default, choices and
help, then the parser's own examples. So the page says what ``--help`` says and cannot drift."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

MARKER = "<!-- options from the parser -->"


def _flags(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    # The value as --help writes it: a metavar, {choice,...}, [OPTIONAL].
    value = parser._get_formatter()._format_args(action, action.dest.upper()) if action.nargs != 0 else ""
    return ", ".join(f"{flag} {value}".rstrip() for flag in action.option_strings)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    # argparse's own expansion of %(default)s and the like, as --help prints it.
    return parser._get_formatter()._expand_help(action) if action.help else ""


def _facts(action: argparse.Action) -> str:
    facts = []
    if action.choices:
        facts.append("one of " + ", ".join(f"`{choice}`" for choice in action.choices))
    if action.nargs != 0 and action.default not in (None, argparse.SUPPRESS) and action.const is None:
        facts.append(f"default `{action.default}`")
    if action.nargs == "?":
        facts.append(f"alone: `{action.const}`")
    if isinstance(action, argparse._AppendAction):
        facts.append("may be given several times")
    return "; ".join(facts)


def _option(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    anchor = max(action.option_strings, key=len).lstrip("-")
    lines = [f"### `{_flags(parser, action)}` {{#{anchor}}}", "", _help(parser, action)]
    facts = _facts(action)
    if facts:
        lines += ["", f"*{facts[0].upper()}{facts[1:]}.*"]
    return "\n".join(lines)


def reference(parser: argparse.ArgumentParser) -> str:
    """The parser as Markdown: usage, then each group's options, then the epilog's examples."""
    usage = parser.format_usage().removeprefix("usage: ").strip()
    parts = ["## Usage", "", "```text", usage, "```", "", parser.description or ""]
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.option_strings and a.help != argparse.SUPPRESS]
        if not actions:
            continue
        title = {"options": "general"}.get(group.title or "", group.title)
        parts += ["", f"## {title[0].upper()}{title[1:]}"]
        if group.description:
            parts += ["", group.description]
        parts += [part for action in actions for part in ("", _option(parser, action))]
    if parser.epilog:
        parts += ["", "## Examples (from `--help`)", "", "```text", parser.epilog.rstrip(), "```"]
    return "\n".join(parts) + "\n"


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if MARKER not in markdown:
        return markdown
    from llm_embedding_ner.options import build_parser

    return markdown.replace(MARKER, reference(build_parser()))
