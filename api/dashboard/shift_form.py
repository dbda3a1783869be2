"""The shift form: what an organizer or lead typed, read in the campaign's time zone and checked,
with an error per field in words the page shows next to it."""
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from campaign.models import Shift, utcnow

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
MAX_PLACE = 200
MAX_CAPACITY = 100000


@dataclass
class ShiftForm:
    """The typed values, kept as typed so the page can show them again with its errors."""

    values: dict
    errors: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str = ""
    capacity: int | None = None
    team_id: int | None = None


def local_value(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime(LOCAL_FORMAT) if moment else ""


BLANK = {"team": "", "starts_at": "", "ends_at": "", "place": "", "capacity": "10"}


def of_shift(shift: Shift, timezone: str) -> dict:
    return {"starts_at": local_value(shift.starts_at, timezone), "ends_at": local_value(shift.ends_at, timezone),
            "place": shift.place, "capacity": str(shift.capacity)}


def _local_time(text: str, timezone: str) -> datetime:
    """A wall-clock time in the campaign's zone, as UTC. A time the clocks skip does not exist."""
    naive = datetime.fromisoformat(text.strip().replace(" ", "T"))
    if naive.tzinfo is not None:
        raise ValueError("give the local time, without a zone")
    zone = ZoneInfo(timezone)
    moment = naive.replace(tzinfo=zone).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != naive:
        raise LookupError("the clocks skip this time")
    return moment


def read(form: dict, timezone: str, teams: dict[str, int] | None = None) -> ShiftForm:
    """Check a posted shift form. `teams` (slug -> id, only those the viewer may use) is given
    when a team is chosen, that is when creating."""
    values = {key: str(form.get(key, "")).strip() for key in ("team", "starts_at", "ends_at", "place", "capacity")}
    result = ShiftForm(values=values)
    errors = result.errors
    if teams is not None:
        if not values["team"]:
            errors["team"] = "Choose the team."
        elif values["team"] not in teams:
            errors["team"] = f"There is no team {values['team']!r} that you can add shifts to."
        else:
            result.team_id = teams[values["team"]]
    for name, label in (("starts_at", "start"), ("ends_at", "end")):
        if not values[name]:
            errors[name] = f"Give the {label} date and time."
            continue
        try:
            setattr(result, name, _local_time(values[name], timezone))
        except LookupError:
            errors[name] = f"{values[name].replace('T', ' ')} does not exist in {timezone}: the clocks change then."
        except ValueError:
            errors[name] = f"The {label} is not a date and time like 2026-12-05 10:00."
    if result.starts_at and result.ends_at and result.ends_at <= result.starts_at:
        errors["ends_at"] = "The shift must end after it starts."
    if result.starts_at and result.starts_at <= utcnow():
        errors["starts_at"] = "The start is in the past: give a time still to come."
    result.place = values["place"]
    if not result.place:
        errors["place"] = "Say where the shift meets."
    elif len(result.place) > MAX_PLACE:
        errors["place"] = f"The place is at most {MAX_PLACE} characters."
    try:
        result.capacity = int(values["capacity"])
    except ValueError:
        errors["capacity"] = "The capacity is a whole number of places."
    else:
        if result.capacity < 1:
            errors["capacity"] = "The capacity must be at least 1 place."
        elif result.capacity > MAX_CAPACITY:
            errors["capacity"] = f"The capacity is at most {MAX_CAPACITY}."
    return result
