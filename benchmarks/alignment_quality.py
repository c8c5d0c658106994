"""Word-alignment quality of eflomal on three gold sets (AER, Och & Ney 2003).

Gold sets (``<shared>/word-alignment-gold``, from neulab/awesome-align ``examples/``): en-fr
Hansards (447 pairs, sure + possible links), ro-en WPT 2005 (248, sure only), zh-en Tsinghua
(450). eflomal learns from the text it aligns, so every gold set is aligned together with extra
parallel text, tokenised the way that gold set is tokenised (see :data:`STYLES`):

- en-fr: the 76k-pair Tatoeba bitext (``bitext/eng-fra.tatoeba.tsv``);
- ro-en: XQuAD en/ro (the questions, and the context sentences of paragraphs that split into the
  same number of sentences on both sides); Tatoeba has no Romanian;
- zh-en: Tatoeba ``cmn-eng`` (1k) and XQuAD en/zh as for ro. The Chinese side is aligned as
  characters (as the pipeline's ``zh`` tokenizer splits it; no word segmenter is installed) and
  the links are mapped back to the gold words. The ``zhen-words`` row aligns the gold words
  instead, with the extra Chinese text segmented by greedy longest match against the gold set's
  own Chinese vocabulary (input words, not gold links).

The ablation aligns each set with several configurations side by side (one sampling run per row;
the five symmetrisations are scored on the same run). eflomal cannot be seeded (see
``xproj.projectors.aligners.eflomal``), so the adapter defaults are run ``--repeats`` times per set;
the symmetrisation table averages those runs and shows, per method, the mean AER over the three
sets and the largest gap to the best method of any one set. Last, alignment speed on 10k Tatoeba
pairs.

Run: ``.venv/bin/python -m benchmarks.alignment_quality`` (about 8 minutes on 2 shared cores;
``--quick`` runs only the defaults).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import statistics
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._common import shared_data_dir, versions, write_result
from xproj.io.readers import iter_bitext, read_pharaoh, read_tokenized_bitext
from xproj.projectors.aligners.base import TokenPair
from xproj.projectors.aligners.eflomal import EflomalAligner
from xproj.projectors.aligners.symmetrize import METHODS
from xproj.projectors.metrics import alignment_scores
from xproj.schemas.records import Alignment

#: the bar for en-fr Hansards with the Tatoeba bitext as extra data
BAR_AER_ENFR = 0.11

#: AER (%) published in the awesome-align README, with large in-domain training bitext
PUBLISHED = {
    "enfr": {"fast_align": 10.5, "eflomal": 8.2, "awesome-align (no fine-tuning)": 5.6},
    "roen": {"fast_align": 32.1, "eflomal": 25.1, "awesome-align (no fine-tuning)": 27.9},
    "zhen": {"fast_align": 38.1, "eflomal": 28.7, "awesome-align (no fine-tuning)": 18.1},
}


# --- tokenisation like the gold sets ------------------------------------------------------------


@dataclass(frozen=True)
class TokenStyle:
    """How one side of a gold set is tokenised, so extra training text can match it.

    Attributes:
        lang: ``en``, ``fr``, ``ro`` (English clitics and French elision are language rules).
        split_hyphens: ``co - worker`` (True) or ``anti-drug`` (False).
        expand_negation: English ``don't`` → ``do not`` (True) or kept whole (False).
        expand_french: French elision and contractions written out as in the Hansards set:
            ``l'`` → ``le``, ``d'`` → ``de`` …, ``du`` → ``de le``, ``aux`` → ``à les``.
        strip_diacritics: drop accents (the ro-en set is written without Romanian diacritics).
    """

    lang: str
    split_hyphens: bool = True
    expand_negation: bool = False
    expand_french: bool = False
    strip_diacritics: bool = False


#: gold set → (source style, target style); ``None``: Chinese, handled as characters.
STYLES: dict[str, tuple[TokenStyle | None, TokenStyle]] = {
    "enfr": (
        TokenStyle("en", expand_negation=True),
        TokenStyle("fr", expand_french=True),
    ),
    "roen": (TokenStyle("ro", strip_diacritics=True), TokenStyle("en")),
    "zhen": (None, TokenStyle("en", split_hyphens=False)),
}

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "\u00a0": " ", "\u202f": " "})
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "mt", "hon", "co", "jr", "sr", "m", "mme"}
_EN_NEGATION = (
    (re.compile(r"\b([Cc]an)'t\b"), r"\1 not"),
    (re.compile(r"\b([Ww])on't\b"), r"\1ill not"),
    (re.compile(r"\b([Ss]ha)n't\b"), r"\1ll not"),
    (re.compile(r"n't\b"), " not"),
)
_FR_ELIDED = {
    "l'": "le", "d'": "de", "j'": "je", "n'": "ne", "c'": "ce", "qu'": "que", "s'": "se",
    "m'": "me", "t'": "te", "jusqu'": "jusque", "lorsqu'": "lorsque", "puisqu'": "puisque",
}  # fmt: skip
_FR_CONTRACTED = {"du": ("de", "le"), "des": ("de", "les"), "au": ("à", "le"), "aux": ("à", "les")}


def _token_pattern(style: TokenStyle) -> re.Pattern[str]:
    word = r"\w+(?:-\w+)*" if not style.split_hyphens else r"\w+"
    parts = [r"\d+(?:[.,]\d+)+"]
    if style.lang == "en":
        parts += [r"\w+n't", r"'(?:s|m|re|ve|ll|d)\b"]
    if style.lang == "fr":
        parts.append(r"\w+'")
    parts += [word, r"[^\w\s]"]
    return re.compile("|".join(parts), re.IGNORECASE)


def tokenize(text: str, style: TokenStyle) -> list[str]:
    """Tokenise raw text the way a gold set's side is tokenised.

    Example:
        >>> tokenize("L'homme n'est pas au bureau.", STYLES["enfr"][1])
        ['le', 'homme', 'ne', 'est', 'pas', 'à', 'le', 'bureau', '.']
        >>> tokenize("Don't go, Mr. Smith's dog!", STYLES["enfr"][0])
        ['Do', 'not', 'go', ',', 'Mr.', 'Smith', "'s", 'dog', '!']
    """
    text = text.translate(_APOSTROPHES)
    if style.strip_diacritics:
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    if style.expand_negation:
        for pattern, replacement in _EN_NEGATION:
            text = pattern.sub(replacement, text)
    tokens: list[str] = []
    for match in _token_pattern(style).finditer(text):
        tok = match.group()
        if (
            tok == "."
            and tokens
            and tokens[-1].lower() in _ABBREVIATIONS
            and match.start() > 0
            and not text[match.start() - 1].isspace()
        ):
            tokens[-1] += "."
        elif style.expand_french and tok.lower() in _FR_ELIDED:
            tokens.append(_FR_ELIDED[tok.lower()])
        elif style.expand_french and tok.lower() in _FR_CONTRACTED:
            tokens.extend(_FR_CONTRACTED[tok.lower()])
        else:
            tokens.append(tok)
    return tokens


def segment_longest_match(text: str, vocabulary: set[str], max_len: int = 6) -> list[str]:
    """Greedy longest-match word segmentation of unsegmented (Chinese) text.

    Runs of ASCII letters/digits stay one token; other characters are single tokens unless a
    longer vocabulary word starts there.

    Example:
        >>> segment_longest_match("我们在北京2008年", {"我们", "北京", "2008年"})
        ['我们', '在', '北京', '2008年']
    """
    tokens: list[str] = []
    pos = 0
    text = "".join(text.split())
    while pos < len(text):
        for size in range(min(max_len, len(text) - pos), 1, -1):
            if text[pos : pos + size] in vocabulary:
                tokens.append(text[pos : pos + size])
                pos += size
                break
        else:
            ascii_run = re.match(r"[A-Za-z0-9.,%]+", text[pos:])
            size = len(ascii_run.group()) if ascii_run else 1
            tokens.append(text[pos : pos + size])
            pos += size
    return tokens


# --- data ---------------------------------------------------------------------------------------


@dataclass
class GoldSet:
    """A gold set, the pairs handed to the aligner and the extra training bitext.

    For Chinese the aligner sees characters (as the pipeline's ``zh`` tokenizer produces them);
    ``src_owner[k][c]`` is the gold word of character ``c`` of pair ``k``, so predicted links are
    mapped back to gold words before scoring.
    """

    name: str
    pairs: list[tuple[list[str], list[str]]]
    gold: list[Alignment]
    align_pairs: list[TokenPair]
    src_owner: list[list[int]] | None = None
    extra: list[TokenPair] = field(default_factory=list)
    extra_sources: dict[str, int] = field(default_factory=dict)

    def to_gold_links(self, k: int, links: set[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        if self.src_owner is None:
            return frozenset(links)
        owner = self.src_owner[k]
        return frozenset((owner[i], j) for i, j in links)


def _chars(tokens: Sequence[str]) -> tuple[list[str], list[int]]:
    chars, owner = [], []
    for k, tok in enumerate(tokens):
        chars.extend(tok)
        owner.extend([k] * len(tok))
    return chars, owner


def load_gold(data: Path, name: str, *, src_chars: bool = False) -> GoldSet:
    """Read ``<name>.src-tgt`` and ``<name>.gold`` (1-based links)."""
    folder = data / "word-alignment-gold"
    pairs = read_tokenized_bitext(folder / f"{name}.src-tgt")
    gold = read_pharaoh(
        folder / f"{name}.gold", one_based=True, lengths=[(len(s), len(t)) for s, t in pairs]
    )
    if not src_chars:
        return GoldSet(name, pairs, gold, list(pairs))
    split = [_chars(src) for src, _ in pairs]
    align_pairs = [(chars, tgt) for (chars, _), (_, tgt) in zip(split, pairs, strict=True)]
    return GoldSet(name, pairs, gold, align_pairs, [owner for _, owner in split])


def _split_sentences(text: str, chinese: bool) -> list[str]:
    if chinese:
        return [s for s in re.split(r"(?<=[。！？])", text) if s.strip()]
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[\"“A-ZĂÂÎȘȚ])", text) if s.strip()]


def xquad_pairs(data: Path, lang: str) -> Iterator[tuple[str, str]]:
    """``(en, lang)`` raw text pairs from XQuAD: the questions, and the context sentences of
    paragraphs that split into as many sentences in both languages."""
    en = json.loads((data / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    xx = json.loads((data / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
    for art_en, art_xx in zip(en, xx, strict=True):
        for par_en, par_xx in zip(art_en["paragraphs"], art_xx["paragraphs"], strict=True):
            questions = {q["id"]: q["question"] for q in par_xx["qas"]}
            for q in par_en["qas"]:
                if q["id"] in questions:
                    yield q["question"], questions[q["id"]]
            sents_en = _split_sentences(par_en["context"], chinese=False)
            sents_xx = _split_sentences(par_xx["context"], chinese=lang == "zh")
            # paragraphs that split differently are left out: long pairs cost much sampling time
            if len(sents_en) == len(sents_xx):
                yield from zip(sents_en, sents_xx, strict=True)


def tatoeba_fra(data: Path) -> Iterator[tuple[str, str]]:
    """``(en, fr)`` raw text pairs of the 76k Tatoeba bitext."""
    for item in iter_bitext(data / "bitext" / "eng-fra.tatoeba.tsv", fmt="tsv"):
        _, en, fr = item  # type: ignore[misc]  # on_error="raise": no Reject is yielded
        yield en, fr


def tatoeba_1k(data: Path, code: str) -> Iterator[tuple[str, str]]:
    """``(en, xx)`` raw text pairs of a 1k Tatoeba set (``code`` = ``cmn``, ``deu`` …)."""
    folder = data / "bitext" / "tatoeba-1k"
    for item in iter_bitext(
        folder / f"tatoeba.{code}-eng.eng", tgt_path=folder / f"tatoeba.{code}-eng.{code}"
    ):
        _, en, xx = item  # type: ignore[misc]
        yield en, xx


def _tokenized(
    raw: Iterable[tuple[str, str]],
    en: TokenStyle,
    xx: TokenStyle | Callable[[str], list[str]],
    *,
    en_first: bool,
) -> list[TokenPair]:
    out: list[TokenPair] = []
    for en_text, xx_text in raw:
        en_toks = tokenize(en_text, en)
        xx_toks = tokenize(xx_text, xx) if isinstance(xx, TokenStyle) else xx(xx_text)
        if en_toks and xx_toks:
            out.append((en_toks, xx_toks) if en_first else (xx_toks, en_toks))
    return out


def _han_chars(text: str) -> list[str]:
    return [c for c in text if not c.isspace()]


def load_sets(data: Path) -> list[GoldSet]:
    """The three gold sets with their extra bitext, and zh-en once more on gold words."""
    enfr = load_gold(data, "enfr")
    en_style, fr_style = STYLES["enfr"]
    enfr.extra = _tokenized(tatoeba_fra(data), en_style, fr_style, en_first=True)
    enfr.extra_sources = {"tatoeba eng-fra": len(enfr.extra)}

    roen = load_gold(data, "roen")
    ro_style, en_style = STYLES["roen"]
    roen.extra = _tokenized(xquad_pairs(data, "ro"), en_style, ro_style, en_first=False)
    roen.extra_sources = {"xquad en-ro": len(roen.extra)}

    _, en_style = STYLES["zhen"]
    zhen = load_gold(data, "zhen", src_chars=True)
    tat = _tokenized(tatoeba_1k(data, "cmn"), en_style, _han_chars, en_first=False)
    xq = _tokenized(xquad_pairs(data, "zh"), en_style, _han_chars, en_first=False)
    zhen.extra = tat + xq
    zhen.extra_sources = {"tatoeba-1k cmn-eng": len(tat), "xquad en-zh": len(xq)}

    zhen_words = load_gold(data, "zhen")
    zhen_words.name = "zhen-words"
    vocab = {tok for src, _ in zhen_words.pairs for tok in src if len(tok) > 1}
    segment = functools.partial(segment_longest_match, vocabulary=vocab)
    tat = _tokenized(tatoeba_1k(data, "cmn"), en_style, segment, en_first=False)
    xq = _tokenized(xquad_pairs(data, "zh"), en_style, segment, en_first=False)
    zhen_words.extra = tat + xq
    zhen_words.extra_sources = {
        "tatoeba-1k cmn-eng (longest match)": len(tat),
        "xquad en-zh (longest match)": len(xq),
    }
    return [enfr, roen, zhen, zhen_words]


# --- configurations -----------------------------------------------------------------------------

MAIN_SETS = ("enfr", "roen", "zhen")


@dataclass(frozen=True)
class Config:
    """One ablation row: eflomal settings (over the adapter defaults) and the training data.

    Attributes:
        label: row name.
        extra: whether the extra bitext is trained on.
        settings: keyword arguments for ``EflomalAligner`` that differ from its defaults.
        sets: the gold sets this row is run on.
    """

    label: str
    extra: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
    sets: tuple[str, ...] = MAIN_SETS


NO_PREFIX = {"src_prefix_len": 0, "tgt_prefix_len": 0}
#: the adapter's defaults with the extra bitext: what the summary and the bar are about
CHOSEN = Config("defaults: extra, prefix-4 stats", sets=(*MAIN_SETS, "zhen-words"))
CONFIGS = [
    Config("gold pairs only, no prefix", False, NO_PREFIX),
    Config("extra, no prefix", True, NO_PREFIX),
    Config("extra, no prefix, no lowercasing", True, {**NO_PREFIX, "lowercase": False}),
    CHOSEN,
    Config("extra, prefix-4 stats, 6 samplers", True, {"n_samplers": 6}),
]


def evaluate(gs: GoldSet, config: Config) -> dict[str, Any]:
    """Align ``gs`` once with ``config``; score every symmetrisation of that one run."""
    aligner = EflomalAligner(extra_bitext=gs.extra if config.extra else None, **config.settings)
    t0 = time.perf_counter()
    fwd, rev = aligner.align_directions(gs.align_pairs)
    seconds = time.perf_counter() - t0
    scores = {}
    for method, combine in METHODS.items():
        pred = [
            Alignment(gs.to_gold_links(k, combine(f, r)))
            for k, (f, r) in enumerate(zip(fwd, rev, strict=True))
        ]
        scores[method] = asdict(alignment_scores(pred, gs.gold))
        if method == aligner.symmetrization:
            links = {(k, i, j) for k, a in enumerate(pred) for i, j in a.links}
    settings = aligner.describe()
    settings["extra_bitext"] = gs.extra_sources if config.extra else {}
    return {
        "config": config.label,
        "settings": settings,
        "seconds": round(seconds, 2),
        "aer": {m: round(s["aer"], 4) for m, s in scores.items()},
        "scores": scores,
        "_links": links,
    }


def _link_change(runs: list[dict[str, Any]]) -> float | None:
    """Share of links that differ between the first two runs: |A xor B| / |A or B|."""
    if len(runs) < 2:
        return None
    a, b = runs[0]["_links"], runs[1]["_links"]
    return round(len(a ^ b) / max(1, len(a | b)), 4)


def speed(data: Path, n_pairs: int = 10_000, repeats: int = 2) -> dict[str, Any]:
    """Pairs per second of ``EflomalAligner.align`` (both directions + symmetrisation).

    Two samples of ``n_pairs`` Tatoeba en-fr pairs: the first lines (the file is sorted by length:
    the shortest sentences) and every k-th line (lengths as in the whole file).
    """
    en_style, fr_style = STYLES["enfr"]
    everything = _tokenized(tatoeba_fra(data), en_style, fr_style, en_first=True)
    samples = {
        "shortest": everything[:n_pairs],
        "spread": everything[:: max(1, len(everything) // n_pairs)][:n_pairs],
    }
    rows = []
    for settings in ({}, {"n_samplers": 1}):
        aligner = EflomalAligner(**settings)
        for sample_name, pairs in samples.items():
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                aligner.align(pairs)
                times.append(time.perf_counter() - t0)
            mean_tokens = sum(len(s) + len(t) for s, t in pairs) / (2 * len(pairs))
            rows.append({
                "sample": sample_name,
                "mean_tokens_per_side": round(mean_tokens, 1),
                "n_samplers": aligner.n_samplers,
                "seconds": [round(t, 2) for t in times],
                "pairs_per_second": round(len(pairs) / min(times)),
            })  # fmt: skip
    return {"n_pairs": n_pairs, "bar_pairs_per_second": 1500, "runs": rows}


# --- report -------------------------------------------------------------------------------------


def _ablation_table(results: dict[str, list[dict[str, Any]]]) -> str:
    short = {"intersection": "inter", "union": "union", "grow-diag": "gd",
             "grow-diag-final": "gdf", "grow-diag-final-and": "gdfa"}  # fmt: skip
    lines = []
    for name, rows in results.items():
        lines.append(f"\n{name}: AER % by symmetrisation (one sampling run per row)")
        lines.append(f"{'configuration':40s}" + "".join(f"{short[m]:>7s}" for m in METHODS)
                     + f"{'secs':>8s}")  # fmt: skip
        for row in rows:
            cells = "".join(f"{100 * row['aer'][m]:7.1f}" for m in METHODS)
            lines.append(f"{row['config'][:40]:40s}{cells}{row['seconds']:8.1f}")
    return "\n".join(lines)


def _method_table(
    per_set: dict[str, dict[str, list[float]]],
) -> tuple[str, dict[str, dict[str, float]]]:
    """Per symmetrisation: mean AER per set over the repeated runs, the mean over sets, and the
    worst gap to the best method of each set (max regret)."""
    best = {name: min(statistics.mean(v) for v in per_set[name].values()) for name in per_set}
    lines = [f"{'method':22s}" + "".join(f"{n:>8s}" for n in per_set)
             + f"{'mean':>8s}{'max gap':>9s}"]  # fmt: skip
    table: dict[str, dict[str, float]] = {}
    for method in METHODS:
        cells = {name: statistics.mean(per_set[name][method]) for name in per_set}
        mean = statistics.mean(cells.values())
        gap = max(cells[name] - best[name] for name in per_set)
        table[method] = {**{k: round(v, 4) for k, v in cells.items()},
                         "mean": round(mean, 4), "max_gap": round(gap, 4)}  # fmt: skip
        lines.append(f"{method:22s}" + "".join(f"{100 * c:8.2f}" for c in cells.values())
                     + f"{100 * mean:8.2f}{100 * gap:9.2f}")  # fmt: skip
    return "\n".join(lines), table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="eflomal AER on the word-alignment gold sets.")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of the default configuration per set (eflomal is random)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="only the default configuration")
    parser.add_argument("--no-speed", action="store_true", help="skip the 10k-pair speed run")
    args = parser.parse_args(argv)

    data = shared_data_dir()
    t_start = time.perf_counter()
    sets = load_sets(data)
    default_method = EflomalAligner().symmetrization
    results: dict[str, list[dict[str, Any]]] = {gs.name: [] for gs in sets}
    repeats: dict[str, list[dict[str, Any]]] = {gs.name: [] for gs in sets}
    for config in [CHOSEN] if args.quick else CONFIGS:
        for gs in sets:
            if gs.name in config.sets:
                row = evaluate(gs, config)
                results[gs.name].append(row)
                if config is CHOSEN:
                    repeats[gs.name].append(row)
                print(f"{gs.name:10s} {config.label:40s} {row['seconds']:6.1f}s "
                      f"AER {100 * row['aer'][default_method]:.1f}", flush=True)  # fmt: skip
    for gs in sets:
        if gs.name in MAIN_SETS:
            repeats[gs.name] += [evaluate(gs, CHOSEN) for _ in range(args.repeats - 1)]
    print(_ablation_table(results))

    per_set = {
        name: {m: [r["aer"][m] for r in repeats[name]] for m in METHODS} for name in MAIN_SETS
    }
    method_text, method_table = _method_table(per_set)
    best_mean = min(method_table, key=lambda m: method_table[m]["mean"])
    best_gap = min(method_table, key=lambda m: method_table[m]["max_gap"])
    print(f"\ndefault settings, AER % per symmetrisation, mean of {args.repeats} run(s):")
    print(method_text)

    summary = {}
    for gs in sets:
        runs = [r["aer"][default_method] for r in repeats[gs.name]]
        summary[gs.name] = {
            "pairs": len(gs.pairs),
            "extra_bitext": gs.extra_sources,
            "symmetrization": default_method,
            "aer_runs": runs,
            "aer_mean": round(statistics.mean(runs), 4),
            "aer_stdev": round(statistics.stdev(runs), 4) if len(runs) > 1 else None,
            "links_changed_between_runs": _link_change(repeats[gs.name]),
            "published_aer_percent": PUBLISHED[gs.name.split("-")[0]],
        }
    passed = summary["enfr"]["aer_mean"] <= BAR_AER_ENFR
    print(f"\ndefaults {EflomalAligner().describe()}")
    for name, s in summary.items():
        pub = ", ".join(f"{k} {v}" for k, v in s["published_aer_percent"].items())
        runs = ", ".join(f"{100 * a:.1f}" for a in s["aer_runs"])
        changed = s["links_changed_between_runs"]
        changed_text = f", {100 * changed:.1f}% links changed run to run" if changed else ""
        print(f"  {name:10s} AER {100 * s['aer_mean']:5.1f}% (runs {runs}{changed_text})"
              f" | published: {pub}")  # fmt: skip
    print(f"  symmetrisation: default {default_method}; lowest mean over sets {best_mean}; "
          f"smallest worst-case gap to each set's best {best_gap}")  # fmt: skip
    print(f"bar: en-fr AER <= {BAR_AER_ENFR}: {'PASS' if passed else 'FAIL'}")

    speed_result = None if args.no_speed else speed(data)
    for row in speed_result["runs"] if speed_result else []:
        print(f"speed: {row['pairs_per_second']:6d} pairs/s  n_samplers={row['n_samplers']} "
              f"sample={row['sample']} ({row['mean_tokens_per_side']} tokens/side)")  # fmt: skip
    path = write_result(
        "alignment_quality",
        {
            "versions": versions(["eflomal", "numpy"]),
            "settings": {
                "defaults": EflomalAligner().describe(),
                "repeats": args.repeats,
                "configs": [asdict(c) for c in ([CHOSEN] if args.quick else CONFIGS)],
                "tokenisation": {
                    k: [asdict(s) if s else "characters" for s in v] for k, v in STYLES.items()
                },  # fmt: skip
            },
            "bar": {"enfr_aer_max": BAR_AER_ENFR, "passed": passed},
            "summary": summary,
            "symmetrization_by_set": method_table,
            "ablation": {
                name: [{k: v for k, v in row.items() if k != "_links"} for row in rows]
                for name, rows in results.items()
            },
            "speed_10k": speed_result,
            "runtime_seconds": round(time.perf_counter() - t_start, 1),
            "data_sources": "awesome-align examples (gold), Tatoeba (CC BY 2.0 FR), "
            "XQuAD (CC BY-SA 4.0)",
        },
    )
    print(f"wrote {path} ({time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
