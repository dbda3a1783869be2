"""Every status a booking can have, and every move between them, in one table.

A booking holds a place (booked, confirmed), waits for one (waitlisted), or gave it up
(cancelled). A move not in the table is refused (IllegalMove).
"""
from enum import StrEnum


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"    # said yes to a reminder
    WAITLISTED = "waitlisted"  # the shift was full when they asked, or its capacity was lowered
    CANCELLED = "cancelled"    # by the person, the team, an opt-out, or the shift's cancellation


B = BookingStatus

MOVES: dict[BookingStatus, frozenset[BookingStatus]] = {
    B.BOOKED: frozenset({B.CONFIRMED, B.WAITLISTED, B.CANCELLED}),
    B.CONFIRMED: frozenset({B.WAITLISTED, B.CANCELLED}),
    B.WAITLISTED: frozenset({B.BOOKED, B.CANCELLED}),
    # booking the same shift again takes up the cancelled booking (one per person and shift)
    B.CANCELLED: frozenset({B.BOOKED, B.WAITLISTED}),
}
HOLDING = (B.BOOKED, B.CONFIRMED)  # statuses that hold a place
ACTIVE = (*HOLDING, B.WAITLISTED)  # statuses of someone still counting on the shift


class IllegalMove(ValueError):
    pass


def move(booking, to: BookingStatus) -> None:
    """Move one booking; refuses a move that is not in the table."""
    if to not in MOVES[BookingStatus(booking.status)]:
        raise IllegalMove(f"booking {booking.id}: {booking.status} -> {to} is not allowed")
    booking.status = str(to)
