"""Model Monitor's schedule expressions: `cron(0 <hours> ? * * *)` (hourly, every N hours, or at
given hours, always on the hour) and `NOW` (one run, right away)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_CRON = re.compile(r"^cron\((?P<body>[^)]*)\)$")
_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$"
)


class CronError(ValueError):
    pass


def hours_of(expression: str) -> set[int]:
    """The hours of the day the schedule fires (at minute 0); CronError for what SageMaker
    refuses."""
    found = _CRON.match(expression.strip())
    fields = found.group("body").split() if found else []
    if len(fields) != 6 or fields[0] != "0" or fields[2] not in ("?", "*") or fields[3] != "*" \
            or fields[4] not in ("*", "?") or fields[5] != "*":  # fmt: skip
        raise CronError(
            f"Invalid ScheduleExpression '{expression}': Model Monitor runs on the hour, e.g. "
            "cron(0 * ? * * *) hourly, cron(0 */6 ? * * *) every 6 hours, cron(0 8 ? * * *) daily "
            "at 08:00 UTC, or NOW for one run."
        )
    hour = fields[1]
    if hour == "*":
        return set(range(24))
    if hour.startswith("*/") and hour[2:].isdigit() and 1 <= int(hour[2:]) <= 24:
        return set(range(0, 24, int(hour[2:])))
    try:
        hours = {int(h) for h in hour.split(",")}
    except ValueError:
        raise CronError(
            f"Invalid hour field '{hour}' in ScheduleExpression '{expression}'."
        ) from None
    if not hours <= set(range(24)):
        raise CronError(f"Hours in ScheduleExpression '{expression}' must be 0-23.")
    return hours


def last_fire(expression: str, now: datetime) -> datetime:
    """The latest time at or before `now` the schedule fired."""
    hours = hours_of(expression)
    moment = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    for _ in range(48):
        if moment.hour in hours:
            return moment
        moment -= timedelta(hours=1)
    return moment


def offset(text: str | None, default: timedelta) -> timedelta:
    """An ISO 8601 duration offset such as -PT1H or -P2D."""
    if not text:
        return default
    found = _DURATION.match(text)
    if not found:
        raise CronError(
            f"Invalid time offset '{text}' (use an ISO 8601 duration such as -PT1H or -P1D)."
        )
    delta = timedelta(days=int(found.group("days") or 0), hours=int(found.group("hours") or 0),
                      minutes=int(found.group("minutes") or 0))  # fmt: skip
    return -delta if found.group("sign") else delta
