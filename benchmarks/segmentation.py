"""Word segmenters for Thai, Khmer, Japanese, Korean and Chinese, compared through eflomal on Tatoeba.

For each language (``bitext/tatoeba-1k``: tha 548 pairs, khm 722, jpn 1,000, kor 1,000, cmn 1,000)
and each
candidate segmenter of :func:`xproj.text.words.tokenizer_for` (see :data:`CANDIDATES`):

* ``tokens_per_sent``: mean number of tokens of the non-English side;
* ``sent_per_s``: sentences per second of the segmenter alone (all lines tokenised, repeated
  until at least 0.5 s of work);
* ``content_aligned``: share of English content words (alphabetic tokens not in
  :data:`STOPWORDS`) with at least one link, all pairs of the language aligned in one eflomal
  call (grow-diag-final-and, English as source); ``x_aligned``: share of the other side's tokens
  with a link, ``x_word_aligned`` the same for tokens holding a word character (punctuation out);
* ``grapheme_violations``: tokens whose start or end is not an extended grapheme cluster boundary
  (``regex`` ``\\X``); ``raw_grapheme_violations`` counts them in the segmenter's own output,
  before ``keep_graphemes`` (which joins tokens split inside a cluster) has run;
* ``invisible_tokens``: tokens made only of format characters (zero-width space …).

The registry's ``icu`` hands runs of Thai, Lao, Khmer, Burmese, Tibetan, Han and kana to ICU's
word BreakIterator and cuts the rest (numbers, Latin words, Hangul) like spaced text.

eflomal cannot be seeded, so the aligned shares vary from run to run (``--repeats N`` averages N
alignment runs and keeps each run's figures).

Run: ``PYTHONPATH=. .venv/bin/python -m benchmarks.segmentation [--langs th,ja] [--repeats 3]``
(under a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import regex

from benchmarks._common import Timer, shared_data_dir, versions, write_result
from xproj.projectors.aligners import get_aligner
from xproj.schemas.errors import ConfigError
from xproj.text.breaks import grapheme_boundaries
from xproj.text.words import WordTokenizer, tokenizer_for

#: Tatoeba file code → language code.
LANGS = {"th": "tha", "km": "khm", "ja": "jpn", "ko": "kor", "zh": "cmn"}
#: Segmenters compared per language (``tokenizer_for(lang, name)``).
CANDIDATES: dict[str, list[str]] = {
    "th": ["icu", "pythainlp", "spacy", "cjk-chars"],
    "km": ["icu", "khmer-nltk", "spacy"],
    "ja": ["cjk-chars", "icu", "sudachi", "spacy"],
    "ko": ["spacy", "icu"],
    "zh": ["cjk-chars", "icu", "jieba"],
}
ALIGNER_SETTINGS = {"symmetrization": "grow-diag-final-and", "threads": 2}
#: English function words: an alphabetic English token not in this set is a content word.
STOPWORDS = frozenset(
    """
    a an the this that these those some any no
    of to in on at by for with from into about as than like over up down out off
    and or but if so not nor
    is am are was were be been being do does did have has had will would shall should can
    could may might must
    i me my you your he him his she her it its we us our they them their
    what who whom which whose there here then when where why how
    very just too also
    """.split()
)
MIN_TIMED_SECONDS = 0.5


def read_pairs(lang: str) -> tuple[list[str], list[str]]:
    """English lines and the other language's lines of ``tatoeba.<xxx>-eng``, parallel."""
    code = LANGS[lang]
    folder = shared_data_dir() / "bitext" / "tatoeba-1k"
    en = _lines(folder / f"tatoeba.{code}-eng.eng")
    xx = _lines(folder / f"tatoeba.{code}-eng.{code}")
    if len(en) != len(xx):
        raise SystemExit(f"{code}: {len(en)} English lines but {len(xx)} {code} lines")
    return en, xx


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def segmenter(lang: str, name: str) -> WordTokenizer:
    """The registry's tokenizer for ``lang`` with segmenter ``name``."""
    return tokenizer_for(lang, name)


