"""Import campaign data (teams, turf, shifts) from CSV or YAML.

Every row is validated first and every error is reported with its line number; a file with any
error imports nothing. Rows are upserted: teams by slug, neighborhoods by name, shifts by their
`id` when the row gives one (so a row can move a shift to another time or place), else by
(team, start, place), so importing the same file twice changes nothing. A shift that a row
changes goes through campaign.shifts.change_shift, as a change through the API does: its
reminders are re-planned, the people booked are told, and fewer places move the latest
bookings to the waitlist.
"""
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import phonenumbers
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import leads, shifts
from campaign.models import Neighborhood, NeighborhoodAlias, Shift, Team, ZipCode
from campaign.place_names import normalize
from campaign.schedule import Cadence


def _split(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]
    return [str(v).strip() for v in value]


Listed = Annotated[list[str], BeforeValidator(_split)]
Zip = Annotated[str, BeforeValidator(lambda v: str(v).strip()), Field(pattern=r"^\d{5}$")]


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TeamRow(Row):
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1, max_length=120)
    borough: str | None = None
    capacity: int = Field(50, ge=1, le=100000)
    languages: Listed = ["en"]
    lead_name: str | None = None
    lead_phone: str | None = None
    lead_language: str | None = None

    @field_validator("lead_phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            number = phonenumbers.parse(value, "US")
        except phonenumbers.NumberParseException as error:
            raise ValueError(f"not a phone number: {error}") from error
        if not phonenumbers.is_possible_number(number):
            raise ValueError("not a possible phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class TurfRow(Row):
    team: str
    neighborhood: str = Field(min_length=1, max_length=120)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    zips: Annotated[list[Zip], BeforeValidator(_split)] = []
    aliases: Listed = []


class ShiftRow(Row):
    id: int | None = Field(None, ge=1)  # an existing shift's id: this row changes that shift
    team: str
    starts_at: str
    hours: float = Field(3, gt=0, le=24)
    place: str = Field(min_length=1, max_length=200)
    capacity: int = Field(10, ge=1, le=10000)


@dataclass
class Report:
    rows: int = 0
    created: int = 0
    updated: int = 0
    changed: int = 0  # existing rows whose values the file changed (shifts: re-planned and told)
    told: int = 0     # people told of a change (shifts)
    errors: list[str] = field(default_factory=list)


class InvalidFile(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def read_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, raw row) from a CSV file with a header, or a YAML list of mappings."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yml", ".yaml"):
        node = yaml.compose(text)
        if node is None:
            return
        if not isinstance(node, yaml.SequenceNode):
            raise InvalidFile([f"line {node.start_mark.line + 1}: the file must be a list of rows"])
        loader_data = yaml.safe_load(text)
        for item, value in zip(node.value, loader_data):
            if not isinstance(value, dict):
                raise InvalidFile([f"line {item.start_mark.line + 1}: each row must be a mapping"])
            yield item.start_mark.line + 1, value
    elif path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        for raw in reader:
            if None in raw:
                raise InvalidFile([f"line {reader.line_num}: more values than columns"])
            yield reader.line_num, {k.strip(): (v if v != "" else None) for k, v in raw.items() if k}
    else:
        raise InvalidFile([f"{path.name}: use a .csv or .yml file"])


def _validate(model: type[Row], rows: list[tuple[int, dict]]) -> tuple[list[tuple[int, Row]], list[str]]:
    valid, errors = [], []
    for line, raw in rows:
        try:
            valid.append((line, model.model_validate(raw)))
        except ValidationError as error:
            for problem in error.errors():
                where = ".".join(str(p) for p in problem["loc"]) or "row"
                errors.append(f"line {line}: {where}: {problem['msg']}")
    return valid, errors


def _teams_by_slug(session: Session) -> dict[str, Team]:
    return {t.slug: t for t in session.scalars(select(Team))}


def import_teams(session: Session, rows: list[tuple[int, TeamRow]], languages: list[str], tick: Callable) -> Report:
    report, errors, seen = Report(rows=len(rows)), [], {}
    for line, row in rows:
        if row.slug in seen:
            errors.append(f"line {line}: slug {row.slug!r} already on line {seen[row.slug]}")
        seen[row.slug] = line
        for code in [*row.languages, *( [row.lead_language] if row.lead_language else [])]:
            if code not in languages:
                errors.append(f"line {line}: language {code!r} is not one of {', '.join(languages)}")
    if errors:
        raise InvalidFile(errors)
    existing = _teams_by_slug(session)
    for _, row in rows:
        team = existing.get(row.slug)
        report.updated += team is not None
        report.created += team is None
        team = team or Team(slug=row.slug)
        for name in ("name", "borough", "capacity", "languages", "lead_name", "lead_phone", "lead_language"):
            setattr(team, name, getattr(row, name))
        session.add(team)
        session.flush()
        leads.ensure_lead_contact(session, team)
        tick()
    return report


def import_turf(session: Session, rows: list[tuple[int, TurfRow]], tick: Callable) -> Report:
    report, errors = Report(rows=len(rows)), []
    teams = _teams_by_slug(session)
    hoods = {normalize(n.name): n for n in session.scalars(select(Neighborhood))}
    alias_owner = {normalize(a.alias): a.neighborhood.name for a in session.scalars(select(NeighborhoodAlias))}
    zip_owner = {z.zip_code: z.neighborhood.name for z in session.scalars(select(ZipCode))}
    for line, row in rows:
        if row.team not in teams:
            errors.append(f"line {line}: team {row.team!r} does not exist (import teams first)")
        for alias in row.aliases:
            owner = alias_owner.get(normalize(alias))
            if owner is not None and owner != row.neighborhood:
                errors.append(f"line {line}: alias {alias!r} already names {owner}")
            alias_owner[normalize(alias)] = row.neighborhood
        for zip_code in row.zips:
            owner = zip_owner.get(zip_code)
            if owner is not None and owner != row.neighborhood:
                errors.append(f"line {line}: ZIP {zip_code} already belongs to {owner}")
            zip_owner[zip_code] = row.neighborhood
    if errors:
        raise InvalidFile(errors)
    for _, row in rows:
        hood = hoods.get(normalize(row.neighborhood))
        report.updated += hood is not None
        report.created += hood is None
        if hood is None:
            hood = hoods[normalize(row.neighborhood)] = Neighborhood(name=row.neighborhood)
        hood.team_id, hood.lat, hood.lon = teams[row.team].id, row.lat, row.lon
        session.add(hood)
        session.flush()
        known = {normalize(a.alias) for a in hood.aliases}
        for alias in row.aliases:
            if normalize(alias) not in known:
                session.add(NeighborhoodAlias(neighborhood_id=hood.id, alias=alias))
                known.add(normalize(alias))
        for zip_code in row.zips:
            zip_row = session.get(ZipCode, zip_code) or ZipCode(zip_code=zip_code)
            zip_row.neighborhood_id = hood.id
            session.add(zip_row)
        tick()
    return report


def _start(value: str, timezone: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("T", " ") if "T" not in value else value)
    return moment.replace(tzinfo=ZoneInfo(timezone)) if moment.tzinfo is None else moment


def _shift_changes(shift: Shift, begins: datetime, row: ShiftRow) -> dict:
    """What the row changes on an existing shift, as change_shift's arguments."""
    wanted = {"starts_at": begins, "ends_at": begins + timedelta(hours=row.hours), "place": row.place,
              "capacity": row.capacity}
    changes = {name: value for name, value in wanted.items() if value != getattr(shift, name)}
    if "starts_at" in changes:
        changes["ends_at"] = wanted["ends_at"]  # else change_shift keeps the old length
    return changes


def import_shifts(session: Session, rows: list[tuple[int, ShiftRow]], timezone: str, tick: Callable,
                  cadence: Cadence | None = None) -> Report:
    report, errors, starts, targets, lines_of = Report(rows=len(rows)), [], {}, {}, {}
    cadence = replace(cadence or Cadence(), timezone=timezone)  # the CLI passes the campaign's own
    teams = _teams_by_slug(session)
    for line, row in rows:
        if row.team not in teams:
            errors.append(f"line {line}: team {row.team!r} does not exist (import teams first)")
        try:
            starts[line] = _start(row.starts_at, timezone)
        except ValueError:
            errors.append(f"line {line}: starts_at {row.starts_at!r} is not a date and time like 2026-12-05 10:00")
        if row.id is not None:
            if row.id in lines_of:
                errors.append(f"line {line}: shift {row.id} already on line {lines_of[row.id]}")
            lines_of[row.id] = line
            shift = targets[line] = session.get(Shift, row.id)
            if shift is None:
                errors.append(f"line {line}: shift {row.id} does not exist")
                continue
            if row.team in teams and shift.team_id != teams[row.team].id:
                errors.append(f"line {line}: shift {row.id} is not team {row.team!r}'s")
        elif row.team in teams and line in starts:
            targets[line] = _shift_at(session, teams[row.team], starts[line], row.place)
        shift = targets.get(line)
        if shift is not None and shift.cancelled_at is not None and line in starts and _shift_changes(shift, starts[line], row):
            errors.append(f"line {line}: shift {shift.id} is cancelled and cannot be changed")
    if errors:
        raise InvalidFile(errors)
    for line, row in rows:
        team, begins = teams[row.team], starts[line]
        shift = targets.get(line) or _shift_at(session, team, begins, row.place)  # or one an earlier line made
        if shift is None:
            report.created += 1
            session.add(Shift(team_id=team.id, starts_at=begins, ends_at=begins + timedelta(hours=row.hours),
                              place=row.place, capacity=row.capacity))
            session.flush()
        else:
            report.updated += 1
            changes = _shift_changes(shift, begins, row)
            if changes:  # the same path as PATCH /v1/shifts/{id}; an unchanged row plans and tells nothing
                report.changed += 1
                report.told += len(shifts.change_shift(session, shift, cadence, **changes))
        tick()
    return report


def _shift_at(session: Session, team: Team, begins: datetime, place: str) -> Shift | None:
    return session.scalars(select(Shift).where(Shift.team_id == team.id, Shift.starts_at == begins,
                                               Shift.place == place)).first()


MODELS = {"teams": TeamRow, "turf": TurfRow, "shifts": ShiftRow}


def run(session: Session, kind: str, path: Path, languages: list[str], timezone: str,
        progress: Callable[[int], Callable[[], None]] = lambda total: (lambda: None), cadence: Cadence | None = None) -> Report:
    """Validate the whole file, then import it in the caller's transaction. Raises InvalidFile
    with every problem found; the caller rolls back so nothing is imported."""
    raw = list(read_rows(path))
    if not raw:
        raise InvalidFile([f"{path.name}: no rows"])
    valid, errors = _validate(MODELS[kind], raw)
    if errors:
        raise InvalidFile(errors)
    tick = progress(len(valid))
    if kind == "teams":
        return import_teams(session, valid, languages, tick)
    if kind == "turf":
        return import_turf(session, valid, tick)
    return import_shifts(session, valid, timezone, tick, cadence=cadence)
