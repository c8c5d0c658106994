"""Tiny random models built from local text, for tests and benchmarks (no network, seconds).

The models are random, so their outputs mean nothing linguistically; they exercise the real
loading and inference code paths (``AutoModel``/``AutoTokenizer.from_pretrained`` on a folder).

Example:
    >>> path = build_tiny_bert(tmp_path / "bert")  # doctest: +SKIP
    >>> AutoModel.from_pretrained(path).config.num_hidden_layers  # doctest: +SKIP
    3
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

#: English and French sentences to learn a WordPiece vocabulary from; with a small vocabulary
#: most longer words split into several pieces.
SAMPLE_TEXT: tuple[str, ...] = (
    "The committee approved the new agricultural regulations yesterday afternoon .",
    "Le comité a approuvé hier après-midi les nouvelles réglementations agricoles .",
    "Anna lives in Rome with her two brothers and a very old cat .",
    "Anna habite à Rome avec ses deux frères et un très vieux chat .",
    "International cooperation is indispensable for sustainable development .",
    "La coopération internationale est indispensable au développement durable .",
    "We have to discuss the unemployment situation in several member states .",
    "Nous devons discuter de la situation du chômage dans plusieurs États membres .",
    "The parliament rejected the amendment by a large majority .",
    "Le parlement a rejeté l'amendement à une large majorité .",
    "My neighbour plays the piano every evening after dinner .",
    "Mon voisin joue du piano tous les soirs après le dîner .",
    "Thank you very much , Mister President .",
    "Merci beaucoup , Monsieur le Président .",
    "Environmental protection requires responsible transportation policies .",
    "La protection de l'environnement exige des politiques de transport responsables .",
)


def train_wordpiece_vocab(texts: Iterable[str], vocab_size: int) -> dict[str, int]:
    """A cased WordPiece vocabulary (BERT special tokens first) learned from ``texts``."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok.get_vocab()


def build_tiny_bert(
    path: Path,
    *,
    texts: Iterable[str] = SAMPLE_TEXT,
    vocab_size: int = 160,
    hidden_size: int = 32,
    num_layers: int = 3,
    num_heads: int = 2,
    intermediate_size: int = 64,
    max_positions: int = 128,
    seed: int = 0,
) -> Path:
    """Save a random ``BertModel`` with a WordPiece tokenizer trained on ``texts`` to ``path``.

    Args:
        path: output folder (created); loadable with ``AutoModel``/``AutoTokenizer``.
        texts: text to learn the vocabulary from.
        vocab_size: target WordPiece vocabulary size (small → words split into subwords).
        hidden_size, num_layers, num_heads, intermediate_size, max_positions: model shape.
        seed: torch seed for the random weights (same seed → same model).

    Returns:
        ``path``.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = train_wordpiece_vocab(texts, vocab_size)
    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=False, strip_accents=False)
    tokenizer.model_max_length = max_positions
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_positions,
    )
    torch.manual_seed(seed)
    model = BertModel(config).eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