def grapheme_violations(texts: list[str], tokens: list[list[tuple[str, int, int]]]) -> int:
    """Tokens whose start or end falls inside an extended grapheme cluster."""
    bad = 0
    for text, toks in zip(texts, tokens, strict=True):
        cuts = set(grapheme_boundaries(text))
        bad += sum(1 for _, s, e in toks if s not in cuts or e not in cuts)
    return bad


def time_segmenter(tok: WordTokenizer, texts: list[str]) -> tuple[float, int]:
    """Sentences per second of ``tok.tokenize`` over ``texts`` (repeated to >= 0.5 s)."""
    rounds = 0
    with Timer() as t:
        deadline = time.perf_counter() + MIN_TIMED_SECONDS
        while rounds == 0 or time.perf_counter() < deadline:
            for text in texts:
                tok.tokenize(text)
            rounds += 1
    return rounds * len(texts) / t.seconds, rounds


def is_content(token: str) -> bool:
    return token.isalpha() and token.lower() not in STOPWORDS


def align_shares(
    en_tokens: list[list[str]], xx_tokens: list[list[str]], repeats: int
) -> dict[str, Any]:
    """Aligned shares over ``repeats`` eflomal runs (mean, and each run's figures)."""
    runs: list[dict[str, float]] = []
    for _ in range(repeats):
        aligner = get_aligner("eflomal.v1", **ALIGNER_SETTINGS)
        with Timer() as t:
            alignments = aligner.align(list(zip(en_tokens, xx_tokens, strict=True)))
        content = content_hit = x_all = x_hit = x_word = x_word_hit = 0
        for en, xx, al in zip(en_tokens, xx_tokens, alignments, strict=True):
            src = {i for i, _ in al.links}
            tgt = {j for _, j in al.links}
            for i, tok in enumerate(en):
                if is_content(tok):
                    content += 1
                    content_hit += i in src
            for j, tok in enumerate(xx):
                x_all += 1
                x_hit += j in tgt
                if regex.search(r"\w", tok):
                    x_word += 1
                    x_word_hit += j in tgt
        runs.append(
            {
                "content_aligned": content_hit / content,
                "x_aligned": x_hit / x_all,
                "x_word_aligned": x_word_hit / x_word,
                "align_seconds": t.seconds,
            }
        )
    out: dict[str, Any] = {key: round(statistics.mean(r[key] for r in runs), 4) for key in runs[0]}
    out["align_seconds"] = round(out["align_seconds"], 2)
    if repeats > 1:
        out["runs"] = [{k: round(v, 4) for k, v in r.items()} for r in runs]
        out["content_aligned_sd"] = round(statistics.stdev(r["content_aligned"] for r in runs), 4)
    out["en_content_words"] = content
    return out


def run_language(lang: str, repeats: int) -> dict[str, Any]:
    en_lines, xx_lines = read_pairs(lang)
    en_tok = tokenizer_for("en")
    en_tokens = [[t for t, _, _ in en_tok.tokenize(line)] for line in en_lines]
    rows: dict[str, Any] = {}
    for name in CANDIDATES[lang]:
        try:
            tok = segmenter(lang, name)
        except ConfigError as err:  # a dedicated segmenter that is not installed
            print(f"{lang} {name}: skipped: {err}", flush=True)
            rows[name] = {"skipped": str(err)}
            continue
        triples = [tok.tokenize(line) for line in xx_lines]
        raw = [tok.split(line) for line in xx_lines]
        xx_tokens = [[t for t, _, _ in toks] for toks in triples]
        sent_per_s, rounds = time_segmenter(tok, xx_lines)
        row: dict[str, Any] = {
            "tokenizer": tok.describe(),
            "pairs": len(xx_lines),
            "tokens_per_sent": round(statistics.mean(len(t) for t in xx_tokens), 2),
            "sent_per_s": round(sent_per_s),
            "timed_rounds": rounds,
            "grapheme_violations": grapheme_violations(xx_lines, triples),
            "raw_grapheme_violations": grapheme_violations(xx_lines, raw),
            "invisible_tokens": sum(
                1 for toks in xx_tokens for t in toks if regex.fullmatch(r"[\p{Cf}\s]+", t)
            ),
            "offsets_ok": all(
                line[s:e] == t
                for line, toks in zip(xx_lines, triples, strict=True)
                for t, s, e in toks
            ),
            **align_shares(en_tokens, xx_tokens, repeats),
        }
        rows[name] = row
        print(f"  {lang} {name:10s} done ({row['align_seconds']:.1f}s aligning)", flush=True)
    return {
        "registry": tokenizer_for(lang).name,
        "english_tokenizer": en_tok.describe(),
        "segmenters": rows,
    }


