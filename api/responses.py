"""Responses whose rows PostgreSQL has already turned into JSON.

For the reports, building the JSON in the query (array_to_json of the rows: compact, with no line breaks, unlike json_agg) is several times cheaper than fetching rows into
Python, validating them and serialising them again. The route still declares its response model, so /docs
and the OpenAPI schema describe the body; the tests and the schemathesis run check that the body matches it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Response


def items_json(query: str, order_by: str) -> str:
    """Wrap a query so that it returns its rows as one JSON array of objects, in `order_by` order."""
    return f"select coalesce(array_to_json(array_agg(r order by {order_by})), '[]'::json)::text from ({query}) as r"


def json_items(items: str, key: str = "items", **fields: Any) -> Response:
    """{key: <the JSON array from PostgreSQL>, **fields}."""
    # Compact, as PostgreSQL writes the rows and FastAPI its own responses: one spacing style per body.
    head = json.dumps(fields, default=str, ensure_ascii=False, separators=(",", ":"))[1:-1]
    body = f'{{"{key}":{items}{"," + head if head else ""}}}'
    return Response(content=body.encode(), media_type="application/json")
