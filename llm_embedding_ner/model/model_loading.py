"""Load a token-classification model and its tokenizer, from a local directory or the Hub."""

from __future__ import annotations

import functools
import logging
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError, first_line
from .weights import check_weights, pickle_only

if TYPE_CHECKING:
    from ..progress import Stopwatch

log = logging.getLogger("llm_embedding_ner")

DEFAULT_MODEL = "dslim/bert-base-NER"
DEVICES = ("auto", "cpu", "cuda", "mps")
HUB_CHECK_SECONDS = 4.0  # how long a first contact with the Hub may take before we call it unreachable


@dataclass
class LoadedModel:
    """A model ready to run: what the later stages need to know about it."""

    name: str
    tokenizer: Any  # a fast transformers tokenizer
    model: Any  # a transformers *ForTokenClassification model, in eval mode, on ``device``
    device: Any  # torch.device
    labels: list[str]  # id2label, in id order; empty for a model without a classification head
    max_length: int  # tokens per window, special tokens included
    n_layers: int  # transformer layers; hidden states run from 0 (embeddings) to n_layers

    @property
    def has_head(self) -> bool:
        return bool(self.labels)


def pick_device(requested: str) -> Any:
    import torch

    if requested not in DEVICES:
        raise UserError(f"unknown device {requested!r}; choose one of {', '.join(DEVICES)}")
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if requested == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (requested == "cuda" and not cuda) or (requested == "mps" and not mps):
        raise UserError(f"--device {requested} was asked for, but this machine has no {requested} device")
    return torch.device(requested)


def _quiet_libraries() -> None:
    """Keep transformers' and the Hub's progress bars and retry chatter off the user's terminal;
    failures still reach us as exceptions. A download shows our own progress (download_progress)."""
    import huggingface_hub.utils
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    huggingface_hub.utils.logging.set_verbosity_error()
    huggingface_hub.utils.disable_progress_bars()


def _looks_like_path(name: str) -> bool:
    # Hub ids are "name" or "owner/name"; anything else is meant as a directory.
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def load_model(
    name: str = DEFAULT_MODEL,
    device: str = "auto",
    allow_pickle: bool = False,
    allow_headless: bool = False,
    tokenizer: Any | None = None,
) -> LoadedModel:
    """Load ``name`` (a Hub id or a local directory) for token classification.

    A Hub model is taken from the local cache when it is there (no network call at all) and
    downloaded otherwise. Remote code is never run, and weights load from safetensors only:
    pickle (``.bin``) weights can run code when unpickled, so they need ``allow_pickle``.
    ``allow_headless``: a model without a token-classification head (a pretrained encoder) loads
    as its bare encoder, with no labels, instead of being refused. ``tokenizer``: the model's
    tokenizer, already loaded (a comparison loads every model's first, see ``inspect_model``).
    """
    from safetensors import SafetensorError
    from transformers import AutoConfig, AutoModel, AutoModelForTokenClassification

    torch_device = pick_device(device)
    _quiet_libraries()
    source = model_source(name)

    def load(cls: Any, what: str, **kwargs: Any) -> Any:
        return _from_pretrained(cls, source, name, what, **kwargs)

    config = load(AutoConfig, "a model configuration")
    check_model_weights(name, allow_pickle)
    weights = {} if allow_pickle else {"use_safetensors": True}
    headless = allow_headless and not has_token_head(config)
    try:
        model, info = load(
            AutoModel if headless else AutoModelForTokenClassification,
            "an encoder" if headless else "a token-classification model",
            config=config,
            output_loading_info=True,
            progress=True,
            **weights,
        )
    except UserError as error:
        if not allow_pickle and "safetensors" in str(error).lower():
            raise UserError(pickle_only(name)) from None
        raise
    except (SafetensorError, pickle.UnpicklingError, EOFError) as e:  # damaged past what the check reads
        raise UserError(
            f"{name}: its weights cannot be loaded ({first_line(e)}); save the model again"
        ) from None
    if info.get("missing_keys") and not headless:
        if not allow_headless:
            missing = ", ".join(sorted(info["missing_keys"])[:3])
            raise UserError(
                f"{name} has no trained token-classification head (missing weights: {missing}); "
                "use a model fine-tuned for NER, such as dslim/bert-base-NER"
            )
        headless = True  # its head is random: its hidden states are used, its logits are not
    if tokenizer is None:
        tokenizer = load_tokenizer(name)
    model.eval().to(torch_device)

    labels = [] if headless else [config.id2label[i] for i in range(config.num_labels)]
    return LoadedModel(
        name,
        tokenizer,
        model,
        torch_device,
        labels,
        usable_length(config, model, tokenizer),
        int(config.num_hidden_layers),
    )


