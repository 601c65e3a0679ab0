"""``--ray``: a corpus read on a Ray cluster, shard by shard (shards.py), with Ray Data.

The driver (this process) cuts the corpus into shards of consecutive documents; Ray Data hands
them to a pool of actors, each of which loads the model once (a GPU each with ``--device cuda``)
and reads its shards as the single process reads a corpus: tokenize, the forward pass, decoding,
the comparison with gold labels. The readings come back in corpus order and are joined into one
``Prediction`` here, hidden states to this machine's disk; what needs the whole corpus
(neighbours, the projection, the suspects) then runs here, as it does without Ray.

An actor that dies (its process or its machine) is started again and its shard read again by
Ray, ``RETRIES`` times each; an error in the reading itself (a document the tokenizer cannot
read) comes back as the shard's reading and ends the run with its message, its document
numbered as in the corpus.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analysis.result import Prediction, TokenRows
from .errors import UserError
from .inputs.documents import Corpus, Document
from .model.layer_selection import LayerSpec
from .model.model_list import ModelEntry
from .model.model_loading import LoadedModel
from .progress import Stopwatch, throttled
from .reading import analysis_types
from .shards import SHARD_CHARACTERS, ShardReading, join_shards, read_shard, shard_bounds

RETRIES = 3  # times Ray starts a dead actor again, and reads its shard again, before giving up
CONNECT_SECONDS = 5.0  # how long an address may take to answer before it is called unreachable
LOCAL = "local"  # --ray without an address: a Ray of this machine's cores, for this run only


@dataclass(frozen=True)
class RaySettings:
    """Where and how to read: ``address`` (``LOCAL``, ``auto``, ``host:port`` or
    ``ray://host:port``), the model as the actors load it, and how many actors (None: one per CPU
    of the cluster, or per GPU where the model runs on GPUs)."""

    address: str
    entry: ModelEntry
    device: str = "auto"
    allow_pickle: bool = False
    actors: int | None = None
    shard_characters: int = SHARD_CHARACTERS


class ShardReader:
    """A Ray Data actor: the model, loaded once, reading one shard a call."""

    def __init__(self, settings: RaySettings, device: str, read_options: dict[str, Any]) -> None:
        from .model.model_loading import load_model, load_tokenizer

        entry = settings.entry
        tokenizer = load_tokenizer(entry.tokenizer_from) if entry.tokenizer_from else None
        self.loaded = load_model(entry.name, device, allow_pickle=settings.allow_pickle, tokenizer=tokenizer)
        self.options = read_options

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        blobs = []
        for first, documents in zip(batch["first"], batch["documents"], strict=True):
            try:
                reading: ShardReading | UserError = read_shard(
                    pickle.loads(documents), int(first), self.loaded, **self.options
                )
            except UserError as e:  # the user's to fix: sent back as it is, not retried
                reading = e
            blobs.append(pickle.dumps(reading, protocol=pickle.HIGHEST_PROTOCOL))
        return {"first": batch["first"], "reading": np.asarray(blobs, dtype=object)}


class RayReader:
    """``predict`` on a Ray cluster: called as ``predict`` is (see pipeline.analyze's ``read``)."""

    def __init__(self, settings: RaySettings, reader_class: type = ShardReader) -> None:
        """``reader_class``: the actor class (a test's subclass that dies once)."""
        self.settings, self.reader_class = settings, reader_class

    def __call__(
        self,
        corpus: Corpus,
        loaded: LoadedModel,
        *,
        batch_size: int | None = None,
        layers: LayerSpec = "last",
        label_map: dict[str, str] | None = None,
        watch: Stopwatch | None = None,
        on_segment: Callable[[TokenRows], None] | None = None,
    ) -> Prediction:
        watch = watch or Stopwatch()
        _, types = analysis_types(corpus.documents, loaded, label_map)
        bounds = shard_bounds(corpus.documents, self.settings.shard_characters)
        with watch.stage("ray") as note:
            ray = connect(self.settings.address)
            try:
                device, actors, per_actor = _placement(self.settings)
                actors = min(actors, len(bounds))  # no actor without a shard to read
                note.append(f"{_count(len(bounds), 'shard')} on {_count(actors, 'actor')} ({device})")
                options = dict(types=types, batch_size=batch_size, layers=layers, label_map=label_map)
                readings = self._readings(corpus.documents, bounds, device, actors, per_actor, options)
                prediction = join_shards(corpus, readings, on_segment)
                note.append(f"{len(prediction.entities):,} entities")
                if (gold := prediction.gold) is not None:
                    micro = gold.evaluation.micro
                    note.append(f"micro F1 {micro.f1:.3f} against {micro.support:,} gold")
            finally:
                ray.shutdown()  # the actors go, the cluster stays as it was found
        return prediction

    def _readings(
        self,
        documents: list[Document],
        bounds: list[tuple[int, int]],
        device: str,
        actors: int,
        per_actor: dict[str, float],
        options: dict[str, Any],
    ) -> Iterator[ShardReading]:
        import ray.data

        logging.getLogger("ray.data").setLevel(logging.ERROR)  # set by its import: after it
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # shards come back in corpus order
        context.enable_progress_bars = False  # ours below, one line at a time
        context.print_on_execution_start = False
        shards = ray.data.from_items(
            [{"first": a, "documents": pickle.dumps(documents[a:b])} for a, b in bounds],
            override_num_blocks=len(bounds),
        )
        with warnings.catch_warnings():
            # Ray 2.60 marks the actor options deprecated (to go in 2.64, hence the extra's
            # pin) and names no other way to bound the restarts: its default is without end,
            # so a shard that kills every actor it meets (memory) would never end the run.
            warnings.filterwarnings("ignore", message=".*ray_remote_args.* is deprecated")
            read = shards.map_batches(
                self.reader_class,
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=actors),
                fn_constructor_args=(self.settings, device, options),
                max_restarts=RETRIES,
                max_task_retries=RETRIES,
                **per_actor,
            )
        progress = throttled("ray: {done}/{total} shards read")
        done = 0
        try:
            for done, row in enumerate(read.iter_rows(), start=1):
                reading = pickle.loads(row["reading"])
                if isinstance(reading, UserError):
                    raise reading
                progress(done, len(bounds))
                yield reading
        except UserError:
            raise
        except Exception as e:  # Ray's own, about its actors and tasks: its last line says why
            said = [line for line in str(e).splitlines() if line.strip()]
            raise UserError(
                f"the Ray cluster stopped reading after {done:,} of {len(bounds):,} "
                f"shards: {said[-1] if said else type(e).__name__}"
            ) from None


