"""OpenAPI 3.1 path items of the forum's /api/ routes."""

from typing import Any

PATHS: dict[str, Any] = {}
SCHEMAS: dict[str, Any] = {}