def inspect_model(
    name: str, tokenizer_from: str | None = None, allow_pickle: bool = False
) -> tuple[Any, Any]:
    """``name``'s configuration and tokenizer, and its weights files checked without loading
    them: what can be checked of a model in a second, before the minutes that loading and
    running a few models take."""
    from transformers import AutoConfig

    _quiet_libraries()
    config = _from_pretrained(AutoConfig, model_source(name), name, "a model configuration")
    check_model_weights(name, allow_pickle)
    return config, load_tokenizer(tokenizer_from or name)


def check_model_weights(name: str, allow_pickle: bool) -> None:
    """``name``'s weights files checked (see weights.py): a directory's must all be there; a Hub
    model's only where its cache already holds them (the rest is downloaded when it loads)."""
    source = model_source(name)
    if Path(source).is_dir():
        check_weights(name, Path(source), allow_pickle)
        return
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(source, "config.json")
    if isinstance(cached, str):
        check_weights(name, Path(cached).parent, allow_pickle, complete=False)


def load_tokenizer(name: str) -> Any:
    """The fast tokenizer saved with ``name`` (a Hub id or a directory); one made up without a
    vocabulary counts as missing (see ``_has_vocabulary``)."""
    from transformers import AutoTokenizer

    return _from_pretrained(AutoTokenizer, model_source(name), name, "a tokenizer", complete=_has_vocabulary)


def model_source(name: str) -> str:
    """What ``from_pretrained`` is given for ``name``: the directory it names, or the Hub id."""
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local)
    if _looks_like_path(name) or local.exists():
        raise UserError(f"model directory {name} does not exist (or is not a directory)")
    return name


def has_token_head(config: Any) -> bool:
    """Whether the checkpoint was saved with a token-classification head, by its architecture.
    A config without ``architectures`` is given the benefit of the doubt: missing head weights
    still show when it loads."""
    architectures = getattr(config, "architectures", None) or []
    return not architectures or any(a.endswith("ForTokenClassification") for a in architectures)


def usable_length(config: Any, model: Any, tokenizer: Any) -> int:
    """Tokens the model reads at once, special tokens included.

    The config's position table, less the positions a family reserves: RoBERTa, XLM-R and
    their kin number positions from ``pad_token_id + 1`` (their position embedding has a padding
    index), so 514 positions hold 512 tokens. DeBERTa-v2/v3 has no absolute positions (only
    relative ones) and keeps the length it was trained on, ``max_position_embeddings``. The
    tokenizer's ``model_max_length`` lowers this where it is set; unset, it is a huge sentinel.
    """
    length = getattr(config, "max_position_embeddings", None) or 512
    table = getattr(getattr(model.base_model, "embeddings", None), "position_embeddings", None)
    padding_index = getattr(table, "padding_idx", None)
    if padding_index is not None:
        length -= padding_index + 1
    tokenizer_max = getattr(tokenizer, "model_max_length", None)
    if tokenizer_max is not None and tokenizer_max < 1_000_000:
        length = min(length, tokenizer_max)
    return int(length)


def _has_vocabulary(tokenizer: Any) -> bool:
    """False for the tokenizer transformers makes up when a model's tokenizer files are missing:
    the model's tokenizer class with its special tokens and nothing else, so every word is [UNK]."""
    return len(tokenizer) > len(set(tokenizer.all_special_tokens))


def _from_pretrained(cls: Any, source: str, name: str, what: str, **kwargs: Any) -> Any:
    """``cls.from_pretrained`` from the local cache first, then the Hub, with user-level errors.

    OSError means files are missing or unreachable; ValueError means they are there but are not
    ``what`` transformers can load (no model_type, an architecture without that head, ...).
    """
    kwargs["trust_remote_code"] = False
    try:
        return _cache_then_hub(cls, source, name, what, **kwargs)
    except ValueError as e:
        raise UserError(f"{name} cannot be loaded as {what}: {first_line(e)}") from None