def print_table(results: dict[str, Any]) -> None:
    head = (
        f"{'lang':4s} {'segmenter':10s} {'tokenizer':22s} {'tok/sent':>8s} {'sent/s':>8s} "
        f"{'content':>7s} {'x_all':>6s} {'x_word':>6s} {'graph':>5s} {'raw':>4s} {'invis':>5s}"
    )
    print(head)
    print("-" * len(head))
    for lang, res in results.items():
        for name, r in res["segmenters"].items():
            if "skipped" in r:
                print(f"{lang:4s} {name:10s}  skipped (not installed)")
                continue
            mark = "*" if r["tokenizer"].startswith(res["registry"] + " ") else " "
            print(
                f"{lang:4s} {name:10s} {mark}{r['tokenizer'].split(' (')[0]:21s} "
                f"{r['tokens_per_sent']:8.2f} {r['sent_per_s']:8d} "
                f"{r['content_aligned']:7.3f} {r['x_aligned']:6.3f} {r['x_word_aligned']:6.3f} "
                f"{r['grapheme_violations']:5d} {r['raw_grapheme_violations']:4d} "
                f"{r['invisible_tokens']:5d}"
            )
    print("* the registry's choice (tokenizer_for(lang)); content / x_all / x_word: aligned shares")
    print("  graph: grapheme violations after tokenize(); raw: in the segmenter's own split;")
    print("  invis: tokens of zero-width/format characters only")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--langs", default=",".join(LANGS), help="comma-separated: th,km,ja,ko")
    ap.add_argument(
        "--repeats", type=int, default=1, help="eflomal runs averaged per segmenter (default 1)"
    )
    args = ap.parse_args(argv)
    langs = [x for x in args.langs.split(",") if x]
    unknown = [x for x in langs if x not in LANGS]
    if unknown:
        ap.error(f"unknown language(s) {unknown}: choose from {', '.join(LANGS)}")
    results: dict[str, Any] = {}
    with Timer() as total:
        for lang in langs:
            print(f"{lang}:", flush=True)
            results[lang] = run_language(lang, args.repeats)
    print()
    print_table(results)
    print(f"total {total.seconds:.1f}s; eflomal is not seeded: aligned shares move between runs")
    path = write_result(
        "segmentation",
        {
            "command": "PYTHONPATH=. python -m benchmarks.segmentation " + " ".join(sys.argv[1:]),
            "method": {
                "data": "shared bitext/tatoeba-1k, tatoeba.{tha,khm,jpn,kor}-eng (all pairs)",
                "tokens_per_sent": "mean token count of the non-English side",
                "sent_per_s": f"tokenize() over all non-English lines, repeated to >= "
                f"{MIN_TIMED_SECONDS} s, single thread",
                "alignment": "all pairs of a language in one eflomal.v1 call, English source, "
                f"{ALIGNER_SETTINGS}; English tokenised by tokenizer_for('en')",
                "content_aligned": "share of English tokens that are alphabetic and not in "
                "STOPWORDS with at least one link",
                "x_aligned": "share of non-English tokens with a link; x_word_aligned: the same "
                "over tokens holding a word character",
                "invisible_tokens": "tokens made only of format characters (Cf: zero-width "
                "space, joiners) or whitespace",
                "grapheme_violations": "tokens whose start or end is not a regex \\X boundary, "
                "after tokenize(); raw_grapheme_violations: in tok.split() before keep_graphemes",
                "noise": "eflomal has no seed; shares are one run unless --repeats > 1",
                "repeats": args.repeats,
                "stopwords": sorted(STOPWORDS),
            },
            "results": results,
            "registry": {lang: res["registry"] for lang, res in results.items()},
            "total_seconds": round(total.seconds, 1),
            "versions": versions(["eflomal", "spacy", "PyICU", "pythainlp", "regex"]),
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
