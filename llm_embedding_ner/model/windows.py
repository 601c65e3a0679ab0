"""Tokenize into windows: the text's pieces, cut into overlapping model-sized windows.

A BERT model sees at most ``max_position_embeddings`` tokens (512) at once, special tokens
included. Longer texts are cut into windows that overlap, and each token later takes its
hidden state from the one window where it has the most context on both sides, so tokens at
a window's edge are never read from there when a better window exists.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UserError
from .vocabulary import PieceReadings, PieceStyle, piece_style, read_pieces

# Context that neighbouring windows share. Each token then sits at least half of this (32 tokens,
# a few sentences) away from the edge of the window it is read from, text ends excepted, at a cost
# of window / (window - overlap) forward passes per token: 1.14x for BERT's 510-token windows.
DEFAULT_OVERLAP = 64
# Documents are read in segments of consecutive documents of about this many characters (some
# 30,000 tokens of English): a segment's tokens are decoded (and written to a table) as soon as
# its windows have run, so a long run keeps what it has done. Counted in characters, known before
# any tokenizer runs, so that a cluster's shards (shards.py) are exactly these segments, batched
# as one process batches them: the same hidden states to the last bit.
SEGMENT_CHARACTERS = 1 << 17
# Every character for which str.isspace() holds (a test checks the list against all of Unicode).
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
WHITESPACE += "\u2028\u2029\u202f\u205f\u3000"
NO_TOKENS = "no document has any token for this model (only whitespace or characters it drops)"
_WHITESPACE_CODES = np.asarray([ord(c) for c in WHITESPACE], dtype=np.uint32)


@dataclass(frozen=True)
class TokenizedText:
    """The text's pieces, without special tokens.

    ``offsets`` are the characters each piece stands for, never the whitespace around them (some
    tokenizers count the space before a word as the word's); a piece that stands only for
    whitespace (a lone ``▁`` or ``Ġ``, ``Ċ``) covers the whitespace it read, or nothing."""

    ids: np.ndarray  # (n,) int64 vocabulary ids
    pieces: list[str]  # (n,) the vocabulary's pieces, e.g. "Mer", "##kel"; "ĠMer", "kel"; "▁Mer"
    offsets: np.ndarray  # (n, 2) int64 character spans into the text, end exclusive
    word_ids: np.ndarray  # (n,) int64 index of the word each token belongs to
    readings: PieceReadings  # what each piece stands for, read once here (see vocabulary.py)

    @property
    def space_only(self) -> np.ndarray:
        """(n,) bool: the piece stands only for whitespace."""
        return self.readings.space_only


@dataclass(frozen=True)
class Windows:
    """Model-ready input: one row per window. Windows of one text all have the same length;
    windows of several documents are padded on the right (see ``lengths``)."""

    input_ids: np.ndarray  # (n_windows, length) int64, special tokens included
    starts: np.ndarray  # (n_windows,) index of each window's first text token
    prefix_length: int  # special tokens before the text tokens in each row
    owner: np.ndarray  # (n_tokens,) the window each text token is read from
    lengths: np.ndarray  # (n_windows,) tokens in each row before any padding
    # (n_segments + 1,) first window of each segment, then the total: consecutive documents
    # whose windows are run together, so their tokens are all read once a segment is done.
    segments: np.ndarray | None = None

    @property
    def segment_bounds(self) -> np.ndarray:
        return np.asarray([0, self.input_ids.shape[0]]) if self.segments is None else self.segments


_PIECES: dict[str, str] = {}  # at most the vocabularies met in this process


def _require_fast(tokenizer: Any) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise UserError(
            "this model's tokenizer is not a fast (Rust) tokenizer, so it cannot map tokens "
            "back to characters; use a model that ships a tokenizer.json"
        )


def tokenize(tokenizer: Any, text: str, style: PieceStyle | None = None) -> TokenizedText:
    """Pieces of ``text`` with offsets and word ids (needs a fast tokenizer)."""
    _require_fast(tokenizer)
    style = style or piece_style(tokenizer)
    encoding = tokenizer(
        text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
    )
    ids = np.asarray(encoding["input_ids"], dtype=np.int64)
    if ids.size == 0:
        raise UserError("the text has no tokens for this model (only whitespace or characters it drops)")
    offsets = np.asarray(encoding["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    word_ids = np.asarray([-1 if w is None else w for w in encoding.word_ids()], dtype=np.int64)
    # One string per distinct piece, shared by its tokens: a corpus of millions of tokens holds
    # a vocabulary's worth of strings instead of one each (about 60 bytes a token).
    pieces = [_PIECES.setdefault(p, p) for p in tokenizer.convert_ids_to_tokens(ids.tolist())]
    readings = read_pieces(pieces, style, ids)
    return TokenizedText(ids, pieces, own_characters(text, offsets, readings.space_only), word_ids, readings)


def tokenize_words(
    tokenizer: Any, text: str, words: np.ndarray | list[tuple[int, int]], style: PieceStyle | None = None
) -> TokenizedText:
    """Pieces of pre-split ``words`` (character spans into ``text``), read as running text: the
    words joined by single spaces, so every family sees them as it sees typed text (byte-level
    BPE with the space before each word but the first, SentencePiece with its ``▁``). Each piece
    belongs to the word it lies in, so word ids are the words' own indices. A word that yields no
    piece (only characters the tokenizer drops) has no token and so no point."""
    spans = np.asarray(words, dtype=np.int64).reshape(-1, 2)
    if not spans.size:
        raise UserError("the document has no words")
    joined = " ".join(text[start:end] for start, end in spans.tolist())
    # Where each word starts in ``joined``: after the words before it and one space each.
    joined_starts = np.concatenate([[0], np.cumsum(spans[:-1, 1] - spans[:-1, 0] + 1)])
    try:
        tokens = tokenize(tokenizer, joined, style)
    except UserError:
        raise UserError("the document has no tokens for this model (only characters it drops)") from None
    # A piece of whitespace belongs to the word after it (a lone "▁" before a word).
    anchor = np.where(tokens.space_only, tokens.offsets[:, 1], tokens.offsets[:, 0])
    word_ids = np.searchsorted(joined_starts, anchor, side="right") - 1
    shift = spans[word_ids, 0] - joined_starts[word_ids]
    offsets = np.clip(
        tokens.offsets + shift[:, None], spans[word_ids, 0][:, None], spans[word_ids, 1][:, None]
    )
    return TokenizedText(tokens.ids, tokens.pieces, offsets, word_ids, tokens.readings)


def own_characters(text: str, offsets: np.ndarray, space_only: np.ndarray) -> np.ndarray:
    """Offsets narrowed to the characters each piece stands for (see ``TokenizedText``).

    SentencePiece tokenizers whose normaliser rewrites whitespace (DeBERTa-v3) count the space
    before a word as part of the word's first piece, and XLM-R gives a lone ``▁`` the offsets of
    the character after it; the tokenizer's offsets are otherwise kept as they are.
    """
    out = offsets.copy()
    for i in np.flatnonzero(_needs_narrowing(text, offsets, space_only)).tolist():
        start, end = offsets[i].tolist()
        covered = text[start:end]
        if space_only[i]:
            # The whitespace it read, or nothing where the tokenizer points at a visible character.
            out[i] = (start, end) if covered.isspace() else (start, start)
        elif covered.strip():
            leading, trailing = len(covered) - len(covered.lstrip()), len(covered) - len(covered.rstrip())
            out[i] = (start + leading, end - trailing)
    return out


def _needs_narrowing(text: str, offsets: np.ndarray, space_only: np.ndarray) -> np.ndarray:
    """Tokens whose span starts or ends with whitespace, or that stand only for whitespace: the
    few that ``own_characters`` looks at, found without a Python call per token."""
    if not text:
        return space_only.copy()
    is_space = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    is_space = np.isin(is_space, _WHITESPACE_CODES)
    nonempty = offsets[:, 1] > offsets[:, 0]
    first = np.clip(offsets[:, 0], 0, len(text) - 1)
    last = np.clip(offsets[:, 1] - 1, 0, len(text) - 1)
    return space_only | (nonempty & (is_space[first] | is_space[last]))


def special_frame(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special token ids the model expects before and after a single sequence
    (``[CLS]`` and ``[SEP]`` for BERT), read from the tokenizer's own template."""
    probe = tokenizer("a", return_special_tokens_mask=True)
    ids, special = probe["input_ids"], probe["special_tokens_mask"]
    content = [i for i, s in enumerate(special) if not s]
    return ids[: content[0]], ids[content[-1] + 1 :]


def plan_windows(n_tokens: int, size: int, overlap: int = DEFAULT_OVERLAP) -> np.ndarray:
    """Start indices of windows of ``size`` text tokens that cover ``n_tokens`` tokens.

    Consecutive windows share ``overlap`` tokens (clamped to half a window); the last window
    is aligned to the text's end, so every window is full and no padding is needed.
    """
    if size < 1:
        raise ValueError("window size must be at least 1")
    if n_tokens <= size:
        return np.zeros(1, dtype=np.int64)
    overlap = min(max(overlap, 0), size // 2)
    step = size - overlap
    starts = list(range(0, n_tokens - size, step))
    starts.append(n_tokens - size)
    return np.asarray(starts, dtype=np.int64)


def assign_tokens(n_tokens: int, starts: np.ndarray, size: int) -> np.ndarray:
    """For each token, the window that gives it the most context on both sides.

    A token's context in a window is the smaller of its distances to the two window edges;
    an edge that is also the text's edge does not count (no window could offer more there).
    Ties go to the earlier window.
    """
    positions = np.arange(n_tokens)
    best_window = np.full(n_tokens, -1, dtype=np.int64)
    best_context = np.full(n_tokens, -1, dtype=np.int64)
    unlimited = n_tokens  # more than any real distance
    for w, start in enumerate(starts.tolist()):
        end = min(start + size, n_tokens)
        inside = positions[start:end]
        left = inside - start if start > 0 else np.full(inside.size, unlimited)
        right = end - 1 - inside if end < n_tokens else np.full(inside.size, unlimited)
        context = np.minimum(left, right)
        better = context > best_context[start:end]
        best_window[start:end][better] = w
        best_context[start:end][better] = context[better]
    return best_window


def make_windows(
    tokens: TokenizedText,
    prefix: list[int],
    suffix: list[int],
    max_length: int,
    overlap: int = DEFAULT_OVERLAP,
) -> Windows:
    """Cut the token ids into overlapping windows framed by the model's special tokens."""
    size = max_length - len(prefix) - len(suffix)
    n = tokens.ids.size
    starts = plan_windows(n, size, overlap)
    length = min(size, n)
    rows = np.empty((starts.size, len(prefix) + length + len(suffix)), dtype=np.int64)
    rows[:, : len(prefix)] = prefix
    rows[:, len(prefix) + length :] = suffix
    for row, start in zip(rows, starts.tolist(), strict=True):
        row[len(prefix) : len(prefix) + length] = tokens.ids[start : start + length]
    lengths = np.full(starts.size, rows.shape[1], dtype=np.int64)
    return Windows(rows, starts, len(prefix), assign_tokens(n, starts, size), lengths)


def stack_windows(
    parts: list[Windows], token_counts: list[int], pad_id: int = 0, segments: np.ndarray | None = None
) -> Windows:
    """The windows of several documents as one batchable set, token indices running on from
    one document to the next. Rows are padded to the longest and ordered longest first within
    each segment (``segments``: the first part of each, then the number of parts; one segment
    by default), so a batch of neighbouring rows wastes little on padding and a segment's
    documents are all read when its last batch is."""
    width = max(part.input_ids.shape[1] for part in parts)
    token_start = np.cumsum([0, *token_counts[:-1]])
    window_start = np.cumsum([0, *[part.input_ids.shape[0] for part in parts[:-1]]])
    rows = np.full((sum(p.input_ids.shape[0] for p in parts), width), pad_id, dtype=np.int64)
    for part, first in zip(parts, window_start.tolist(), strict=True):
        rows[first : first + part.input_ids.shape[0], : part.input_ids.shape[1]] = part.input_ids
    lengths = np.concatenate([part.lengths for part in parts])
    starts = np.concatenate([part.starts + t for part, t in zip(parts, token_start.tolist(), strict=True)])
    owner = np.concatenate([part.owner + w for part, w in zip(parts, window_start.tolist(), strict=True)])
    segments = np.asarray([0, len(parts)]) if segments is None else segments
    bounds = np.r_[window_start, rows.shape[0]][segments]
    segment = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
    order = np.lexsort((-lengths, segment))  # by segment, then longest first
    new_index = np.empty_like(order)
    new_index[order] = np.arange(order.size)
    return Windows(
        rows[order], starts[order], parts[0].prefix_length, new_index[owner], lengths[order], bounds
    )


def document_segments(lengths: np.ndarray, size: int) -> np.ndarray:
    """(n_segments + 1,) the first document of each segment, then the number of documents:
    consecutive documents of ``lengths``, each segment closed once it holds ``size``. A segment's
    end depends only on where it starts, so the segments of any run of whole segments are the
    same counted from its own start (a shard read alone cuts itself no further)."""
    bounds, held = [0], 0
    for i, length in enumerate(np.asarray(lengths).tolist()):
        held += length
        if held >= size:
            bounds.append(i + 1)
            held = 0
    if bounds[-1] != len(lengths):
        bounds.append(len(lengths))
    return np.asarray(bounds, dtype=np.int64)


@dataclass(frozen=True)
class DocumentTokens:
    """Several documents' tokens as one stream: indices, offsets and word ids run on from one
    document to the next (offsets into the documents joined by ``separator``)."""

    tokens: TokenizedText
    windows: Windows
    token_starts: np.ndarray  # (n_documents + 1,) first token of each document, then the total
    char_starts: np.ndarray  # (n_documents + 1,) first character of each document in the joined text
    word_starts: np.ndarray  # (n_documents + 1,) first word id of each document
    # (n_segments + 1,) first document of each segment of windows.segments, then the total
    segment_documents: np.ndarray | None = None

    @property
    def segments(self) -> list[tuple[int, int]]:
        """Each segment's documents, as (first, end)."""
        bounds = self.segment_documents
        if bounds is None:
            bounds = np.asarray([0, self.token_starts.size - 1])
        return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def tokenize_documents(
    tokenizer: Any,
    texts: list[str],
    words: list[np.ndarray | list[tuple[int, int]] | None],
    max_length: int,
    separator: str,
    first_document: int = 0,
    shard: bool = False,
) -> DocumentTokens:
    """Tokenize each document on its own (pre-split ``words`` where given) and cut it into its
    own windows, so no window mixes two documents; then join them into one stream. Messages
    number the documents from ``first_document``. A ``shard`` of a corpus (shards.py) may hold
    no token at all: whether the corpus has any is known where the shards are joined."""
    _require_fast(tokenizer)
    prefix, suffix = special_frame(tokenizer)
    style = piece_style(tokenizer)
    parts: list[TokenizedText] = []
    empty: list[int] = []  # documents of only characters the tokenizer drops
    for index, (text, doc_words) in enumerate(zip(texts, words, strict=True)):
        try:
            parts.append(
                tokenize(tokenizer, text, style)
                if doc_words is None
                else tokenize_words(tokenizer, text, doc_words, style)
            )
        except UserError as e:
            if len(texts) == 1 and not shard:
                raise
            if doc_words is not None and len(doc_words) == 0:
                raise UserError(f"document {first_document + index}: {e}") from None
            parts.append(_no_tokens())
            empty.append(first_document + index)
    if len(empty) == len(texts) and not shard:
        raise UserError(NO_TOKENS)
    if empty:
        warn_empty_documents(empty)
    token_counts = [part.ids.size for part in parts]
    char_lengths = [len(text) + len(separator) for text in texts]
    word_counts = [
        len(w) if w is not None else int(p.word_ids.max(initial=-1)) + 1
        for p, w in zip(parts, words, strict=True)
    ]
    token_starts = np.cumsum([0, *token_counts])
    char_starts = np.cumsum([0, *char_lengths])
    word_starts = np.cumsum([0, *word_counts])
    joined = join_tokens(parts, char_starts, word_starts)
    read = [p for p in parts if p.ids.size]  # a document without tokens has no window
    windows = [make_windows(p, prefix, suffix, max_length) for p in read]
    if not windows:  # a shard of documents the tokenizer reads nothing of
        return DocumentTokens(joined, no_windows(), token_starts, char_starts, word_starts)
    if len(windows) == 1:
        return DocumentTokens(joined, windows[0], token_starts, char_starts, word_starts)
    segment_documents = document_segments(np.asarray([len(t) for t in texts]), SEGMENT_CHARACTERS)
    read_before = np.cumsum([0, *(c > 0 for c in token_counts)])  # windowed documents before each
    stacked = stack_windows(
        windows, [p.ids.size for p in read], tokenizer.pad_token_id or 0, read_before[segment_documents]
    )
    return DocumentTokens(joined, stacked, token_starts, char_starts, word_starts, segment_documents)


def join_tokens(
    parts: list[TokenizedText], char_starts: np.ndarray, word_starts: np.ndarray
) -> TokenizedText:
    """Consecutive ``parts`` (documents, or a cluster's shards) as one: each part's offsets and
    word ids moved on by its first character and word in the whole (``char_starts[i]``,
    ``word_starts[i]``)."""
    return TokenizedText(
        ids=np.concatenate([p.ids for p in parts]),
        pieces=[piece for p in parts for piece in p.pieces],
        offsets=np.concatenate([p.offsets + c for p, c in zip(parts, char_starts.tolist(), strict=False)]),
        word_ids=np.concatenate([p.word_ids + w for p, w in zip(parts, word_starts.tolist(), strict=False)]),
        readings=PieceReadings.join([p.readings for p in parts]),
    )


def no_windows() -> Windows:
    """Windows of no token: a shard the tokenizer reads nothing of, or tokens read elsewhere."""
    none = np.zeros(0, dtype=np.int64)
    return Windows(none.reshape(0, 0), none, 0, none, none)


def _no_tokens() -> TokenizedText:
    none = np.zeros(0, dtype=np.int64)
    return TokenizedText(none, [], none.reshape(0, 2), none, read_pieces([], PieceStyle()))


def warn_empty_documents(indices: list[int]) -> None:
    """Once for the whole input: which documents the model reads nothing of. They stay, so that
    document numbers and gold scores still count them, their words predicted O."""
    shown = ", ".join(map(str, indices[:5])) + (f" and {len(indices) - 5:,} more" if len(indices) > 5 else "")
    warnings.warn(
        f"{'documents' if len(indices) > 1 else 'document'} {shown} (numbered from 0) "
        f"{'hold' if len(indices) > 1 else 'holds'} only characters this "
        "model's tokenizer drops (a zero-width space, a soft hyphen): no points, and any gold words there "
        "are predicted O",
        stacklevel=4,
    )


def run_starts(values: np.ndarray) -> np.ndarray:
    """Indices where a run of equal values starts: each word's first token, given word ids."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
