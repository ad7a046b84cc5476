"""The checkpoint library: shared checkpoints that several journeys reuse."""

from __future__ import annotations

from virtuoso_api.virtuoso._base import ClientBase
from virtuoso_api.virtuoso._suites import check_attach_position
from virtuoso_api.virtuoso.models import Checkpoint, LibraryCheckpoint


class LibraryApi(ClientBase):
    # POST /testcases/{checkpointId}/add-to-library
    async def add_to_library(self, checkpoint_id: int) -> LibraryCheckpoint:
        envelope = await self._http.request(
            "POST", f"/testcases/{checkpoint_id}/add-to-library", resource=f"checkpoint {checkpoint_id}"
        )
        return envelope.one(LibraryCheckpoint)

    # GET /library/checkpoints/{id}
    async def get_library_checkpoint(self, library_checkpoint_id: int) -> LibraryCheckpoint:
        envelope = await self._http.request(
            "GET",
            f"/library/checkpoints/{library_checkpoint_id}",
            resource=f"library checkpoint {library_checkpoint_id}",
        )
        return envelope.one(LibraryCheckpoint)

    # PUT /library/checkpoints/{id}
    async def update_library_checkpoint(self, library_checkpoint_id: int, *, name: str) -> LibraryCheckpoint:
        envelope = await self._http.request(
            "PUT",
            f"/library/checkpoints/{library_checkpoint_id}",
            json_body={"name": name},
            resource=f"library checkpoint {library_checkpoint_id}",
        )
        return envelope.one(LibraryCheckpoint)

    # POST /testsuites/{journeyId}/checkpoints/attach
    async def attach_library_checkpoint(
        self, journey_id: int, library_checkpoint_id: int, position: int
    ) -> Checkpoint:
        """Use a library checkpoint in a journey at ``position`` (2 or more)."""
        check_attach_position(position)
        envelope = await self._http.request(
            "POST",
            f"/testsuites/{journey_id}/checkpoints/attach",
            json_body={"libraryCheckpointId": library_checkpoint_id, "position": position},
            resource=f"journey {journey_id}",
        )
        return envelope.one(Checkpoint)

    # POST /library/checkpoints/{id}/steps/{testStepId}/move
    async def move_library_step(self, library_checkpoint_id: int, step_id: int, position: int) -> None:
        await self._http.request(
            "POST",
            f"/library/checkpoints/{library_checkpoint_id}/steps/{step_id}/move",
            json_body={"position": position},
            resource=f"step {step_id} of library checkpoint {library_checkpoint_id}",
        )

    # DELETE /library/checkpoints/{id}/steps/{testStepId}
    async def remove_library_step(self, library_checkpoint_id: int, step_id: int) -> None:
        await self._http.request(
            "DELETE",
            f"/library/checkpoints/{library_checkpoint_id}/steps/{step_id}",
            resource=f"step {step_id} of library checkpoint {library_checkpoint_id}",
        )
