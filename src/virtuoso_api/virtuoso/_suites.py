"""Journeys (``testsuites``) and checkpoints (``testcases``), and how checkpoints join a journey."""

from __future__ import annotations

from pydantic import BaseModel

from virtuoso_api.errors import InvalidInput, VirtuosoApiError
from virtuoso_api.virtuoso._base import ClientBase
from virtuoso_api.virtuoso.models import Checkpoint, Journey

#: Position 1 of every journey is the goal's navigation checkpoint; others go at 2 or later.
FIRST_ATTACH_POSITION = 2


class _JourneyStatus(BaseModel):
    journey: Journey


class SuitesApi(ClientBase):
    # POST /testsuites
    async def create_journey(self, goal_id: int, snapshot_id: int, name: str) -> Journey:
        body = {
            "goalId": goal_id,
            "snapshotId": snapshot_id,
            "name": name,
            "title": name,
            "archived": False,
            "draft": True,
        }
        envelope = await self._http.request("POST", "/testsuites", json_body=body, resource=f"goal {goal_id}")
        return envelope.one(Journey)

    # GET /testsuites/latest_status?snapshotId=&goalId=&includeSequencesDetails=true  (the original's)
    async def list_journeys(self, goal_id: int, snapshot_id: int) -> list[Journey]:
        """The goal snapshot's journeys in id order (without their checkpoints). Runs resolve journeys
        with :meth:`snapshot_journeys`, the endpoint SpotQA's client uses."""
        envelope = await self._http.request(
            "GET",
            "/testsuites/latest_status",
            params={"snapshotId": snapshot_id, "goalId": goal_id, "includeSequencesDetails": True},
            resource=f"goal {goal_id}",
        )
        journeys = [status.journey for status in envelope.many(_JourneyStatus)]
        return sorted(journeys, key=lambda journey: journey.id)

    # GET /snapshots/{snapshotId}/goals/{goalId}/testsuites?envelope=false  (SpotQA: get_goal_snapshot)
    async def snapshot_journeys(self, goal_id: int, snapshot_id: int) -> list[Journey]:
        """The journeys of one goal version, in id order: Virtuoso answers a map keyed by id."""
        envelope = await self._http.request(
            "GET",
            f"/snapshots/{snapshot_id}/goals/{goal_id}/testsuites",
            params={"envelope": False},
            resource=f"snapshot {snapshot_id} of goal {goal_id}",
        )
        if envelope.map is not None or envelope.items is not None:
            found = envelope.many(Journey)
        elif isinstance(envelope.body, dict):
            found = [envelope.validate(Journey, v) for v in envelope.body.values() if isinstance(v, dict)]
        else:
            found = []
        return sorted(found, key=lambda journey: journey.id)

    # GET /testsuites/{journeyId}
    async def get_journey(self, journey_id: int) -> Journey:
        """A journey with its checkpoints (``cases``) in order, each with its steps."""
        envelope = await self._http.request(
            "GET", f"/testsuites/{journey_id}", resource=f"journey {journey_id}"
        )
        return envelope.one(Journey)

    # PUT /testsuites/{journeyId}
    async def update_journey(self, journey_id: int, *, title: str) -> Journey:
        envelope = await self._http.request(
            "PUT", f"/testsuites/{journey_id}", json_body={"title": title}, resource=f"journey {journey_id}"
        )
        return envelope.one(Journey)

    # POST /testcases
    async def create_checkpoint(self, goal_id: int, snapshot_id: int, title: str) -> Checkpoint:
        """A checkpoint that belongs to no journey yet; see :meth:`attach_checkpoint`."""
        body = {"goalId": goal_id, "snapshotId": snapshot_id, "title": title}
        envelope = await self._http.request("POST", "/testcases", json_body=body, resource=f"goal {goal_id}")
        return envelope.one(Checkpoint)

    # POST /testsuites/{journeyId}/checkpoints/attach
    async def attach_checkpoint(self, journey_id: int, checkpoint_id: int, position: int) -> None:
        check_attach_position(position)
        await self._http.request(
            "POST",
            f"/testsuites/{journey_id}/checkpoints/attach",
            json_body={"checkpointId": checkpoint_id, "position": position},
            resource=f"journey {journey_id}",
        )

    async def add_checkpoint(
        self, journey: Journey, title: str, *, position: int | None = None
    ) -> Checkpoint:
        """Create a checkpoint in the journey's goal snapshot and attach it (at the end by default).

        Two calls: if attaching fails, the error says which checkpoint was left unattached.
        """
        if journey.goal_id is None or journey.snapshot_id is None:
            raise InvalidInput("journey", f"journey {journey.id} has no goal or snapshot id")
        if position is None:
            current = await self.get_journey(journey.id)
            position = max(FIRST_ATTACH_POSITION, len(current.cases) + 1)
        check_attach_position(position)
        checkpoint = await self.create_checkpoint(journey.goal_id, journey.snapshot_id, title)
        try:
            await self.attach_checkpoint(journey.id, checkpoint.id, position)
        except VirtuosoApiError as exc:
            # Say what was left behind, so the caller can attach or delete it rather than orphan it.
            exc.message = f"{exc.message} (checkpoint {checkpoint.id} was created but is not attached)"
            exc.args = (exc.message,)
            raise
        return checkpoint

    # GET /testcases/{checkpointId}
    async def get_checkpoint(self, checkpoint_id: int) -> Checkpoint:
        envelope = await self._http.request(
            "GET", f"/testcases/{checkpoint_id}", resource=f"checkpoint {checkpoint_id}"
        )
        return envelope.one(Checkpoint)


def check_attach_position(position: int) -> None:
    if position < FIRST_ATTACH_POSITION:
        raise InvalidInput("position", "must be 2 or more: position 1 is the goal's navigation checkpoint")
