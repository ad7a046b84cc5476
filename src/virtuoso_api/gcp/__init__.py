"""The seed's Python API: ``from virtuoso_api.gcp import get_firestore_client``.

Each getter returns one lazily built client per process. It works whatever the flags say: with
``USE_FIRESTORE`` off the same calls use the embedded SQLite store. See ``firestore_client.py``.
"""

from virtuoso_api.gcp.firestore_client import FirestoreClient, close_firestore_client, get_firestore_client

__all__ = ["FirestoreClient", "close_firestore_client", "get_firestore_client"]
