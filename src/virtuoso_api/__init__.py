"""Virtuoso API: author and run Virtuoso tests over HTTP, a CLI and a Python facade."""

__version__ = "0.1.0"
