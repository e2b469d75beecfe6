"""Retry policy: exponential backoff with jitter, honouring Retry-After. Pure.

Backoff doubles from SIEMHUB_BACKOFF_INITIAL_S (1 s) up to SIEMHUB_BACKOFF_MAX_S (300 s) with
"equal jitter" (half fixed, half random) so that many senders recovering together do not
stampede the SIEM, while the wait never drops below half the nominal delay. A Retry-After
from the destination is a floor (capped at one hour so a bogus header cannot park an
integration for days).
"""

from __future__ import annotations

import random

RETRY_AFTER_CAP_S = 3600.0


def backoff_seconds(
    failures: int,
    *,
    initial: float = 1.0,
    maximum: float = 300.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Delay before the next attempt after ``failures`` consecutive failures (>= 1)."""
    nominal = min(maximum, initial * (2 ** max(0, failures - 1)))
    jittered = nominal / 2 + (rng or random).uniform(0, nominal / 2)
    if retry_after is not None:
        jittered = max(jittered, min(retry_after, RETRY_AFTER_CAP_S))
    return jittered
