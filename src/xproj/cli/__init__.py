"""The ``xproj`` command line (``xproj.cli.app``); ``python -m xproj.cli`` runs it too."""

from xproj.cli.app import app, main

__all__ = ["app", "main"]
