import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.models.base import Base, utcnow

# Onboarding stages, in the order a supporter goes through them.
STAGES = ("new", "onboarding", "assigned", "booked")


class Volunteer(Base):
    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the Rasa conversation (sender) id: unique across databases, unlike the integer id
    conversation_id: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: uuid.uuid4().hex)
    name: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str | None] = mapped_column(String(8))
    # "chosen" (asked for it, never overridden by detection) or "detected"
    language_source: Mapped[str | None] = mapped_column(String(16))
    neighborhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighborhoods.id"))
    zip_code: Mapped[str | None] = mapped_column(String(10))
    # weekly slots such as "sat:morning", "tue:evening"
    availability: Mapped[list] = mapped_column(JSON, default=list)
    interests: Mapped[list] = mapped_column(JSON, default=list)
    stage: Mapped[str] = mapped_column(String(16), default="new")

    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assignment_reason: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime | None]

    # consent: "subscribed" until the person opts out, with where and how it happened
    consent_status: Mapped[str] = mapped_column(String(16), default="subscribed")
    consent_at: Mapped[datetime | None]
    consent_source: Mapped[str | None] = mapped_column(String(32))
    opt_out_words: Mapped[str | None] = mapped_column(Text)
    # a message that may have withdrawn consent ("maybe stop texting me") was asked about: until
    # the person answers, nothing automated is sent (campaign/consent.py held)
    stop_asked_at: Mapped[datetime | None]
    # how the person first reached us: the record automated messages rely on
    first_contact_channel: Mapped[str | None] = mapped_column(String(16))
    first_contact_at: Mapped[datetime | None]
    first_contact_text: Mapped[str | None] = mapped_column(Text)

    signup_source: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    identities: Mapped[list["Identity"]] = relationship(back_populates="volunteer")
    team = relationship("Team", foreign_keys=[team_id])
    neighborhood = relationship("Neighborhood")

    @property
    def neighborhood_name(self) -> str | None:
        return self.neighborhood.name if self.neighborhood else None

    @property
    def opted_out(self) -> bool:
        return self.consent_status == "opted_out"


class Identity(Base):
    """How a volunteer is reached: (channel, external id), e.g. ("sms", "+17185550100")."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    last_inbound_at: Mapped[datetime | None]
    # Inbound messages of one contact are processed in order by one holder at a time.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    lease_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship(back_populates="identities")
