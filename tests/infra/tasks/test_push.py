"""Cloud Tasks' push, read by the service's rules: headers as Cloud Tasks (or an impostor with a valid
token) might send them. The emulator's real pushes go through the same code in ``test_contract.py``."""

from __future__ import annotations

import pytest

from virtuoso_api.errors import BadRequest
from virtuoso_api.infra.tasks import Finished, RetryLater
from virtuoso_api.infra.tasks.push import answer_of, delivery_of, payload_of


def test_the_headers_name_the_task_its_queue_and_the_attempt() -> None:
    headers = {
        "X-CloudTasks-TaskName": "job_5d2776f59ef2fc3e",
        "X-CloudTasks-QueueName": "virtuoso-batch-high",
        "X-CloudTasks-TaskRetryCount": "2",
        "X-CloudTasks-TaskExecutionCount": "1",  # responses received: not the attempt
    }
    delivery = delivery_of("batch", headers, {"job_id": "j"}, max_attempts=3)
    assert (delivery.name, delivery.queue, delivery.attempt, delivery.is_last) == (
        "job_5d2776f59ef2fc3e",
        "virtuoso-batch-high",
        3,
        True,
    )
    emulator = {"x-cloudtasks-queuename": "projects/p/locations/l/queues/virtuoso-batch"}  # its full path
    assert delivery_of("batch", emulator, {}, max_attempts=3).queue == "virtuoso-batch"


@pytest.mark.parametrize("count", [None, "", "abc", "-1", "1.5", "99999999999999999999", "٣"])
def test_a_missing_or_garbled_retry_count_is_the_first_attempt(count: str | None) -> None:
    headers = {} if count is None else {"X-CloudTasks-TaskRetryCount": count}
    assert delivery_of("command", headers, {}, max_attempts=5).attempt == 1


def test_the_body_must_be_a_json_object() -> None:
    assert payload_of(b'{"job_id": "job_1"}') == {"job_id": "job_1"}
    for body in (b"", b"[1]", b"null", b"{", b"[" * 100_000, '"é"'.encode()):
        with pytest.raises(BadRequest):
            payload_of(body)


def test_finished_is_200_and_retry_later_503_with_its_wait() -> None:
    delivery = delivery_of("command", {"X-CloudTasks-TaskRetryCount": "1"}, {}, max_attempts=5)
    done = answer_of(Finished("succeeded"), delivery)
    assert (done.status, done.body, done.headers) == (
        200,
        {"status": "finished", "note": "succeeded", "attempt": 2},
        {},
    )
    later = answer_of(RetryLater("virtuoso is unavailable", retry_after_seconds=5.0), delivery)
    assert (later.status, later.body["error"], later.headers) == (
        503,
        "virtuoso is unavailable",
        {"Retry-After": "5"},
    )
    assert answer_of(RetryLater("x"), delivery).headers == {}
