"""How a model download shows its progress: a bar on a terminal, occasional lines elsewhere.

huggingface_hub draws one bar per file with the ``tqdm_class`` it is given (transformers passes
``from_pretrained(tqdm_class=...)`` through). Both classes here are real tqdm bars, so every
method the Hub calls on a bar works; they differ only in where the bar goes:

- ``TerminalBar``: stderr is a terminal: tqdm's own bar, with bytes, rate and time left;
- ``LoggedBar``: stderr is a file or a pipe (a CI log, ``nohup``): a bar drawn there would be a
  stream of carriage returns, so the bar draws nowhere and a plain line goes to the
  ``llm_embedding_ner`` logger every ``EVERY_SECONDS``, and one when the file is complete.

Progress shows when the logger shows info lines: ``--quiet`` (or a library user who has not set
up logging) sees nothing. The Hub's own bars stay off (see model_loading).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from tqdm import tqdm

log = logging.getLogger("llm_embedding_ner")

EVERY_SECONDS = 10.0


def bar_class() -> type[tqdm] | None:
    """The ``tqdm_class`` for a download now, or None when progress is not shown."""
    if not log.isEnabledFor(logging.INFO):
        return None
    isatty = getattr(sys.stderr, "isatty", None)
    return TerminalBar if callable(isatty) and isatty() else LoggedBar


def _file_name(kwargs: dict[str, Any]) -> str:
    # The Hub describes a bar by the end of the file's URL ("(…)main/model.safetensors"), or as
    # "model.safetensors: reconstructing file" for its chunked (Xet) downloads.
    return str(kwargs.get("desc") or "model file").rsplit("/", 1)[-1].split(":")[0]


class TerminalBar(tqdm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for option in ("name", "bar_format", "position"):  # tqdm's default format shows rate and time left
            kwargs.pop(option, None)
        kwargs.update(desc=f"downloading {_file_name(kwargs)}", file=sys.stderr, leave=True)
        kwargs["dynamic_ncols"] = True
        super().__init__(*args, **kwargs)

    def update_transfer(self, n: float | None = 1) -> None:
        """Network bytes, reported besides bytes written: one bar (bytes written) is enough."""


class _Nowhere:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


class LoggedBar(tqdm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("name", None)
        self.file_name = _file_name(kwargs)
        kwargs.update(file=_Nowhere(), disable=False)
        super().__init__(*args, **kwargs)
        self.last_line = time.monotonic()

    def update(self, n: float | None = 1) -> bool | None:
        shown = super().update(n)
        now = time.monotonic()
        if now - self.last_line >= EVERY_SECONDS and not self._complete():
            self.last_line = now
            log.info("downloading %s: %s", self.file_name, self._progress())
        return shown

    def update_transfer(self, n: float | None = 1) -> None:
        """See TerminalBar.update_transfer."""

    def close(self) -> None:
        if not self.disable and self._complete():
            elapsed = self.format_dict["elapsed"]
            log.info("downloaded %s: %sB in %.0f s", self.file_name, tqdm.format_sizeof(self.n), elapsed)
        super().close()

    def _complete(self) -> bool:
        return bool(self.total) and self.n >= self.total

    def _progress(self) -> str:
        done, total = self.n, self.total
        rate = self.format_dict.get("rate") or (done / max(self.format_dict["elapsed"], 1e-9))
        text = f"{tqdm.format_sizeof(done)}B"
        if total:
            text += f" of {tqdm.format_sizeof(total)}B ({done / total:.0%})"
        text += f", {tqdm.format_sizeof(rate)}B/s"
        if total and rate > 0:
            text += f", about {tqdm.format_interval((total - done) / rate)} left"
        return text
