"""The seed's Python API: ``from virtuoso_api.gcp import get_firestore_client`` (and
``get_cloud_tasks_client``, ``get_secret_manager_client``, ``get_pubsub_client``,
``get_cloud_storage_client``, ``get_monitoring_client``).

Each getter returns one lazily built client per process. It works whatever the flags say: with
``USE_FIRESTORE`` off the same calls use the embedded SQLite store, with ``USE_CLOUD_TASKS`` off the
local task queue, with ``USE_SECRET_MANAGER`` off the local encrypted secrets file, with
``USE_CLOUD_STORAGE`` off folders under ``DATA_DIR/blobs``. See
``firestore_client.py``, ``cloud_tasks_client.py`` and ``secret_manager_client.py``.
"""

from virtuoso_api.gcp.cloud_storage_client import (
    CloudStorageClient,
    close_cloud_storage_client,
    get_cloud_storage_client,
)
from virtuoso_api.gcp.cloud_tasks_client import (
    CloudTasksClient,
    close_cloud_tasks_client,
    get_cloud_tasks_client,
)
from virtuoso_api.gcp.firestore_client import FirestoreClient, close_firestore_client, get_firestore_client
from virtuoso_api.gcp.monitoring_client import (
    MonitoringClient,
    close_monitoring_client,
    get_monitoring_client,
)
from virtuoso_api.gcp.pubsub_client import PubSubClient, close_pubsub_client, get_pubsub_client
from virtuoso_api.gcp.secret_manager_client import (
    SecretManagerClient,
    SecretType,
    VirtuosoCredentials,
    close_secret_manager_client,
    get_secret_manager_client,
)

__all__ = [
    "CloudStorageClient",
    "close_cloud_storage_client",
    "get_cloud_storage_client",
    "CloudTasksClient",
    "FirestoreClient",
    "MonitoringClient",
    "PubSubClient",
    "SecretManagerClient",
    "SecretType",
    "VirtuosoCredentials",
    "close_cloud_tasks_client",
    "close_firestore_client",
    "close_monitoring_client",
    "close_pubsub_client",
    "close_secret_manager_client",
    "get_cloud_tasks_client",
    "get_firestore_client",
    "get_monitoring_client",
    "get_pubsub_client",
    "get_secret_manager_client",
]
