"""One forward pass per window; each token's vectors come from its owning window."""

from __future__ import annotations

import numpy as np
import torch

from llm_embedding_ner.model.forward import run_model
from llm_embedding_ner.model.model_loading import load_model
from llm_embedding_ner.model.windows import make_windows, special_frame, tokenize

from ..conftest import CORPUS


def test_each_token_is_read_from_its_owning_window_in_one_pass(short_window_model_dir) -> None:
    loaded = load_model(str(short_window_model_dir), device="cpu")
    text = " ".join(CORPUS)
    tokens = tokenize(loaded.tokenizer, text)
    prefix, suffix = special_frame(loaded.tokenizer)
    windows = make_windows(tokens, prefix, suffix, loaded.max_length)
    n_windows = windows.input_ids.shape[0]
    assert n_windows > 3

    rows_seen: list[int] = []
    hook = loaded.model.register_forward_hook(
        lambda _m, _args, kwargs, _out: rows_seen.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        output = run_model(loaded.model, windows, loaded.device, batch_size=3)
    finally:
        hook.remove()
    assert sum(rows_seen) == n_windows  # every window exactly once, batched
    assert len(rows_seen) == -(-n_windows // 3)

    # Reference: run each token's owning window alone and read the token's row.
    with torch.inference_mode():
        for token in range(tokens.ids.size):
            window = windows.owner[token]
            ids = torch.from_numpy(windows.input_ids[window : window + 1])
            out = loaded.model(input_ids=ids, output_hidden_states=True)
            row = token - windows.starts[window] + windows.prefix_length
            np.testing.assert_allclose(
                output.hidden[0, token], out.hidden_states[-1][0, row].numpy(), atol=1e-5
            )
            np.testing.assert_allclose(
                output.probabilities[token], out.logits[0, row].softmax(-1).numpy(), atol=1e-5
            )
    np.testing.assert_allclose(output.probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_chosen_layers_come_from_the_same_pass(dslim_model) -> None:
    tokens = tokenize(dslim_model.tokenizer, CORPUS[1])
    prefix, suffix = special_frame(dslim_model.tokenizer)
    windows = make_windows(tokens, prefix, suffix, dslim_model.max_length)
    calls: list[int] = []
    hook = dslim_model.model.register_forward_hook(lambda *_: calls.append(1))
    try:
        output = run_model(dslim_model.model, windows, dslim_model.device, layers=(0, 2, 1))
    finally:
        hook.remove()
    assert len(calls) == 1 and output.hidden.shape == (3, tokens.ids.size, 32)
    with torch.inference_mode():
        states = dslim_model.model(input_ids=torch.from_numpy(windows.input_ids), output_hidden_states=True)
    text_rows = slice(windows.prefix_length, windows.prefix_length + tokens.ids.size)
    for i, layer in enumerate((0, 2, 1)):
        np.testing.assert_allclose(
            output.hidden[i], states.hidden_states[layer][0, text_rows].numpy(), atol=1e-5
        )
