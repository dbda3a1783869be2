"""The provider calls of an outbox row, one record per part (a long SMS takes several calls).

A part's record is written just before its call starts, without a provider id, and gets its
id when the provider accepts. So at any moment the records say which parts reached the
provider (a retry sends only the others: never part 1 twice) and whether a call may be in
flight (a part without an id: its outcome is unknown, so the row is never sent again).
"""
from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.orm import Session

from campaign.db import insert_ignore, insert_ignore_many
from campaign.models import OutboxRow, ProviderMessage, utcnow


def accepted(session: Session, outbox_id: int, channel: str) -> dict[int, str]:
    """The parts of this row the provider accepted on this channel: {part: provider id}."""
    rows = session.execute(select(ProviderMessage.part, ProviderMessage.provider_id).where(
        ProviderMessage.outbox_id == outbox_id, ProviderMessage.channel == channel,
        ProviderMessage.provider_id.is_not(None))).all()
    return {part: provider_id for part, provider_id in rows}


def ids(session: Session, outbox_id: int) -> list[str]:
    """Every provider id of the row, in the order its parts were sent."""
    return list(session.scalars(select(ProviderMessage.provider_id).where(
        ProviderMessage.outbox_id == outbox_id, ProviderMessage.provider_id.is_not(None)).order_by(ProviderMessage.part)))


def starting(session: Session, outbox_id: int, part: int, channel: str) -> None:
    """Part `part`'s call is about to start. Earlier calls that ended without an id (refused for
    sure, so not in flight) are forgotten first."""
    forget_unaccepted(session, outbox_id)
    insert_ignore(session, ProviderMessage, dict(outbox_id=outbox_id, part=part, channel=channel, provider_id=None,
                                                 started_at=utcnow()), ["outbox_id", "part"])


def start_first_many(session: Session, claimed: dict[int, str],
                     tried: set[int] | None = None) -> dict[int, tuple[dict[int, str], int]]:
    """At the claim of these rows ({outbox id: channel}): each one's first part not yet accepted
    is about to start. Returns, per row, the accepted parts and that part's number. `tried`: the
    rows that were claimed before (the others can have no part record yet; None: any may)."""
    if not claimed:
        return {}
    sent: dict[int, dict[int, str]] = {outbox_id: {} for outbox_id in claimed}
    before = list(claimed) if tried is None else sorted(tried)
    if before:
        for outbox_id, part, channel, provider_id in session.execute(
                select(ProviderMessage.outbox_id, ProviderMessage.part, ProviderMessage.channel, ProviderMessage.provider_id)
                .where(ProviderMessage.outbox_id.in_(before), ProviderMessage.provider_id.is_not(None))):
            if channel == claimed[outbox_id]:
                sent[outbox_id][part] = provider_id
        forget_unaccepted(session, *before)  # refused for sure: not in flight
    now = utcnow()
    insert_ignore_many(session, ProviderMessage, [
        dict(outbox_id=outbox_id, part=first_unsent(sent[outbox_id]), channel=channel, provider_id=None, started_at=now)
        for outbox_id, channel in claimed.items()], ["outbox_id", "part"])
    return {outbox_id: (sent[outbox_id], first_unsent(sent[outbox_id])) for outbox_id in claimed}


def first_unsent(sent: dict[int, str]) -> int:
    return next(n for n in range(len(sent) + 1) if n not in sent)


def accept(session: Session, outbox_id: int, part: int, channel: str, provider_id: str) -> None:
    done = session.execute(update(ProviderMessage).where(ProviderMessage.outbox_id == outbox_id, ProviderMessage.part == part)
                           .values(provider_id=provider_id, channel=channel, accepted_at=utcnow())
                           .execution_options(synchronize_session=False)).rowcount
    if not done:
        session.add(ProviderMessage(outbox_id=outbox_id, part=part, channel=channel, provider_id=provider_id,
                                    accepted_at=utcnow()))
        session.flush()


def accept_many(session: Session, accepted: list[tuple[int, int, str, str]]) -> None:
    """accept for each (outbox id, part, channel, provider id), the usual case in one statement."""
    if not accepted:
        return
    now = utcnow()
    statement = (update(ProviderMessage.__table__)
                 .where(ProviderMessage.outbox_id == bindparam("o"), ProviderMessage.part == bindparam("p"))
                 .values(provider_id=bindparam("i"), channel=bindparam("c"), accepted_at=now))
    done = session.execute(statement, [dict(o=o, p=p, c=c, i=i) for o, p, c, i in accepted]).rowcount
    if done != len(accepted):  # a part whose start was not recorded: one at a time, adding it
        for outbox_id, part, channel, provider_id in accepted:
            accept(session, outbox_id, part, channel, provider_id)


def forget_unaccepted(session: Session, *outbox_ids: int) -> None:
    """The calls without an id are known not to be in flight (the provider refused, or nothing
    was left to send): drop their records."""
    if outbox_ids:
        session.execute(delete(ProviderMessage).where(ProviderMessage.outbox_id.in_(outbox_ids),
                                                      ProviderMessage.provider_id.is_(None))
                        .execution_options(synchronize_session=False))


def in_flight():
    """A condition on OutboxRow: one of its calls started and its outcome is not known."""
    return exists().where(ProviderMessage.outbox_id == OutboxRow.id, ProviderMessage.provider_id.is_(None))


def row_for(session: Session, channel: str, provider_id: str) -> OutboxRow | None:
    """The outbox row a provider id belongs to, through the (channel, provider id) index."""
    return session.scalars(select(OutboxRow).join(ProviderMessage, ProviderMessage.outbox_id == OutboxRow.id).where(
        ProviderMessage.channel == channel, ProviderMessage.provider_id == provider_id)).first()
