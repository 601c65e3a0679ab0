"""Gold tags in any common tagging scheme, read as seqeval's default mode reads them.

NER corpora write entities in one of four schemes:

    iob1    I-X inside; B-X only where an X entity follows another (CoNLL-2003's own files)
    iob2    B-X begins every entity, I-X continues it
    iobes   also E-X ends an entity of two or more words, S-X is an entity of one word
    bilou   IOBES under other names: L-X (last) for E-X, U-X (unit) for S-X

Every scheme is turned into IOB2 chunk by chunk, with seqeval's default-mode rules, so the
scores equal seqeval's on the original tags. A tag that breaks its own scheme is not an error:
an I-X or E-X without the start of its entity begins one, and a B-X or I-X whose entity never
ends ends there. ``broken_tags`` says where that happened, so the reader can be told.
Pure functions on one sentence's tags, and ``gold_to_iob2`` for a whole file.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence

from ..errors import UserError

SCHEMES = ("iob1", "iob2", "iobes", "bilou")
PREFIXES = {"iob1": "BI", "iob2": "BI", "iobes": "BIES", "bilou": "BILU"}
OUTSIDE = "O"
_AS_IOBES = {"U": "S", "L": "E"}

Chunk = tuple[str, int, int]  # (type, first word, end word exclusive)


def detect_scheme(prefixes: Iterable[str]) -> str | None:
    """The scheme the tag prefixes found in a file belong to: ``iobes`` with S-/E-, ``bilou`` with
    U-/L-, ``iob1`` otherwise (it reads IOB2 the same). None when S-/E- and U-/L- are mixed."""
    found = set(prefixes)
    iobes, bilou = bool(found & {"S", "E"}), bool(found & {"U", "L"})
    if iobes and bilou:
        return None
    return "iobes" if iobes else "bilou" if bilou else "iob1"


def split_tag(tag: str) -> tuple[str, str]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", "")``."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, _, entity_type = tag.partition("-")
    return prefix, entity_type


def read_chunks(tags: Sequence[str]) -> list[Chunk]:
    """The entities of one sentence in any of the schemes, as seqeval's default mode finds them."""
    found: list[Chunk] = []
    previous, previous_type, begin = OUTSIDE, "", 0
    for i, tag in enumerate([*tags, OUTSIDE]):
        prefix, entity_type = split_tag(tag)
        prefix = _AS_IOBES.get(prefix, prefix)
        if _ends(previous, prefix, previous_type, entity_type):
            found.append((previous_type, begin, i))
        if _starts(previous, prefix, previous_type, entity_type):
            begin = i
        previous, previous_type = prefix, entity_type
    return found


def _ends(previous: str, prefix: str, previous_type: str, entity_type: str) -> bool:
    """True when the entity open at the previous tag ends before this one."""
    if previous == OUTSIDE:
        return False
    return (
        previous in ("E", "S")
        or (previous in ("B", "I") and prefix in ("B", "S", OUTSIDE))
        or previous_type != entity_type
    )


def _starts(previous: str, prefix: str, previous_type: str, entity_type: str) -> bool:
    """True when an entity begins at this tag."""
    if prefix == OUTSIDE:
        return False
    return (
        prefix in ("B", "S")
        or (previous in ("E", "S", OUTSIDE) and prefix in ("E", "I"))
        or previous_type != entity_type
    )


def to_iob2(tags: Sequence[str]) -> list[str]:
    """One sentence's tags, in any scheme, as IOB2 with the same entities."""
    return tags_from_chunks(len(tags), read_chunks(tags))


def broken_tags(tags: Sequence[str], scheme: str) -> list[int]:
    """Indices of the tags that break ``scheme``: an I-X (IOB2, IOBES, BILOU) or E-X/L-X that does
    not continue an X entity; in IOBES and BILOU also a B-X or I-X that no I-X or E-X/L-X follows.
    IOB1 lets I-X begin an entity, so it has none of the first kind."""
    broken: list[int] = []
    split = [split_tag(tag) for tag in tags]
    for i, (prefix, entity_type) in enumerate(split):
        prefix = _AS_IOBES.get(prefix, prefix)
        before = _AS_IOBES.get(split[i - 1][0], split[i - 1][0]) if i else OUTSIDE
        after = _AS_IOBES.get(split[i + 1][0], split[i + 1][0]) if i + 1 < len(split) else OUTSIDE
        continues = i > 0 and before in ("B", "I") and split[i - 1][1] == entity_type
        continued = i + 1 < len(split) and after in ("I", "E") and split[i + 1][1] == entity_type
        no_start = prefix in ("I", "E") and not continues and scheme != "iob1"
        no_end = prefix in ("B", "I") and not continued and scheme in ("iobes", "bilou")
        if no_start or no_end:
            broken.append(i)
    return broken


def gold_to_iob2(
    sentences: Sequence[Sequence[str]], scheme: str, where: Callable[[int, int], str], name: str
) -> list[list[str]]:
    """Every sentence's gold tags in IOB2, after checking each tag and choosing the scheme
    (``auto``: from the prefixes found). ``where(sentence, tag)`` names a tag's place for messages
    ("test.txt:12"). Tags that break the scheme are read as seqeval reads them, and one warning
    says how many there were and where the first one is."""
    allowed = "BIESLU" if scheme == "auto" else PREFIXES[scheme]
    found: set[str] = set()
    for s, tags in enumerate(sentences):
        for i, tag in enumerate(tags):
            prefix, entity_type = split_tag(tag)
            if tag != OUTSIDE and (prefix not in allowed or not entity_type):
                raise UserError(f"{where(s, i)}: tag {tag!r} is not {_tag_forms(scheme)}")
            found.add(prefix)
    chosen = detect_scheme(found) if scheme == "auto" else scheme
    if chosen is None:
        raise UserError(
            f"{name} mixes IOBES tags (S-, E-) and BILOU tags (U-, L-); say which it is with "
            "--scheme iobes or --scheme bilou"
        )
    broken = [(s, i) for s, tags in enumerate(sentences) for i in broken_tags(tags, chosen)]
    if broken:
        warnings.warn(
            f"{name}: {len(broken):,} tag{'s' if len(broken) > 1 else ''} break the {chosen.upper()} "
            f"scheme (the first at {where(*broken[0])}); read as seqeval's default mode reads them: an "
            "entity without its first tag begins at its first one, one without its last tag ends at "
            "its last one",
            stacklevel=2,
        )
    return [to_iob2(tags) for tags in sentences]


def _tag_forms(scheme: str) -> str:
    prefixes = "BIESLU" if scheme == "auto" else PREFIXES[scheme]
    which = "a tag of any scheme" if scheme == "auto" else f"an {scheme.upper()} tag"
    return f"{which}: O, or {', '.join(f'{p}-TYPE' for p in prefixes)}"


def tags_from_chunks(n_words: int, found: list[Chunk]) -> list[str]:
    """IOB2 tags that spell out ``found`` (non-overlapping) entities."""
    tags = ["O"] * n_words
    for t, start, end in found:
        tags[start] = f"B-{t}"
        for word in range(start + 1, end):
            tags[word] = f"I-{t}"
    return tags
