"""Tiny random translation models built from local text, converted with CTranslate2 (seconds).

Each builder trains a small tokenizer on :data:`MT_SAMPLE_TEXT` (parallel sentences in six
languages and three scripts), saves a randomly initialised Hugging Face seq2seq model of one
translation family with it, and :func:`convert` turns the folder into a CTranslate2 model with the
tokenizer files copied beside it. The weights are random, so translations are garbage by
construction: the models exercise the real loading, tokenization, prompt conventions
(language tags and target prefixes) and CTranslate2 decoding and scoring paths, never quality.

Families and their prompt conventions (see :data:`LANG_TOKENS` and :func:`prompt`):

=========  ==============================  ===========================  ====================
family     architecture / tokenizer        source side                  ``target_prefix``
=========  ==============================  ===========================  ====================
marian     MarianMTModel / MarianTokenizer  text (one model per pair)    none
nllb       M2M100 / NllbTokenizer          ``eng_Latn`` … ``</s>``      ``deu_Latn``
m2m100     M2M100 / M2M100Tokenizer        ``__en__`` … ``</s>``        ``__de__``
madlad     T5 / T5Tokenizer (Unigram)      ``<2de>`` + text … ``</s>``  none
mbart50    MBart / MBart50Tokenizer        ``en_XX`` … ``</s>``         ``de_DE``
=========  ==============================  ===========================  ====================

Example:
    >>> hf_dir = build_nllb(tmp_path / "nllb-hf")  # doctest: +SKIP
    >>> ct2_dir = convert(hf_dir, tmp_path / "nllb-ct2")  # doctest: +SKIP
    >>> translator = ctranslate2.Translator(str(ct2_dir), compute_type="int8")  # doctest: +SKIP
    >>> tokenizer = AutoTokenizer.from_pretrained(ct2_dir)  # doctest: +SKIP
    >>> source, prefix = prompt("nllb", tokenizer, "Hi", "en", "de")  # doctest: +SKIP
    >>> translator.translate_batch([source], target_prefix=[prefix])[0].hypotheses[0][0]  # doctest: +SKIP
    'deu_Latn'
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Eighteen parallel sentences per language (same index, same meaning) in Latin, Cyrillic and Han
#: script, to train the tiny tokenizers on; the last two carry EasyProject-style ``[ … ]`` markers,
#: so every tiny vocabulary has pieces for them. Written for these tests.
MT_SAMPLE_TEXT: dict[str, tuple[str, ...]] = {
    "en": (
        "The cat sleeps on the warm windowsill.",
        "My sister works at a hospital in Berlin.",
        "We bought fresh bread and cheese at the market.",
        "The train to Madrid leaves at eight o'clock.",
        "Maria reads a book about the history of Paris.",
        "It is raining, so the children stay at home.",
        "The president of the commission visited Moscow last week.",
        "Please close the door when you leave the room.",
        "Our teacher speaks four languages fluently.",
        "The museum is closed on Mondays.",
        "John and Anna are planning a trip to Beijing.",
        "How much does this blue jacket cost?",
        "The river flows through the old city centre.",
        "I drink coffee with milk every morning.",
        "The company opened a new office in Lyon.",
        "Thank you for your help yesterday.",
        "[ Maria ] reads a book about [ Paris ] .",
        "[ John ] works at a hospital in [ Berlin ] .",
    ),
    "de": (
        "Die Katze schläft auf der warmen Fensterbank.",
        "Meine Schwester arbeitet in einem Krankenhaus in Berlin.",
        "Wir haben auf dem Markt frisches Brot und Käse gekauft.",
        "Der Zug nach Madrid fährt um acht Uhr ab.",
        "Maria liest ein Buch über die Geschichte von Paris.",
        "Es regnet, deshalb bleiben die Kinder zu Hause.",
        "Der Präsident der Kommission besuchte letzte Woche Moskau.",
        "Bitte schließen Sie die Tür, wenn Sie den Raum verlassen.",
        "Unser Lehrer spricht fließend vier Sprachen.",
        "Das Museum ist montags geschlossen.",
        "John und Anna planen eine Reise nach Peking.",
        "Wie viel kostet diese blaue Jacke?",
        "Der Fluss fließt durch die alte Innenstadt.",
        "Ich trinke jeden Morgen Kaffee mit Milch.",
        "Das Unternehmen hat ein neues Büro in Lyon eröffnet.",
        "Danke für deine Hilfe gestern.",
        "[ Maria ] liest ein Buch über [ Paris ] .",
        "[ John ] arbeitet in einem Krankenhaus in [ Berlin ] .",
    ),
    "es": (
        "El gato duerme en el alféizar cálido.",
        "Mi hermana trabaja en un hospital de Berlín.",
        "Compramos pan fresco y queso en el mercado.",
        "El tren a Madrid sale a las ocho.",
        "María lee un libro sobre la historia de París.",
        "Está lloviendo, así que los niños se quedan en casa.",
        "El presidente de la comisión visitó Moscú la semana pasada.",
        "Por favor, cierre la puerta cuando salga de la habitación.",
        "Nuestro profesor habla cuatro idiomas con fluidez.",
        "El museo cierra los lunes.",
        "John y Anna están planeando un viaje a Pekín.",
        "¿Cuánto cuesta esta chaqueta azul?",
        "El río atraviesa el casco antiguo de la ciudad.",
        "Bebo café con leche todas las mañanas.",
        "La empresa abrió una nueva oficina en Lyon.",
        "Gracias por tu ayuda de ayer.",
        "[ María ] lee un libro sobre [ París ] .",
        "[ John ] trabaja en un hospital de [ Berlín ] .",
    ),
    "fr": (
        "Le chat dort sur le rebord chaud de la fenêtre.",
        "Ma sœur travaille dans un hôpital à Berlin.",
        "Nous avons acheté du pain frais et du fromage au marché.",
        "Le train pour Madrid part à huit heures.",
        "Maria lit un livre sur l'histoire de Paris.",
        "Il pleut, alors les enfants restent à la maison.",
        "Le président de la commission a visité Moscou la semaine dernière.",
        "Veuillez fermer la porte en quittant la pièce.",
        "Notre professeur parle couramment quatre langues.",
        "Le musée est fermé le lundi.",
        "John et Anna préparent un voyage à Pékin.",
        "Combien coûte cette veste bleue ?",
        "La rivière traverse le vieux centre-ville.",
        "Je bois du café au lait chaque matin.",
        "L'entreprise a ouvert un nouveau bureau à Lyon.",
        "Merci pour ton aide hier.",
        "[ Maria ] lit un livre sur [ Paris ] .",
        "[ John ] travaille dans un hôpital à [ Berlin ] .",
    ),
    "ru": (
        "Кошка спит на тёплом подоконнике.",
        "Моя сестра работает в больнице в Берлине.",
        "Мы купили на рынке свежий хлеб и сыр.",
        "Поезд в Мадрид отправляется в восемь часов.",
        "Мария читает книгу об истории Парижа.",
        "Идёт дождь, поэтому дети остаются дома.",
        "Председатель комиссии посетил Москву на прошлой неделе.",
        "Пожалуйста, закройте дверь, когда будете выходить из комнаты.",
        "Наш учитель свободно говорит на четырёх языках.",
        "По понедельникам музей закрыт.",
        "Джон и Анна планируют поездку в Пекин.",
        "Сколько стоит эта синяя куртка?",
        "Река протекает через старый центр города.",
        "Каждое утро я пью кофе с молоком.",
        "Компания открыла новый офис в Лионе.",
        "Спасибо за вчерашнюю помощь.",
        "[ Мария ] читает книгу о [ Париже ] .",
        "[ Джон ] работает в больнице в [ Берлине ] .",
    ),
    "zh": (
        "猫在温暖的窗台上睡觉。",
        "我姐姐在柏林的一家医院工作。",
        "我们在市场上买了新鲜的面包和奶酪。",
        "去马德里的火车八点出发。",
        "玛丽亚在读一本关于巴黎历史的书。",
        "正在下雨，所以孩子们待在家里。",
        "委员会主席上周访问了莫斯科。",
        "离开房间时请关上门。",
        "我们的老师能流利地说四种语言。",
        "博物馆星期一闭馆。",
        "约翰和安娜正在计划去北京旅行。",
        "这件蓝色夹克多少钱？",
        "这条河流经古老的市中心。",
        "我每天早上喝加牛奶的咖啡。",
        "这家公司在里昂开了一个新办事处。",
        "谢谢你昨天的帮助。",
        "[ 玛丽亚 ] 在读一本关于 [ 巴黎 ] 的书。",
        "[ 约翰 ] 在 [ 柏林 ] 的一家医院工作。",
    ),
}

#: The languages of :data:`MT_SAMPLE_TEXT`.
LANGUAGES: tuple[str, ...] = tuple(MT_SAMPLE_TEXT)

#: Per family, the token that names each language in the model's vocabulary.
LANG_TOKENS: dict[str, dict[str, str]] = {
    "nllb": {
        "en": "eng_Latn",
        "de": "deu_Latn",
        "es": "spa_Latn",
        "fr": "fra_Latn",
        "ru": "rus_Cyrl",
        "zh": "zho_Hans",
    },
    "m2m100": {lang: f"__{lang}__" for lang in LANGUAGES},
    "madlad": {lang: f"<2{lang}>" for lang in LANGUAGES},
    "mbart50": {
        "en": "en_XX",
        "de": "de_DE",
        "es": "es_XX",
        "fr": "fr_XX",
        "ru": "ru_RU",
        "zh": "zh_CN",
    },
}

#: The families :func:`build_all` builds, in order.
FAMILIES: tuple[str, ...] = ("marian", "nllb", "m2m100", "madlad", "mbart50")

#: Position limit of every tiny model (the tokenizers' ``model_max_length`` too), small enough
#: for tests of over-long inputs.
MAX_POSITIONS = 64

#: Files a converted folder never takes from the Hugging Face folder (CTranslate2 writes its own
#: ``config.json``; the weights are in ``model.bin``).
_MODEL_FILES = frozenset(
    {"config.json", "generation_config.json", "model.safetensors", "pytorch_model.bin"}
)

#: Shape shared by all tiny models: small enough to build and convert in well under a second.
_D_MODEL = 32
_HEADS = 2
_FFN = 64
_LAYERS = 1


@dataclass(frozen=True)
class ModelShape:
    """Transformer size of a built model (the benchmarks build larger ones than the tests).

    Example:
        >>> ModelShape(d_model=1024, layers=12, heads=16, ffn=4096).d_model
        1024
    """

    d_model: int = _D_MODEL
    layers: int = _LAYERS
    heads: int = _HEADS
    ffn: int = _FFN

    def bart_kwargs(self) -> dict[str, int]:
        """This size as BART-style config arguments (Marian, M2M-100/NLLB, mBART), both sides alike.

        Example:
            >>> ModelShape(d_model=64, layers=2, heads=4, ffn=128).bart_kwargs()["decoder_ffn_dim"]
            128
        """
        return {
            "d_model": self.d_model,
            "encoder_layers": self.layers,
            "decoder_layers": self.layers,
            "encoder_attention_heads": self.heads,
            "decoder_attention_heads": self.heads,
            "encoder_ffn_dim": self.ffn,
            "decoder_ffn_dim": self.ffn,
        }

    def t5_kwargs(self) -> dict[str, int]:
        """This size as ``T5Config`` arguments (``d_kv`` = ``d_model`` / ``heads``).

        Example:
            >>> ModelShape(d_model=64, layers=2, heads=4, ffn=128).t5_kwargs()["d_kv"]
            16
        """
        return {
            "d_model": self.d_model,
            "d_kv": self.d_model // self.heads,
            "d_ff": self.ffn,
            "num_layers": self.layers,
            "num_decoder_layers": self.layers,
            "num_heads": self.heads,
        }


#: The tests' shape.
TINY = ModelShape()


def all_sample_text(languages: Iterable[str] = LANGUAGES) -> list[str]:
    """The sentences of :data:`MT_SAMPLE_TEXT` for ``languages``, language by language."""
    return [sentence for lang in languages for sentence in MT_SAMPLE_TEXT[lang]]


def _train_sentencepiece(texts: Sequence[str], vocab_size: int, model_type: str) -> bytes:
    """A serialised SentencePiece model (``<unk>``=0, ``<s>``=1, ``</s>``=2) trained on ``texts``."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=buffer,
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=1.0,
        # The corpus is tiny: let the trainer stop below vocab_size instead of failing.
        hard_vocab_limit=False,
        minloglevel=2,
        num_threads=1,
    )
    return buffer.getvalue()


