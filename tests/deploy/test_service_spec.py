"""deploy/service.yaml, read as Cloud Run reads it: the settings it passes are settings the service
has and accepts together, the identities are deploy/iam.json's, and the limits fit the service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from virtuoso_api.config import Settings
from virtuoso_api.infra.tasks.gcp_cloud_tasks import DISPATCH_DEADLINE_SECONDS

ROOT = Path(__file__).resolve().parents[2]
FILLED = {
    "PROJECT_ID": "demo-project",
    "PROJECT_NUMBER": "123456789",
    "REGION": "europe-west1",
    "IMAGE": "europe-west1-docker.pkg.dev/demo-project/virtuoso/virtuoso-api:1",
}


def service() -> dict[str, Any]:
    text = (ROOT / "deploy" / "service.yaml").read_text()
    for placeholder, value in FILLED.items():
        text = text.replace("${" + placeholder + "}", value)
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def container() -> dict[str, Any]:
    (only,) = service()["spec"]["template"]["spec"]["containers"]
    return dict(only)


def test_every_variable_is_a_setting_and_together_they_validate() -> None:
    env = {item["name"]: item["value"] for item in container()["env"]}
    assert set(env) <= {name.upper() for name in Settings.model_fields}
    settings = Settings(**{name.lower(): value for name, value in env.items()})
    assert settings.enabled_gcp_services() == [
        "Firestore",
        "Cloud Tasks",
        "Pub/Sub",
        "Secret Manager",
        "Cloud Storage",
    ]
    assert str(settings.public_base_url) == "https://virtuoso-api-123456789.europe-west1.run.app/"
    # Cloud Run's SIGKILL comes 10 s after SIGTERM.
    assert settings.shutdown_drain_seconds + settings.shutdown_flush_seconds < 10


def test_identities_are_the_least_privilege_ones() -> None:
    iam = json.loads((ROOT / "deploy" / "iam.json").read_text())["identities"]
    spec = service()["spec"]["template"]["spec"]
    env = {item["name"]: item["value"] for item in container()["env"]}
    assert spec["serviceAccountName"].split("@")[0] == "virtuoso-api"
    assert env["GCP_SERVICE_ACCOUNT_EMAIL"].split("@")[0] == "virtuoso-tasks"
    assert {"virtuoso-api", "virtuoso-tasks"} <= set(iam)


def test_limits_scaling_and_probes() -> None:
    template = service()["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert int(annotations["autoscaling.knative.dev/minScale"]) >= 1
    assert int(annotations["autoscaling.knative.dev/maxScale"]) > int(
        annotations["autoscaling.knative.dev/minScale"]
    )
    assert annotations["run.googleapis.com/cpu-throttling"] == "false"  # background work between requests
    assert template["spec"]["containerConcurrency"] > 1
    # A Cloud Tasks push may take as long as its dispatch deadline.
    assert template["spec"]["timeoutSeconds"] >= DISPATCH_DEADLINE_SECONDS
    limits = container()["resources"]["limits"]
    assert limits["cpu"]
    assert limits["memory"].endswith("Gi")
    assert container()["ports"][0]["containerPort"] == 8080
    assert container()["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert "${" not in yaml.safe_dump(service())  # every placeholder is one the walkthrough fills
