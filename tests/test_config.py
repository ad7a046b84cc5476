"""Settings: defaults, the seed's variable names, .env, lists, and clear failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from virtuoso_api.config import Settings, describe_settings_error


def _error() -> str:
    """The one-line message for the environment the test has set up."""
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    return describe_settings_error(caught.value)


class TestDefaults:
    def test_embedded_defaults_need_no_configuration(self) -> None:
        settings = Settings(_env_file=None)
        assert settings.enabled_gcp_services() == []
        assert (settings.host, settings.port) == ("127.0.0.1", 8000)
        assert str(settings.virtuoso_base_url) == "https://api.virtuoso.qa/api"
        assert settings.gcp_location == "us-central1"
        assert settings.data_dir.name == "virtuoso-api"

    def test_data_dir_follows_xdg(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
        assert Settings(_env_file=None).data_dir == tmp_path / "share" / "virtuoso-api"


class TestEnvironment:
    def test_the_seeds_variables_are_read_by_their_names(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in {
            "GCP_PROJECT_ID": "acme-qa",
            "GCP_LOCATION": "europe-west1",
            "GCP_SERVICE_ACCOUNT_EMAIL": "svc@acme-qa.iam.gserviceaccount.com",
            "USE_FIRESTORE": "true",
            "USE_CLOUD_TASKS": "1",
            "PUBLIC_BASE_URL": "https://api.example.com",
            "USE_PUBSUB": "yes",
            "USE_SECRET_MANAGER": "false",
            "USE_CLOUD_STORAGE": "on",
            "USE_CLOUD_MONITORING": "0",
            "FIRESTORE_EMULATOR_HOST": "localhost:8080",
            "PUBSUB_EMULATOR_HOST": "localhost:8085",
        }.items():
            monkeypatch.setenv(name, value)
        settings = Settings(_env_file=None)
        assert settings.gcp_project_id == "acme-qa"
        assert settings.gcp_location == "europe-west1"
        assert settings.enabled_gcp_services() == ["Firestore", "Cloud Tasks", "Pub/Sub", "Cloud Storage"]
        assert settings.firestore_emulator_host == "localhost:8080"
        assert settings.pubsub_emulator_host == "localhost:8085"

    def test_dotenv_is_read_and_the_environment_wins(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        (tmp_path / ".env").write_text("VIRTUOSO_ORG_ID=2242\nPORT=9001\nSESSION_TTL_SECONDS=600\n")
        monkeypatch.setenv("PORT", "9002")
        settings = Settings()
        assert (settings.virtuoso_org_id, settings.port, settings.session_ttl_seconds) == (2242, 9002, 600)

    def test_lists_are_comma_separated(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CORS_ORIGINS", "https://qa.example.com, https://ci.example.com,")
        settings = Settings(_env_file=None)
        assert settings.cors_origins == ["https://qa.example.com", "https://ci.example.com"]

    def test_a_blank_project_id_counts_as_unset(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GCP_PROJECT_ID", "  ")
        assert Settings(_env_file=None).gcp_project_id is None


class TestFailures:
    def test_a_use_flag_without_a_project_names_both_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("USE_FIRESTORE", "true")
        monkeypatch.setenv("USE_PUBSUB", "true")
        assert _error() == (
            "invalid configuration: USE_FIRESTORE, USE_PUBSUB is on, so GCP_PROJECT_ID must be set"
        )

    @pytest.mark.parametrize(
        ("variable", "value", "expected"),
        [
            ("PORT", "eighty", "PORT: Input should be a valid integer"),
            ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
            ("USE_FIRESTORE", "maybe", "USE_FIRESTORE: Input should be a valid boolean"),
            ("VIRTUOSO_BASE_URL", "ftp://x", "VIRTUOSO_BASE_URL: URL scheme should be 'http' or 'https'"),
            ("VIRTUOSO_ORG_ID", "acme", "VIRTUOSO_ORG_ID: Input should be a valid integer"),
            ("SESSION_TTL_SECONDS", "5", "SESSION_TTL_SECONDS: Input should be greater than or equal to 60"),
            (
                "ENVIRONMENT",
                "prod",
                "ENVIRONMENT: Input should be 'local', 'test', 'staging' or 'production'",
            ),
        ],
    )
    def test_a_malformed_value_is_named(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
    ) -> None:
        monkeypatch.setenv(variable, value)
        message = _error()
        assert message.startswith("invalid configuration: " + expected)
        assert "\n" not in message

    def test_a_secret_is_never_echoed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("VIRTUOSO_API_TOKEN", "s3cr3t-token")
        monkeypatch.setenv("PORT", "x")
        assert "s3cr3t-token" not in _error()
        view = Settings(_env_file=None, port=1).public_view()
        assert view["VIRTUOSO_API_TOKEN"] == "********"
        assert "s3cr3t-token" not in repr(view)
