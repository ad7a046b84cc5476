"""What ``POST /api/v1/suites/runs`` (and the facade's ``create_test_suite_task``) takes, and what
``GET /api/v1/suites/runs/{id}`` answers."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from virtuoso_api.jobs.models import Job, Scheduling
from virtuoso_api.kit.json_values import JsonBool
from virtuoso_api.kit.text import Text
from virtuoso_api.suites.results import SuiteRunResult
from virtuoso_api.suites.variables import NAME
from virtuoso_api.virtuoso.ids import CheckpointId

#: The suite travels inside the job's record: a Firestore document holds at most 1 MiB.
MAX_SUITE_CHARS: Final = 512 * 1024

VariableName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=f"^{NAME.pattern}$")]


class SuiteRunRequest(Scheduling):
    """A suite file to run as a job: its text, and the options of ``virtuoso-api suite run``."""

    model_config = ConfigDict(extra="forbid")

    suite: Text = Field(
        min_length=1,
        max_length=MAX_SUITE_CHARS,
        description="The suite file's text, YAML or JSON (any dialect)",
        examples=["name: Login\nstarting_url: https://example.com\nsteps:\n  - click: Sign in\n"],
    )
    filename: Text | None = Field(
        default=None, max_length=200, description="The file's name, for messages and the default name"
    )
    syntax: Literal["yaml", "json"] | None = Field(default=None, description="Default: told from the text")
    variables: dict[VariableName, Annotated[Text, Field(max_length=20_000)]] = Field(
        default_factory=dict, max_length=100, description="NAME: VALUE, over the file's own (`--var`)"
    )
    project: Text | None = Field(
        default=None, min_length=1, max_length=200, description="A project name or id (`--project`)"
    )
    checkpoint_id: CheckpointId | None = Field(
        default=None, description="Append the steps to this existing checkpoint (`--checkpoint`)"
    )
    execute: JsonBool = Field(default=False, description="Run the journey once its steps are in")
    continue_on_error: JsonBool | None = Field(
        default=None, description="Go on after a step fails (default: the file's config, else stop)"
    )

    @field_validator("filename")
    @classmethod
    def _base_name(cls, value: str | None) -> str | None:
        # Only the file's own name, for messages: never a client's path.
        if value is None:
            return None
        return value.replace("\\", "/").rsplit("/", 1)[-1] or None


class SuiteRunView(BaseModel):
    """A suite run: its job (status, progress, attempts) and what it produced so far."""

    run_id: str = Field(description="The job's id")
    job: Job
    result: SuiteRunResult | None = Field(description="Null until the suite's infrastructure is placed")
