"""Input readers: labeled sentences, bitext and word alignments from files and datasets.

Sentence readers yield, in input order, one item per input record: an ``AnnotatedSentence`` or,
with ``on_error="reject"``, a ``Reject`` saying why the record could not be read. Keeping one item
per record lets parallel files be zipped by position. Sentence ids default to
``<file stem>:<1-based record number>``.
"""

from xproj.io.readers.alignments import read_pharaoh, write_pharaoh
from xproj.io.readers.bitext import iter_bitext, read_tokenized_bitext
from xproj.io.readers.conll import iter_conll, read_conll, write_conll
from xproj.io.readers.hf import iter_hf_tokens
from xproj.io.readers.spans import SpanFields, iter_spans, record_to_sentence

__all__ = [
    "SpanFields",
    "iter_bitext",
    "iter_conll",
    "iter_hf_tokens",
    "iter_spans",
    "read_conll",
    "read_pharaoh",
    "read_tokenized_bitext",
    "record_to_sentence",
    "write_conll",
    "write_pharaoh",
]
