"""One ``Settings`` object, read once at start-up from the environment and ``.env``.

Names are the seed's (``GCP_PROJECT_ID``, ``USE_FIRESTORE``, ...) and the Virtuoso connection's
(``VIRTUOSO_API_TOKEN``, ...), without a prefix, because deployments of the original already set them.
Nothing else in the code base reads ``os.environ``.
"""

from __future__ import annotations

import base64
import binascii
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from virtuoso_api.kit.text import one_clean_line

#: The ``USE_*`` flags of the seed, in the order the seed lists them, with the service each one swaps in.
GCP_FLAGS: dict[str, str] = {
    "use_firestore": "Firestore",
    "use_cloud_tasks": "Cloud Tasks",
    "use_pubsub": "Pub/Sub",
    "use_secret_manager": "Secret Manager",
    "use_cloud_storage": "Cloud Storage",
    "use_cloud_monitoring": "Cloud Monitoring",
}


class Environment(StrEnum):
    """Where the service runs; also the prefix of its secrets' names (``production-virtuoso-api-key``)."""

    LOCAL = "local"
    TEST = "test"
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


#: Short spellings deployments use, read as the full name (so ``dev`` and ``development`` share secrets).
ENVIRONMENT_ALIASES: dict[str, Environment] = {
    "dev": Environment.DEVELOPMENT,
    "stage": Environment.STAGING,
    "prod": Environment.PRODUCTION,
}


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/virtuoso-api``: the same folder whatever directory a command runs from."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "virtuoso-api"


#: A Cloud Storage bucket name's part after the prefix.
_BUCKET_NAME = r"^[a-z0-9][a-z0-9._-]{1,30}[a-z0-9]$"
#: Links are absolute on PUBLIC_BASE_URL; unset, on the address ``serve`` listens on by default.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"