def _write_sentencepiece(
    out_dir: Path, name: str, texts: Sequence[str], vocab_size: int, model_type: str
) -> bytes:
    """Train a SentencePiece model on ``texts``, save it as ``out_dir / name`` and return it."""
    model = _train_sentencepiece(texts, vocab_size, model_type)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_bytes(model)
    return model


def _write_vocab(out_dir: Path, vocab: dict[str, int]) -> str:
    """Save ``vocab`` as ``out_dir / "vocab.json"`` (UTF-8, unescaped) and return that path."""
    path = out_dir / "vocab.json"
    path.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _spm_pieces(model: bytes) -> list[str]:
    """The pieces of a serialised SentencePiece model that are not control or unknown symbols."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=model)
    return [
        processor.id_to_piece(i)
        for i in range(processor.get_piece_size())
        if not (processor.is_control(i) or processor.is_unknown(i))
    ]


def _train_tokenizers_model(
    texts: Sequence[str], kind: str, vocab_size: int, special_tokens: list[str]
) -> dict[str, Any]:
    """The ``model`` section of a ``tokenizers`` JSON for a BPE or Unigram model on ``texts``.

    Words are split on whitespace with SentencePiece's ``▁`` marker, as the NLLB, T5 and mBART
    tokenizers of transformers do.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    if kind == "bpe":
        tokenizer = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False
        )
    else:
        tokenizer = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size,
            special_tokens=special_tokens,
            unk_token="<unk>",
            show_progress=False,
        )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return json.loads(tokenizer.to_str())["model"]


