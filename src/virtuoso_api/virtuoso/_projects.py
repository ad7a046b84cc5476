"""Projects and goals (with their snapshots)."""

from __future__ import annotations

from typing import Any

from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso._base import ClientBase
from virtuoso_api.virtuoso.errors import VirtuosoProtocolError
from virtuoso_api.virtuoso.models import Goal, GoalVersions, Project

# What the Virtuoso UI sends for a new goal; the original client sent exactly these defaults.
_GOAL_META: dict[str, Any] = {
    "onlyManagersCanPublishJourneys": None,
    "disableSameOrigin": False,
    "disableEventLogs": False,
    "bridgeClientUuid": None,
    "defaultMaxParallelism": None,
    "maxParallelism": None,
    "legacyElementSelection": None,
    "clientSideLibraryShimsEnabled": False,
    "popupAutoDismiss": True,
    "waitForNetworkTraffic": None,
    "failScriptOnNavigate": None,
}


class ProjectsApi(ClientBase):
    # GET /projects?organizationId=&limit=&offset=  (paging by limit/offset is UNVERIFIED: the original's)
    async def list_projects(self, *, limit: int = 100, offset: int = 0) -> list[Project]:
        """The organization's projects in id order (all projects the token sees if no org id is set)."""
        params: dict[str, str | int | bool] = {"limit": limit, "offset": offset}
        if self._org_id is not None:
            params["organizationId"] = self._org_id
        envelope = await self._http.request("GET", "/projects", params=params)
        return envelope.many(Project)

    # POST /projects
    async def create_project(self, name: str, *, description: str = "") -> Project:
        if self._org_id is None:
            raise InvalidInput("VIRTUOSO_ORG_ID", "must be set to create a project in Virtuoso")
        body: dict[str, Any] = {"name": name, "organizationId": self._org_id}
        if description:
            body["description"] = description
        envelope = await self._http.request("POST", "/projects", json_body=body)
        return envelope.one(Project)

    # GET /projects/{projectId}/goals?archived=false
    async def list_goals(self, project_id: int, *, archived: bool = False) -> list[Goal]:
        envelope = await self._http.request(
            "GET",
            f"/projects/{project_id}/goals",
            params={"archived": archived},
            resource=f"project {project_id}",
        )
        return envelope.many(Goal)

    # POST /goals, then GET /goals/{goalId}/versions
    async def create_goal(
        self, project_id: int, name: str, url: str, *, width: int = 1280, height: int = 800
    ) -> Goal:
        """Create a goal (with its first journey, as the Virtuoso UI does) and fill in its snapshot id.

        The snapshot comes from ``/goals/{id}/versions``, which the original client also trusted over
        the create answer.
        """
        body: dict[str, Any] = {
            "projectId": project_id,
            "name": name,
            "url": url,
            "environmentId": None,
            "deviceSize": {"width": width, "height": height},
            "createFirstJourney": True,
            "meta": dict(_GOAL_META),
        }
        envelope = await self._http.request(
            "POST", "/goals", json_body=body, resource=f"project {project_id}"
        )
        goal = envelope.one(Goal)
        snapshot_id = await self.first_snapshot_id(goal.id)
        return goal.model_copy(update={"snapshot_id": snapshot_id})

    # GET /goals/{goalId}?envelope=false  (SpotQA's CI script reads ``projectId`` from it)
    async def get_goal(self, goal_id: int) -> Goal:
        envelope = await self._http.request(
            "GET", f"/goals/{goal_id}", params={"envelope": False}, resource=f"goal {goal_id}"
        )
        return envelope.one(Goal)

    # GET /goals/{goalId}/versions
    async def goal_versions(self, goal_id: int) -> GoalVersions:
        envelope = await self._http.request("GET", f"/goals/{goal_id}/versions", resource=f"goal {goal_id}")
        return envelope.one(GoalVersions)

    async def first_snapshot_id(self, goal_id: int) -> int:
        """The goal's latest version (SpotQA's client: ``snapshots[0].snapshotId``), which new journeys
        and runs of this goal use."""
        versions = await self.goal_versions(goal_id)
        if not versions.snapshots:
            request = f"GET /goals/{goal_id}/versions"
            raise VirtuosoProtocolError(f"Virtuoso lists no snapshot for goal {goal_id}", request=request)
        return versions.snapshots[0].snapshot_id
