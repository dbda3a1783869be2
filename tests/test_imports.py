"""Importing campaign data: every bad row reported with its line, and then nothing imported."""
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign import imports
from campaign.db import session_scope
from campaign.models import Neighborhood, Shift, Team

LANGS = ["en", "es", "bn"]


def run(kind: str, path: Path):
    with session_scope() as session:
        return imports.run(session, kind, path, LANGS, "America/New_York")


def write(tmp_path, name, text) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_teams_turf_and_shifts_import_from_csv_and_yaml_and_again_without_change(db, tmp_path):
    teams = write(tmp_path, "teams.csv", "slug,name,capacity,languages,lead_name,lead_phone,lead_language\n"
                  "ridgewood,Ridgewood,30,en;es,Ana Ruiz,(718) 555-0190,es\n")
    turf = write(tmp_path, "turf.yml", "- team: ridgewood\n  neighborhood: Ridgewood\n  lat: 40.70\n  lon: -73.90\n"
                 "  zips: ['11385']\n  aliases: [Ridgewod, RW]\n")
    shifts = write(tmp_path, "shifts.csv", "team,starts_at,hours,place,capacity\nridgewood,2031-06-07 10:00,3,Myrtle Ave & Fresh Pond Rd,8\n")
    assert (run("teams", teams).created, run("turf", turf).created, run("shifts", shifts).created) == (1, 1, 1)
    assert (run("teams", teams).updated, run("turf", turf).updated, run("shifts", shifts).updated) == (1, 1, 1)
    with session_scope() as session:
        team = session.scalars(select(Team)).one()
        assert (team.lead_phone, team.languages) == ("+17185550190", ["en", "es"])
        hood = session.scalars(select(Neighborhood)).one()
        assert sorted(a.alias for a in hood.aliases) == ["RW", "Ridgewod"]
        shift = session.scalars(select(Shift)).one()
        assert shift.starts_at.isoformat() == "2031-06-07T14:00:00+00:00"  # 10:00 in New York


@pytest.mark.parametrize("name, text, expected", [
    ("teams.csv", "slug,name,capacity\nok-team,OK,10\nBad Slug,X,10\nthird,Third,many\n",
     ["line 3: slug", "line 4: capacity"]),
    ("teams.yml", "- slug: ok-team\n  name: OK\n- slug: second\n  name: Second\n  lead_phone: '12'\n",
     ["line 3: lead_phone"]),
    ("teams.csv", "slug,name,languages\none,One,en;tlh\n", ["line 2: language 'tlh'"]),
    ("teams.csv", "slug,name\nsame,One\nsame,Two\n", ["line 3: slug 'same' already on line 2"]),
    ("turf.csv", "team,neighborhood,zips\nnowhere,Somewhere,11111\n", ["line 2: team 'nowhere' does not exist"]),
    ("shifts.csv", "team,starts_at,place\nghost,next tuesday,Here\n", ["line 2: team 'ghost'", "line 2: starts_at"]),
    ("teams.json", "[]", ["use a .csv or .yml file"]),
])
def test_a_file_with_a_bad_row_reports_the_line_and_imports_nothing(db, tmp_path, name, text, expected):
    with pytest.raises(imports.InvalidFile) as raised:
        run(name.split(".")[0], write(tmp_path, name, text))
    for fragment in expected:
        assert any(fragment in error for error in raised.value.errors), (fragment, raised.value.errors)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Team)) == 0