def _train_unigram_vocab(
    texts: Sequence[str], vocab_size: int, special_tokens: list[str]
) -> list[tuple[str, float]]:
    """A Unigram vocabulary ``[(piece, score), …]`` trained on ``texts``, specials first."""
    trained = _train_tokenizers_model(texts, "unigram", vocab_size, special_tokens)
    return [(piece, score) for piece, score in trained["vocab"]]


def _random_model(model_class: Any, config: Any, seed: int) -> Any:
    """``model_class(config)`` in eval mode, its random weights drawn after ``torch.manual_seed``."""
    import torch

    torch.manual_seed(seed)
    return model_class(config).eval()


def _fairseq_config(
    config_class: Any,
    vocab_size: int,
    max_positions: int,
    tokenizer: Any,
    shape: ModelShape = TINY,
    **extra: Any,
) -> Any:
    """A config of a fairseq-derived model (M2M-100/NLLB, mBART): scaled embeddings, the
    tokenizer's special ids, decoding from ``</s>``; ``extra`` adds family-specific fields."""
    return config_class(
        vocab_size=vocab_size,
        **shape.bart_kwargs(),
        max_position_embeddings=max_positions,
        scale_embedding=True,
        bos_token_id=tokenizer.bos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        **extra,
    )


def _save(model: Any, tokenizer: Any, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def build_marian(
    out_dir: Path,
    *,
    source_lang: str = "en",
    target_lang: str = "de",
    vocab_size: int = 200,
    max_positions: int = MAX_POSITIONS,
    seed: int = 0,
) -> Path:
    """Save an OPUS-MT style random ``MarianMTModel`` for one language pair to ``out_dir``.

    The tokenizer is a ``MarianTokenizer``: a SentencePiece model per side (``source.spm``,
    ``target.spm``) and one shared ``vocab.json`` (``</s>``=0, ``<unk>``=1, pieces, ``<pad>``
    last, as in OPUS-MT, where the decoder starts from ``<pad>``).

    Args:
        out_dir: output folder (created).
        source_lang, target_lang: languages of :data:`MT_SAMPLE_TEXT` to train each side on.
        vocab_size: SentencePiece vocabulary size per side (an upper bound on this corpus).
        max_positions: ``max_position_embeddings`` and the tokenizer's ``model_max_length``.
        seed: torch seed for the random weights (same seed, same model).

    Returns:
        ``out_dir``.
    """
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out_dir = Path(out_dir)
    source_text, target_text = MT_SAMPLE_TEXT[source_lang], MT_SAMPLE_TEXT[target_lang]
    source_spm = _write_sentencepiece(out_dir, "source.spm", source_text, vocab_size, "unigram")
    target_spm = _write_sentencepiece(out_dir, "target.spm", target_text, vocab_size, "unigram")
    pieces = dict.fromkeys(["</s>", "<unk>", *_spm_pieces(source_spm), *_spm_pieces(target_spm)])
    vocab = {piece: i for i, piece in enumerate([*pieces, "<pad>"])}

    tokenizer = MarianTokenizer(
        source_spm=str(out_dir / "source.spm"),
        target_spm=str(out_dir / "target.spm"),
        vocab=_write_vocab(out_dir, vocab),
        source_lang=source_lang,
        target_lang=target_lang,
        model_max_length=max_positions,
    )
    pad_id = vocab["<pad>"]
    config = MarianConfig(
        vocab_size=len(vocab),
        decoder_vocab_size=len(vocab),
        **TINY.bart_kwargs(),
        max_position_embeddings=max_positions,
        pad_token_id=pad_id,
        decoder_start_token_id=pad_id,
        eos_token_id=vocab["</s>"],
        forced_eos_token_id=vocab["</s>"],
        share_encoder_decoder_embeddings=True,
    )
    return _save(_random_model(MarianMTModel, config, seed), tokenizer, out_dir)


def build_nllb(
    out_dir: Path,
    *,
    vocab_size: int = 400,
    max_positions: int = MAX_POSITIONS,
    seed: int = 0,
    shape: ModelShape = TINY,
    total_vocab: int | None = None,
) -> Path:
    """Save an NLLB-200 style random ``M2M100ForConditionalGeneration`` to ``out_dir``.

    The tokenizer is an ``NllbTokenizer`` over a BPE vocabulary trained on all of
    :data:`MT_SAMPLE_TEXT` (``<s>``, ``<pad>``, ``</s>``, ``<unk>`` first, as in fairseq), with
    all NLLB-200 language codes (``eng_Latn``, ``deu_Latn``, …) and ``<mask>`` as special tokens.
    Source: ``[src_lang] tokens </s>``; decoding starts from ``</s>`` with the target code forced.

    Args:
        out_dir: output folder (created).
        vocab_size: BPE vocabulary size before the language codes.
        max_positions: ``max_position_embeddings`` and the tokenizer's ``model_max_length``.
        seed: torch seed for the random weights.
        shape: model size (the tests' tiny one by default).
        total_vocab: pad the vocabulary with filler words (``▁ab``, ``▁ac``, … that no merge
            produces but that decode to text) to exactly this many entries, language codes
            included, so that embeddings and output layer have a real model's size (NLLB-200:
            256,206). ``None``: the trained vocabulary only.

    Returns:
        ``out_dir``.
    """
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    out_dir = Path(out_dir)
    trained = _train_tokenizers_model(
        all_sample_text(), "bpe", vocab_size, ["<s>", "<pad>", "</s>", "<unk>"]
    )
    merges = [tuple(merge) for merge in trained["merges"]]
    vocab = dict(trained["vocab"])

    def make(vocab: dict[str, int]) -> Any:
        return NllbTokenizer(
            vocab=vocab,
            merges=merges,
            src_lang=LANG_TOKENS["nllb"]["en"],
            model_max_length=max_positions,
        )

    tokenizer = make(vocab)
    if total_vocab is not None:
        extra = total_vocab - len(tokenizer)
        if extra < 0:
            raise ValueError(f"total_vocab {total_vocab} is below the {len(tokenizer)} built")
        for word in _filler_words(set(vocab), extra):
            vocab[word] = len(vocab)
        tokenizer = make(vocab)
    config = _fairseq_config(M2M100Config, len(tokenizer), max_positions, tokenizer, shape)
    return _save(_random_model(M2M100ForConditionalGeneration, config, seed), tokenizer, out_dir)


def build_m2m100(
    out_dir: Path,
    *,
    vocab_size: int = 400,
    max_positions: int = MAX_POSITIONS,
    seed: int = 0,
) -> Path:
    """Save an M2M-100 style random ``M2M100ForConditionalGeneration`` to ``out_dir``.

    The tokenizer is an ``M2M100Tokenizer``: a SentencePiece BPE model
    (``sentencepiece.bpe.model``) trained on all of :data:`MT_SAMPLE_TEXT` and a ``vocab.json``
    (``<s>``, ``<pad>``, ``</s>``, ``<unk>``, pieces), followed by the 100 ``__xx__`` language
    tokens and 8 ``madeupword`` slots, as in ``facebook/m2m100_418M``.

    Args:
        out_dir: output folder (created).
        vocab_size: SentencePiece vocabulary size (an upper bound on this corpus).
        max_positions: ``max_position_embeddings`` and the tokenizer's ``model_max_length``.
        seed: torch seed for the random weights.

    Returns:
        ``out_dir``.
    """
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

    out_dir = Path(out_dir)
    spm_file = "sentencepiece.bpe.model"
    spm_model = _write_sentencepiece(out_dir, spm_file, all_sample_text(), vocab_size, "bpe")
    tokens = ["<s>", "<pad>", "</s>", "<unk>", *_spm_pieces(spm_model)]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
    tokenizer = M2M100Tokenizer(
        vocab_file=_write_vocab(out_dir, vocab),
        spm_file=str(out_dir / spm_file),
        src_lang="en",
        model_max_length=max_positions,
        # The Hub checkpoints list the language tokens in their tokenizer config; without them
        # transformers 5 keeps the tokens out of get_vocab(), and the converter's vocabulary
        # comes out 100 tokens short of the model's.
        additional_special_tokens=[f"__{code}__" for code in FAIRSEQ_LANGUAGE_CODES["m2m100"]],
    )
    model_vocab = len(vocab) + len(tokenizer.lang_token_to_id) + tokenizer.num_madeup_words
    config = _fairseq_config(M2M100Config, model_vocab, max_positions, tokenizer)
    return _save(_random_model(M2M100ForConditionalGeneration, config, seed), tokenizer, out_dir)


def _filler_words(taken: set[str], count: int) -> list[str]:
    """``count`` word pieces ``▁ab``, ``▁ac``, … (lowercase letters, no digits) not in ``taken``."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: list[str] = []
    number = 26
    while len(words) < count:
        digits, n = [], number
        while n:
            n, d = divmod(n, 26)
            digits.append(letters[d])
        word = "▁" + "".join(reversed(digits))
        if word not in taken:
            words.append(word)
        number += 1
    return words


def build_madlad(
    out_dir: Path,
    *,
    vocab_size: int = 400,
    max_positions: int = MAX_POSITIONS,
    seed: int = 0,
) -> Path:
    """Save a MADLAD-400 style random ``T5ForConditionalGeneration`` to ``out_dir``.

    The tokenizer is a ``T5Tokenizer`` over a Unigram vocabulary trained on all of
    :data:`MT_SAMPLE_TEXT` (``<pad>``=0, ``</s>``=1, ``<unk>``=2), whose ``<2xx>`` target-language
    tags are special tokens. The tag goes in front of the source text (``"<2de> Hello"``) and
    there is no target prefix; decoding starts from ``<pad>``. T5 positions are relative, so
    ``max_positions`` only sets the tokenizer's ``model_max_length`` (and the unused
    ``n_positions``).

    Args:
        out_dir: output folder (created).
        vocab_size: Unigram vocabulary size, tags included.
        max_positions: the tokenizer's ``model_max_length``.
        seed: torch seed for the random weights.

    Returns:
        ``out_dir``.
    """
    tags = list(LANG_TOKENS["madlad"].values())
    return _build_t5(out_dir, all_sample_text(), tags, vocab_size, max_positions, seed)


def build_qg_t5(
    out_dir: Path, *, vocab_size: int = 300, seed: int = 0, eos_scale: float = 3.5
) -> Path:
    """Save a random T5 question generator (answer-aware, ``<hl>`` highlights) to ``out_dir``.

    Its tokenizer is trained on the English sample text plus the prompt words
    (``generate question:``); ``<hl>`` is a special token. Convert it with
    ``family="text2text"``. The weights are random: it writes token soup, not questions;
    ``eos_scale`` enlarges the end token's output row so that most outputs end within a few
    tokens (decode with a ``min_decoding_length`` to avoid empty ones).
    """
    texts = [f"generate question: {t}" for t in MT_SAMPLE_TEXT["en"]]
    return _build_t5(out_dir, texts, ["<hl>"], vocab_size, MAX_POSITIONS, seed, eos_scale)


def _build_t5(
    out_dir: Path,
    texts: list[str],
    specials: list[str],
    vocab_size: int,
    max_positions: int,
    seed: int,
    eos_scale: float = 1.0,
) -> Path:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    out_dir = Path(out_dir)
    tags = list(specials)
    tokenizer = T5Tokenizer(
        vocab=_train_unigram_vocab(texts, vocab_size, ["<pad>", "</s>", "<unk>", *tags]),
        extra_ids=0,
        additional_special_tokens=tags,
        model_max_length=max_positions,
    )
    config = T5Config(
        vocab_size=len(tokenizer),
        **TINY.t5_kwargs(),
        n_positions=max_positions,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        feed_forward_proj="gated-gelu",
        # T5 v1.1 / MADLAD: no output scaling and an output layer of its own (below).
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    model = _random_model(T5ForConditionalGeneration, config, seed)
    # transformers 5 always ties lm_head to the input embeddings at construction; MADLAD's
    # checkpoints have a separate one, which from_pretrained keeps when the weights differ.
    model.lm_head.weight = torch.nn.Parameter(torch.randn(config.vocab_size, config.d_model))
    if eos_scale != 1.0:  # a larger end-token row: outputs end after a few tokens
        with torch.no_grad():
            model.lm_head.weight[tokenizer.eos_token_id] *= eos_scale
    return _save(model, tokenizer, out_dir)


def build_mbart50(
    out_dir: Path,
    *,
    vocab_size: int = 400,
    max_positions: int = MAX_POSITIONS,
    seed: int = 0,
) -> Path:
    """Save an mBART-50 (many-to-many) style random ``MBartForConditionalGeneration``.

    The tokenizer is an ``MBart50Tokenizer`` over a Unigram vocabulary trained on all of
    :data:`MT_SAMPLE_TEXT`, with the 52 mBART-50 language codes (``en_XX``, ``de_DE``, …) and
    ``<mask>`` appended. Source: ``[src_lang] tokens </s>``; decoding starts from ``</s>`` with
    the target code forced.

    Args:
        out_dir: output folder (created).
        vocab_size: Unigram vocabulary size before the language codes.
        max_positions: ``max_position_embeddings`` and the tokenizer's ``model_max_length``.
        seed: torch seed for the random weights.

    Returns:
        ``out_dir``.
    """
    from transformers import MBart50Tokenizer, MBartConfig, MBartForConditionalGeneration

    out_dir = Path(out_dir)
    tokenizer = MBart50Tokenizer(
        vocab=_train_unigram_vocab(all_sample_text(), vocab_size, ["<unk>", "<s>", "</s>"]),
        src_lang=LANG_TOKENS["mbart50"]["en"],
        model_max_length=max_positions,
        # MBart50Tokenizer's own defaults leave bos_token unset in transformers 5 (the Hub
        # checkpoints set it in their configs); CTranslate2 needs it for its config.json.
        bos_token="<s>",
    )
    config = _fairseq_config(
        MBartConfig,
        len(tokenizer),
        max_positions,
        tokenizer,
        tokenizer_class="MBart50Tokenizer",
        # Not MBartConfig fields, but the Hub's mbart-large-50 configs carry them and
        # CTranslate2's BART loader reads them (pre-norm layers, layer norm on embeddings).
        normalize_before=True,
        normalize_embedding=True,
    )
    return _save(_random_model(MBartForConditionalGeneration, config, seed), tokenizer, out_dir)


#: Builder per family: ``builder(out_dir) -> out_dir``.
BUILDERS: dict[str, Callable[[Path], Path]] = {
    "marian": build_marian,
    "nllb": build_nllb,
    "m2m100": build_m2m100,
    "madlad": build_madlad,
    "mbart50": build_mbart50,
}


def tokenizer_files(hf_dir: Path) -> list[str]:
    """The files of a saved Hugging Face folder that a converted model needs for its tokenizer.

    That is every file but the weights and the model/generation configs: ``tokenizer.json`` and
    ``tokenizer_config.json`` for the *tokenizers*-backed families, plus ``source.spm``,
    ``target.spm``, ``vocab.json`` (Marian) or ``sentencepiece.bpe.model``, ``vocab.json``
    (M2M-100) for the SentencePiece-backed ones.
    """
    return sorted(
        path.name
        for path in Path(hf_dir).iterdir()
        if path.is_file() and path.name not in _MODEL_FILES
    )


def convert(hf_dir: Path, out_dir: Path, quantization: str | None = "int8") -> Path:
    """Convert a saved Hugging Face translation model to CTranslate2, tokenizer files included.

    Args:
        hf_dir: folder written by one of the builders (or any local seq2seq model).
        out_dir: output folder; replaced if it exists.
        quantization: CTranslate2 weight type (``"int8"``, ``"float32"``, ``None`` to keep).

    Returns:
        ``out_dir``, loadable with ``ctranslate2.Translator`` and ``AutoTokenizer``.

    Example:
        >>> convert(build_marian(tmp_path / "hf"), tmp_path / "ct2")  # doctest: +SKIP
    """
    from xproj.translators.store import converter

    conv = converter(Path(hf_dir), tokenizer_files(hf_dir))
    conv.convert(str(out_dir), quantization=quantization, force=True)
    return Path(out_dir)


def build_all(
    root: Path, families: Iterable[str] = FAMILIES, quantization: str | None = "int8"
) -> dict[str, dict[str, Path]]:
    """Build and convert each family under ``root``.

    Returns:
        ``{family: {"hf": <root>/<family>-hf, "ct2": <root>/<family>-ct2}}``.
    """
    root = Path(root)
    built: dict[str, dict[str, Path]] = {}
    for family in families:
        hf_dir = BUILDERS[family](root / f"{family}-hf")
        built[family] = {"hf": hf_dir, "ct2": convert(hf_dir, root / f"{family}-ct2", quantization)}
    return built


def prompt(
    family: str, tokenizer: Any, text: str, source_lang: str, target_lang: str
) -> tuple[list[str], list[str] | None]:
    """Source tokens and target prefix for ``translate_batch`` in ``family``'s convention.

    Args:
        family: one of :data:`FAMILIES`.
        tokenizer: the family's tokenizer (loaded from the converted folder).
        text: source sentence.
        source_lang, target_lang: keys of :data:`LANG_TOKENS` (``"en"``, ``"de"``, …).

    Returns:
        ``(source_tokens, target_prefix)``; ``target_prefix`` is ``None`` for Marian and MADLAD.
        For NLLB, M2M-100 and mBART-50 this sets ``tokenizer.src_lang`` as a side effect.
    """
    tags = LANG_TOKENS.get(family, {})
    prefix: list[str] | None = None
    if family == "madlad":
        text = f"{tags[target_lang]} {text}"
    elif family in ("nllb", "mbart50"):
        tokenizer.src_lang = tags[source_lang]
        prefix = [tags[target_lang]]
    elif family == "m2m100":
        tokenizer.src_lang = source_lang
        prefix = [tags[target_lang]]
    source = tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"])
    return source, prefix
