"""Records, table schemas, language codes and coded errors. Imports nothing heavy and nothing of ours."""

from xproj.schemas.errors import (
    BackendError,
    CatalogError,
    ConfigError,
    HubError,
    InputFormatError,
    LanguageCodeError,
    Reject,
    XprojError,
)
from xproj.schemas.records import (
    Alignment,
    AnnotatedSentence,
    CharSpan,
    DropReason,
    ParallelPair,
    ProjectionOutcome,
    TokenSpan,
    char_span_to_token,
    token_offsets,
    token_span_to_char,
)

__all__ = [
    "Alignment",
    "AnnotatedSentence",
    "BackendError",
    "CatalogError",
    "CharSpan",
    "ConfigError",
    "DropReason",
    "HubError",
    "InputFormatError",
    "LanguageCodeError",
    "ParallelPair",
    "ProjectionOutcome",
    "Reject",
    "TokenSpan",
    "XprojError",
    "char_span_to_token",
    "token_offsets",
    "token_span_to_char",
]