def _cache_then_hub(
    cls: Any,
    source: str,
    name: str,
    what: str,
    complete: Callable[[Any], bool] | None = None,
    progress: bool = False,
    **kwargs: Any,
) -> Any:
    """``complete(loaded)`` says whether what loaded from local files is whole (see
    ``_has_vocabulary``); ``progress`` shows the download's progress (the weights: minutes)."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        loaded = cls.from_pretrained(source, local_files_only=True, **kwargs)
        if complete is None or complete(loaded):
            return loaded
        missing = f"its files for {what} are missing"
    except OSError as e:
        missing = first_line(e)
    if Path(source).is_dir():
        raise UserError(f"cannot load a model from {name}: {missing}") from None
    if _offline():
        raise UserError(
            f"model {name!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
            "download it once with network access, or pass --model DIR with a saved model"
        ) from None
    _announce_download(name)
    if progress:
        from .download_progress import bar_class

        kwargs["tqdm_class"] = bar_class()
    try:
        loaded = cls.from_pretrained(source, **kwargs)
    except RepositoryNotFoundError:
        raise UserError(f"model {name!r} does not exist on the Hugging Face Hub (or is private)") from None
    except GatedRepoError:
        raise UserError(f"model {name!r} is gated; accept its terms on the Hub and log in first") from None
    except OSError as e:
        raise UserError(_unreachable(name, e)) from None
    if complete is not None and not complete(loaded):
        raise UserError(f"{name} on the Hugging Face Hub has no files for {what}")
    return loaded


@functools.cache
def _announce_download(name: str) -> None:
    """Once per model: make sure the Hub answers at all, then say that a download starts.

    Without network the Hub client retries for about 25 seconds before it gives up; one request
    with a short deadline tells the user in seconds. Any HTTP answer, even an error status, means
    the Hub (or the proxy in between) is there.
    """
    from huggingface_hub import constants, get_session

    failure: list[str] = [f"no answer within {HUB_CHECK_SECONDS:.0f} s"]

    def ask() -> None:
        try:
            get_session().head(constants.ENDPOINT, timeout=HUB_CHECK_SECONDS)
            failure.clear()
        except Exception as e:  # the HTTP client's own errors: DNS, refused, TLS, timeout
            failure[0] = first_line(e)

    # A thread, because name resolution has no timeout of its own.
    asker = threading.Thread(target=ask, name="hub-check", daemon=True)
    asker.start()
    asker.join(HUB_CHECK_SECONDS + 0.5)
    if failure:
        raise UserError(
            f"cannot download model {name!r}: the Hugging Face Hub at {constants.ENDPOINT} cannot be "
            f"reached ({failure[0]}). {WITHOUT_NETWORK}"
        )
    log.info("downloading %s from the Hugging Face Hub (%s)...", name, constants.ENDPOINT)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on")


WITHOUT_NETWORK = (
    "Without network, pass --model DIR with a saved model, or download it once where there is network "
    "and set HF_HUB_OFFLINE=1"
)


def _unreachable(name: str, error: Exception) -> str:
    return (
        f"cannot download model {name!r} from the Hugging Face Hub: {first_line(error)} Check the id. "
        f"{WITHOUT_NETWORK}"
    )


@contextmanager
def loading_stage(watch: Stopwatch) -> Iterator[list[str]]:
    """``watch``'s ``load model`` stage (append to the yielded list to add a detail), with torch
    and transformers imported before it and timed apart as ``imports``: seconds on a first run
    (thousands of modules), where an 8 MB model's weights load in a tenth of one, so that the
    line measures the model. The import time is said on that line rather than on one of its
    own, so that a model that cannot load still ends with one ``error:`` line."""
    imported = _import_model_libraries(watch)
    with watch.stage("load model") as note:
        yield note
        if imported is not None:
            note.append(f"after {imported:.1f} s importing torch and transformers")


def _import_model_libraries(watch: Stopwatch) -> float | None:
    """Seconds spent importing torch and transformers' model loading; None when already done."""
    if "transformers.modeling_utils" in sys.modules:
        return None
    start = time.perf_counter()
    import torch  # noqa: F401
    import transformers.modeling_utils  # noqa: F401  what loading any model imports

    seconds = time.perf_counter() - start
    watch.seconds["imports"] = watch.seconds.get("imports", 0.0) + seconds
    return seconds
