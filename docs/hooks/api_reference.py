"""MkDocs hook: the Python API reference, one entry per public name of the package.

A page holding ``<!-- public names -->`` gets, in its place, a mkdocstrings block for each name in
``llm_embedding_ner.__all__``, from the module that defines it (the package's ``_PUBLIC``), so a
name added to the API is documented from its docstring without editing the page."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

MARKER = "<!-- public names -->"


def blocks() -> str:
    import llm_embedding_ner

    names = [name for name in llm_embedding_ner.__all__ if not name.startswith("_")]
    return "\n\n".join(f"::: llm_embedding_ner.{llm_embedding_ner._PUBLIC[name]}.{name}" for name in names)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return markdown.replace(MARKER, blocks()) if MARKER in markdown else markdown
