"""The seed's Python API: ``from virtuoso_api.gcp import get_firestore_client``.

Each getter returns one lazily built client per process. It works whatever the flags say: with
``USE_FIRESTORE`` off the same calls use the embedded SQLite store. See ``firestore_client.py``.
"""

from virtuoso_api.gcp.firestore_client import FirestoreClient, close_firestore_client, get_firestore_client
from virtuoso_api.gcp.pubsub_client import PubSubClient, close_pubsub_client, get_pubsub_client

__all__ = [
    "FirestoreClient",
    "PubSubClient",
    "close_firestore_client",
    "close_pubsub_client",
    "get_firestore_client",
    "get_pubsub_client",
]
