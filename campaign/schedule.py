"""When an automated message may go: the cadence of reminders and follow-ups, the sending window
(quiet hours) and the daily cap, all in the campaign's time zone.

Local hours are computed on local dates with zoneinfo, so a reminder "the day before at 10:00"
stays at 10:00 across a daylight-saving change; durations ("two hours before") are real hours.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Cadence:
    """The timing rules, passed in explicitly (built from the settings by the caller)."""

    timezone: str = "America/New_York"
    day_before_hour: int = 10
    hours_before: float = 2.0
    # a nudge moved earlier than this by quiet hours is pointless: skipped instead
    max_early_hours: float = 3.0
    post_shift_hours: float = 1.0
    no_show_days: int = 1
    attended_days: int = 3
    signup_nudge_hours: float = 23.0
    lead_digest_hour: int = 18
    # a lead's announcement waits this long in the outbox so that a burst folds into one digest
    lead_digest_seconds: float = 60.0
    window_start: time = time(9, 0)
    window_end: time = time(21, 0)
    daily_cap: int = 3

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def at(self, day: date, clock: time) -> datetime:
        """That local wall-clock time on that local date, as an aware datetime."""
        return datetime.combine(day, clock, tzinfo=self.zone)

    def in_window(self, moment: datetime) -> bool:
        clock = self.local(moment).time()
        return self.window_start <= clock <= self.window_end

    def latest_allowed_before(self, moment: datetime) -> datetime:
        """The last moment inside the sending window at or before `moment`."""
        local = self.local(moment)
        if self.in_window(moment):
            return moment
        day = local.date() if local.time() > self.window_end else local.date() - timedelta(days=1)
        return self.at(day, self.window_end)

    def earliest_allowed_after(self, moment: datetime) -> datetime:
        local = self.local(moment)
        if self.in_window(moment):
            return moment
        day = local.date() if local.time() < self.window_start else local.date() + timedelta(days=1)
        return self.at(day, self.window_start)

    def next_day_start(self, moment: datetime) -> datetime:
        """The start of the next local day's sending window."""
        return self.at(self.local(moment).date() + timedelta(days=1), self.window_start)

    def day_bounds(self, moment: datetime) -> tuple[datetime, datetime]:
        """The local day containing `moment`, as [start, end)."""
        day = self.local(moment).date()
        return self.at(day, time(0)), self.at(day + timedelta(days=1), time(0))


def cadence_from(settings) -> Cadence:
    """The cadence the settings describe (onramp.settings.Settings)."""
    return Cadence(
        timezone=settings.campaign_timezone, day_before_hour=settings.reminder_day_before_hour,
        hours_before=settings.reminder_hours_before, max_early_hours=settings.reminder_max_early_hours,
        post_shift_hours=settings.post_shift_hours, no_show_days=settings.follow_up_no_show_days,
        attended_days=settings.follow_up_attended_days, signup_nudge_hours=settings.signup_nudge_hours,
        lead_digest_hour=settings.lead_shift_digest_hour, lead_digest_seconds=settings.lead_digest_seconds,
        window_start=time.fromisoformat(settings.send_window_start), window_end=time.fromisoformat(settings.send_window_end),
        daily_cap=settings.automated_daily_cap,
    )


@dataclass(frozen=True)
class Slot:
    """Where a planned row lands: its send time, or why it is skipped."""

    send_after: datetime | None
    skip_reason: str | None = None


def place(cadence: Cadence, ideal: datetime, now: datetime, deadline: datetime,
          earliest: datetime | None = None, max_early: timedelta | None = None) -> Slot:
    """Put a row due at `ideal` inside the sending window: outside it, at the last allowed moment
    before; when that would be before `earliest` (a "did you make it?" before the shift ended),
    at the first allowed moment after, within the deadline. A row moved earlier than `max_early`
    is skipped (`quiet_hours`)."""
    floor = max(now, earliest) if earliest is not None else now
    moved = cadence.latest_allowed_before(ideal)
    if max_early is not None and ideal - moved > max_early:
        return Slot(None, "quiet_hours")
    if moved >= floor:
        return Slot(moved)
    if ideal >= floor and cadence.in_window(floor) and floor <= deadline:
        return Slot(floor)  # the window is open now and the ideal moment is still ahead: now
    later = cadence.earliest_allowed_after(max(ideal, floor))
    if max_early is None and later < deadline:
        return Slot(later)
    return Slot(None, "quiet_hours")
