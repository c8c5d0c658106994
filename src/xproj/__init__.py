"""xproj: turn labeled data in one language into labeled data in many.

Translate datasets with CTranslate2, project span labels onto the translations by word alignment
or with the translation model, generate synthetic corpora (EntityCS, PAXQA), and store every output
as a versioned Delta Lake table queried with DuckDB.

Layers (imports point down): ``xproj.cli`` → ``xproj.flows`` → ``xproj.executor`` →
``xproj.publish`` → ``xproj.generators`` → ``xproj.catalog`` / ``xproj.io`` → ``xproj.projectors`` /
``xproj.translators`` → ``xproj.text`` → ``xproj.schemas``. Heavy libraries (torch,
transformers, ctranslate2, spaCy, Prefect) are imported inside the modules that use them.
"""

from importlib import metadata

try:
    __version__ = metadata.version("xproj")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
