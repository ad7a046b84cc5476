"""The four buckets, named from the settings: ``{STORAGE_BUCKET_PREFIX}{name}``.

Callers name a bucket by what it holds (:class:`BucketKind`); the facade also takes the configured
name without the prefix (``test-results``, as the seed's example writes it) or the full name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from virtuoso_api.config import Settings
from virtuoso_api.errors import InvalidInput


class BucketKind(StrEnum):
    RESULTS = "results"  # run results: result JSON, JUnit XML, HTML reports
    COMMAND_LOGS = "command-logs"  # command history, gzip NDJSON per day
    STATIC = "static-assets"  # the reports index, the API docs
    ARCHIVE = "archive"  # kept: no lifecycle rule touches it


@dataclass(frozen=True, slots=True)
class Buckets:
    names: dict[BucketKind, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> Buckets:
        prefix = settings.bucket_prefix
        return cls(
            {
                BucketKind.RESULTS: prefix + settings.storage_results_bucket,
                BucketKind.COMMAND_LOGS: prefix + settings.storage_command_logs_bucket,
                BucketKind.STATIC: prefix + settings.storage_static_bucket,
                BucketKind.ARCHIVE: prefix + settings.storage_archive_bucket,
            }
        )

    def __getitem__(self, kind: BucketKind) -> str:
        return self.names[kind]

    def resolve(self, bucket: str, *, prefix: str) -> str:
        """A bucket a caller named: a kind (``results``), a configured name (``test-results``) or a
        full name; anything else is refused (callers reach only the service's buckets)."""
        for kind, name in self.names.items():
            if bucket in (kind.value, name, name.removeprefix(prefix)):
                return name
        choices = ", ".join(name.removeprefix(prefix) for name in self.names.values())
        raise InvalidInput("bucket_name", f"{bucket!r:.80} is not one of this service's buckets ({choices})")
