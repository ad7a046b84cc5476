"""Where a suite's steps go: project, goal, journey and checkpoints, found by name before created.

The rules (README, "Test suites"):

* **Project**: ``--project NAME|ID``, else the file's ``project``, else ``SUITE_DEFAULT_PROJECT``.
  An id must exist; a name is looked up among the organization's projects and created if absent.
* **Goal**: the file's ``goal`` (id or name), else one named after the test; created with the file's
  starting URL (or its first navigation's) when absent.
* **Journey**: the file's ``journey``, else one named after the test (title or name). A goal made now
  comes with a first journey (as the Virtuoso UI makes it): it is renamed after the test rather than
  left empty beside a second one.
* **Checkpoints**: one per section that has steps (``setup``, ``steps``/``do``, ``teardown``), titled
  ``Setup``, ``Steps`` (or the file's ``checkpoint`` name), ``Teardown``, attached to the journey in
  that order after what it already holds.
* **A re-run replaces the steps**: a checkpoint found by its title that already holds exactly the
  suite's steps is kept as it is (nothing is sent; an unchanged file re-runs for free). Otherwise its
  steps are deleted and the suite's added, so the journey is what the file says and executing it runs
  each step once. (A new version would leave the old checkpoint attached and running beside the new
  one: Virtuoso's API offers no detaching.) Deleting uses ``DELETE /teststeps/{id}``, UNVERIFIED.
* **``--checkpoint ID``** (or a checkpoint id in the file): the steps are appended to that checkpoint
  and nothing is deleted or created; the journey is the one of its goal version that holds it.

Look-ups are cached per run (:class:`Lookups`) and single-flight, so files run together that name
the same project or goal find (or create) it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from virtuoso_api.commands.inflight import same_step
from virtuoso_api.errors import InvalidInput, NotFound
from virtuoso_api.suites.model import Ref, Section, Suite
from virtuoso_api.suites.results import PlacedCheckpoint, Placement
from virtuoso_api.virtuoso import VirtuosoClient
from virtuoso_api.virtuoso.models import Checkpoint, Goal, Journey, Project, Step

T = TypeVar("T")

_PAGE = 100
_SECTION_TITLES = {"setup": "Setup", "steps": "Steps", "teardown": "Teardown"}


@dataclass(frozen=True, slots=True)
class PlacementOptions:
    project: str | None = None  # --project NAME|ID, over the file's
    checkpoint_id: int | None = None  # --checkpoint ID, over the file's
    default_project: str = "Virtuoso API suites"


class Lookups:
    """One run's answers from Virtuoso, each asked once: concurrent askers share the first ask."""

    def __init__(self, client: VirtuosoClient) -> None:
        self.client = client
        self._answers: dict[tuple[Any, ...], asyncio.Future[Any]] = {}
        self._locks: dict[tuple[Any, ...], asyncio.Lock] = {}

    async def once(self, key: tuple[Any, ...], ask: Callable[[], Awaitable[T]]) -> T:
        known = self._answers.get(key)
        if known is None:
            known = self._answers[key] = asyncio.ensure_future(ask())
        try:
            return await asyncio.shield(known)
        except BaseException:
            if self._answers.get(key) is known and known.done():
                del self._answers[key]  # a failed ask is asked again next time
            raise

    def lock(self, key: tuple[Any, ...]) -> asyncio.Lock:
        """Held around find-or-create, so two files never both create what neither found."""
        return self._locks.setdefault(key, asyncio.Lock())

    def forget(self, key: tuple[Any, ...]) -> None:
        self._answers.pop(key, None)


def section_title(suite: Suite, section: Section) -> str:
    key = "steps" if section.name == "do" else section.name
    if key == "steps" and suite.infrastructure.checkpoint and suite.infrastructure.checkpoint.name:
        return suite.infrastructure.checkpoint.name
    return _SECTION_TITLES.get(key, section.name)


