"""Compact JSON encoding shared by every connector (orjson: UTF-8, no spaces, stable)."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Encode to compact UTF-8 JSON bytes. Non-string dict keys are converted to strings."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def dumps_str(value: Any) -> str:
    return dumps(value).decode("utf-8")


def loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)
