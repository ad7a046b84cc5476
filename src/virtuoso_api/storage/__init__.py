"""Blobs as the domains use them: buckets by kind, writes through the outbox, signed links, lifecycle,
the ``/files`` route for local links, command-log exports and the published docs."""

from virtuoso_api.storage.buckets import BucketKind, Buckets
from virtuoso_api.storage.keys import BlobSigningKeys
from virtuoso_api.storage.service import StorageService, Stored

__all__ = ["BlobSigningKeys", "BucketKind", "Buckets", "StorageService", "Stored"]
