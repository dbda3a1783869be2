"""What the REST API takes and returns."""
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from campaign.availability import DAYS, PARTS

Slot = Annotated[str, StringConstraints(pattern=rf"^({'|'.join(DAYS)}):({'|'.join(PARTS)})$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
# Row ids fit PostgreSQL's integer (and SQLite's): a larger number is a 422, not a database error.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
# Offsets and counts fit the database's 64-bit integers.
QueryOffset = Annotated[int, Query(ge=0, le=MAX_ID)]


def _storable(value: datetime) -> datetime:
    """A moment the database can store and compare: with its time zone, and convertible to UTC
    (0001-01-01T00:00+00:01 is not)."""
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-12-01T09:00:00-05:00")
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise ValueError(f"not a time that can be stored: {error}") from error
    if not 1970 <= in_utc.year <= 9999:
        raise ValueError("a time between 1970 and 9999, please")
    return value


Moment = Annotated[datetime, AfterValidator(_storable)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TeamOut(Out):
    id: int
    slug: str
    name: str
    borough: str | None
    capacity: int
    languages: list[str]
    lead_name: str | None
    lead_language: str | None


class VolunteerOut(Out):
    id: int
    name: str | None
    language: str | None
    language_source: str | None
    neighborhood: str | None = Field(None, validation_alias="neighborhood_name")
    zip_code: str | None
    availability: list[str]
    stage: str
    team: TeamOut | None = None
    assignment_reason: str | None
    consent_status: str
    signup_source: str | None
    created_at: datetime


class VolunteerPage(BaseModel):
    items: list[VolunteerOut]
    total: int


class VolunteerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    neighborhood_id: RowId | None = None
    zip_code: Annotated[str, StringConstraints(pattern=r"^\d{5}$")] | None = None
    availability: list[Slot] | None = None
    language: LanguageCode | None = None
    language_source: Literal["chosen", "detected"] | None = None

    @model_validator(mode="after")
    def _no_null_lists(self):
        # a list the volunteer always has: clearing it is [], not null
        if "availability" in self.model_fields_set and self.availability is None:
            raise ValueError("availability cannot be null; send [] to clear it")
        return self


class AssignmentIn(BaseModel):
    """Empty to assign by the volunteer's neighborhood or ZIP; a team to override."""

    model_config = ConfigDict(extra="forbid")
    team_id: RowId | None = None
    reason: Annotated[str, StringConstraints(max_length=300)] | None = None


class AssignmentOut(BaseModel):
    team: TeamOut
    reason: str
    code: str
    joined: bool = False  # the volunteer was not on this team before this call


class PlaceOut(BaseModel):
    neighborhood_id: int
    neighborhood: str
    zip_code: str | None
    team_id: int
    matched: str


class NeighborhoodChoice(BaseModel):
    id: int
    name: str


class BoroughOut(BaseModel):
    name: str
    matched: str
    neighborhoods: list[NeighborhoodChoice] = Field(description="this page of the borough's neighborhoods, by name")
    page: int
    pages: int
    total: int = Field(description="all the borough's neighborhoods")


class LocateOut(BaseModel):
    match: PlaceOut | None
    unknown_zip: str | None = Field(None, description="a ZIP code in the text that no team covers")
    borough: BoroughOut | None = Field(None, description="when the text names only a borough: choices of its "
                                       "neighborhoods, a page at a time (9, so a 10-row WhatsApp list keeps a row "
                                       "for \"more\" or \"type your ZIP\")")


class TextIn(BaseModel):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class AvailabilityOut(BaseModel):
    slots: list[str]


class ShiftOut(Out):
    id: int
    team_id: int
    starts_at: datetime
    ends_at: datetime
    place: str
    capacity: int
    booked: int = 0


class BoroughListOut(BaseModel):
    """A borough and all its neighborhoods' names (GET /v1/boroughs)."""
    name: str
    neighborhoods: list[str]


class AlternativeOut(ShiftOut):
    team_name: str
    own_team: bool


class ShiftWishOut(BaseModel):
    lead_told: bool


class BookingIn(BaseModel):
    shift_id: RowId


class BookingOut(BaseModel):
    id: int
    status: str
    shift: ShiftOut
    # when its reminders will come, as a catalog message parameter for the confirmation
    reminders: dict | None = None


class ScheduledOut(BaseModel):
    """A planned outbox row. Times are in the campaign's time zone."""

    id: int
    kind: str
    key: str | None
    status: str
    reason: str | None
    send_at: datetime
    deadline: datetime | None
    booking_id: int | None
    shift_id: int | None
    volunteer_id: int | None
    channel: str


class ShiftPatch(BaseModel):
    """What to change on a shift; times with a time zone."""

    model_config = ConfigDict(extra="forbid")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    capacity: Annotated[int, Field(ge=0, le=100000)] | None = None

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-05T10:00:00-05:00")
        return value


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


class HandoffIn(BaseModel):
    reason: Literal["asked", "not_understood", "sensitive"] = "asked"
    summary: Annotated[str, StringConstraints(max_length=2000)] | None = None


class HandoffOut(Out):
    id: int
    volunteer_id: int
    reason: str
    status: str
    opened_at: datetime


class OptOutIn(BaseModel):
    channel: Annotated[str, StringConstraints(max_length=16)]
    words: Annotated[str, StringConstraints(max_length=500)]

    @field_validator("words")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say which words the person used")
        return value
