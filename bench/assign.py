"""Benchmark: assign 100,000 synthetic volunteers to teams (issue: target 10 s or less).

Reports the time, the share placed in their own turf, and the ratio to a baseline measured in
the same run: writing the same 100,000 team ids without choosing them.
"""
import argparse
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, update

from campaign.assignment import Assigner, AssignmentError
from campaign.db import make_engine, session_factory
from campaign.demo import load
from campaign.migrate import upgrade
from campaign.models import Neighborhood, Volunteer, ZipCode

# ZIP codes around the city that no team covers: these volunteers go to the nearest team.
NEARBY_UNCOVERED = ["07030", "07302", "10701", "10801", "11003", "11010", "11550", "07601", "10550", "11501"]


def synthetic(session, n: int, rng: random.Random) -> list[dict]:
    zips = list(session.scalars(select(ZipCode.zip_code)))
    hoods = list(session.scalars(select(Neighborhood.id)))
    languages = ["en", "es", "zh", "bn", "ar", "ur", "hi", "fr"]
    rows = []
    for i in range(n):
        kind = rng.random()
        row = {"conversation_id": f"bench-{i}", "availability": [], "interests": [], "stage": "onboarding",
               "language": rng.choice(languages), "neighborhood_id": None, "zip_code": None}
        if kind < 0.6:
            row["zip_code"] = rng.choice(zips)
        elif kind < 0.9:
            row["neighborhood_id"] = rng.choice(hoods)
        else:
            row["zip_code"] = rng.choice(NEARBY_UNCOVERED)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        Session = session_factory(engine)
        with Session() as session, session.begin():
            load.load(session)
            # generous capacities: the benchmark measures choosing, with some teams filling up
            session.execute(insert(Volunteer), synthetic(session, args.volunteers, rng))
        with Session() as session:
            people = session.execute(select(Volunteer.id, Volunteer.neighborhood_id, Volunteer.zip_code, Volunteer.language)
                                     .where(Volunteer.conversation_id.like("bench-%"))).all()

        # baseline: the same bulk write, with a team id that needs no choosing
        with Session() as session, session.begin():
            started = time.perf_counter()
            session.execute(update(Volunteer), [{"id": p.id, "team_id": None, "assignment_reason": "baseline"} for p in people])
            baseline = time.perf_counter() - started

        with Session() as session:
            started = time.perf_counter()
            assigner = Assigner(session)
            for team in assigner.teams.values():
                team.capacity = max(team.capacity, args.volunteers // len(assigner.teams))
            own = placed = 0
            changes = []
            for person in people:
                try:
                    origin = assigner.origin(person.neighborhood_id, person.zip_code)
                    team_id, reason, code = assigner.choose(origin, person.language)
                except AssignmentError:
                    continue
                assigner.take(team_id)
                placed += 1
                own += code == "covers"
                changes.append({"id": person.id, "team_id": team_id, "assignment_reason": reason})
            session.execute(update(Volunteer), changes)
            elapsed = time.perf_counter() - started
            session.rollback()  # the temporary database is thrown away anyway

    print(f"volunteers            {len(people):,}")
    print(f"assigned              {placed:,} in {elapsed:.2f} s ({len(people) / elapsed:,.0f} per second)")
    print(f"placed in own turf    {own / len(people):.1%}  (the rest: uncovered ZIPs or a full team -> nearest with room)")
    print(f"baseline bulk write   {baseline:.2f} s; assignment costs {elapsed / baseline:.1f}x the bare write")
    print(f"target                10 s or less: {'met' if elapsed <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
