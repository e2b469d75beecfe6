"""Raw, set-based writes to the outbox tables: the ingest hot path.

One INSERT ... ON CONFLICT DO NOTHING RETURNING per chunk stores events idempotently (the
same event id twice is stored once) and tells which ids are new; one INSERT fans the new
events out to Delivery rows. Works on PostgreSQL and SQLite (>= 3.35).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from delivery.formats.jsonenc import dumps_str
from delivery.formats.timefmt import parse_iso
from delivery.models import Delivery, Event

CHUNK = 500


def _chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def events_insert(events: Sequence[dict[str, Any]], *, received_at: datetime) -> set[str]:
    """Insert canonical events; return the ids that were new (not stored before)."""
    if connection.vendor == "postgresql":
        return _pg_events_insert(events, received_at=received_at)
    table = Event._meta.db_table
    vendor = connection.vendor
    new_ids: set[str] = set()
    with connection.cursor() as cursor:
        for chunk in _chunks(events):
            params: list[Any] = []
            for event in chunk:
                event_id = event["id"] if vendor == "postgresql" else event["id"].replace("-", "")
                params += [
                    event_id,
                    event["type"],
                    event["severity"],
                    parse_iso(event["timestamp"]),
                    event.get("org_id") or "",
                    dumps_str(event),
                    received_at,
                ]
            values = ",".join(["(%s,%s,%s,%s,%s,%s,%s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (id, type, severity, timestamp, org_id, payload, received_at) "
                f"VALUES {values} ON CONFLICT (id) DO NOTHING RETURNING id",
                params,
            )
            for (value,) in cursor.fetchall():
                new_ids.add(_uuid_text(value))
    return new_ids


def deliveries_insert(pairs: Sequence[tuple[str, str]], *, created_at: datetime) -> None:
    """Insert Delivery rows for (integration_id, event_id) pairs, in the given order."""
    table = Delivery._meta.db_table
    if connection.vendor == "postgresql":
        # unnest + server-side binding: a constant-size statement whatever the row count.
        # (Django's psycopg cursor binds client-side, quoting every array element with a regex
        # in Python: that was 60 % of ingest time.) WITH ORDINALITY keeps the event order.
        with _pg_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (integration_id, event_id, attempts, last_error, created_at) "
                "SELECT i, e, 0, '', %s FROM unnest(%b::uuid[], %b::uuid[]) WITH ORDINALITY AS t(i, e, n) ORDER BY n",
                [created_at, [uuid.UUID(p[0]) for p in pairs], [uuid.UUID(p[1]) for p in pairs]],
                binary=True,
            )
        return
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for chunk in _chunks(pairs):
            params: list[Any] = []
            for integration_id, event_id in chunk:
                if vendor != "postgresql":
                    integration_id, event_id = integration_id.replace("-", ""), event_id.replace("-", "")
                params += [integration_id, event_id, 0, "", created_at]
            values = ",".join(["(%s,%s,%s,%s,%s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (integration_id, event_id, attempts, last_error, created_at) VALUES {values}",
                params,
            )


def _pg_cursor() -> Any:
    """A server-side-binding psycopg cursor on Django's own connection (same transaction)."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _pg_events_insert(events: Sequence[dict[str, Any]], *, received_at: datetime) -> set[str]:
    table = Event._meta.db_table
    with _pg_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, type, severity, timestamp, org_id, payload, received_at) "
            "SELECT id, type, severity, ts, org, payload, %s FROM unnest("
            "%b::uuid[], %b::text[], %b::text[], %b::timestamptz[], %b::text[], %b::text[]) "
            "AS t(id, type, severity, ts, org, payload) ON CONFLICT (id) DO NOTHING RETURNING id",
            [
                received_at,
                [uuid.UUID(e["id"]) for e in events],
                [e["type"] for e in events],
                [e["severity"] for e in events],
                [parse_iso(e["timestamp"]) for e in events],
                [e.get("org_id") or "" for e in events],
                [dumps_str(e) for e in events],
            ],
            binary=True,  # %b: binary arrays, no per-element text escaping in Python
        )
        return {str(row[0]) for row in cursor.fetchall()}


def _uuid_text(value: Any) -> str:
    text = str(value)
    if len(text) == 32:  # SQLite stores UUIDs as 32 hex characters
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def deliveries_delete(row_ids: Sequence[int]) -> None:
    """Delete delivered / dead-lettered Delivery rows by id (one statement on PostgreSQL)."""
    if not row_ids:
        return
    if connection.vendor == "postgresql":
        with _pg_cursor() as cursor:
            cursor.execute(f"DELETE FROM {Delivery._meta.db_table} WHERE id = ANY(%b::bigint[])", [list(row_ids)])
        return
    for chunk in _chunks(list(row_ids)):
        Delivery.objects.filter(id__in=chunk).delete()
