"""Bounded integers for path, query and form parameters.

A plain `int` takes any size, and a number beyond the column's range fails at the database (a
500); these carry the range of the column they name, so FastAPI refuses the rest with a located
422 like any other bad parameter, and the OpenAPI schema states the range."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

INT32_MAX = 2**31 - 1  # sa.Integer on PostgreSQL
INT64_MAX = 2**63 - 1  # sa.BigInteger on PostgreSQL, and every SQLite integer

VersionNumber = Annotated[int, Interval(ge=1, le=INT32_MAX)]
"""A config version's number (config_versions.number, an INTEGER)."""

RowId = Annotated[int, Interval(ge=1, le=INT64_MAX)]
"""A stored row's id (a BIGINT identity: jobs, notifications...)."""
