"""One ``Settings`` object, read once at start-up from the environment and ``.env``.

Names are the seed's (``GCP_PROJECT_ID``, ``USE_FIRESTORE``, ...) and the Virtuoso connection's
(``VIRTUOSO_API_TOKEN``, ...), without a prefix, because deployments of the original already set them.
Nothing else in the code base reads ``os.environ``.
"""

from __future__ import annotations

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
    LOCAL = "local"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/virtuoso-api``: the same folder whatever directory a command runs from."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "virtuoso-api"


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

    # -- remote calls: one budget for every Google service, one for Virtuoso ----------------------
    # A transient failure is tried again until this long has passed since the first attempt.
    remote_retry_deadline_seconds: float = Field(default=6.0, gt=0, le=600)
    # Each attempt's own deadline, also sent to the Google client as its RPC deadline.
    remote_attempt_timeout_seconds: float = Field(default=4.0, gt=0, le=600)
    # After a backend was unavailable, calls to it fail at once (503, Retry-After) for this long.
    breaker_cooldown_seconds: float = Field(default=5.0, ge=0, le=3600)

    # -- Virtuoso ------------------------------------------------------------------------------
    virtuoso_api_token: SecretStr | None = None
    virtuoso_base_url: AnyHttpUrl = AnyHttpUrl("https://api-app2.virtuoso.qa/api")
    virtuoso_org_id: int | None = Field(default=None, ge=1)
    # One request to Virtuoso; reads are tried up to VIRTUOSO_RETRY_ATTEMPTS times, creations once.
    virtuoso_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    virtuoso_retry_attempts: int = Field(default=3, ge=1, le=10)
    # How long a checkpoint's step count, once read, is trusted for appends (see README: positions).
    step_position_cache_seconds: float = Field(default=5.0, ge=0, le=3600)
    # Serve an in-process Virtuoso sandbox instead of Virtuoso (``serve --sandbox``): demos and tests.
    virtuoso_sandbox: bool = False

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
    # Encrypts webhook signing secrets at rest (a Fernet key: 32 url-safe base64 bytes). Unset: a key
    # file in DATA_DIR is made once; instances sharing Firestore must all be given the same key.
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
        "firestore_emulator_host",
        "pubsub_emulator_host",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("virtuoso_api_token", mode="before")
    @classmethod
    def _token_is_one_clean_line(cls, value: Any) -> Any:
        # A token read from a file or a secret store often ends in a newline; no header may carry
        # one, and the refusal would quote the token back. Inside it, such a character is a mistake.
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        if not value.isascii():
            raise ValueError("must be printable ASCII (it contains a non-ASCII character)")
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
            raise ValueError(
                "must be printable ASCII (it contains a control character such as a newline or tab)"
            )
        return value

    @model_validator(mode="after")
    def _gcp_needs_a_project(self) -> Settings:
        enabled = self.enabled_gcp_services()
        if enabled and not self.gcp_project_id:
            flags = ", ".join(flag.upper() for flag in GCP_FLAGS if getattr(self, flag))
            raise ValueError(f"{flags} is on, so GCP_PROJECT_ID must be set")
        return self

    def enabled_gcp_services(self) -> list[str]:
        return [service for flag, service in GCP_FLAGS.items() if getattr(self, flag)]

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


_SECRET_FIELDS = {"virtuoso_api_token", "webhook_secret_key"}


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
