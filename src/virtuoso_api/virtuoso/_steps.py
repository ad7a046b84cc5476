"""Test steps: list, create (at a position or at the end), read, update."""

from __future__ import annotations

from typing import Any

from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso._base import ClientBase
from virtuoso_api.virtuoso._envelope import created_id_holder
from virtuoso_api.virtuoso.errors import VirtuosoProtocolError
from virtuoso_api.virtuoso.models import Step
from virtuoso_api.virtuoso.steps import ParsedStep, StepCreate


class StepsApi(ClientBase):
    # GET /checkpoints/{checkpointId}/teststeps
    async def list_steps(self, checkpoint_id: int) -> list[Step]:
        """The checkpoint's steps, in order (``step_index`` 1..n)."""
        envelope = await self._http.request(
            "GET", f"/checkpoints/{checkpoint_id}/teststeps", resource=f"checkpoint {checkpoint_id}"
        )
        return envelope.many(Step)

    # POST /teststeps?envelope=false  (body field names and the 1-based stepIndex are UNVERIFIED: only
    # the original system shows them; the answer is read tolerantly, see created_id_holder)
    async def create_step(self, step: StepCreate) -> Step:
        """Add a step at ``step.step_index`` (1..count+1; later steps move down).

        The new id is read from ``item.id``, then ``testStep.id``, then ``id``; an answer with none of
        them raises :class:`VirtuosoProtocolError` (the original returned a made-up id 1). Not retried
        once the request may have reached Virtuoso: a retry could add the step twice.
        """
        request = "POST /teststeps"
        envelope = await self._http.request(
            "POST",
            "/teststeps",
            params={"envelope": False},
            json_body=step.to_payload(),
            resource=f"checkpoint {step.checkpoint_id}",
        )
        holder = created_id_holder(envelope.body)
        if holder is None:
            raise VirtuosoProtocolError(
                f"Virtuoso answered {request} without the new step's id", request=request
            )
        return envelope.validate(Step, holder)

    async def append_step(self, checkpoint_id: int, parsed_step: ParsedStep) -> Step:
        """Add a step after the checkpoint's current last step (two calls: count, then create)."""
        current = await self.list_steps(checkpoint_id)
        position = len(current) + 1
        created = await self.create_step(
            StepCreate(checkpoint_id=checkpoint_id, step_index=position, parsed_step=parsed_step)
        )
        if created.step_index is None:
            return created.model_copy(update={"step_index": position, "checkpoint_id": checkpoint_id})
        return created

    # GET /teststeps/{stepId}
    async def get_step(self, step_id: int) -> Step:
        envelope = await self._http.request("GET", f"/teststeps/{step_id}", resource=f"step {step_id}")
        return envelope.one(Step)

    # PUT /teststeps/{stepId}/properties  (field names UNVERIFIED: the original system's)
    async def update_step(
        self,
        step: Step,
        *,
        parsed_step: ParsedStep | None = None,
        optional: bool | None = None,
        ignore_outcome: bool | None = None,
        skip: bool | None = None,
    ) -> Step:
        """Change a step as it was read back: its flags, or its action, target and value.

        What is not changed goes back as Virtuoso answered it, ``element`` included with selectors of
        any type (XPATH, ID, CSS_SELECTOR, GUESS, ...), so setting ``skip`` on a recorded step does
        not lose the selectors Virtuoso learned for it."""
        if not step.canonical_id:
            raise InvalidInput("step", f"step {step.id} was read without its canonicalId")
        body: dict[str, Any] = {
            "id": step.id,
            "canonicalId": step.canonical_id,
            "action": step.action,
            "value": step.value or "",
            "meta": dict(step.meta),
            "optional": step.optional if optional is None else optional,
            "ignoreOutcome": step.ignore_outcome if ignore_outcome is None else ignore_outcome,
            "skip": step.skip if skip is None else skip,
        }
        if step.variable is not None:
            body["variable"] = step.variable
        if parsed_step is not None:
            body.update(parsed_step.to_payload())
        elif step.element is not None:
            body["element"] = step.element.model_dump(mode="json", by_alias=True, exclude_none=True)
        elif step.target is not None:
            body["target"] = step.target
        envelope = await self._http.request(
            "PUT", f"/teststeps/{step.id}/properties", json_body=body, resource=f"step {step.id}"
        )
        return envelope.one(Step)

    # DELETE /teststeps/{stepId}  (UNVERIFIED: no public source shows deleting a journey's step; the
    # original only deletes a library checkpoint's step, answered 204. Used to replace a re-run
    # suite's steps; a Virtuoso that refuses it fails that suite with its answer.)
    async def delete_step(self, step_id: int) -> None:
        await self._http.request("DELETE", f"/teststeps/{step_id}", resource=f"step {step_id}")

    # PUT /teststeps/{stepId}/properties
    async def update_step_properties(
        self,
        step_id: int,
        *,
        canonical_id: str,
        parsed_step: ParsedStep,
        optional: bool = False,
        ignore_outcome: bool = False,
        skip: bool = False,
    ) -> Step:
        """Replace a step's action, target, value and flags; ``canonical_id`` must be the step's own."""
        body: dict[str, Any] = {
            "id": step_id,
            "canonicalId": canonical_id,
            **parsed_step.to_payload(),
            "optional": optional,
            "ignoreOutcome": ignore_outcome,
            "skip": skip,
        }
        envelope = await self._http.request(
            "PUT", f"/teststeps/{step_id}/properties", json_body=body, resource=f"step {step_id}"
        )
        return envelope.one(Step)
