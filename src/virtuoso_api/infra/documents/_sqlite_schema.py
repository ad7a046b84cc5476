"""The SQLite schema and its migrations, applied in order at start-up (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3
from typing import Final

# Each entry migrates from version i to i + 1. Never edit a released entry; append a new one.
MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE documents (
        collection TEXT NOT NULL,
        id         TEXT NOT NULL,
        data       TEXT NOT NULL CHECK (json_valid(data)),
        expires_at TEXT,
        PRIMARY KEY (collection, id)
    ) WITHOUT ROWID;
    CREATE INDEX documents_expiry ON documents (collection, expires_at) WHERE expires_at IS NOT NULL;
    """,
)

SCHEMA_VERSION: Final = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    pass


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; returns the version it was at.

    Runs in one immediate transaction, so two processes starting together migrate once.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the database is at schema version {version}, newer than this release "
                f"({SCHEMA_VERSION}); upgrade virtuoso-api"
            )
        for script in MIGRATIONS[version:]:
            for statement in script.split(";"):
                if statement.strip():
                    connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return int(version)