def suite_payloads(section: Section) -> list[dict[str, Any]]:
    return [step.parsed.step.to_payload() for step in section.steps]


def unchanged(stored: Sequence[Step], wanted: Sequence[dict[str, Any]]) -> bool:
    return len(stored) == len(wanted) and all(
        same_step(step, payload) for step, payload in zip(stored, wanted, strict=True)
    )


class Placer:
    def __init__(self, lookups: Lookups, options: PlacementOptions) -> None:
        self._lookups = lookups
        self._client = lookups.client
        self._options = options

    async def place(self, suite: Suite) -> Placement:
        infrastructure = suite.infrastructure
        checkpoint_id = self._options.checkpoint_id or (
            infrastructure.checkpoint.id if infrastructure.checkpoint else None
        )
        if checkpoint_id is not None:
            return await self._existing_checkpoint(checkpoint_id)
        created: list[str] = []
        project = await self._project(suite, created)
        goal, snapshot_id = await self._goal(suite, project, created)
        journey = await self._journey(suite, goal, snapshot_id, created)
        checkpoints = await self._checkpoints(suite, journey)
        return Placement(
            project_id=project.id,
            goal_id=goal.id,
            snapshot_id=snapshot_id,
            journey_id=journey.id,
            checkpoints=checkpoints,
            created=created,
        )

    # -- project ---------------------------------------------------------------------------------
    async def _project(self, suite: Suite, created: list[str]) -> Project:
        given = self._options.project
        if given is not None:
            given = given.strip()
            if not given:
                raise InvalidInput("--project", "must be a project's name or id")
            ref = Ref(id=int(given)) if given.isdigit() else Ref(name=given)
        else:
            ref = suite.infrastructure.project or Ref(name=self._options.default_project)
        projects = await self._lookups.once(("projects",), self._all_projects)
        if ref.id is not None:
            for project in projects:
                if project.id == ref.id:
                    return project
            raise NotFound(f"project {ref.id} not found in Virtuoso (or not visible to this token)")
        assert ref.name is not None
        async with self._lookups.lock(("project", ref.name)):
            projects = await self._lookups.once(("projects",), self._all_projects)
            for project in projects:
                if project.name == ref.name:
                    return project
            project = await self._client.create_project(ref.name, description="Made by virtuoso-api suites")
            projects.append(project)
            created.append("project")
            return project

    async def _all_projects(self) -> list[Project]:
        found: list[Project] = []
        while True:
            page = await self._client.list_projects(limit=_PAGE, offset=len(found))
            found.extend(page)
            if len(page) < _PAGE:
                return found

    # -- goal ------------------------------------------------------------------------------------
    async def _goal(self, suite: Suite, project: Project, created: list[str]) -> tuple[Goal, int]:
        ref = suite.infrastructure.goal or Ref(name=suite.name)
        key = ("goals", project.id)
        async with self._lookups.lock(("goal", project.id, ref.id, ref.name)):
            goals = await self._lookups.once(key, lambda: self._client.list_goals(project.id))
            for goal in goals:
                if (ref.id is not None and goal.id == ref.id) or (ref.id is None and goal.name == ref.name):
                    return goal, await self._snapshot(goal.id)
            if ref.id is not None:
                raise NotFound(f"goal {ref.id} not found in project {project.id}")
            url = suite.starting_url or _first_navigation(suite)
            if url is None:
                raise InvalidInput(
                    "starting_url",
                    f"goal {ref.name!r} does not exist yet and the suite gives no starting URL to make "
                    "it with: add starting_url (or url, nav) to the file",
                )
            assert ref.name is not None
            goal = await self._client.create_goal(project.id, ref.name, url)
            assert goal.snapshot_id is not None  # create_goal reads it from the goal's versions
            goals.append(goal)
            created.append("goal")
            return goal, goal.snapshot_id

    async def _snapshot(self, goal_id: int) -> int:
        client = self._client
        return await self._lookups.once(("snapshot", goal_id), lambda: client.first_snapshot_id(goal_id))

    # -- journey ---------------------------------------------------------------------------------
    async def _journey(self, suite: Suite, goal: Goal, snapshot_id: int, created: list[str]) -> Journey:
        ref = suite.infrastructure.journey or Ref(name=suite.name)
        async with self._lookups.lock(("journey", goal.id, ref.id, ref.name)):
            journeys = await self._client.snapshot_journeys(goal.id, snapshot_id)
            for journey in journeys:
                if ref.id is not None and journey.id == ref.id:
                    return journey
                if ref.id is None and ref.name in (journey.title, journey.name):
                    return journey
            if ref.id is not None:
                raise NotFound(f"journey {ref.id} not found in goal {goal.id}")
            assert ref.name is not None
            if "goal" in created and len(journeys) == 1 and not _has_own_steps(journeys[0]):
                # The goal's own first journey, made with it a moment ago: it becomes the test's.
                journey = await self._client.update_journey(journeys[0].id, title=ref.name)
            else:
                journey = await self._client.create_journey(goal.id, snapshot_id, ref.name)
                created.append("journey")
            return journey

    # -- checkpoints -----------------------------------------------------------------------------
    async def _checkpoints(self, suite: Suite, journey: Journey) -> list[PlacedCheckpoint]:
        current = await self._client.get_journey(journey.id)
        by_title: dict[str, Checkpoint] = {}
        for case in current.cases[1:]:  # the first is the goal's navigation
            by_title.setdefault(case.title, case)
        placed: list[PlacedCheckpoint] = []
        for section in suite.sections:
            if not section.steps:
                continue
            title = section_title(suite, section)
            found = by_title.get(title)
            if found is None:
                checkpoint = await self._client.add_checkpoint(journey, title)
                placed.append(
                    PlacedCheckpoint(
                        section=section.name, title=title, checkpoint_id=checkpoint.id, created=True
                    )
                )
                continue
            stored = await self._client.list_steps(found.id)
            if unchanged(stored, suite_payloads(section)):
                placed.append(
                    PlacedCheckpoint(
                        section=section.name,
                        title=title,
                        checkpoint_id=found.id,
                        created=False,
                        unchanged=True,
                        kept_step_ids=[step.id for step in stored],
                    )
                )
                continue
            for step in stored:
                await self._client.delete_step(step.id)
            placed.append(
                PlacedCheckpoint(
                    section=section.name,
                    title=title,
                    checkpoint_id=found.id,
                    created=False,
                    replaced_steps=len(stored),
                )
            )
        return placed

    async def _existing_checkpoint(self, checkpoint_id: int) -> Placement:
        checkpoint = await self._client.get_checkpoint(checkpoint_id)
        goal_id, snapshot_id = checkpoint.goal_id, checkpoint.snapshot_id
        project_id = journey_id = None
        if goal_id is not None:
            goal = await self._lookups.once(("goal", goal_id), lambda: self._client.get_goal(goal_id))
            project_id = goal.project_id
            if snapshot_id is not None:
                journeys = await self._client.snapshot_journeys(goal_id, snapshot_id)
                journey_id = next(
                    (j.id for j in journeys if any(case.id == checkpoint_id for case in j.cases)), None
                )
        placed = PlacedCheckpoint(
            section="checkpoint", title=checkpoint.title, checkpoint_id=checkpoint_id, created=False
        )
        return Placement(
            project_id=project_id,
            goal_id=goal_id,
            snapshot_id=snapshot_id,
            journey_id=journey_id,
            checkpoints=[placed],
            appended=True,
        )


def _first_navigation(suite: Suite) -> str | None:
    for step in suite.steps:
        if step.parsed.step.action.value == "NAVIGATE" and step.parsed.step.value:
            return step.parsed.step.value
    return None


def _has_own_steps(journey: Journey) -> bool:
    return len(journey.cases) > 1
