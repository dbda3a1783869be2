"""Rasa's side of a handoff: its conversation is paused while a person owns it and resumed when
they give it back, through Rasa's tracker events API.

Called after the pipeline's transaction, never inside one (a network call). A pause that could
not be sent is tried again after the person's next message."""
import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.rasa_client import RasaClient, RasaUnavailable
from campaign import handoffs
from campaign.db import session_scope
from campaign.models import Account, Handoff, Message, Volunteer, utcnow
from onramp.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """What a handoff still needs after a message, read in the transaction that recorded it (so
    the common case, nothing, costs no transaction of its own)."""
    not_understood: str | None  # the conversation, when the bot did not understand twice in a row
    unpaused: tuple[int, str] | None  # an open handoff Rasa does not know of: its id and conversation


def pending(session: Session, message_id: int) -> Pending:
    return Pending(handoffs.not_understood_twice(session, message_id), _unpaused_in(session, message_id))


async def after_message(rasa: RasaClient, message_id: int, replies: list[dict] | None = None, *,
                        settings: Settings, known: Pending | None = None) -> None:
    """After one inbound message: open a handoff when the bot did not understand twice in a row
    outside a form, then pause Rasa for any handoff of this person that it does not know of.
    `known`: both already read (`pending`), in the transaction that recorded the replies."""
    opened = False
    if replies is not None:
        sender = known.not_understood if known else await asyncio.to_thread(_not_understood_twice, message_id)
        if sender is not None:
            try:
                in_form = await rasa.active_form(sender)
            except RasaUnavailable:
                in_form = None
            if in_form is None:
                await asyncio.to_thread(_open_not_understood, message_id, settings)
                opened = True
    if known is None or opened:  # read now: nothing was read before, or a handoff was just opened
        await pause_if_needed(rasa, message_id)
    else:
        await _pause(rasa, known.unpaused)


async def pause_if_needed(rasa: RasaClient, message_id: int) -> None:
    await _pause(rasa, await asyncio.to_thread(_unpaused, message_id))


async def _pause(rasa: RasaClient, found: tuple[int, str] | None) -> None:
    """Pause Rasa for this open handoff (its id and conversation), if there is one."""
    if found is None:
        return
    handoff_id, sender = found
    try:
        await rasa.append_events(sender, [{"event": "pause"}])
    except RasaUnavailable as error:
        log.warning("handoff %s: Rasa not paused yet (%s); tried again on the next message", handoff_id, error)
        return
    await asyncio.to_thread(_mark, handoff_id, "rasa_paused_at")


async def close(rasa: RasaClient, handoff_id: int, account_id: int, outcome: str, resume_mode: str) -> None:
    """Give the conversation back to the bot: Rasa takes the resume first, then the handoff is
    closed, so no message can reach a conversation that is still paused."""
    sender, events = await asyncio.to_thread(_resume_plan, handoff_id, resume_mode)
    await rasa.append_events(sender, events)
    await asyncio.to_thread(_close, handoff_id, account_id, outcome, resume_mode)


# database steps, each its own short transaction
def _not_understood_twice(message_id: int) -> str | None:
    with session_scope() as session:
        return handoffs.not_understood_twice(session, message_id)


def _open_not_understood(message_id: int, settings: Settings) -> None:
    with session_scope() as session:
        handoffs.open_not_understood(session, message_id, settings)


def _unpaused(message_id: int) -> tuple[int, str] | None:
    with session_scope() as session:
        return _unpaused_in(session, message_id)


def _unpaused_in(session: Session, message_id: int) -> tuple[int, str] | None:
    """The open handoff of this message's sender that Rasa does not know of yet, if any."""
    row = session.execute(
        select(Handoff.id, Volunteer.conversation_id).join(Volunteer, Volunteer.id == Handoff.volunteer_id)
        .join(Message, Message.volunteer_id == Volunteer.id)
        .where(Message.id == message_id, Handoff.status == handoffs.Status.open, Handoff.rasa_paused_at.is_(None))
    ).first()
    return (row[0], row[1]) if row else None


def _mark(handoff_id: int, column: str) -> None:
    with session_scope() as session:
        setattr(session.get(Handoff, handoff_id), column, utcnow())


def _resume_plan(handoff_id: int, resume_mode: str) -> tuple[str, list[dict]]:
    with session_scope() as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None or handoff.status != handoffs.Status.open:
            raise handoffs.HandoffError("this handoff is closed already")
        volunteer = session.get(Volunteer, handoff.volunteer_id)
        return volunteer.conversation_id, handoffs.resume_events(volunteer, resume_mode)


def _close(handoff_id: int, account_id: int, outcome: str, resume_mode: str) -> None:
    with session_scope() as session:
        handoff = session.get(Handoff, handoff_id)
        handoffs.close(session, handoff, session.get(Account, account_id), outcome, resume_mode)
        handoff.rasa_resumed_at = utcnow()
