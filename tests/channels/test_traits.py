"""What differs per channel is declared once, on its adapter (bot/channels/base.py Traits): every
adapter, the example one included, declares every trait of each of its channels; everything else
asks (the worker's send rates, the reply window of compose and of the organizer's reply box, how
choices are shown); a channel no adapter declares stops the worker as it starts."""
import inspect
from dataclasses import fields
from datetime import datetime, timedelta

import pytest
from limits import parse as parse_limit

import bot.channels
from bot.channels import ADAPTERS, UndeclaredChannel, numbers_choices, registry, reply_window, traits
from bot.channels.base import NO_WINDOW, TRAITS, Adapter, ReplyWindow, Sender, Traits
from bot.channels.webchat import WebChat
from campaign import handoffs
from onramp.settings import get_settings
from tests.channels.example_adapter import ParrotAdapter
from worker.sender import OutboxWorker

EVERY_ADAPTER = [*ADAPTERS, ParrotAdapter]
DAY = timedelta(hours=24)


@pytest.mark.parametrize("adapter", EVERY_ADAPTER, ids=lambda adapter: adapter.__name__)
def test_every_adapter_declares_every_trait_of_each_of_its_channels(adapter):
    assert isinstance(adapter.channels, dict) and adapter.channels, f"{adapter.__name__}.channels: name -> Traits"
    assert set(TRAITS) == {"rate", "window", "max_length", "buttons", "media"}
    for name, declared in adapter.channels.items():
        assert isinstance(declared, Traits), f"{adapter.__name__}.channels[{name!r}] is not a Traits"
        assert isinstance(declared.rate, int) and declared.rate >= 1
        assert isinstance(declared.window, ReplyWindow)
        assert all(getattr(declared.window, f.name) is None or isinstance(getattr(declared.window, f.name), timedelta)
                   for f in fields(ReplyWindow))
        assert declared.max_length is None or (isinstance(declared.max_length, int) and declared.max_length > 0)
        assert declared.buttons is None or (isinstance(declared.buttons, int) and declared.buttons >= 0)
        assert isinstance(declared.media, bool)
        assert traits(name) is declared  # what the rest of the app is told


def test_no_channel_is_declared_by_two_adapters():
    names = [name for adapter in EVERY_ADAPTER for name in adapter.channels]
    assert len(names) == len(set(names))


def test_a_trait_left_out_or_a_rate_that_is_no_rate_is_refused_where_it_is_declared():
    with pytest.raises(TypeError, match="rate"):
        Traits(window=NO_WINDOW, max_length=None, buttons=0, media=False)
    with pytest.raises(ValueError, match="messages per second"):
        Traits(rate=0, window=NO_WINDOW, max_length=None, buttons=0, media=False)


def test_both_whatsapps_and_only_they_have_a_24_hour_window_for_the_bot_and_a_human_and_none_for_a_template():
    windowed = {name for adapter in EVERY_ADAPTER for name, declared in adapter.channels.items()
                if declared.window != NO_WINDOW}
    assert windowed == {"twilio_whatsapp", "whatsapp_cloud"}
    for name in windowed:
        assert (reply_window(name).bot, reply_window(name).human, reply_window(name).template) == (DAY, DAY, None)


def test_the_organizers_reply_box_asks_the_adapters_for_the_window():
    """campaign/ cannot import bot/: it asks the function bot/channels gives it."""
    for name in (name for adapter in EVERY_ADAPTER for name in adapter.channels):
        assert handoffs.human_window(name) == traits(name).window.human
    assert "whatsapp_cloud" in handoffs.WINDOWED and "twilio_whatsapp" in handoffs.WHATSAPP_CHANNELS
    assert "sms" not in handoffs.WINDOWED and "telegram" not in handoffs.WINDOWED


def test_a_reply_window_can_say_instagrams_24_hours_for_the_bot_and_7_days_for_a_human_agent():
    instagram = ReplyWindow(bot=DAY, human=timedelta(days=7), template=timedelta(0))  # no templates there
    now = datetime(2026, 12, 5, 12, 0)
    three_days_ago = now - timedelta(days=3)
    assert instagram.open_for(Sender.BOT, three_days_ago, now) is False
    assert instagram.open_for(Sender.HUMAN, three_days_ago, now) is True
    assert instagram.open_for(Sender.TEMPLATE, now - timedelta(minutes=1), now) is False
    assert instagram.open_for(Sender.HUMAN, None, now) is False  # never wrote: closed
    assert NO_WINDOW.open_for(Sender.BOT, None, now) is None  # no window for that sender


def test_choices_are_numbered_exactly_where_a_channel_has_no_buttons():
    assert {name: numbers_choices(name) for adapter in EVERY_ADAPTER for name in adapter.channels} == {
        "webchat": False, "sms": True, "twilio_whatsapp": True, "telegram": False, "whatsapp_cloud": False, "parrot": True}


def test_a_channel_no_adapter_declares_stops_the_worker_as_it_starts_saying_what_to_declare():
    settings = get_settings().model_copy(update={"outbox_send_rates": {"pigeon": "5/second"}})  # no stand-in for it
    with pytest.raises(UndeclaredChannel) as refused:
        OutboxWorker(settings, channels={"webchat": WebChat(), "pigeon": WebChat()})
    assert "'pigeon'" in str(refused.value) and "Traits(rate=<messages per second>" in str(refused.value)


def test_an_adapter_listing_a_channel_without_its_traits_stops_the_worker_naming_both(monkeypatch):
    class PigeonAdapter(Adapter):
        channels = ("pigeon",)  # names only: no rate, no window...

    monkeypatch.setattr(bot.channels, "ADAPTERS", [*bot.channels.ADAPTERS, PigeonAdapter])
    with pytest.raises(UndeclaredChannel) as refused:
        OutboxWorker(get_settings(), channels={"pigeon": WebChat()})
    message = str(refused.value)
    assert "'pigeon'" in message and "PigeonAdapter.channels" in message and "Traits(rate=" in message


def test_the_worker_sends_at_each_adapters_declared_rate_unless_outbox_send_rates_says_otherwise(channel_env):
    settings = get_settings().model_copy(update={"outbox_send_rates": {"sms": "100/second", "telegram": "off"}})
    worker = OutboxWorker(settings)
    assert set(worker.rate_limits) == set(registry(settings)) >= {"sms", "telegram", "whatsapp_cloud", "parrot"}
    assert worker.rate_limits["sms"] == parse_limit("100/second")  # a short code
    assert worker.rate_limits["telegram"] is None  # "off"
    assert worker.rate_limits["twilio_whatsapp"] == parse_limit("20/second")
    assert worker.rate_limits["whatsapp_cloud"] == parse_limit("50/second")
    assert worker.rate_limits["parrot"] == parse_limit("10/second")


def test_no_sender_is_given_a_session(channel_env):
    """The worker holds no transaction during a provider call: a sender gets plain values only."""
    for name, channel in registry(get_settings()).items():
        parameters = list(inspect.signature(channel.send).parameters)
        assert parameters[:2] == ["row", "message"], f"{name}: send{tuple(parameters)}"
