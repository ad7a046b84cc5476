"""The envelope variants Virtuoso answers, read in one place."""

from __future__ import annotations

from typing import Any

import pytest

from virtuoso_api.virtuoso._envelope import UpstreamError, created_id_holder, parse_envelope
from virtuoso_api.virtuoso.errors import VirtuosoProtocolError
from virtuoso_api.virtuoso.models import Project

REQUEST = "GET /projects"


def test_item_is_the_single_object() -> None:
    envelope = parse_envelope({"success": True, "item": {"id": 7, "name": "Shop"}}, request=REQUEST)
    assert envelope.one(Project) == Project(id=7, name="Shop")
    assert not envelope.failed


def test_a_bare_object_is_the_single_object() -> None:
    envelope = parse_envelope({"id": 7, "name": "Shop", "organizationId": 2}, request=REQUEST)
    project = envelope.one(Project)
    assert (project.id, project.name, project.organization_id) == (7, "Shop", 2)


def test_items_keep_their_order() -> None:
    envelope = parse_envelope({"success": True, "items": [{"id": 3}, {"id": 1}]}, request=REQUEST)
    assert [p.id for p in envelope.many(Project)] == [3, 1]


def test_a_map_is_read_in_numeric_id_order() -> None:
    body = {"success": True, "map": {"100": {"id": 100}, "9": {"id": 9}, "10": {"id": 10}}, "total": 3}
    assert [p.id for p in parse_envelope(body, request=REQUEST).many(Project)] == [9, 10, 100]


def test_an_item_that_is_a_list_and_a_bare_list_are_lists() -> None:
    assert [p.id for p in parse_envelope({"item": [{"id": 1}]}, request=REQUEST).many(Project)] == [1]
    assert [p.id for p in parse_envelope([{"id": 2}], request=REQUEST).many(Project)] == [2]


def test_no_list_at_all_is_an_empty_list() -> None:
    assert parse_envelope({"success": True}, request=REQUEST).many(Project) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"success": False, "error": "Project name taken"}, UpstreamError("Project name taken")),
        (
            {"success": False, "error": {"code": "E42", "message": "bad goal"}},
            UpstreamError("bad goal", "E42"),
        ),
        ({"error": {"code": "E7"}}, UpstreamError("E7", "E7")),
        ({"message": "Forbidden"}, UpstreamError("Forbidden")),
    ],
)
def test_error_as_string_or_object(body: dict[str, Any], expected: UpstreamError) -> None:
    envelope = parse_envelope(body, request=REQUEST)
    assert envelope.error == expected
    assert envelope.failed


def test_an_error_beside_success_true_is_not_a_failure() -> None:
    envelope = parse_envelope({"success": True, "item": {"id": 1}, "error": ""}, request=REQUEST)
    assert not envelope.failed


def test_a_wrong_shape_is_a_protocol_error_naming_the_request() -> None:
    with pytest.raises(VirtuosoProtocolError, match="GET /projects") as caught:
        parse_envelope({"success": True, "item": {"name": "no id"}}, request=REQUEST).one(Project)
    assert "Project" in caught.value.message
    with pytest.raises(VirtuosoProtocolError):
        parse_envelope([1, 2], request=REQUEST).one(Project)
    with pytest.raises(VirtuosoProtocolError):
        parse_envelope({"items": [1, 2]}, request=REQUEST).many(Project)


def test_a_bare_object_with_an_id_is_an_answer_even_with_a_message() -> None:
    # ?envelope=false answers the object itself; a started run that says "started" is not a refusal.
    envelope = parse_envelope({"id": 42, "message": "Execution started"}, request=REQUEST)
    assert (envelope.error, envelope.failed) == (None, False)


@pytest.mark.parametrize(
    ("body", "expected_id"),
    [
        ({"item": {"id": 11}, "testStep": {"id": 22}, "id": 33}, 11),
        ({"item": {"id": 0}, "testStep": {"id": 22}, "id": 33}, 22),
        ({"testStep": {"id": 22}, "id": 33}, 22),
        ({"id": 33, "stepIndex": 2}, 33),
        ({"item": {"id": "44"}}, "44"),
        ({"success": True}, None),
        ({"id": 0}, None),
        ({"id": True}, None),
        ([{"id": 1}], None),
    ],
)
def test_created_step_id_lookup_order(body: Any, expected_id: Any) -> None:
    holder = created_id_holder(body)
    assert (holder["id"] if holder else None) == expected_id
