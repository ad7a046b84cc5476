"""Environments and test-data tables.

UNVERIFIED: these endpoints and bodies come from the original system only (``virtuoso-evidence.md``
lists "environments and test-data endpoints" as unverified); kept as the original used them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from virtuoso_api.virtuoso._base import ClientBase
from virtuoso_api.virtuoso.models import Environment, TestDataTable


class DataApi(ClientBase):
    # POST /environments  (unverified)
    async def create_environment(
        self, name: str, *, description: str = "", variables: Mapping[str, str] | None = None
    ) -> Environment:
        body = {"name": name, "description": description, "variables": dict(variables or {})}
        envelope = await self._http.request("POST", "/environments", json_body=body)
        return envelope.one(Environment)

    # POST /testdata/tables/create  (unverified)
    async def create_test_data_table(
        self, name: str, columns: Sequence[str], *, description: str = ""
    ) -> TestDataTable:
        body = {"name": name, "description": description, "columns": list(columns)}
        envelope = await self._http.request("POST", "/testdata/tables/create", json_body=body)
        return envelope.one(TestDataTable)

    # GET /testdata/tables/{tableId}  (unverified)
    async def get_test_data_table(self, table_id: int) -> TestDataTable:
        envelope = await self._http.request(
            "GET", f"/testdata/tables/{table_id}", resource=f"test data table {table_id}"
        )
        return envelope.one(TestDataTable)

    # POST /testdata/tables/{tableId}/import  (unverified)
    async def import_test_data(self, table_id: int, rows: Sequence[Sequence[str]]) -> None:
        """Append rows, given as a CSV file reads: ``rows[0]`` is the header naming the columns."""
        body = {"tableId": table_id, "data": [list(row) for row in rows], "format": "csv"}
        await self._http.request(
            "POST",
            f"/testdata/tables/{table_id}/import",
            json_body=body,
            resource=f"test data table {table_id}",
        )
