"""Running tests: goal executions, their analysis, environments and test data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from virtuoso_api.virtuoso._base import ClientBase
from virtuoso_api.virtuoso.models import Environment, Execution, ExecutionAnalysis, TestDataTable


class RunsApi(ClientBase):
    # POST /goals/{goalId}/snapshots/{snapshotId}/execute
    async def execute_goal(self, goal_id: int, snapshot_id: int) -> Execution:
        """Start running every journey of the goal snapshot; never retried once sent (no double runs)."""
        envelope = await self._http.request(
            "POST",
            f"/goals/{goal_id}/snapshots/{snapshot_id}/execute",
            json_body={"goalId": goal_id, "snapshotId": snapshot_id},
            resource=f"snapshot {snapshot_id} of goal {goal_id}",
        )
        return envelope.one(Execution)

    # GET /executions/{executionId}
    async def get_execution(self, execution_id: str) -> Execution:
        """The execution's status and progress; poll until :attr:`Execution.finished`."""
        envelope = await self._http.request(
            "GET", f"/executions/{execution_id}", resource=f"execution {execution_id}"
        )
        return envelope.one(Execution)

    # GET /executions/analysis/{executionId}[?includeAI=true]
    async def get_execution_analysis(
        self, execution_id: str, *, include_ai: bool = False
    ) -> ExecutionAnalysis:
        envelope = await self._http.request(
            "GET",
            f"/executions/analysis/{execution_id}",
            params={"includeAI": True} if include_ai else None,
            resource=f"execution {execution_id}",
        )
        return envelope.one(ExecutionAnalysis)

    # POST /environments
    async def create_environment(
        self, name: str, *, description: str = "", variables: Mapping[str, str] | None = None
    ) -> Environment:
        body = {"name": name, "description": description, "variables": dict(variables or {})}
        envelope = await self._http.request("POST", "/environments", json_body=body)
        return envelope.one(Environment)

    # POST /testdata/tables/create
    async def create_test_data_table(
        self, name: str, columns: Sequence[str], *, description: str = ""
    ) -> TestDataTable:
        body = {"name": name, "description": description, "columns": list(columns)}
        envelope = await self._http.request("POST", "/testdata/tables/create", json_body=body)
        return envelope.one(TestDataTable)

    # GET /testdata/tables/{tableId}
    async def get_test_data_table(self, table_id: int) -> TestDataTable:
        envelope = await self._http.request(
            "GET", f"/testdata/tables/{table_id}", resource=f"test data table {table_id}"
        )
        return envelope.one(TestDataTable)

    # POST /testdata/tables/{tableId}/import
    async def import_test_data(self, table_id: int, rows: Sequence[Sequence[str]]) -> None:
        """Append rows, given as a CSV file reads: ``rows[0]`` is the header naming the columns."""
        body = {"tableId": table_id, "data": [list(row) for row in rows], "format": "csv"}
        await self._http.request(
            "POST",
            f"/testdata/tables/{table_id}/import",
            json_body=body,
            resource=f"test data table {table_id}",
        )
