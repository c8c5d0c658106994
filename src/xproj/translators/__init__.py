"""Machine translation behind a small interface: CTranslate2 models, families, the model store.

``import translators`` stays light: CTranslate2, transformers and torch load only when a model
is converted or loaded.

Example:
    >>> from xproj.translators import CT2Translator, DecodingOptions  # doctest: +SKIP
    >>> translator = CT2Translator("Helsinki-NLP/opus-mt-en-de")  # doctest: +SKIP
    >>> next(translator.translate(["Good morning."], "en", "de")).text  # doctest: +SKIP
    'Guten Morgen.'
"""

from xproj.translators.base import DecodingOptions, Translation, TranslationFlag, Translator
from xproj.translators.ct2 import CT2Translator, pick_compute_type, pick_device
from xproj.translators.families import (
    ModelFamily,
    ModelLanguages,
    Prompt,
    detect_family,
    family_names,
    get_family,
)
from xproj.translators.store import (
    ModelInfo,
    check_model_dir,
    convert,
    default_root,
    list_models,
    resolve,
)

__all__ = [
    "CT2Translator",
    "DecodingOptions",
    "ModelFamily",
    "ModelInfo",
    "ModelLanguages",
    "Prompt",
    "Translation",
    "TranslationFlag",
    "Translator",
    "check_model_dir",
    "convert",
    "default_root",
    "detect_family",
    "family_names",
    "get_family",
    "list_models",
    "pick_compute_type",
    "pick_device",
    "resolve",
]
