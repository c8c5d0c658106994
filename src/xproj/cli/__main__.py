"""``python -m xproj.cli``."""

from xproj.cli.app import main

main()
