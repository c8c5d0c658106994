"""Wikidata names for EntityCS: label tables, title → QID indexes and a streaming dump reader.

Three sources, one result type (:class:`~xproj.generators.entitycs.records.NameTable`, here as its
subclass :class:`LoadedNames`, which also carries what reading left out):

* :func:`read_label_tsv` reads ``<lang>.txt`` label tables, one entity per line,
  ``QID<TAB>name<TAB>name…``, with the label and the aliases mixed and in no guaranteed order
  (the X-FACTR files in ``../shared/data/entities/wikidata-labels``). Since the file does not
  say which name is the label, :func:`pick_label` chooses one by a fixed rule (below).
* :func:`read_title_index` reads ``title<TAB>QID`` (and optionally ``from<TAB>to`` redirects)
  into a :class:`TitleIndex`; :func:`title_index_from_dump` builds the same index from the enwiki
  sitelinks of a Wikidata dump.
* :func:`iter_wikidata_dump` streams the Wikidata JSON dump (``.json``, ``.json.gz``,
  ``.json.bz2``; one entity per line inside a JSON array) and yields the names of each entity in
  the requested languages; :func:`load_names_from_dump` collects them into a table.

Nothing here raises for a bad line or record: it becomes a :class:`~xproj.schemas.errors.Reject` with
``file`` and ``line N`` (XP101 for a line that does not parse or breaks the format, XP108 for a
line or entity without a name or id), and every skipped or repaired item is counted by reason in
``counts``. Only a missing input file raises (XP110).

**Label rule** (:func:`pick_label`), applied to the names of one entity in one language:

1. Names are stripped; empty ones and repeats are dropped (counted), the rest keep file order.
2. *Label-like* names contain a letter, are not an all-upper-case abbreviation of at most three
   characters (``US``, ``JPN``) and are not the all-lower-case spelling of another name
   (``ireland`` beside ``Ireland``). Then, if some label-like name has a letter in the file's
   main script (the script of the first letter of most names in the file: ``CYRILLIC`` for
   ``ru.txt``; Chinese characters and kana count as one), only those stay (``Канада``, not
   ``Canada``, in ``ru.txt``). When no name is label-like, all names are candidates.
3. Among the candidates, the label is the one that (a) has no initials (a single letter followed
   by a period: ``F. Engels``, ``U.S.``), then (b) occurs as a whole-word sequence,
   case-insensitively, inside the most other names of the entity (``Earth`` in ``Planet Earth``
   and ``The Earth``; ``Canada`` in ``Dominion of Canada``), then (c) is the shortest, then
   (d) comes first in the file.
4. Every other name (label-like or not) is an alias, in file order.

Apart from the file's main script, the rule only uses the names of that one line, so the same
file always gives the same labels whatever else is read. Scripts that do not separate words
(Chinese, Japanese, Thai) rarely score in (b), so (c) and (d) decide there: the rule is a
heuristic and its labels are sometimes aliases (``Washington`` for George Washington).
``benchmarks/wikidata_dump.py`` reports how often the chosen English label is a mention surface
of the entity in FewRel, for this rule and for the plain "first label-like name" rule.

**Dump reading.** Each line is ``{"type":"item","id":"Q42","labels":{…},"descriptions":{…},
"aliases":{…},"claims":{…},"sitelinks":{…},…}`` followed by a comma. Claims are most of a line
and are not needed, so the reader parses only the part before ``,"claims":`` (closed with ``}``)
and takes the enwiki title from the ``"enwiki":`` sitelink with a pattern. On valid JSON this
gives what a full parse gives: an unescaped ``"claims":`` can only be an object key, the parser
refuses the cut when it is not at the top level, and items have no nested key named ``claims``,
``sitelinks`` or ``enwiki``. The text after the claims is not validated beyond the line ending
in ``}`` (a line cut short is parsed whole, hence rejected). Whenever a line does not have that
shape (no ``claims`` key, labels after claims, an unusual sitelink), the whole line is parsed
instead (counted as ``full parse``; ``fast=False`` forces it). ``orjson``
is used when installed (it comes with Prefect), else the standard ``json`` module. Compressed
dumps are decompressed by a separate process when a tool is on ``PATH`` (``pigz`` or ``gzip``;
``lbzip2``, ``pbzip2`` or ``bzip2``), so decompression and parsing run on two cores (on a quiet
2-core machine a ``gzip`` process reads a ``.json.gz`` 1.6 times as fast as Python's module);
``external=False`` uses Python's ``gzip``/``bz2`` modules instead. bz2 is slow to decompress:
single-threaded libbz2 caps a ``.json.bz2`` read at about 16,000 lines/s of 2.7 KB
(``benchmarks/wikidata_dump.py``), so prefer ``.json.gz`` (Wikidata publishes both) or install
``lbzip2``.
"""

from xproj.generators.entitycs.wikidata.common import (
    JSON_BACKEND,
    MAX_REDIRECT_HOPS,
    QID_RE,
    STAGE,
    LoadedNames,
)
from xproj.generators.entitycs.wikidata.dump import (
    iter_wikidata_dump,
    load_names_from_dump,
    title_index_from_dump,
)
from xproj.generators.entitycs.wikidata.labels import (
    char_script,
    main_script,
    pick_label,
    read_label_tsv,
)
from xproj.generators.entitycs.wikidata.titles import TitleIndex, read_title_index

__all__ = [
    "JSON_BACKEND",
    "LoadedNames",
    "MAX_REDIRECT_HOPS",
    "QID_RE",
    "STAGE",
    "TitleIndex",
    "char_script",
    "iter_wikidata_dump",
    "load_names_from_dump",
    "main_script",
    "pick_label",
    "read_label_tsv",
    "read_title_index",
    "title_index_from_dump",
]
