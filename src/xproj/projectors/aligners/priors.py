"""Alignment priors for eflomal: statistics learned once over a whole input, reused by every shard.

eflomal learns its translation, jump and fertility statistics from the text it aligns, so a
small shard aligns worse than the same pairs inside a large one. Its binary also takes *priors*:
pseudo-counts added to those statistics before sampling. :class:`EflomalPriors` counts them from
one alignment of a large corpus (the whole input, or a large sample of it, with any extra
bitext), so every shard, however small and wherever it runs, samples as if it saw that corpus.

What is counted, from the forward links (each target word aligned to at most one source word)
and the reverse links (each source word to at most one target word), words normalised as the
aligner normalises them (lowercased, cut to a prefix):

- ``lexical``: (source word, target word) pairs of the forward links;
- ``fwd_jumps``: the HMM's jumps of the forward direction, the source position of each aligned
  target word minus that of the previous aligned one (from -1), and the jump from the last one to
  the end of the source; ``rev_jumps`` the same with the sides swapped;
- ``src_fertility`` / ``tgt_fertility``: how many words each source word links to in the forward
  direction, and each target word in the reverse one.

The priors are saved as a text file (``xproj-eflomal-priors/1``, one count per line, its
settings in the header) that a resumed or scaled-out run reads back, so every shard of a run
aligns with the same statistics; :meth:`EflomalPriors.write_binary_file` writes them in the
binary's own input format for one shard's vocabulary.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xproj.schemas.errors import E_BAD_CONFIG, E_MALFORMED_LINE, ConfigError, InputFormatError

FORMAT = "xproj-eflomal-priors/1"

Links = Iterable[tuple[int, int]]


def normalise(token: str, lowercase: bool, prefix_len: int) -> str:
    """A token as the aligner counts it."""
    if lowercase:
        token = token.lower()
    return token[:prefix_len] if prefix_len else token


def _jumps(links: Iterable[tuple[int, int]], length: int, counts: Counter) -> None:
    """Count the jumps between the positions ``p`` of consecutive links ``(p, q)`` in ``q``
    order (each ``q`` once), from -1, and from the last one to ``length``."""
    last = -1
    seen: set[int] = set()
    for p, q in sorted(links, key=lambda link: (link[1], link[0])):
        if q in seen:
            continue
        seen.add(q)
        counts[p - last] += 1
        last = p
    counts[length - last] += 1


@dataclass(slots=True)
class EflomalPriors:
    """Pseudo-counts for eflomal, and the normalisation they were counted with.

    Attributes:
        lowercase: whether words were lowercased (must match the aligner's setting).
        src_prefix_len: source words were cut to this many characters (0: whole).
        tgt_prefix_len: the same for target words.
        pairs: how many sentence pairs they were counted from.
    """

    lowercase: bool
    src_prefix_len: int
    tgt_prefix_len: int
    pairs: int = 0
    lexical: Counter = field(default_factory=Counter)
    fwd_jumps: Counter = field(default_factory=Counter)
    rev_jumps: Counter = field(default_factory=Counter)
    src_fertility: Counter = field(default_factory=Counter)
    tgt_fertility: Counter = field(default_factory=Counter)

    @classmethod
    def count(
        cls,
        pairs: Sequence[tuple[Sequence[str], Sequence[str]]],
        forward: Sequence[Links],
        reverse: Sequence[Links],
        *,
        lowercase: bool,
        src_prefix_len: int,
        tgt_prefix_len: int,
    ) -> EflomalPriors:
        """Count the priors of ``pairs`` from their forward and reverse links (both in
        ``(source, target)`` order, as ``EflomalAligner.align_directions`` returns them)."""
        priors = cls(lowercase, src_prefix_len, tgt_prefix_len, len(pairs))
        for (src, tgt), fwd, rev in zip(pairs, forward, reverse, strict=True):
            s = [normalise(t, lowercase, src_prefix_len) for t in src]
            t = [normalise(w, lowercase, tgt_prefix_len) for w in tgt]
            fwd, rev = list(fwd), list(rev)
            for i, j in fwd:
                priors.lexical[(s[i], t[j])] += 1
            _jumps(fwd, len(src), priors.fwd_jumps)
            _jumps([(j, i) for i, j in rev], len(tgt), priors.rev_jumps)
            for i, n in Counter(i for i, _ in fwd).items():
                priors.src_fertility[(s[i], n)] += 1
            for j, n in Counter(j for _, j in rev).items():
                priors.tgt_fertility[(t[j], n)] += 1
        return priors

    def check_settings(self, lowercase: bool, src_prefix_len: int, tgt_prefix_len: int) -> None:
        """Refuse (XP301) priors counted with another normalisation than the aligner's."""
        mine = (self.lowercase, self.src_prefix_len, self.tgt_prefix_len)
        theirs = (lowercase, src_prefix_len, tgt_prefix_len)
        if mine != theirs:
            raise ConfigError(
                f"the eflomal priors were counted with lowercase, prefix lengths {mine}, the "
                f"aligner uses {theirs}.",
                fix="learn the priors again with the aligner's settings.",
                code=E_BAD_CONFIG,
            )

    # -- the saved file ---------------------------------------------------------------------------

    def lines(self) -> Iterable[str]:
        """The saved form, line by line (sorted, so equal priors give equal files)."""
        yield (
            f"{FORMAT}\tlowercase={int(self.lowercase)}\tsrc_prefix_len={self.src_prefix_len}"
            f"\ttgt_prefix_len={self.tgt_prefix_len}\tpairs={self.pairs}"
        )
        for (s, t), n in sorted(self.lexical.items()):
            yield f"LEX\t{s}\t{t}\t{n:g}"
        for jump, n in sorted(self.fwd_jumps.items()):
            yield f"JUMPF\t{jump}\t{n:g}"
        for jump, n in sorted(self.rev_jumps.items()):
            yield f"JUMPR\t{jump}\t{n:g}"
        for (s, k), n in sorted(self.src_fertility.items()):
            yield f"FERTS\t{s}\t{k}\t{n:g}"
        for (t, k), n in sorted(self.tgt_fertility.items()):
            yield f"FERTT\t{t}\t{k}\t{n:g}"

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the priors to ``path`` (a temporary name, then renamed); their sha256."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        digest = hashlib.sha256()
        with tmp.open("w", encoding="utf-8", newline="\n") as out:
            for line in self.lines():
                out.write(line + "\n")
                digest.update((line + "\n").encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        return digest.hexdigest()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EflomalPriors:
        """Read priors :meth:`save` wrote.

        Raises:
            InputFormatError: XP101 for a file that is not one (naming its line).
        """
        with open(path, encoding="utf-8") as handle:
            return cls._parse(handle, str(path))

    @classmethod
    def load_text(cls, text: str, where: str = "priors") -> EflomalPriors:
        """Priors from the text of a saved file (an ``aligner_priors`` row's ``priors``)."""
        return cls._parse(iter(text.splitlines(keepends=True)), where)

    @classmethod
    def _parse(cls, lines: Iterable[str], where: str) -> EflomalPriors:
        lines = iter(lines)
        head = next(lines, "").rstrip("\n").split("\t")
        if head[0] != FORMAT:
            raise InputFormatError(
                f"not an eflomal priors file (first line {head[0][:40]!r}, expected {FORMAT}).",
                fix="give a file that xproj saved (EflomalPriors.save).",
                file=where,
                line=1,
                code=E_MALFORMED_LINE,
            )
        try:
            settings = dict(part.split("=", 1) for part in head[1:])
            priors = cls(
                bool(int(settings["lowercase"])),
                int(settings["src_prefix_len"]),
                int(settings["tgt_prefix_len"]),
                int(settings["pairs"]),
            )
        except (KeyError, ValueError):
            raise InputFormatError(
                "the header misses lowercase, src_prefix_len, tgt_prefix_len or pairs.",
                fix="give a file that xproj saved (EflomalPriors.save), unchanged.",
                file=where,
                line=1,
                code=E_MALFORMED_LINE,
            ) from None
        tables: Mapping[str, Counter] = {
            "LEX": priors.lexical,
            "JUMPF": priors.fwd_jumps,
            "JUMPR": priors.rev_jumps,
            "FERTS": priors.src_fertility,
            "FERTT": priors.tgt_fertility,
        }
        for number, line in enumerate(lines, start=2):
            parts = line.rstrip("\n").split("\t")
            try:
                kind, *key, n = parts
                table = tables[kind]
                if kind in ("JUMPF", "JUMPR"):
                    (jump,) = key
                    table[int(jump)] = float(n)
                elif kind == "LEX":
                    src, tgt = key
                    table[(src, tgt)] = float(n)
                else:
                    word, fertility = key
                    table[(word, int(fertility))] = float(n)
            except (KeyError, ValueError):
                raise InputFormatError(
                    f"line {parts[0][:10]!r}… is not a priors entry.",
                    fix="give a file that xproj saved (EflomalPriors.save), unchanged.",
                    file=where,
                    line=number,
                    code=E_MALFORMED_LINE,
                ) from None
        return priors

    # -- the binary's input --------------------------------------------------------------------------

    def write_binary_file(
        self, path: Path, src_ids: Mapping[str, int], tgt_ids: Mapping[str, int]
    ) -> int:
        """Write the priors for one eflomal run whose vocabularies are ``src_ids`` and
        ``tgt_ids`` (word → 0-based id as in its text files), in the binary's format: a header
        ``n_src+1 n_tgt+1 n_lex n_jumpf n_jumpr n_ferts n_fertt``, then the lexical entries
        ``src tgt alpha`` (word ids from 1; 0 is NULL), the forward and reverse jumps
        ``jump alpha``, and the fertilities ``word fertility alpha``. Words the run does not
        have are left out. Returns how many lexical entries were written."""
        lexical = {}
        for (s, t), n in self.lexical.items():
            e, f = src_ids.get(s), tgt_ids.get(t)
            if e is not None and f is not None:
                lexical[(e + 1, f + 1)] = n
        ferts = {(src_ids[s] + 1, k): n for (s, k), n in self.src_fertility.items() if s in src_ids}
        fertt = {(tgt_ids[t] + 1, k): n for (t, k), n in self.tgt_fertility.items() if t in tgt_ids}
        with path.open("w", encoding="ascii") as out:
            out.write(
                f"{len(src_ids) + 1} {len(tgt_ids) + 1} {len(lexical)} {len(self.fwd_jumps)} "
                f"{len(self.rev_jumps)} {len(ferts)} {len(fertt)}\n"
            )
            for (e, f), n in sorted(lexical.items()):
                out.write(f"{e} {f} {n:g}\n")
            for jump, n in sorted(self.fwd_jumps.items()):
                out.write(f"{jump} {n:g}\n")
            for jump, n in sorted(self.rev_jumps.items()):
                out.write(f"{jump} {n:g}\n")
            for (e, k), n in sorted(ferts.items()):
                out.write(f"{e} {k} {n:g}\n")
            for (f, k), n in sorted(fertt.items()):
                out.write(f"{f} {k} {n:g}\n")
        return len(lexical)
