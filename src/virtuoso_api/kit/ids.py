"""Identifiers we mint."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    """A random id such as ``sess_3f2a...``: 64 bits of entropy, unguessable, sortable by nothing."""
    return f"{prefix}_{secrets.token_hex(8)}"
