"""Schemathesis hooks for UnionHall's CI run (loaded via SCHEMATHESIS_HOOKS).

Rider rosters are also accepted as NDJSON (`application/x-ndjson`), which schemathesis
can't serialise by itself: one JSON document per line.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    rows = value if isinstance(value, list) else [value]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
