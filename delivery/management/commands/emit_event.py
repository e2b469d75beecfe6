"""Emit events from a file or stdin: one JSON event, a JSON array, or JSON lines."""

import sys

import orjson
from django.core.management.base import BaseCommand, CommandError

from delivery.normalize import EventValidationError
from delivery.services import event_emit


def read_events(text: str) -> list:
    text = text.strip()
    if not text:
        return []
    try:
        value = orjson.loads(text)
        return value if isinstance(value, list) else [value]
    except orjson.JSONDecodeError:
        pass
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise CommandError(f"line {number}: not valid JSON ({exc})") from None
    return events


class Command(BaseCommand):
    help = "Emit events from FILE (or stdin with '-'): a JSON object, a JSON array or JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-")

    def handle(self, *args, **opts):
        source = sys.stdin.read() if opts["file"] == "-" else open(opts["file"], encoding="utf-8").read()
        events = read_events(source)
        if not events:
            raise CommandError("no events in the input")
        try:
            ids = event_emit(events)
        except EventValidationError as exc:
            raise CommandError("invalid events, nothing stored:\n" + "\n".join(
                f"  event {p['index']}: {p['field']}: {p['message']}" for p in exc.problems)) from None
        for event_id in ids:
            self.stdout.write(event_id)
        self.stderr.write(f"accepted {len(ids)} event(s)")