def connect(address: str) -> Any:
    """Join the cluster at ``address``, or start a local one (``LOCAL``). An address that does
    not answer within ``CONNECT_SECONDS`` is a UserError naming it (Ray itself waits minutes).
    Returns the ``ray`` module, imported here (see ``RAY_AUTH_MODE``)."""
    if address != LOCAL and _has_token():
        # Ray (2.60) starts clusters with token authentication but joins them without unless
        # told: a token at hand is the cluster's (as `ray start` does for a node with one).
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    try:
        import ray  # after the variable: Ray reads it once, at import
    except ImportError:
        raise UserError("--ray needs Ray: pip install 'llm_embedding_ner[ray]'") from None
    if address not in (LOCAL, "auto"):
        host, _, port = address.removeprefix("ray://").rpartition(":")
        if not host or not port.isdigit():
            raise UserError(f"--ray {address}: give host:port, ray://host:port, auto, or no address")
        started = time.monotonic()
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
        except OSError as e:
            waited = time.monotonic() - started
            raise UserError(
                f"--ray {address}: nothing answers at {host}:{port} ({e.strerror or e}, after {waited:.0f} s)"
            ) from None
    # Ray's own notes (its log setup, token authentication) are not the user's concern; its
    # errors reach here as exceptions. The actors' warnings come back with their readings.
    quiet = dict(logging_level=logging.ERROR, log_to_driver=True)
    try:
        if address == LOCAL:  # a new one even where RAY_ADDRESS names another
            ray.init(address="local", include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except ConnectionError as e:
        raise UserError(
            f"--ray {address}: {e} (a cluster with token authentication also needs its token here: "
            "RAY_AUTH_TOKEN, or the file ~/.ray/auth_token as on its head node)"
        ) from None
    return ray


def _has_token() -> bool:
    """Whether Ray would find an authentication token here (its variables, its default file)."""
    named = os.environ.get("RAY_AUTH_TOKEN_PATH")
    default = Path.home() / ".ray" / "auth_token"
    return bool(os.environ.get("RAY_AUTH_TOKEN")) or Path(named or default).is_file()


def _placement(settings: RaySettings) -> tuple[str, int, dict[str, float]]:
    """The actors' device, how many there are, and what each asks of the cluster."""
    import ray

    resources = ray.cluster_resources()
    cpus, gpus = int(resources.get("CPU", 0)), int(resources.get("GPU", 0))
    device = settings.device
    if device == "cuda" and gpus == 0:
        raise UserError(f"--device cuda: the Ray cluster at {settings.address} has no GPU")
    if device == "auto":
        device = "cuda" if gpus else "cpu"
    on_gpus = device == "cuda"
    actors = settings.actors or (gpus if on_gpus else max(cpus, 1))
    # More actors asked for than the cluster has CPUs (GPUs) share them, rather than wait for
    # resources that never come: a fixed pool starts only once all its actors fit.
    per_actor = {"num_cpus": min(1.0, max(cpus, 1) / actors)}
    if on_gpus:
        per_actor["num_gpus"] = min(1.0, gpus / actors)
    return device, actors, per_actor


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
