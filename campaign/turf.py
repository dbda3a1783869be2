"""Turn free text into a known place of the turf: a neighborhood (by name or alias, in any
script), a ZIP code, or — when only that is named — a borough; and the turf's geography (the
neighborhood nearest a location pin, where a ZIP code is, distances).

These are the database lookups. Reading a name in the text is campaign/place_names.py, which
gets the turf's names and aliases from here, in a Locator kept per database until the turf
changes. ZIP codes are read in the digits of every script (campaign/digits.py).
"""
import math
import re
import threading
from dataclasses import dataclass

import zipcodes
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.digits import fold_digits
from campaign.models import Neighborhood, NeighborhoodAlias, Team, ZipCode
from campaign import landmarks
from campaign.place_names import Locator as _Locator


def Locator(names, boroughs=None) -> _Locator:  # noqa: N802 (what tests and callers build, with landmarks)
    """The place matcher over the turf's names, landmarks included (campaign/landmarks.py)."""
    return _Locator(names, boroughs, landmarks=landmarks.Landmarks)
# bot/pipeline (choices.py, process.py) still reach this as campaign.turf.normalize; it moved to
# campaign/place_names.py with the rest of the name matching.
from campaign.place_names import normalize  # noqa: F401

ZIP_RE = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")
PIN_MAX_KM = 10.0
BOROUGH_PAGE = 9  # a WhatsApp list holds 10 rows: 9 neighborhoods and one "more" or "my ZIP"


@dataclass(frozen=True)
class Place:
    neighborhood_id: int
    neighborhood: str
    team_id: int
    zip_code: str | None
    matched: str  # the words in the message that named the place


@dataclass(frozen=True)
class Borough:
    """A borough named alone ("in the Bronx"): the caller offers its neighborhoods."""

    name: str
    matched: str
    neighborhoods: list[tuple[int, str]]  # (id, name), by name

    def page(self, number: int, size: int = BOROUGH_PAGE) -> list[tuple[int, str]]:
        return self.neighborhoods[number * size:(number + 1) * size]

    def pages(self, size: int = BOROUGH_PAGE) -> int:
        return max(1, math.ceil(len(self.neighborhoods) / size))


_cache: dict[tuple[str, str], tuple[tuple, _Locator]] = {}
_lock = threading.Lock()


# The turf's size and newest rows, in one statement built once (it runs on every locate).
_FINGERPRINT = select(*(select(aggregate).scalar_subquery() for model in (Neighborhood, NeighborhoodAlias, Team)
                        for aggregate in (func.count(model.id), func.max(model.id))))


def _fingerprint(session: Session) -> tuple:
    return tuple(session.execute(_FINGERPRINT).one())


def _cached(session: Session, kind: str, build, boroughs) -> _Locator:
    # Rebuilt only when the turf changes (its size or newest row), not per request.
    database = session.get_bind().url.render_as_string()
    fingerprint = _fingerprint(session)
    with _lock:
        cached = _cache.get((database, kind))
        if cached is None or cached[0] != fingerprint:
            cached = _cache[(database, kind)] = (fingerprint, Locator(build(), boroughs()))
        return cached[1]


def _boroughs(session: Session) -> list[str]:
    return sorted(b for b in session.scalars(select(Team.borough).distinct()) if b)


def _locator(session: Session) -> _Locator:
    def names():
        found = [(n.name, n.id, True) for n in session.scalars(select(Neighborhood))]
        found += [(a.alias, a.neighborhood_id, False) for a in session.scalars(select(NeighborhoodAlias))]
        return found + [(b, -1 - i, True) for i, b in enumerate(_boroughs(session))]

    def boroughs():  # each neighborhood's borough, as the Locator numbers them (a landmark's borough said)
        ids = {b: -1 - i for i, b in enumerate(_boroughs(session))}
        return {hood: ids[b] for hood, b in session.execute(select(Neighborhood.id, Team.borough).join(Team)) if b in ids}
    return _cached(session, "places", names, boroughs)


def locate(session: Session, text: str) -> Place | None:
    """The place named in the text; a known ZIP code wins over a neighborhood name."""
    return _zip_place(session, text) or _place(session, _locator(session).find(text))


def borough(session: Session, text: str) -> Borough | None:
    """The borough the text names when it names no neighborhood ("ব্রুকলিনে", "à Brooklyn")."""
    return _borough(session, _locator(session).find(text))


def place_or_borough(session: Session, text: str) -> tuple[Place | None, Borough | None]:
    """`locate`, else `borough`, reading the text against the turf once (the api's /v1/locate
    asks both on every answer to "where do you live")."""
    place = _zip_place(session, text)
    if place is not None:
        return place, None
    found = _locator(session).find(text)
    place = _place(session, found)
    return place, None if place is not None else _borough(session, found)


def _zip_place(session: Session, text: str) -> Place | None:
    for zip_code in ZIP_RE.findall(fold_digits(text)):
        row = session.get(ZipCode, zip_code)
        if row is not None:
            hood = row.neighborhood
            return Place(hood.id, hood.name, hood.team_id, zip_code, zip_code)
    return None


def _place(session: Session, found: tuple[int, str] | None) -> Place | None:
    if found is None or found[0] < 0:
        return None
    hood = session.get(Neighborhood, found[0])
    return Place(hood.id, hood.name, hood.team_id, None, found[1])


def _borough(session: Session, found: tuple[int, str] | None) -> Borough | None:
    if found is None or found[0] >= 0:
        return None
    name = _boroughs(session)[-1 - found[0]]
    hoods = session.execute(select(Neighborhood.id, Neighborhood.name).join(Team)
                            .where(Team.borough == name).order_by(Neighborhood.name)).all()
    return Borough(name, found[1], [(i, n) for i, n in hoods])


def nearest(session: Session, lat: float, lon: float, max_km: float = PIN_MAX_KM) -> Place | None:
    """The neighborhood whose center is closest to a shared location pin; None when even that
    one is farther than max_km (a pin from another city names no neighborhood of ours)."""
    hoods = session.scalars(select(Neighborhood).where(Neighborhood.lat.is_not(None), Neighborhood.lon.is_not(None)))
    best = min(hoods, key=lambda h: distance_km(lat, lon, h.lat, h.lon), default=None)
    if best is None or distance_km(lat, lon, best.lat, best.lon) > max_km:
        return None
    return Place(best.id, best.name, best.team_id, None, "")


def unknown_zip(text: str) -> str | None:
    """A ZIP code the campaign does not cover, if the text has one."""
    match = ZIP_RE.search(fold_digits(text))
    return match.group(1) if match else None


def zip_coordinates(zip_code: str) -> tuple[float, float] | None:
    """Where a US ZIP code is (the zipcodes package ships the data; no network)."""
    try:
        found = zipcodes.matching(zip_code)
    except (ValueError, TypeError):
        return None
    if not found:
        return None
    return float(found[0]["lat"]), float(found[0]["long"])


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))
