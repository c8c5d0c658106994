"""SimAlign word alignment (Jalili Sabet et al., 2020), batched.

SimAlign aligns words by the cosine similarity of contextual embeddings from a multilingual
encoder (mBERT or XLM-R, layer 8), then extracts links from each pair's similarity matrix:

- ``argmax`` (SimAlign's "inter", ArgMax): links that are the best of their row *and* column.
- ``itermax`` (IterMax): ArgMax, then one more ArgMax round over the similarities of words that
  are still unaligned (a link with one aligned end is damped by 0.9).
- ``match`` (SimAlign's "mwmf", Match): the maximum-weight bipartite matching.

``simalign.SentenceAligner`` embeds one pair per forward pass. This adapter embeds every sentence
of a chunk in length-sorted batches bounded in tokens, computes the similarity matrices with
batched matrix products, and runs only the matching per pair. On the same model, layer, method
and pairs it returns SimAlign's links (up to exact ties; floating-point noise from different
padding can tip near-ties). Deliberate differences: sentences longer than the model's position
limit are embedded in consecutive windows instead of being truncated; by default only the layers
up to ``layer`` are loaded and run for encoder families whose hidden state at that layer does not
depend on later layers; ``match`` uses ``scipy.optimize.linear_sum_assignment``, which maximises
the same objective as SimAlign's networkx matching.

Example:
    >>> aligner = SimAlignAligner("bert-base-multilingual-cased", method="itermax")  # doctest: +SKIP
    >>> aligner.align([(["Anna", "sleeps"], ["Anna", "dort"])])[0].links  # doctest: +SKIP
    frozenset({(0, 0), (1, 1)})
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from xproj.projectors.aligners.base import Aligner, TokenPair
from xproj.schemas.errors import E_BACKEND_MISSING, E_BAD_CONFIG, BackendError, ConfigError
from xproj.schemas.records import Alignment
from xproj.translators.store import hub_offline

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

Method = Literal["argmax", "itermax", "match"]
TokenType = Literal["bpe", "word"]
BatchType = Literal["tokens", "sentences"]

#: encoder families whose hidden state after layer k is the output of block k (no final norm),
#: so dropping the blocks above ``layer`` leaves ``hidden_states[layer]`` unchanged.
_TRUNCATABLE = frozenset({"bert", "roberta", "xlm-roberta", "camembert", "electra"})

#: IterMax: damping of a candidate link whose source or target word is already aligned.
_ITERMAX_ALPHA = 0.9
#: IterMax: total rounds (the first is plain ArgMax), as in SimAlign.
_ITERMAX_ROUNDS = 2
#: Upper bound on floats per similarity ``bmm`` (pairs x rows x columns).
_SIM_BLOCK = 1 << 22


def _model_depth(config: Any) -> int | None:
    for attr in ("num_hidden_layers", "n_layers", "num_layers", "n_layer"):
        value = getattr(config, attr, None)
        if isinstance(value, int):
            return value
    return None


def _check_choice(value: str, allowed: Any, setting: str) -> None:
    choices = get_args(allowed)
    if value not in choices:
        raise ConfigError(
            f"simalign {setting}={value!r} is not supported.",
            fix=f"use one of: {', '.join(choices)}.",
            code=E_BAD_CONFIG,
        )


# --- matching on one similarity matrix (rows: source units, columns: target units) -------------


def argmax_links(sim: np.ndarray) -> np.ndarray:
    """ArgMax: a boolean matrix marking cells that are the maximum of their row and column.

    Ties go to the first index, as with ``numpy.argmax``.

    Example:
        >>> argmax_links(np.array([[0.9, 0.1], [0.8, 0.2]])).astype(int).tolist()
        [[1, 0], [0, 0]]
    """
    m, n = sim.shape
    best_col = sim.argmax(axis=1)
    best_row = sim.argmax(axis=0)
    rows = np.arange(m)
    keep = best_row[best_col] == rows
    out = np.zeros((m, n), dtype=bool)
    out[rows[keep], best_col[keep]] = True
    return out


def itermax_links(
    sim: np.ndarray, rounds: int = _ITERMAX_ROUNDS, alpha: float = _ITERMAX_ALPHA
) -> np.ndarray:
    """IterMax: ArgMax, then further ArgMax rounds among links with an unaligned end.

    In each extra round a cell whose row and column are both aligned is excluded, a cell with
    one aligned end has its similarity scaled by ``alpha`` and a cell with both ends free keeps
    it. Sentences with at most two units keep the ArgMax links.

    Example:
        >>> sim = np.array([[0.9, 0.1, 0.1, 0.1], [0.1, 0.1, 0.6, 0.58], [0.1, 0.2, 0.95, 0.4]])
        >>> itermax_links(sim).astype(int).tolist()
        [[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]
    """
    links = argmax_links(sim)
    m, n = sim.shape
    if min(m, n) <= 2:
        return links
    for _ in range(rounds - 1):
        row_free = ~links.any(axis=1)
        col_free = ~links.any(axis=0)
        if not row_free.any() or not col_free.any():
            break
        free_ends = row_free[:, None].astype(float) + col_free[None, :].astype(float)
        damped = sim * np.minimum(alpha * free_ends, 1.0)
        allowed = free_ends > 0
        fwd = np.zeros((m, n), dtype=bool)
        fwd[np.arange(m), damped.argmax(axis=1)] = True
        bwd = np.zeros((m, n), dtype=bool)
        bwd[damped.argmax(axis=0), np.arange(n)] = True
        new = fwd & bwd & allowed
        if not new.any():
            break
        links |= new
    return links


def match_links(sim: np.ndarray) -> np.ndarray:
    """Match: the maximum-weight matching with as many links as the shorter side has units.

    Cells of weight 0 are not links (a zero-weight edge is absent from SimAlign's graph).

    Example:
        >>> match_links(np.array([[0.9, 0.8], [0.85, 0.1]])).astype(int).tolist()
        [[0, 1], [1, 0]]
    """
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(sim, maximize=True)
    out = np.zeros(sim.shape, dtype=bool)
    positive = sim[rows, cols] > 0
    out[rows[positive], cols[positive]] = True
    return out


_MATCHERS = {"argmax": argmax_links, "itermax": itermax_links, "match": match_links}


def apply_distortion(sim: np.ndarray, ratio: float) -> np.ndarray:
    """Scale similarities down by the squared distance of relative positions, times ``ratio``.

    Example:
        >>> apply_distortion(np.ones((2, 2)), 0.5).tolist()
        [[1.0, 0.5], [0.5, 1.0]]
    """
    m, n = sim.shape
    if ratio == 0.0 or m < 2 or n < 2:
        return sim
    rel_src = np.arange(m, dtype=float)[:, None] / (m - 1)
    rel_tgt = np.arange(n, dtype=float)[None, :] / (n - 1)
    return sim * (1.0 - (rel_tgt - rel_src) ** 2 * ratio)


# --- embedding ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Units:
    """A sentence's alignment units: unit vectors (on the model's device) and their words."""

    vectors: torch.Tensor
    word_of_unit: np.ndarray


class SimAlignAligner(Aligner):
    """Batched SimAlign aligner (registered as ``"simalign.v1"``).

    Args:
        model: a local model folder or a Hub id, loaded with ``AutoModel``/``AutoTokenizer``
            (only from the local cache when ``HF_HUB_OFFLINE`` is set).
        layer: hidden state to use (0 = embeddings, ``k`` = output of block ``k``); at most
            the model's depth.
        method: ``"argmax"``, ``"itermax"`` or ``"match"``.
        token_type: ``"bpe"`` aligns subwords and links two words when any of their subwords
            are linked; ``"word"`` averages each word's subword vectors and aligns words.
        distortion: SimAlign's position-distortion ratio (0 = off, SimAlign's default).
        batch_size: embedding batch bound, in padded tokens or in sentences (``batch_type``).
        batch_type: ``"tokens"`` or ``"sentences"``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` …; ``None`` or ``"auto"`` picks CUDA when
            available.
        read_ahead: pairs embedded together (memory grows with it; results do not depend on it).
        skip_unused_layers: load and run only the blocks up to ``layer`` (BERT/RoBERTa/XLM-R/
            ELECTRA families, where that leaves the layer's output unchanged).

    Raises:
        ConfigError: XP301 for an unknown method/token type/batch type, a non-positive batch
            size, a negative distortion, or a layer outside ``0 … depth``.
        BackendError: XP501 when torch/transformers are missing or the model cannot be loaded.
    """

    name = "simalign.v1"
    neural = True

    def __init__(
        self,
        model: str = "bert-base-multilingual-cased",
        *,
        layer: int = 8,
        method: Method = "argmax",
        token_type: TokenType = "bpe",
        distortion: float = 0.0,
        batch_size: int = 4096,
        batch_type: BatchType = "tokens",
        device: str | None = None,
        read_ahead: int = 1024,
        skip_unused_layers: bool = True,
    ) -> None:
        _check_choice(method, Method, "method")
        _check_choice(token_type, TokenType, "token_type")
        _check_choice(batch_type, BatchType, "batch_type")
        for setting, value in (("batch_size", batch_size), ("read_ahead", read_ahead)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"simalign {setting}={value!r} must be a positive integer.",
                    fix=f"set {setting} to 1 or more.",
                    code=E_BAD_CONFIG,
                )
        if not distortion >= 0.0:
            raise ConfigError(
                f"simalign distortion={distortion!r} must be 0 or more.",
                fix="use 0.0 (off, SimAlign's default) or a positive ratio such as 0.5.",
                code=E_BAD_CONFIG,
            )
        self.model_name = str(model)
        self.layer = layer
        self.method = method
        self.token_type = token_type
        self.distortion = float(distortion)
        self.batch_size = batch_size
        self.batch_type = batch_type
        self.read_ahead = read_ahead
        self.skip_unused_layers = skip_unused_layers
        self._device_setting = device
        self._config = self._load_config()
        depth = _model_depth(self._config)
        if not isinstance(layer, int) or layer < 0 or (depth is not None and layer > depth):
            raise ConfigError(
                f"simalign layer={layer!r} is outside model {self.model_name!r}, which has "
                f"{depth} layers.",
                fix=f"choose a layer from 0 to {depth} (SimAlign uses 8 for 12-layer encoders).",
                code=E_BAD_CONFIG,
            )
        self._depth = depth
        self._model: Any = None
        self._tokenizer: Any = None
        self._device: Any = None

    # -- loading ---------------------------------------------------------------------------

    def _load_config(self) -> Any:
        try:
            from transformers import AutoConfig
        except ImportError as err:
            raise BackendError(
                f"transformers is not installed ({err}).",
                fix="pip install transformers torch.",
                code=E_BACKEND_MISSING,
            ) from None
        try:
            return AutoConfig.from_pretrained(self.model_name, local_files_only=hub_offline())
        except (OSError, ValueError) as err:
            raise self._load_error(err) from None

    def _load_error(self, err: Exception) -> BackendError:
        where = (
            " (HF_HUB_OFFLINE is set: only the local cache is searched)" if hub_offline() else ""
        )
        return BackendError(
            f"cannot load model {self.model_name!r}{where}: {err}",
            fix="pass a local model folder, or download the model into the Hugging Face cache "
            "on a machine with network access first.",
            code=E_BACKEND_MISSING,
        )

    def _ensure_loaded(self) -> None:
        if self._model is not None:
            return
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as err:
            raise BackendError(
                f"torch/transformers are not installed ({err}).",
                fix="pip install torch transformers.",
                code=E_BACKEND_MISSING,
            ) from None
        device = self._device_setting
        if device in (None, "auto"):
            device = "cuda" if torch.cuda.is_available() else "cpu"
        offline = hub_offline()
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_name, local_files_only=offline)
            try:
                tokenizer(["a"], is_split_into_words=True)
            except ValueError:
                # byte-level BPE tokenizers (RoBERTa, GPT-2 style) need this for word lists
                tokenizer = AutoTokenizer.from_pretrained(
                    self.model_name, local_files_only=offline, add_prefix_space=True
                )
            model = AutoModel.from_pretrained(self.model_name, local_files_only=offline)
        except (OSError, ValueError) as err:
            raise self._load_error(err) from None
        blocks = getattr(getattr(model, "encoder", None), "layer", None)
        if (
            self.skip_unused_layers
            and self._config.model_type in _TRUNCATABLE
            and isinstance(blocks, torch.nn.ModuleList)
            and 1 <= self.layer < len(blocks)
        ):
            model.encoder.layer = blocks[: self.layer]
        self._device = torch.device(device)
        self._model = model.eval().to(self._device)
        self._tokenizer = tokenizer
        self._prefix, self._suffix = self._special_tokens()
        self._max_content = self._position_limit() - len(self._prefix) - len(self._suffix)

    def _special_tokens(self) -> tuple[list[int], list[int]]:
        """Ids the tokenizer puts before and after a sentence's subwords (e.g. [CLS] … [SEP])."""
        tok = self._tokenizer
        plain = tok(["a"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
        full = tok(["a"], is_split_into_words=True, add_special_tokens=True)["input_ids"]
        for start in range(len(full) - len(plain) + 1):
            if full[start : start + len(plain)] == plain:
                return list(full[:start]), list(full[start + len(plain) :])
        raise BackendError(
            f"cannot locate the sentence inside the special tokens of {self.model_name!r}.",
            fix="use an encoder tokenizer that adds special tokens only around the text.",
            code=E_BACKEND_MISSING,
        )

    def _position_limit(self) -> int:
        limits = []
        max_len = getattr(self._tokenizer, "model_max_length", None)
        if isinstance(max_len, int) and 0 < max_len < 1_000_000:
            limits.append(max_len)
        positions = getattr(self._config, "max_position_embeddings", None)
        if isinstance(positions, int):
            # RoBERTa-style position ids start after the padding index
            offset = self._config.pad_token_id + 1 if "roberta" in self._config.model_type else 0
            limits.append(positions - offset)
        return min(limits) if limits else 512

    # -- public ----------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Settings that determine the links, for lineage."""
        return {
            "name": self.name,
            "model": self.model_name,
            "model_commit": getattr(self._config, "_commit_hash", None),
            "layer": self.layer,
            "method": self.method,
            "token_type": self.token_type,
            "distortion": self.distortion,
        }

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        """Align every pair; returns one ``Alignment`` per pair, in input order.

        Example:
            >>> SimAlignAligner(tiny_model, layer=2).align([(["a", "b"], ["a", "b"])])  # doctest: +SKIP
            [Alignment(links=frozenset({(0, 0), (1, 1)}), possible=frozenset())]
        """
        return list(self.iter_align(pairs))

    def iter_align(self, pairs: Iterable[TokenPair]) -> Iterator[Alignment]:
        """Align a stream of pairs, ``read_ahead`` pairs at a time, yielding in input order."""
        chunk: list[TokenPair] = []
        for pair in pairs:
            chunk.append(pair)
            if len(chunk) >= self.read_ahead:
                yield from self._align_chunk(chunk)
                chunk = []
        if chunk:
            yield from self._align_chunk(chunk)

    # -- the batched path ------------------------------------------------------------------

    def _align_chunk(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        import torch

        self._ensure_loaded()
        sentence_index: dict[tuple[str, ...], int] = {}
        sides: list[tuple[int, int]] = []
        for src, tgt in pairs:
            ids = []
            for words in (src, tgt):
                key = tuple(words)
                ids.append(sentence_index.setdefault(key, len(sentence_index)) if key else -1)
            sides.append((ids[0], ids[1]))
        with torch.inference_mode():
            units = self._embed(list(sentence_index))
            return self._match_all(sides, units)

    def _embed(self, sentences: list[tuple[str, ...]]) -> list[_Units | None]:
        """Unit vectors of every sentence (``None`` when no word yields a subword)."""
        import torch

        if not sentences:
            return []
        ids_per_sentence, word_ids = self._subwords(sentences)
        # segments: (sentence, first subword) of at most ``max_content`` subwords each
        segments: list[tuple[int, int, int]] = []
        for s, ids in enumerate(ids_per_sentence):
            if len(ids) > self._max_content:
                logger.info(
                    "a sentence of %d subwords is embedded in windows of %d (model limit)",
                    len(ids),
                    self._max_content,
                )
            for start in range(0, len(ids), self._max_content):
                segments.append((s, start, min(len(ids), start + self._max_content) - start))
        segments.sort(key=lambda seg: seg[2])
        n_special = len(self._prefix) + len(self._suffix)
        pieces: dict[tuple[int, int], torch.Tensor] = {}
        pad_id = self._tokenizer.pad_token_id or 0
        for batch in self._batches(segments, n_special):
            width = max(seg[2] for seg in batch) + n_special
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, (s, start, length) in enumerate(batch):
                seq = self._prefix + ids_per_sentence[s][start : start + length] + self._suffix
                input_ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
                mask[row, : len(seq)] = 1
            hidden = self._hidden(input_ids.to(self._device), mask.to(self._device))
            first = len(self._prefix)
            for row, (s, start, length) in enumerate(batch):
                pieces[(s, start)] = hidden[row, first : first + length]
        out: list[_Units | None] = []
        for s, ids in enumerate(ids_per_sentence):
            if not ids:
                out.append(None)
                continue
            parts = [pieces[(s, start)] for start in range(0, len(ids), self._max_content)]
            vectors = parts[0] if len(parts) == 1 else torch.cat(parts)
            words = np.array(word_ids[s], dtype=np.int64)
            if self.token_type == "word":
                vectors, words = self._average_per_word(vectors, words)
            norms = vectors.norm(dim=1, keepdim=True)
            out.append(_Units(vectors / norms.clamp_min(1e-12), words))
        return out

    def _subwords(
        self, sentences: list[tuple[str, ...]]
    ) -> tuple[list[list[int]], list[list[int]]]:
        """Subword ids of each sentence and the word each subword belongs to."""
        tok = self._tokenizer
        if getattr(tok, "is_fast", False):
            enc = tok(
                [list(s) for s in sentences],
                is_split_into_words=True,
                add_special_tokens=False,
                verbose=False,
            )
            words = [[w for w in enc.word_ids(i) if w is not None] for i in range(len(sentences))]
            return list(enc["input_ids"]), words
        cache: dict[str, list[int]] = {}
        all_ids: list[list[int]] = []
        all_words: list[list[int]] = []
        for sentence in sentences:
            ids: list[int] = []
            words: list[int] = []
            for w, word in enumerate(sentence):
                if word not in cache:
                    cache[word] = tok.convert_tokens_to_ids(tok.tokenize(word))
                ids += cache[word]
                words += [w] * len(cache[word])
            all_ids.append(ids)
            all_words.append(words)
        return all_ids, all_words

    def _batches(
        self, segments: list[tuple[int, int, int]], n_special: int
    ) -> Iterator[list[tuple[int, int, int]]]:
        batch: list[tuple[int, int, int]] = []
        for seg in segments:  # sorted by length: the newest segment is the widest
            if batch:
                if self.batch_type == "tokens":
                    full = (len(batch) + 1) * (seg[2] + n_special) > self.batch_size
                else:
                    full = len(batch) >= self.batch_size
                if full:
                    yield batch
                    batch = []
            batch.append(seg)
        if batch:
            yield batch

    def _hidden(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self._model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
        if self.layer >= len(out.hidden_states):  # a config without a known depth
            raise ConfigError(
                f"simalign layer={self.layer} is outside model {self.model_name!r}, which has "
                f"{len(out.hidden_states) - 1} layers.",
                fix=f"choose a layer from 0 to {len(out.hidden_states) - 1}.",
                code=E_BAD_CONFIG,
            )
        return out.hidden_states[self.layer]

    @staticmethod
    def _average_per_word(
        vectors: torch.Tensor, words: np.ndarray
    ) -> tuple[torch.Tensor, np.ndarray]:
        import torch

        present, inverse = np.unique(words, return_inverse=True)
        index = torch.as_tensor(inverse, device=vectors.device)
        sums = torch.zeros(
            (len(present), vectors.shape[1]), dtype=vectors.dtype, device=vectors.device
        )
        sums.index_add_(0, index, vectors)
        counts = torch.bincount(index, minlength=len(present)).to(vectors.dtype)
        return sums / counts[:, None], present

    def _match_all(
        self, sides: list[tuple[int, int]], units: list[_Units | None]
    ) -> list[Alignment]:
        """Similarity matrices in size-sorted ``bmm`` blocks, then the matching per pair."""
        import torch
        from torch.nn.utils.rnn import pad_sequence

        result: list[Alignment] = [Alignment(frozenset())] * len(sides)
        todo = [
            (k, units[s], units[t])
            for k, (s, t) in enumerate(sides)
            if s >= 0 and t >= 0 and units[s] is not None and units[t] is not None
        ]
        todo.sort(key=lambda item: (len(item[1].word_of_unit), len(item[2].word_of_unit)))
        matcher = _MATCHERS[self.method]
        start = 0
        while start < len(todo):
            rows = cols = 0
            stop = start
            while stop < len(todo):
                grow_rows = max(rows, len(todo[stop][1].word_of_unit))
                grow_cols = max(cols, len(todo[stop][2].word_of_unit))
                if stop > start and (stop - start + 1) * grow_rows * grow_cols > _SIM_BLOCK:
                    break
                rows, cols, stop = grow_rows, grow_cols, stop + 1
            block = todo[start:stop]
            src = pad_sequence([item[1].vectors for item in block], batch_first=True)
            tgt = pad_sequence([item[2].vectors for item in block], batch_first=True)
            cosine = torch.bmm(src, tgt.transpose(1, 2)).cpu().numpy()
            for b, (k, s_units, t_units) in enumerate(block):
                m, n = len(s_units.word_of_unit), len(t_units.word_of_unit)
                sim = (cosine[b, :m, :n] + 1.0) / 2.0
                sim = apply_distortion(sim, self.distortion)
                i, j = np.nonzero(matcher(sim))
                links = zip(
                    s_units.word_of_unit[i].tolist(), t_units.word_of_unit[j].tolist(), strict=True
                )
                result[k] = Alignment(frozenset(links))
            start = stop
        return result
