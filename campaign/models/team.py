from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.models.base import Base


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    borough: Mapped[str | None] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(Integer, default=50)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    lead_name: Mapped[str | None] = mapped_column(String(120))
    lead_phone: Mapped[str | None] = mapped_column(String(20))
    lead_language: Mapped[str | None] = mapped_column(String(8))
    # the lead as a contact (their identities say how to reach them), set when they are known
    lead_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", use_alter=True))

    neighborhoods: Mapped[list["Neighborhood"]] = relationship(back_populates="team")


class Neighborhood(Base):
    __tablename__ = "neighborhoods"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    team: Mapped[Team] = relationship(back_populates="neighborhoods")
    aliases: Mapped[list["NeighborhoodAlias"]] = relationship(back_populates="neighborhood")
    zip_codes: Mapped[list["ZipCode"]] = relationship(back_populates="neighborhood")


class NeighborhoodAlias(Base):
    """Another name people use for a neighborhood: abbreviations, misspellings, other scripts."""

    __tablename__ = "neighborhood_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    neighborhood_id: Mapped[int] = mapped_column(ForeignKey("neighborhoods.id"), index=True)
    alias: Mapped[str] = mapped_column(String(120), unique=True)

    neighborhood: Mapped[Neighborhood] = relationship(back_populates="aliases")


class ZipCode(Base):
    __tablename__ = "zip_codes"

    zip_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    neighborhood_id: Mapped[int] = mapped_column(ForeignKey("neighborhoods.id"), index=True)

    neighborhood: Mapped[Neighborhood] = relationship(back_populates="zip_codes")
