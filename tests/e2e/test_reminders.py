"""Reminders through the real stack: planned at booking, sent by the worker in the supporter's
language, and answered in words the model never has to guess."""
import time

import sqlalchemy as sa

from tests.support.chat import Chat

SPANISH_SIGNUP = ["hola, quiero ser voluntaria", "me llamo Lucía", "11372", "los fines de semana", "sí"]


def _booked(stack, lines) -> tuple[Chat, int]:
    chat = Chat(stack.api_url, stack.db_url)
    for line in lines:
        replies = chat.say(line)
    assert chat.keys(replies, "es") == ["shift_booked"], chat.transcript
    with chat.engine.connect() as conn:
        booking_id = conn.execute(sa.text("select id from bookings where volunteer_id=:v and status='booked'"),
                                  {"v": chat.volunteer_id}).scalar_one()
    return chat, booking_id


def _reminder_now(chat: Chat, booking_id: int) -> dict:
    """The day-before reminder made due now (as if it were the day before; planned as skipped when
    the demo's next shift is tomorrow and the hour has passed), then read as it arrives."""
    with chat.engine.begin() as conn:
        moved = conn.execute(sa.text("update outbox set send_after=created_at, status='pending', reason=null "
                                     "where booking_id=:b and key='reminder_day_before'"), {"b": booking_id}).rowcount
    assert moved == 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        replies = chat.replies()
        if replies:
            return replies[-1]
        time.sleep(0.2)
    raise TimeoutError(f"no reminder arrived; transcript: {chat.transcript}")


def _status(chat: Chat, booking_id: int) -> str:
    with chat.engine.connect() as conn:
        return conn.execute(sa.text("select status from bookings where id=:b"), {"b": booking_id}).scalar_one()


def test_a_reminder_arrives_in_the_supporters_language_and_no_puedo_cancels_and_offers_others(stack):
    chat, booking_id = _booked(stack, SPANISH_SIGNUP)
    reminder = _reminder_now(chat, booking_id)
    assert chat.keys([reminder], "es") == ["reminder_day_before"] and reminder["language"] == "es"
    assert [c["title"] for c in reminder["choices"]] == ["Sí, allí estaré", "No puedo ir", "Otro horario"]
    replies = chat.say("no puedo")
    assert chat.keys(replies, "es") == ["shift_cancelled", "shift_offers"], chat.transcript
    assert _status(chat, booking_id) == "cancelled"


def test_yes_to_a_reminder_confirms_the_booking(stack):
    chat, booking_id = _booked(stack, SPANISH_SIGNUP)
    _reminder_now(chat, booking_id)
    assert chat.keys(chat.say("sí, ahí estaré"), "es") == ["booking_confirmed"], chat.transcript
    assert _status(chat, booking_id) == "confirmed"
