"""Logging safety net: no secret reaches a log line, whatever the code above it did."""

from __future__ import annotations

import logging

from siemhub.redaction import scrub


class RedactingFilter(logging.Filter):
    """Scrub known secret values and auth header values from every record (message,
    arguments and traceback text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
