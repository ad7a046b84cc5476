"""Environments and test-data tables."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from virtuoso_api.sandbox._deps import State, ok
from virtuoso_api.sandbox.bodies import EnvironmentCreate, TableCreate, TableImport
from virtuoso_api.sandbox.errors import bad_request
from virtuoso_api.sandbox.records import EnvironmentRecord, TableRecord

router = APIRouter()


@router.post("/environments")
async def create_environment(body: EnvironmentCreate, state: State) -> dict[str, Any]:
    record = EnvironmentRecord(
        id=state.new_id(),
        name=body.name,
        description=body.description,
        variables=dict(body.variables),
        created_at=state.now(),
    )
    state.environments[record.id] = record
    return ok(record.to_json())


@router.post("/testdata/tables/create")
async def create_table(body: TableCreate, state: State) -> dict[str, Any]:
    if len(set(body.columns)) != len(body.columns):
        raise bad_request("columns must have distinct names")
    now = state.now()
    record = TableRecord(
        id=state.new_id(),
        name=body.name,
        description=body.description,
        columns=list(body.columns),
        created_at=now,
        updated_at=now,
    )
    state.tables[record.id] = record
    return ok(record.to_json())


@router.get("/testdata/tables/{table_id}")
async def get_table(table_id: int, state: State) -> dict[str, Any]:
    return ok(state.table(table_id).to_json())


@router.post("/testdata/tables/{table_id}/import")
async def import_rows(table_id: int, body: TableImport, state: State) -> dict[str, Any]:
    """Append CSV rows; ``data[0]`` is the header and must name the table's columns in order."""
    table = state.table(table_id)
    if body.table_id != table_id:
        raise bad_request(f"tableId {body.table_id} does not match table {table_id}")
    header, *rows = body.data
    if header != table.columns:
        raise bad_request(f"the header {header} does not match the table's columns {table.columns}")
    for number, row in enumerate(rows, start=2):
        if len(row) != len(table.columns):
            raise bad_request(
                f"row {number} has {len(row)} values; the table has {len(table.columns)} columns"
            )
    table.rows.extend(list(row) for row in rows)
    table.updated_at = state.now()
    return {
        "success": True,
        "item": {"tableId": table.id, "imported": len(rows), "rowCount": len(table.rows)},
    }
