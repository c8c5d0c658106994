"""Publish a table version to the Hugging Face Hub: Parquet configs, a dataset card, a tag.

Example:
    >>> from xproj.publish import publish
    >>> publish("projected@3", "me/conll-es", dry_run="out/conll-es")  # doctest: +SKIP
"""

from xproj.publish.hub import Published, TableSpec, publish

__all__ = ["Published", "TableSpec", "publish"]
