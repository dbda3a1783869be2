"""Funnel stage events: the moment a person first reached each onboarding stage.

They are recorded by one rule at flush time (whatever code path set the name, the place, the
team or a booking), so no caller has to remember to. Two processes may record the same stage
at once; queries count distinct people, so a duplicate never inflates a figure and never
fails the transaction that caused it."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.models.base import Base, utcnow
from campaign.models.shift import Booking
from campaign.models.volunteer import Volunteer


class Stage(StrEnum):
    first_message = "first_message"
    name = "name"
    place = "place"
    availability = "availability"
    team = "team"
    booked = "booked"
    attended = "attended"


FUNNEL_STAGES = tuple(s.value for s in Stage)


class StageEvent(Base):
    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16), index=True)
    reached_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# contacts that are not sign-ups (team leads, made contacts so they can be told of new members)
NOT_SIGNUPS = ("lead",)


def volunteer_stages(volunteer: Volunteer) -> set[Stage]:
    if volunteer.signup_source in NOT_SIGNUPS:
        return set()
    reached = {Stage.first_message}
    if volunteer.name:
        reached.add(Stage.name)
    if volunteer.neighborhood_id or volunteer.zip_code:
        reached.add(Stage.place)
    if volunteer.availability:
        reached.add(Stage.availability)
    if volunteer.team_id:
        reached.add(Stage.team)
    return reached


def booking_stages(booking: Booking) -> set[Stage]:
    reached = set()
    if booking.status == "booked":
        reached.add(Stage.booked)
    if getattr(booking, "attended", None):
        reached.add(Stage.attended)
    return reached


@event.listens_for(Session, "before_flush")
def _record_stages(session: Session, _context, _instances) -> None:
    wanted: list[tuple[object, int | None, set[Stage]]] = []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Volunteer):
            wanted.append((obj, obj.id, volunteer_stages(obj)))
        elif isinstance(obj, Booking) and obj.volunteer_id is not None:
            wanted.append((None, obj.volunteer_id, booking_stages(obj)))
    if not wanted:
        return
    known_ids = {vid for _, vid, _ in wanted if vid is not None}
    existing: dict[int, set[str]] = {}
    if known_ids:
        with session.no_autoflush:
            for vid, stage in session.execute(
                select(StageEvent.volunteer_id, StageEvent.stage).where(StageEvent.volunteer_id.in_(known_ids))
            ):
                existing.setdefault(vid, set()).add(stage)
    pending = {(e.volunteer_id, e.stage) for e in session.new if isinstance(e, StageEvent)}
    for volunteer, vid, stages in wanted:
        for stage in stages:
            if vid is not None and (stage in existing.get(vid, ()) or (vid, stage) in pending):
                continue
            if vid is None:
                _after_insert_stage(session, volunteer, stage)
            else:
                session.add(StageEvent(volunteer_id=vid, stage=stage, reached_at=utcnow()))
                pending.add((vid, stage))


def _after_insert_stage(session: Session, volunteer: Volunteer, stage: Stage) -> None:
    """A new volunteer has no id before the flush: record its stages once it is inserted."""
    session.info.setdefault("stages_after_insert", []).append((volunteer, stage))


@event.listens_for(Session, "after_flush")
def _record_new_volunteer_stages(session: Session, _context) -> None:
    queued = session.info.pop("stages_after_insert", [])
    if queued:
        session.execute(StageEvent.__table__.insert(), [
            {"volunteer_id": v.id, "stage": stage.value, "reached_at": v.created_at or utcnow()} for v, stage in queued
        ])
