"""The instant every test starts at, unless it sets the clock itself.

10:00 in Moscow on an ordinary school Tuesday: outside the default quiet hours (21:00-07:00)
and before the default digest time (19:00). The clock then runs on at real speed, so leases
and timeouts behave as they would; a test about a particular hour sets it (`clock.set(...)`)
or freezes it (`clock.freeze()`).
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")
SCHOOL_MORNING = dt.datetime(2026, 3, 10, 10, 0, tzinfo=MOSCOW)
TODAY = SCHOOL_MORNING.date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def moscow(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=MOSCOW)


def real_time_env() -> dict[str, str]:
    """This environment without a faked machine clock (faketime's preload), for the services
    a test starts beside the hub (redis-server, Chromium): the suite must pass with the
    machine's clock set to any hour, and they do not run under the preload."""
    return {key: value for key, value in os.environ.items()
            if key != "LD_PRELOAD" and not key.startswith("FAKETIME")}
