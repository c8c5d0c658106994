"""FewRel sentences as :class:`LinkedText`: tokens detokenized, both mentions linked to their QIDs.

FewRel (``val_wiki.json``, ``train_wiki.json``) stores English Wikipedia sentences already split
into tokens, grouped by relation::

    {"P177": [{"tokens": ["In", "June", ...],
               "h": ["cape girardeau bridge", "Q5034838", [[26, 27, 28]]],
               "t": ["mississippi river", "Q1497", [[19, 20]]]}, ...], ...}

Each record becomes one :class:`LinkedText` with id ``"{PID}:{index}"`` (the index within that
relation's list, so ids are stable as long as the file is), the detokenized sentence as text, and
one :class:`Link` with ``qid`` set per occurrence of the head and tail mentions (the surface
strings in ``h[0]``/``t[0]`` are lowercased in FewRel and are not used: the link surface is the
text the tokens cover). A record that breaks the format becomes a :class:`Reject` with the record
locator; a file that is not FewRel JSON at all raises :class:`InputFormatError`.

The file is read whole (``json.load``): FewRel's largest file is about 15 MB.

Detokenization (:func:`detokenize`) is deliberately simple and English-oriented; its only hard
guarantee is that every token is copied verbatim, so ``text[start:end] == token`` for each
non-blank token and a mention's tokens map to one contiguous ``text[start:end]``. Rules, between
two consecutive non-blank tokens (a single space unless a rule says none):

* no space before ``, . ; : ! ? ) ] } % … ” ’ ''`` and clitics (``'s``, ``n't``, ``'re``, ``'ve``,
  ``'ll``, ``'d``, ``'m``, also with ``’``);
* no space after ``( [ { “ ‘ `` $ £ € #``;
* ``-`` and ``/`` join their neighbours (``four - lane`` → ``four-lane``); en and em dashes keep
  their spaces, since Wikipedia uses both spaced dashes and unspaced ranges;
* straight quotes ``"`` alternate opening (space before, none after) and closing (none before);
  a ``'`` right after a word ending in ``s`` outside an open single quote is a plural possessive
  (attached left), otherwise ``'`` alternates like ``"``;
* blank tokens (FewRel has ``"\\n"``, ``"\\xa0"``, ``" "``) are not copied: they get an empty
  span at the current position and do not change the spacing. A mention made only of blank
  tokens is rejected.

Overlapping mentions (which ``val_wiki.json`` does not have) keep the longer one (then the earlier,
then the head) and count ``overlapping_mention`` in ``LinkedText.markup``; an occurrence listed
twice counts ``duplicate_mention``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from xproj.generators.entitycs.records import Link, LinkedText
from xproj.schemas.errors import (
    E_EMPTY_SENTENCE,
    E_FILE_NOT_FOUND,
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
    E_SPAN_OUT_OF_TEXT,
    InputFormatError,
    Reject,
)

_NO_SPACE_BEFORE = frozenset(
    {",", ".", ";", ":", "!", "?", ")", "]", "}", "%", "..", "...", "…", "”", "’", "''"}
    | {"n't", "'s", "'re", "'ve", "'ll", "'d", "'m"}
    | {"n’t", "’s", "’re", "’ve", "’ll", "’d", "’m"}
)
_NO_SPACE_AFTER = frozenset({"(", "[", "{", "“", "‘", "``", "$", "£", "€", "#"})
_JOIN = frozenset({"-", "/"})
_QID = re.compile(r"Q[1-9][0-9]*")

STAGE = "read"


def detokenize(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join tokens into English text and give each token's character span in it.

    Args:
        tokens: the tokens, in order (see the module docstring for the spacing rules).

    Returns:
        ``(text, spans)`` with ``text[s:e] == tokens[i]`` for every non-blank token ``i`` and
        ``s == e`` (the position where it would be) for blank ones.

    Example:
        >>> detokenize(["He", "said", '"', "no", '"', ",", "(", "twice", ")", "."])[0]
        'He said "no", (twice).'
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    glue_next = True  # no space before the first token
    open_double = open_single = False
    prev = ""
    for tok in tokens:
        if not tok.strip():
            spans.append((pos, pos))
            continue
        low = tok.lower()
        glue_before = glue_after = False
        if tok == '"':
            glue_before, glue_after = (True, False) if open_double else (False, True)
            open_double = not open_double
        elif tok == "'":
            if open_single:
                glue_before, open_single = True, False
            elif prev[-1:] in ("s", "S"):
                glue_before = True
            else:
                glue_after, open_single = True, True
        elif tok in _JOIN:
            glue_before = glue_after = True
        else:
            glue_before = low in _NO_SPACE_BEFORE
            glue_after = tok in _NO_SPACE_AFTER
        if parts and not (glue_next or glue_before):
            parts.append(" ")
            pos += 1
        spans.append((pos, pos + len(tok)))
        parts.append(tok)
        pos += len(tok)
        glue_next = glue_after
        prev = tok
    return "".join(parts), spans


class _BadRecord(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _mention(
    value: Any, role: str, n_tokens: int
) -> tuple[str, list[tuple[int, int]]]:  # (qid, [(first, last)])
    if not isinstance(value, list) or len(value) < 3:
        raise _BadRecord(
            E_MALFORMED_LINE, f"{role!r} must be [surface, QID, [[token indices], ...]]."
        )
    qid, occurrences = value[1], value[2]
    if not isinstance(qid, str) or not _QID.fullmatch(qid):
        raise _BadRecord(E_MALFORMED_LINE, f"{role!r} has no valid QID ({qid!r}).")
    if not isinstance(occurrences, list) or not occurrences:
        raise _BadRecord(E_MISSING_FIELD, f"{role!r} lists no token positions.")
    out = []
    for occ in occurrences:
        if (
            not isinstance(occ, list)
            or not occ
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in occ)
        ):
            raise _BadRecord(
                E_MALFORMED_LINE, f"{role!r}: each occurrence must be a non-empty list of ints."
            )
        if min(occ) < 0 or max(occ) >= n_tokens:
            raise _BadRecord(
                E_SPAN_OUT_OF_TEXT,
                f"{role!r}: token index out of range 0..{n_tokens - 1} in {occ}.",
            )
        if occ != list(range(occ[0], occ[0] + len(occ))):
            raise _BadRecord(E_MALFORMED_LINE, f"{role!r}: token indices {occ} are not contiguous.")
        out.append((occ[0], occ[-1]))
    return qid, out


def _convert(pid: str, index: int, record: Any, source: str) -> LinkedText:
    if not isinstance(record, dict):
        raise _BadRecord(E_MALFORMED_LINE, "the record is not a JSON object.")
    for key in ("tokens", "h", "t"):
        if key not in record:
            raise _BadRecord(E_MISSING_FIELD, f"the record has no {key!r}.")
    tokens = record["tokens"]
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise _BadRecord(E_MALFORMED_LINE, "'tokens' must be a list of strings.")
    if not any(t.strip() for t in tokens):
        raise _BadRecord(E_EMPTY_SENTENCE, "the sentence has no tokens.")
    text, spans = detokenize(tokens)

    # (start, end, qid, role order) per occurrence, in characters.
    found: list[tuple[int, int, str, int]] = []
    for order, role in enumerate(("h", "t")):
        qid, occurrences = _mention(record[role], role, len(tokens))
        for first, last in occurrences:
            inner = [spans[i] for i in range(first, last + 1) if spans[i][0] < spans[i][1]]
            if not inner:
                raise _BadRecord(
                    E_SPAN_OUT_OF_TEXT, f"{role!r}: tokens {first}..{last} are all blank."
                )
            found.append((inner[0][0], inner[-1][1], qid, order))

    markup: dict[str, int] = {}
    kept: list[tuple[int, int, str, int]] = []
    seen: set[tuple[int, int, str]] = set()
    for start, end, qid, order in sorted(found, key=lambda m: (m[0] - m[1], m[0], m[3])):
        if (start, end, qid) in seen:
            markup["duplicate_mention"] = markup.get("duplicate_mention", 0) + 1
            continue
        seen.add((start, end, qid))
        if any(start < e and s < end for s, e, _, _ in kept):
            markup["overlapping_mention"] = markup.get("overlapping_mention", 0) + 1
            continue
        kept.append((start, end, qid, order))
    links = tuple(Link(s, e, "", q) for s, e, q, _ in sorted(kept))
    return LinkedText(f"{pid}:{index}", text, links, source=source, markup=markup)


def iter_fewrel(path: str | os.PathLike[str]) -> Iterator[LinkedText | Reject]:
    """Read a FewRel JSON file: one :class:`LinkedText` or :class:`Reject` per record, in file order.

    Args:
        path: ``val_wiki.json``-style file (``{PID: [record, ...]}``).

    Returns:
        An iterator of sentences with ``id = "{PID}:{index}"``, links with ``qid`` set and
        empty ``target``; bad records come as ``Reject(stage="read", locator="{PID}:{index}")``.

    Raises:
        InputFormatError: XP110 when the file is missing, XP101 when it is not a JSON object of
            relation lists.
    """
    p = Path(path)
    source = str(path)
    try:
        with p.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise InputFormatError(
            "file not found.",
            fix="check the path to the FewRel JSON file (e.g. val_wiki.json).",
            file=source,
            code=E_FILE_NOT_FOUND,
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        line = getattr(err, "lineno", None)
        raise InputFormatError(
            f"not valid UTF-8 JSON ({err}).",
            fix="give the FewRel file unchanged ({PID: [records]}).",
            file=source,
            line=line,
            code=E_MALFORMED_LINE,
        ) from None
    if not isinstance(data, dict):
        raise InputFormatError(
            "the top level is not an object of relation lists.",
            fix="give a FewRel file shaped {PID: [{tokens, h, t}, ...]}.",
            file=source,
            code=E_MALFORMED_LINE,
        )
    for pid, records in data.items():
        if not isinstance(records, list):
            yield Reject(
                STAGE,
                source,
                str(pid),
                E_MALFORMED_LINE,
                f"relation {pid!r} does not hold a list of records.",
                json.dumps(records, ensure_ascii=False)[:500],
            )
            continue
        for index, record in enumerate(records):
            try:
                yield _convert(str(pid), index, record, source)
            except _BadRecord as bad:
                yield Reject(
                    STAGE,
                    source,
                    f"{pid}:{index}",
                    bad.code,
                    bad.reason,
                    json.dumps(record, ensure_ascii=False)[:500],
                )
