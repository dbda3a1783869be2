"""The onboarding funnel, from stage events: a cohort is the people whose first message fell in
a period, each counted at the furthest stage they reached (so every stage's figure is the
number who got at least that far)."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from campaign.models import FUNNEL_STAGES, Identity, StageEvent, Team, Volunteer

SPLITS = ("language", "channel", "source", "team")
from campaign.models.stage_event import NOT_SIGNUPS as NOT_VOLUNTEERS


@dataclass
class Funnel:
    stages: tuple[str, ...]
    total: dict[str, int]                                  # stage -> people who reached it
    groups: dict[str, dict[str, int]] = field(default_factory=dict)  # group -> stage -> people

    def rate(self, stage: str) -> float:
        first = self.total.get(self.stages[0]) or 0
        return self.total.get(stage, 0) / first if first else 0.0


def cohort(session: Session, start: datetime, end: datetime, scope: ColumnElement = true(),
           split: str | None = None) -> Funnel:
    first = (select(StageEvent.volunteer_id, func.min(StageEvent.reached_at).label("at"))
             .where(StageEvent.stage == FUNNEL_STAGES[0]).group_by(StageEvent.volunteer_id).subquery())
    people = session.execute(
        select(Volunteer.id, Volunteer.language, Volunteer.signup_source, Team.name)
        .join(first, first.c.volunteer_id == Volunteer.id)
        .outerjoin(Team, Team.id == Volunteer.team_id)
        .where(first.c.at >= start, first.c.at < end, scope)
        .where(Volunteer.signup_source.is_(None) | Volunteer.signup_source.not_in(NOT_VOLUNTEERS))
    ).all()
    ids = [p.id for p in people]
    reached: dict[int, set[str]] = defaultdict(set)
    channel: dict[int, str] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        for vid, stage in session.execute(select(StageEvent.volunteer_id, StageEvent.stage).where(StageEvent.volunteer_id.in_(part))):
            reached[vid].add(stage)
        for vid, ch in session.execute(select(Identity.volunteer_id, Identity.channel).where(Identity.volunteer_id.in_(part))
                                       .order_by(Identity.id.desc())):
            channel[vid] = ch  # the first identity (lowest id) wins: how they first reached us
    order = {stage: i for i, stage in enumerate(FUNNEL_STAGES)}
    funnel = Funnel(FUNNEL_STAGES, {stage: 0 for stage in FUNNEL_STAGES})
    for person in people:
        furthest = max((order[s] for s in reached[person.id] if s in order), default=0)
        group = {"language": person.language, "channel": channel.get(person.id), "source": person.signup_source,
                 "team": person.name}.get(split or "", None) or "—"
        for stage in FUNNEL_STAGES[:furthest + 1]:
            funnel.total[stage] += 1
            if split:
                funnel.groups.setdefault(group, {s: 0 for s in FUNNEL_STAGES})[stage] += 1
    funnel.groups = dict(sorted(funnel.groups.items(), key=lambda item: -item[1][FUNNEL_STAGES[0]]))
    return funnel
