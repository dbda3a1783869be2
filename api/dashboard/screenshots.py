"""`onramp dashboard screenshots`: every page at desktop and at phone width, over a sample
campaign in a throw-away database, through Debian's Chromium."""
import os
import random
import socket
import tempfile
from datetime import timedelta
from pathlib import Path

PAGES = ["login", "inbox", "conversation", "volunteers", "person", "shifts", "shift", "shift-new", "shift-errors", "shift-edit",
         "funnel", "outbox", "accounts"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
EMAIL, PASSWORD = "robin@example.org", "sample dashboard password"

SUPPORTERS = [  # name, language, channel, external id, what they said
    ("María López", "es", "twilio_whatsapp", "whatsapp:+13475550842", "La policía vino a preguntar por mis vecinos, tengo miedo"),
    ("Sam Carter", "en", "sms", "+13475550877", "can I talk to a real person about the shift times?"),
    ("Fatima Rahman", "bn", "sms", "+13475550890", "আমি শনিবার সকালে সাহায্য করতে পারি"),
    ("Li Wei", "zh", "telegram", "70001", "我想参加周末的活动"),
    ("Amadou Diallo", "fr", "sms", "+13475550811", "Bonjour, je veux aider mon quartier"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(settings) -> dict:
    """A campaign with people at every stage, two open handoffs, a past shift and outbox trouble."""
    from sqlalchemy import select

    from campaign import accounts, handoffs
    from campaign.db import session_scope
    from campaign.demo import load
    from campaign.models import Booking, Identity, Message, OutboxRow, Shift, Volunteer, utcnow

    rng = random.Random(7)
    now = utcnow()
    with session_scope() as session:
        load.load(session)
        admin = accounts.add(session, EMAIL, PASSWORD, "admin")
        shifts = list(session.scalars(select(Shift).order_by(Shift.starts_at)))
        team_ids = sorted({s.team_id for s in shifts})
        past = Shift(team_id=shifts[0].team_id, starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2, hours=-3),
                     place="Diversity Plaza, 37th Rd & 74th St", capacity=8)
        session.add(past)
        session.flush()
        ids = {}
        # a month of sign-ups for the funnel, each as far as it got
        for n in range(60):
            depth = rng.choice([0, 1, 1, 2, 3, 3, 4, 4, 4, 5, 5, 5])
            volunteer = Volunteer(created_at=now - timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 23)), stage="new",
                                  language=rng.choice(["en", "en", "es", "es", "zh", "bn", "fr", "ar"]), interests=[],
                                  signup_source=rng.choice(["sms", "twilio_whatsapp", "whatsapp_cloud", "telegram", "webchat", "flyer-qr"]),
                                  name=f"Volunteer {n + 1}" if depth >= 1 else None, zip_code="11372" if depth >= 2 else None,
                                  availability=["sat:morning"] if depth >= 3 else [],
                                  team_id=team_ids[n % len(team_ids)] if depth >= 4 else None)
            volunteer.stage = {0: "onboarding", 1: "onboarding", 2: "onboarding", 3: "onboarding", 4: "assigned"}.get(depth, "booked")
            session.add(volunteer)
            session.flush()
            if depth >= 5:
                session.add(Booking(shift_id=past.id if n % 3 == 0 else shifts[n % len(shifts)].id, volunteer_id=volunteer.id,
                                    status="booked", attended=True if n % 6 == 0 else None))
        for i, (name, language, channel, external, said) in enumerate(SUPPORTERS):
            volunteer = Volunteer(name=name, language=language, stage="onboarding", availability=["sat:morning"], interests=[],
                                  signup_source=channel, zip_code="11372", created_at=now - timedelta(minutes=41 + i))
            session.add(volunteer)
            session.flush()
            volunteer.team_id = past.team_id if i < 3 else team_ids[i]  # assigned after the first messages
            identity = Identity(volunteer_id=volunteer.id, channel=channel, external_id=external,
                                phone=external.removeprefix("whatsapp:") if external.startswith(("+", "whatsapp:")) else None,
                                last_inbound_at=now - timedelta(minutes=20 + i))
            session.add(identity)
            session.flush()
            first = Message(direction="in", channel=channel, provider_id=f"sample-{i}-1", identity_id=identity.id,
                            volunteer_id=volunteer.id, body="hi, I want to volunteer", status="processed",
                            created_at=now - timedelta(minutes=40 + i))
            session.add(first)
            session.flush()
            for seq, key in enumerate(["welcome", "ask_name"]):
                session.add(OutboxRow(kind="reply", volunteer_id=volunteer.id, identity_id=identity.id, channel=channel,
                                      recipient=external, key=key, params={}, choices=[], status="sent", source_message_id=first.id,
                                      seq=seq, send_after=first.created_at + timedelta(seconds=2), sent_at=first.created_at + timedelta(seconds=3)))
            said_row = Message(direction="in", channel=channel, provider_id=f"sample-{i}-2", identity_id=identity.id,
                               volunteer_id=volunteer.id, body=said, status="for_organizer" if i < 2 else "processed",
                               created_at=now - timedelta(minutes=25 + i))
            session.add(said_row)
            session.flush()
            ids.setdefault("person", volunteer.id)
            if i == 0:
                handoff = handoffs.open_for(session, volunteer.id, "sensitive", summary=said, urgent=True, topic="police", settings=settings)
                handoff.opened_at = now - timedelta(minutes=24)
                ids["conversation"] = handoff.id
            elif i == 1:
                handoff = handoffs.open_for(session, volunteer.id, "asked", summary=said, settings=settings)
                handoff.opened_at = now - timedelta(minutes=7)
                handoff.assigned_account_id = admin.id
            session.add(Booking(shift_id=past.id, volunteer_id=volunteer.id, status="booked", attended=True if i == 2 else None))
        # outbox trouble an organizer can act on
        someone = session.scalars(select(Identity).where(Identity.channel == "sms")).first()
        for status, error in [("failed", "the provider says the number is unreachable"),
                              ("unknown", "read timeout after the provider accepted the request"), ("pending", None)]:
            session.add(OutboxRow(kind="reminder", volunteer_id=someone.volunteer_id, identity_id=someone.id, channel="sms",
                                  recipient=someone.external_id, key="shift_booked", params={"when": {"type": "datetime", "value": now.isoformat()}, "place": "Diversity Plaza"},
                                  choices=[], status=status, last_error=error, send_after=now + timedelta(hours=5)))
        ids["shift"] = past.id
        ids["upcoming"] = next(s.id for s in shifts if s.starts_at > now + timedelta(days=1))
        person = session.scalars(select(Volunteer).where(Volunteer.name == SUPPORTERS[4][0])).one()
        ids["person"] = person.id
        accounts.record_access(session, admin, "person_viewed", f"volunteer {person.id}")
    return ids


