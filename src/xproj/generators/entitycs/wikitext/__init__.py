"""Read MediaWiki markup and WikiExtractor-style text into :class:`LinkedText` paragraphs.

Pure logic (no Prefect, no network), streamed: one article (MediaWiki file or WikiExtractor
``<doc>``) in memory at a time, never the corpus. Every paragraph comes out as a
``LinkedText(id=f"{article}:{n}", source=f"{file}:{line}")`` with ``n`` counted from 1 over the
article's emitted paragraphs and ``line`` the 1-based line of the paragraph's first character.

What becomes of each construct (the count key in ``LinkedText.markup`` in brackets):

* ``[[Title]]`` → link, surface ``Title`` as written; ``[[Title|label]]`` → surface ``label``;
  ``[[Title#Section|label]]`` → target ``Title``; empty label (pipe trick ``[[Paris, Texas|]]``)
  → ``Paris`` [``pipe_trick``]. A link trail (ASCII lower-case letters right after ``]]``, the
  English Wikipedia rule ``[a-z]+``; an upper-case or accented letter ends it) joins the
  surface: ``[[cat]]s`` → ``cats``. More than one pipe (``[[A|b|c]]``) keeps the last label
  [``link_extra_pipe``]. ``Link.target`` is the title as written (section and leading colon
  removed, entities decoded, whitespace stripped, underscores kept); compare titles through
  :func:`normalize_title`.
* ``[[File:…]]``, ``[[Image:…]]``, ``[[Media:…]]`` with their captions and the links in them
  [``file``], ``[[Category:…]]`` [``category``] (also under the local names of a few large
  Wikipedias: ``Datei:``, ``Kategorie:``, ``Fichier:`` …), interlanguage links ``[[de:…]]``
  [``interlanguage``]: removed entirely.
* Links into other namespaces (``[[Wikipedia:…]]``, ``[[:Category:…]]``), interwiki links
  (``[[wikt:…]]``), same-page anchors (``[[#History|history]]``) and links inside a link's label
  keep their surface as plain text, without a link [``namespace_link``, ``interwiki``,
  ``link_anchor``, ``link_nested``]. A link that cannot be parsed (empty target, a target with
  ``{ } [ ] < >`` or a line break) becomes plain text [``link_invalid``]; one whose surface comes
  out empty is dropped [``link_empty``].
* Templates ``{{…}}`` (nested, multi-line, parser functions, ``{{{params}}}``) are removed
  [``template``], except a few that stand for running text and are reduced to it
  [``template_text``]: ``convert``/``cvt`` (``{{convert|5|km|mi}}`` → ``5 km``, ranges
  ``5 to 8 km``), ``lang``/``lang-xx``/``transl`` (the foreign text), ``nowrap``-style wrappers
  (their text), ``ill`` (a link to the English title), dashes and spaces (``ndash``, ``mdash``,
  ``snd``, ``nbsp``, ``'``), ``frac``, ``circa``/``c.``, ``US$``, ``as of``, ``formatnum``, and
  the date templates (``birth date``, ``death date``, ``… and age``, ``start date``, ``end date``
  → ``January 5, 1950``, ``5 January 1950`` with ``df=y``; ``death date and age`` adds
  ``(aged N)``; ``birth date and age`` gives no age, which would depend on today).
* ``<ref>…</ref>``, ``<ref …/>``, ``<references/>`` [``ref``]; ``<math>``, ``<gallery>``,
  ``<pre>``, ``<syntaxhighlight>``/``<source>``, ``<timeline>``, ``<score>``, ``<imagemap>``,
  ``<chem>``, ``<graph>``, ``<mapframe>``, ``<templatedata>``, ``<includeonly>``, ``<style>``,
  ``<script>`` … removed with their content [``html_block``]; other HTML tags (``<small>``,
  ``<sup>``, ``<span>``, ``<div>``, ``<blockquote>``, ``<poem>``, ``<code>`` …) stripped, their
  content kept, ``<br>`` read as a space [``html_tag``]; ``<nowiki>…</nowiki>`` keeps its content
  literally [``nowiki``]; HTML comments [``comment``]; unknown tags stay as text.
* Tables ``{| … |}`` (nested, ``:{|`` too; templates inside are skipped whole, so their ``|}``
  does not close the table) are removed and end a paragraph [``table``]; a table that does not
  start its line (after a template) is removed too. A ``|-`` or ``|}`` line outside any table is
  dropped [``table_markup``]. External links ``[http://x label]`` → ``label`` without a link
  [``external_link``]; ``[http://x]`` → nothing [``external_link_bare``]; bare URLs are removed
  [``url``]. Quote marks ``''``, ``'''``, ``'''''`` [``bold_italic``], magic words ``__TOC__``
  [``magic_word``], ``----`` rules [``rule``]. HTML entities are decoded [``entity``];
  non-breaking and other Unicode spaces become plain spaces and invisible formatting characters
  (soft hyphen, zero-width space, direction marks, BOM) are dropped. A space left before
  punctuation by a removal (``Paris <ref>…</ref>.``) and parentheses emptied by removals are
  taken out.
* **Headings** ``== … ==`` are dropped (they never become paragraphs) and end a paragraph
  [``heading``].
* **List lines** (``*``, ``#``, ``:``, ``;``) are kept, each item as its own paragraph, markers
  stripped, flagged ``markup["list"] = 1``; **table-row lines** outside a table (a line starting
  with ``|`` or ``!``, e.g. what remains of a broken table) are kept, cell separators read as
  spaces [``table_cell``], flagged ``markup["table_row"] = 1``. The pipeline drops paragraphs
  with a flag (see :data:`FLAG_KEYS` and :func:`is_markup_block`).
* Unbalanced markup never stops the reader: an unclosed ``{{`` or ``[[`` loses its brackets and
  the text after it is read as text, a stray ``}}`` or ``]]`` is dropped, an unclosed ``<ref>``
  is removed to the end of its line, an unclosed table to the next blank line, an unclosed
  comment to the end of the article [``unbalanced``].

Counts of removals made where no paragraph comes out (an infobox alone before the lead, a heading,
the categories at the end) move on to the article's next paragraph, or its last for the tail, so
the sums over an article's paragraphs count every removal. Flags are never moved.

Paragraphs: text between blank lines (a line with only spaces) in MediaWiki; lines of one
paragraph are joined with a space, as MediaWiki renders them. Headings, tables and list items
also end a paragraph. In WikiExtractor files, which write one paragraph per line, each non-blank
line is a paragraph; links are ``<a href="Url%20quoted%20title">label</a>`` (what
``wikiextractor --links`` writes) or ``[[title|label]]``; the title line WikiExtractor repeats at
the top of each ``<doc>`` is skipped, and any MediaWiki markup left is cleaned as above.

Damaged pages seen in the wild are repaired before parsing: a page copied from a dump's XML
without unescaping (``&lt;ref&gt;`` instead of ``<ref>``) is unescaped once, and a page whose
line breaks were flattened into spaces (one line holding ``==History==`` headings) gets its
headings and list items back on lines of their own (all its paragraphs report line 1).

Rejects (``stage="read"``, never raised mid-stream): a file that cannot be read [XP110] or is
not UTF-8 [XP101, with the line of the first bad byte; in WikiExtractor files only that line],
a MediaWiki XML dump given as an article [XP109], markup nested too deep to follow [XP101], a
``<doc>`` without ``</doc>`` (its paragraphs are still read) [XP101], and an article or
``<doc>`` that yields no paragraph (a redirect page, or nothing left after cleaning) [XP102], so
that nothing is dropped silently.
"""

from xproj.generators.entitycs.wikitext.markup import (
    FLAG_KEYS,
    RESIDUE_MARKERS,
    STAGE,
    WikitextFormat,
)
from xproj.generators.entitycs.wikitext.parser import article_paragraphs
from xproj.generators.entitycs.wikitext.stream import iter_wikitext
from xproj.generators.entitycs.wikitext.titles import (
    is_markup_block,
    normalize_title,
    redirect_target,
    residue_counts,
)

__all__ = [
    "FLAG_KEYS",
    "RESIDUE_MARKERS",
    "STAGE",
    "WikitextFormat",
    "article_paragraphs",
    "is_markup_block",
    "iter_wikitext",
    "normalize_title",
    "redirect_target",
    "residue_counts",
]
