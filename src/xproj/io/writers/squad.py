"""SQuAD files: the nested v1.1 document and flat Hugging Face ``squad`` rows, written atomically.

The reader is :func:`xproj.io.readers.squad.iter_squad`; both work on
:class:`~xproj.io.readers.squad.SquadParagraph`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Literal

from xproj.io.readers.squad import SquadParagraph
from xproj.io.writers.atomic import atomic_path
from xproj.schemas.errors import check_option


def squad_document(paragraphs: Iterable[SquadParagraph], *, version: str = "1.1") -> dict:
    """The nested SQuAD document of ``paragraphs``: articles by title, in first-seen order.

    Paragraphs with the same title go into one article (in their given order); paragraphs are
    not merged, so give each context once per title.
    """
    articles: dict[str, list[dict]] = {}
    for para in paragraphs:
        articles.setdefault(para.title, []).append(
            {
                "context": para.context,
                "qas": [
                    {
                        "id": q.id,
                        "question": q.question,
                        "answers": [{"text": a.text, "answer_start": a.start} for a in q.answers],
                    }
                    for q in para.questions
                ],
            }
        )
    return {
        "version": version,
        "data": [{"title": t, "paragraphs": ps} for t, ps in articles.items()],
    }


def squad_rows(paragraphs: Iterable[SquadParagraph]) -> Iterator[dict]:
    """Flat Hugging Face ``squad`` rows, one per question, in paragraph order."""
    for para in paragraphs:
        for q in para.questions:
            yield {
                "id": q.id,
                "title": para.title,
                "context": para.context,
                "question": q.question,
                "answers": {
                    "text": [a.text for a in q.answers],
                    "answer_start": [a.start for a in q.answers],
                },
            }


def dump_squad(
    paragraphs: Iterable[SquadParagraph], handle: IO[str], *, version: str = "1.1"
) -> None:
    """Write the nested document (UTF-8 text, non-ASCII kept) to an open text handle."""
    json.dump(squad_document(paragraphs, version=version), handle, ensure_ascii=False)
    handle.write("\n")


def dump_squad_jsonl(paragraphs: Iterable[SquadParagraph], handle: IO[str]) -> None:
    """Write flat rows, one JSON object per line, to an open text handle."""
    for row in squad_rows(paragraphs):
        handle.write(json.dumps(row, ensure_ascii=False))
        handle.write("\n")


def write_squad(
    paragraphs: Iterable[SquadParagraph],
    path: str | os.PathLike[str],
    *,
    layout: Literal["nested", "jsonl"] = "nested",
    version: str = "1.1",
) -> Path:
    """Write paragraphs as a nested SQuAD document or flat JSON Lines, atomically.

    Args:
        paragraphs: the paragraphs to write (their ``source_id`` is not written).
        path: output file; its folder is created; it is replaced only once fully written.
        layout: ``nested`` (SQuAD v1.1 JSON) or ``jsonl`` (HF ``squad`` rows).
        version: the ``version`` of a nested document.

    Returns:
        The written path.
    """
    check_option("layout", layout, ("nested", "jsonl"), fix='pass layout="nested" or "jsonl".')
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as handle:
        if layout == "nested":
            dump_squad(paragraphs, handle, version=version)
        else:
            dump_squad_jsonl(paragraphs, handle)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)