def _mistaken_shift(page) -> None:
    """The new-shift form sent with the slips it refuses, to show how it says so."""
    page.select_option("select[name=team]", index=1)
    page.fill("input[name=starts_at]", "2020-05-02T10:00")
    page.fill("input[name=ends_at]", "2020-05-02T09:00")
    page.fill("input[name=place]", "Travers Park, 34th Ave")
    page.fill("input[name=capacity]", "0")
    page.click("form.shift-form button[type=submit]")
    page.wait_for_selector("[role=alert]")


def take(out: Path) -> list[Path]:
    """Seed a throw-away database, serve it on a free loopback port, and photograph each page."""
    from api.dashboard.browser import chromium, served, sign_in
    from campaign import db
    from campaign.migrate import upgrade
    from onramp.settings import get_settings

    workdir = Path(tempfile.mkdtemp(prefix="onramp-screens-"))
    port = _free_port()
    os.environ.update({"DATABASE_URL": f"sqlite:///{workdir / 'onramp.db'}", "API_PORT": str(port), "PUBLIC_BASE_URL": ""})
    get_settings.cache_clear()
    db.configure(get_settings().database_url)
    upgrade(get_settings().database_url)
    ids = _seed(get_settings())

    from api.main import create_app

    paths = {"login": "/dashboard/login", "inbox": "/dashboard/inbox", "conversation": f"/dashboard/conversations/{ids['conversation']}",
             "volunteers": "/dashboard/volunteers", "person": f"/dashboard/volunteers/{ids['person']}",
             "shifts": "/dashboard/shifts", "shift": f"/dashboard/shifts/{ids['shift']}", "shift-new": "/dashboard/shifts/new",
             "shift-errors": "/dashboard/shifts/new", "shift-edit": f"/dashboard/shifts/{ids['upcoming']}/edit",
             "funnel": "/dashboard/funnel?split=language",
             "outbox": "/dashboard/outbox", "accounts": "/dashboard/accounts"}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with served(create_app(run_pipeline=False), port) as base, chromium() as browser:
        for label, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            page = context.new_page()
            page.goto(base + paths["login"])
            target = out / f"login-{label}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
            sign_in(page, base, EMAIL, PASSWORD)
            page.wait_for_url("**/dashboard/inbox")
            for name in PAGES[1:]:
                page.goto(base + paths[name])
                if name == "shift-errors":
                    _mistaken_shift(page)
                target = out / f"{name}-{label}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
            context.close()
    return written