def _split_commas(value: Any) -> Any:
    # Lists come as "a,b,c" in the environment; the original's settings crashed on exactly this.
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
        # str(ValidationError) would quote each bad input, the token included; describe_settings_error
        # reads the inputs it may show from .errors(), which keeps them.
        hide_input_in_errors=True,
    )

    # -- the service ---------------------------------------------------------------------------
    environment: Environment = Environment.LOCAL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    session_ttl_seconds: int = Field(default=3600, ge=60, le=30 * 86400)
    cache_ttl_seconds: int = Field(default=300, ge=1, le=30 * 86400)
    # How long a validated API key is trusted without asking the store again. A revocation made on
    # another instance takes at most this long to be seen here.
    api_key_cache_seconds: int = Field(default=30, ge=0, le=3600)
    # How often last-used times of API keys are written, so that a request never waits on that write.
    api_key_last_used_flush_seconds: int = Field(default=60, ge=1, le=3600)
    # The largest request body; a longer one is refused (413) before it is read.
    max_request_bytes: int = Field(default=1_048_576, ge=1024, le=1024**3)
    # How often the outbox (work accepted, not yet delivered to a cloud backend) is replayed.
    outbox_flush_seconds: float = Field(default=5.0, gt=0, le=86400)
    # On SIGTERM (Cloud Run gives 10 s before SIGKILL): open requests get this long to finish, then
    # are cancelled; then the shutdown work and the last outbox flush get SHUTDOWN_FLUSH_SECONDS.
    shutdown_drain_seconds: float = Field(default=5.0, ge=0, le=3600)
    shutdown_flush_seconds: float = Field(default=3.0, gt=0, le=3600)

    # -- the CLI as a client of a deployed service (README: The CLI against a deployed service) ----
    # With both set, `exec`, `runs`, `suite run` and `jobs` go to this service over HTTP with this
    # key, instead of opening the stores and Virtuoso themselves (a CI runner holds no Virtuoso token).
    virtuoso_api_server: AnyHttpUrl | None = None
    virtuoso_api_key: SecretStr | None = None

    # -- remote calls: one budget for every Google service, one for Virtuoso ----------------------
    # A transient failure is tried again until this long has passed since the first attempt.
    remote_retry_deadline_seconds: float = Field(default=6.0, gt=0, le=600)
    # Each attempt's own deadline, also sent to the Google client as its RPC deadline.
    remote_attempt_timeout_seconds: float = Field(default=4.0, gt=0, le=600)
    # After a backend was unavailable, calls to it fail at once (503, Retry-After) for this long.
    breaker_cooldown_seconds: float = Field(default=5.0, ge=0, le=3600)

    # -- Virtuoso ------------------------------------------------------------------------------
    virtuoso_api_token: SecretStr | None = None
    # SpotQA's own client's default; other environments are https://api-<env>.virtuoso.qa/api (app2,
    # dev, staging), see README "Virtuoso environments".
    virtuoso_base_url: AnyHttpUrl = AnyHttpUrl("https://api.virtuoso.qa/api")
    # Where a run's page is (…/#/project/{projectId}/execution/{executionId}); empty: derived from
    # VIRTUOSO_BASE_URL for Virtuoso's own hosts, none for any other (the sandbox has no UI).
    virtuoso_ui_url: AnyHttpUrl | None = None
    virtuoso_org_id: int | None = Field(default=None, ge=1)
    # One request to Virtuoso; reads are tried up to VIRTUOSO_RETRY_ATTEMPTS times, creations once.
    virtuoso_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    virtuoso_retry_attempts: int = Field(default=3, ge=1, le=10)
    # How long a checkpoint's step count, once read, is trusted for appends (see README: positions).
    step_position_cache_seconds: float = Field(default=5.0, ge=0, le=3600)
    # Serve an in-process Virtuoso sandbox instead of Virtuoso (``serve --sandbox``): demos and tests.
    virtuoso_sandbox: bool = False

    # -- async work: jobs and their task queue (README: Jobs) ------------------------------------
    # The service's external URL (its Cloud Run URL): Cloud Tasks pushes to {PUBLIC_BASE_URL}/internal/...
    public_base_url: AnyHttpUrl | None = None
    # Tasks one serving process runs at once from the local queue.
    tasks_concurrency: int = Field(default=4, ge=1, le=256)
    # How long a local task stays leased to the process running it without a renewal; a dead
    # process's task is delivered again after this.
    tasks_lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    # Retries, with Cloud Tasks' semantics; create the Cloud Tasks queues with the same values.
    tasks_max_attempts: int = Field(default=5, ge=1, le=100)
    tasks_min_backoff_seconds: float = Field(default=10.0, ge=0, le=3600)
    tasks_max_backoff_seconds: float = Field(default=300.0, ge=0, le=86400)
    tasks_max_doublings: int = Field(default=3, ge=0, le=16)
    # Queue names are {prefix}-{kind} and {prefix}-{kind}-high (virtuoso-command, virtuoso-batch...).
    tasks_queue_prefix: str = Field(default="virtuoso", pattern=r"^[A-Za-z][A-Za-z0-9-]{0,60}$")
    # Where the certificates that sign Cloud Tasks' OIDC tokens are read (Google's, unless testing).
    tasks_oidc_certs_url: AnyHttpUrl = AnyHttpUrl("https://www.googleapis.com/oauth2/v1/certs")
    # Commands of different checkpoints a parallel batch runs at once.
    batch_parallelism: int = Field(default=4, ge=1, le=64)
    # -- suites --------------------------------------------------------------------------------
    # The project of a suite file that names none and is run without --project (found, else created).
    suite_default_project: str = Field(default="Virtuoso API suites", min_length=1, max_length=200)
    # Suite files `suite run` runs at once (each file's steps stay in order).
    suite_parallelism: int = Field(default=4, ge=1, le=32)
    # -- runs ----------------------------------------------------------------------------------
    # The first pause between two status reads of a run; it grows while nothing changes.
    run_poll_seconds: float = Field(default=5.0, gt=0, le=600)
    # The longest pause between two status reads (a 429 from Virtuoso can lengthen it to this).
    run_poll_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    # How long Virtuoso may stay unreachable while a run is followed before the wait gives up.
    run_unreachable_seconds: float = Field(default=300.0, gt=0, le=86400)

    # -- Google Cloud (the seed's variables) ---------------------------------------------------
    gcp_project_id: str | None = None
    gcp_location: str = "us-central1"
    gcp_service_account_email: str | None = None
    use_firestore: bool = False
    use_cloud_tasks: bool = False
    use_pubsub: bool = False
    use_secret_manager: bool = False
    use_cloud_storage: bool = False
    use_cloud_monitoring: bool = False
    firestore_emulator_host: str | None = None
    pubsub_emulator_host: str | None = None
    cloud_tasks_emulator_host: str | None = None

    # -- secrets (Secret Manager with USE_SECRET_MANAGER, else an encrypted file in DATA_DIR) ---------
    # A secret read is trusted this long; then it is read again (a rotation is picked up within it).
    secret_cache_ttl_seconds: int = Field(default=300, ge=1, le=86400)
    # While the secret store is unreachable, the last value read is still served this long past its TTL.
    secret_stale_grace_seconds: int = Field(default=3600, ge=0, le=7 * 86400)
    # After a rotation the previous versions stay enabled this long, then they are disabled.
    secret_rotation_grace_seconds: int = Field(default=86400, ge=0, le=365 * 86400)
    # Versions kept per secret (the newest ones); older ones are destroyed once past the grace period.
    secret_versions_kept: int = Field(default=3, ge=1, le=100)
    # The local store's key: 32 bytes, URL-safe base64. Unset: DATA_DIR/secrets.key, made on first use.
    secrets_encryption_key: SecretStr | None = None
    # host:port of a Secret Manager emulator (REST), e.g. drongo; anonymous credentials are used.
    secret_manager_emulator_host: str | None = None

    # -- blobs: results, command logs, reports (Cloud Storage with USE_CLOUD_STORAGE, else DATA_DIR/blobs)
    # Bucket names are {STORAGE_BUCKET_PREFIX}{name}; unset prefix: "{ENVIRONMENT}-" (Cloud Storage's
    # bucket names are global: a deployment sets a prefix of its own, e.g. "myproject-prod-").
    storage_bucket_prefix: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]{0,30}$")
    storage_results_bucket: str = Field(default="test-results", pattern=_BUCKET_NAME)
    storage_command_logs_bucket: str = Field(default="command-logs", pattern=_BUCKET_NAME)
    storage_static_bucket: str = Field(default="static-assets", pattern=_BUCKET_NAME)
    storage_archive_bucket: str = Field(default="archive", pattern=_BUCKET_NAME)
    # How long a signed link (in a run's answer, a report, the facade's default) stays valid.
    storage_signed_url_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # Lifecycle (0: never). Results move to STORAGE_RESULTS_COLDER_CLASS after the first, are deleted
    # after the second; command logs are deleted after theirs; the archive is kept.
    storage_results_colder_after_days: int = Field(default=30, ge=0, le=36500)
    storage_results_colder_class: Literal["NEARLINE", "COLDLINE", "ARCHIVE"] = "NEARLINE"
    storage_results_delete_after_days: int = Field(default=365, ge=0, le=36500)
    storage_logs_delete_after_days: int = Field(default=90, ge=0, le=36500)
    # http://host:port of a Cloud Storage emulator (gcp-storage-emulator); anonymous credentials are used.
    storage_emulator_host: str | None = None
    # A service-account key file used only to sign URLs (else the credentials' key, else IAM signBlob
    # as GCP_SERVICE_ACCOUNT_EMAIL).
    storage_signing_credentials_file: Path | None = None
    # Without a key: the service account links are signed as through IAM signBlob; unset, the one the
    # service runs as (not GCP_SERVICE_ACCOUNT_EMAIL, Cloud Tasks' identity).
    storage_signing_service_account: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")

    # -- telemetry (README: Telemetry) ------------------------------------------------------------
    # Metrics, spans and the error log; off, nothing is recorded and /metrics answers 404.
    telemetry_enabled: bool = True
    # Serve /metrics unauthenticated on this port too (for a scraper); unset: only the app's /metrics,
    # which asks for an admin API key.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # text: the usual lines; json: one JSON object a line with trace and span ids (Cloud Logging).
    log_format: Literal["text", "json"] = "text"
    # The share of traces kept (a request's children follow its choice): "sample traces in
    # high-traffic scenarios".
    trace_sampling_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    # How often metrics go to Cloud Monitoring (USE_CLOUD_MONITORING).
    metrics_export_interval_seconds: float = Field(default=60.0, ge=5.0, le=3600.0)
    # Start Cloud Profiler's agent (USE_CLOUD_MONITORING; needs the profiler extra).
    cloud_profiler_enabled: bool = False
    # host:port of a gRPC stand-in for Cloud Trace, Monitoring and Error Reporting (tests).
    cloud_operations_emulator_host: str | None = None

    # -- webhooks ------------------------------------------------------------------------------
    # Seconds to wait before each retry of a failed delivery (with +/-10% jitter); after the last
    # one the delivery goes to the dead letters.
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0], min_length=1, max_length=20
    )
    # Allow http:// and loopback targets (local development and tests only); private, link-local
    # and metadata addresses stay refused.
    webhook_allow_local_targets: bool = False
    # One delivery attempt, connecting included.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Retired: webhook signing secrets are sealed under the webhook-sealing-key secret. Read only to
    # open and re-seal secrets sealed under it (a Fernet key) before that; unset it once none is left.
    webhook_secret_key: SecretStr | None = None

    _split_lists = field_validator("cors_origins", "webhook_retry_schedule", mode="before")(_split_commas)

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _delays_are_sane(cls, value: list[float]) -> list[float]:
        if any(not 0 < delay <= 7 * 86400 for delay in value):
            raise ValueError("each delay must be more than 0 and at most 604800 seconds (7 days)")
        return value

    @field_validator("webhook_secret_key", mode="before")
    @classmethod
    def _blank_key_is_unset(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "gcp_project_id",
        "gcp_service_account_email",
        "virtuoso_ui_url",
        "firestore_emulator_host",
        "pubsub_emulator_host",
        "cloud_tasks_emulator_host",
        "public_base_url",
        "secret_manager_emulator_host",
        "storage_bucket_prefix",
        "storage_emulator_host",
        "storage_signing_credentials_file",
        "storage_signing_service_account",
        "cloud_operations_emulator_host",
        "metrics_port",
        "virtuoso_api_server",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("environment", mode="before")
    @classmethod
    def _environment_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return ENVIRONMENT_ALIASES.get(value, value)
        return value

    @field_validator("secrets_encryption_key", mode="before")
    @classmethod
    def _encryption_key_is_32_bytes(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        decode_encryption_key(value)  # raises ValueError with a reason that never quotes the key
        return value.strip()

    @field_validator("virtuoso_api_token", "virtuoso_api_key", mode="before")
    @classmethod
    def _token_is_one_clean_line(cls, value: Any) -> Any:
        # A token read from a file or a secret store often ends in a newline; no header may carry
        # one, and the refusal would quote the token back. Inside it, such a character is a mistake.
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        return one_clean_line(value)

    @model_validator(mode="after")
    def _server_needs_a_key(self) -> Settings:
        if (self.virtuoso_api_server is None) != (self.virtuoso_api_key is None):
            raise ValueError("VIRTUOSO_API_SERVER and VIRTUOSO_API_KEY go together: set both or neither")
        return self

    @model_validator(mode="after")
    def _gcp_needs_a_project(self) -> Settings:
        enabled = self.enabled_gcp_services()
        if enabled and not self.gcp_project_id:
            flags = ", ".join(flag.upper() for flag in GCP_FLAGS if getattr(self, flag))
            raise ValueError(f"{flags} is on, so GCP_PROJECT_ID must be set")
        return self

    @model_validator(mode="after")
    def _cloud_tasks_needs_a_target(self) -> Settings:
        if self.use_cloud_tasks:
            missing = [
                name.upper()
                for name in ("public_base_url", "gcp_service_account_email")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"USE_CLOUD_TASKS is on, so {' and '.join(missing)} must be set")
        if self.tasks_min_backoff_seconds > self.tasks_max_backoff_seconds:
            raise ValueError("TASKS_MIN_BACKOFF_SECONDS must not exceed TASKS_MAX_BACKOFF_SECONDS")
        return self

    def enabled_gcp_services(self) -> list[str]:
        return [service for flag, service in GCP_FLAGS.items() if getattr(self, flag)]

    @property
    def links_base_url(self) -> str:
        """The service's external URL that links are built on (PUBLIC_BASE_URL, or its default)."""
        return str(self.public_base_url or DEFAULT_PUBLIC_BASE_URL).rstrip("/")

    @property
    def bucket_prefix(self) -> str:
        return (
            self.storage_bucket_prefix if self.storage_bucket_prefix is not None else f"{self.environment}-"
        )

    @property
    def database_path(self) -> Path:
        return self.data_dir / "virtuoso-api.sqlite3"

    def public_view(self) -> dict[str, Any]:
        """Every setting with its effective value, secrets masked, keyed by its environment name."""
        view: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif isinstance(value, StrEnum):
                value = value.value
            elif isinstance(value, Path | AnyHttpUrl):
                value = str(value)
            view[name.upper()] = value
        return view


_SECRET_FIELDS = {"virtuoso_api_token", "secrets_encryption_key", "webhook_secret_key"}


def decode_encryption_key(text: str) -> bytes:
    """The 32 bytes of ``SECRETS_ENCRYPTION_KEY`` (URL-safe base64, padding optional)."""
    text = text.strip()
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be 32 bytes in URL-safe base64 (it is not base64)") from None
    if len(key) != 32:
        raise ValueError(f"must be 32 bytes in URL-safe base64 (it decodes to {len(key)} bytes)")
    return key


def describe_settings_error(error: ValidationError) -> str:
    """One line naming each bad variable and why, never echoing a secret's value."""
    parts: list[str] = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        if not field:  # a model-level rule; its message already names the variables
            parts.append(message)
            continue
        given = "" if field in _SECRET_FIELDS else f" (got {item.get('input')!r:.60})"
        parts.append(f"{field.upper()}: {message}{given}")
    return "invalid configuration: " + "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; raises :class:`ValidationError` (see :func:`describe_settings_error`)."""
    return Settings(**overrides)
