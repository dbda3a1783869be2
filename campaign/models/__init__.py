"""SQLAlchemy models, one module per area. Import from here."""
from campaign.models.base import Base, utcnow
from campaign.models.volunteer import Identity, Volunteer
from campaign.models.team import Neighborhood, NeighborhoodAlias, Team, ZipCode
from campaign.models.shift import Booking, Shift
from campaign.models.message import Handoff, Message
from campaign.models.outbox import OutboxRow
from campaign.models.delivery import DeliveryEvent
from campaign.models.provider_message import ProviderMessage
from campaign.models.offer import OpenOffer
from campaign.models.account import AccessLogEntry, Account, DashboardSession, Role, SignInFailure
from campaign.models.stage_event import FUNNEL_STAGES, Stage, StageEvent

__all__ = [
    "Base", "utcnow", "Volunteer", "Identity", "Team", "Neighborhood", "NeighborhoodAlias",
    "ZipCode", "Shift", "Booking", "Message", "Handoff", "OutboxRow", "ProviderMessage", "DeliveryEvent", "OpenOffer",
    "Account", "DashboardSession", "SignInFailure", "AccessLogEntry", "Role", "Stage", "StageEvent", "FUNNEL_STAGES",
]
