"""Load the demo campaign (teams, turf, leads, shifts for the next two weeks) into an empty database."""
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import landmarks, leads
from campaign.availability import DAYS
from campaign.models import Neighborhood, NeighborhoodAlias, Shift, Team, ZipCode

NYC = Path(__file__).resolve().parent / "nyc.yml"


def is_empty(session: Session) -> bool:
    return (session.scalar(select(func.count()).select_from(Team)) or 0) == 0


def load(session: Session, path: Path = NYC, start: date | None = None, days: int = 14) -> dict[str, int]:
    """Load the campaign file; returns counts of what was created."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tz = ZoneInfo(data["campaign"]["timezone"])
    start = start or datetime.now(tz).date()
    counts = {"teams": 0, "neighborhoods": 0, "aliases": 0, "zip_codes": 0, "shifts": 0}
    for spec in data["teams"]:
        lead = spec.get("lead") or {}
        team = Team(slug=spec["slug"], name=spec["name"], borough=spec.get("borough"),
                    capacity=int(spec.get("capacity", 50)), languages=list(spec.get("languages") or ["en"]),
                    lead_name=lead.get("name"), lead_phone=lead.get("phone"), lead_language=lead.get("language"))
        session.add(team)
        session.flush()
        leads.ensure_lead_contact(session, team)
        counts["teams"] += 1
        for turf in spec.get("turf") or []:
            hood = Neighborhood(team_id=team.id, name=turf["neighborhood"], lat=turf.get("lat"), lon=turf.get("lon"))
            session.add(hood)
            session.flush()
            counts["neighborhoods"] += 1
            # its stations, streets and landmarks are aliases too, with their kind (campaign/landmarks.py)
            for alias in [*(turf.get("aliases") or []), *landmarks.aliases(turf)]:
                session.add(NeighborhoodAlias(neighborhood_id=hood.id, alias=str(alias)))
                counts["aliases"] += 1
            for zip_code in turf.get("zips") or []:
                session.add(ZipCode(zip_code=str(zip_code), neighborhood_id=hood.id))
                counts["zip_codes"] += 1
        for pattern in spec.get("shifts") or []:
            weekday = DAYS.index(pattern["weekday"])
            hour, minute = (int(part) for part in str(pattern["start"]).split(":"))
            for offset in range(days):
                day = start + timedelta(days=offset)
                if day.weekday() != weekday:
                    continue
                local = datetime.combine(day, time(hour, minute), tzinfo=tz)
                session.add(Shift(team_id=team.id, starts_at=local, ends_at=local + timedelta(hours=float(pattern.get("hours", 3))),
                                  place=pattern["place"], capacity=int(pattern.get("capacity", 10))))
                counts["shifts"] += 1
    session.flush()
    return counts
