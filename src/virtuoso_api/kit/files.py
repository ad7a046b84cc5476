"""Folders and files only their owner can read: the store holds key hashes and command history.

The modes are set explicitly rather than left to the umask, which is 022 on most machines and would
make every file readable by any local user.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

PRIVATE_DIR_MODE: Final = 0o700
PRIVATE_FILE_MODE: Final = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; an existing folder is left as it is,
    since an operator who made it (``DATA_DIR=/srv/shared``) chose its mode."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        path.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is filtered through the umask
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists with mode 0600, tightening a file that an older version left 0644."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
    finally:
        os.close(descriptor)
    return path
