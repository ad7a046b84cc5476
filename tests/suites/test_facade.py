"""The facade's ``create_test_suite_task``: the same ``suite`` job as ``POST /api/v1/suites/runs``,
run by the client's own dispatcher on the local queue into the in-process sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from virtuoso_api.gcp import close_cloud_tasks_client, get_cloud_tasks_client
from virtuoso_api.suites import SuiteInvalid

SUITE = """\
test: Facade checkout
nav: https://shop.example.com
data:
  coupon: SAVE10
do:
  - c: Add to bag
  - t: {Coupon: $coupon}
  - ch: Total
"""


async def test_a_suite_file_is_queued_run_and_its_result_stored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIRTUOSO_SANDBOX", "true")
    monkeypatch.setenv("RUN_POLL_SECONDS", "0.05")
    path = tmp_path / "checkout.yaml"
    path.write_text(SUITE, encoding="utf-8")
    tasks = get_cloud_tasks_client()
    try:
        task = await tasks.create_test_suite_task(
            test_suite_path=path, project_id="Facade suites", user_id="qa", suite_id="nightly-1"
        )
        again = await tasks.create_test_suite_task(
            test_suite_path=str(path), project_id="Facade suites", user_id="qa", suite_id="nightly-1"
        )
        done = await tasks.wait_for_job(task["job_id"], timeout=60)
        found = await tasks.get_test_suite_result(task["job_id"])
        services = await tasks._open()
        checkpoint = found["result"]["placement"]["checkpoints"][0]["checkpoint_id"]
        stored = await services.virtuoso.client.list_steps(checkpoint)
        with pytest.raises(SuiteInvalid, match="cannot be read"):
            await tasks.create_test_suite_task(test_suite_path=tmp_path / "missing.yaml")
    finally:
        await close_cloud_tasks_client()
    assert (task["kind"], task["status"], task["owner"]) == ("suite", "queued", "qa")
    assert again["job_id"] == task["job_id"]  # the same suite_id is the same job
    assert done["status"] == "succeeded", done
    result = found["result"]
    assert (result["source"], result["name"], result["dialect"], result["status"]) == (
        "checkout.yaml",
        "Facade checkout",
        "compact",
        "passed",
    )
    assert [step.id for step in stored] == [s["step_id"] for s in result["steps"]]
    assert [step.action for step in stored] == ["CLICK", "WRITE", "ASSERT_EXISTS"]
    assert stored[1].value == "SAVE10"
