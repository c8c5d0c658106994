"""Plain text, one untokenized sentence per line (the unlabeled side of a parallel corpus)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from xproj.io.readers._common import (
    OnError,
    check_on_error,
    iter_lines,
    raise_or_reject,
    sentence_id,
)
from xproj.schemas.errors import E_EMPTY_SENTENCE, InputFormatError, Reject
from xproj.schemas.records import AnnotatedSentence

#: ``text -> [(token, start, end), …]`` with character offsets into the text
Tokenize = Callable[[str], list[tuple[str, int, int]]]


def iter_text_lines(
    path: str | os.PathLike[str],
    lang: str,
    tokenize: Tokenize,
    *,
    on_error: OnError = "raise",
    id_prefix: str | None = None,
) -> Iterator[AnnotatedSentence | Reject]:
    """One sentence per line, tokenized by ``tokenize``; one item per line, in file order.

    A blank line (or one ``tokenize`` finds no token in) is an empty sentence: XP102, raised or
    yielded as a ``Reject`` so line-aligned files stay aligned.

    Example:
        >>> from xproj.text.simple import simple_tokenize
        >>> # "fr.txt" holds "Le chat dort."
        >>> next(iter_text_lines("fr.txt", "fr", simple_tokenize)).tokens  # doctest: +SKIP
        ('Le', 'chat', 'dort', '.')
    """
    check_on_error(on_error)
    for number, line in iter_lines(path):
        tokens = tokenize(line) if line.strip() else []
        if not tokens:
            err = InputFormatError(
                "the line holds no sentence.",
                fix="remove the blank line from both sides of the parallel data.",
                file=str(path),
                line=number,
                code=E_EMPTY_SENTENCE,
            )
            yield raise_or_reject(err, on_error, line)
            continue
        yield AnnotatedSentence.from_triples(
            sentence_id(path, number, id_prefix), lang, line, tokens
        )
