"""When a delivery is due: quiet hours push an instant message to their end, a digest goes
at the person's digest time. Computed in the school's time zone, stored in UTC.

The zone is one per deployment (Settings.timezone). The composition root sets it with
`configure`; until then it is read from the settings once.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hub.notify.preferences import Preferences

_zone: ZoneInfo | None = None


def configure(zone: ZoneInfo) -> None:
    global _zone
    _zone = zone


def school_zone() -> ZoneInfo:
    global _zone
    if _zone is None:
        try:
            from hub.config import Settings

            _zone = Settings().tz
        except Exception:  # a bad setting is reported by whoever starts the process
            _zone = ZoneInfo("Europe/Moscow")
    return _zone


def instant_due(prefs: Preferences, now: dt.datetime, *, urgent: bool = False) -> dt.datetime:
    """Now, or the end of the person's quiet hours when now falls inside them."""
    if urgent or prefs.quiet is None:
        return now
    zone = school_zone()
    local = now.astimezone(zone)
    if not prefs.is_quiet(local.time().replace(tzinfo=None)):
        return now
    end = prefs.quiet[1]
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = _on_day(local.date() + dt.timedelta(days=1), end, zone)
    return candidate.astimezone(dt.UTC)


def digest_slot(prefs: Preferences, now: dt.datetime) -> dt.datetime:
    """The next digest time strictly after now (UTC)."""
    zone = school_zone()
    local = now.astimezone(zone)
    candidate = _on_day(local.date(), prefs.digest_at, zone)
    if candidate <= local:
        candidate = _on_day(local.date() + dt.timedelta(days=1), prefs.digest_at, zone)
    return candidate.astimezone(dt.UTC)


def _on_day(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)


def digest_key(person_id: int, channel: str, slot: dt.datetime) -> str:
    return f"{person_id}:{channel}:{slot.astimezone(dt.UTC):%Y-%m-%dT%H:%M}"
