"""When the database cannot take a webhook in time, its verified messages wait in a local file.

Twilio gives up on a webhook after 15 s and never retries an inbound SMS, so a message whose
insert is stuck behind a lock would be lost at the provider. The webhook waits a few seconds at
most (WEBHOOK_DB_SECONDS); then it appends the messages it verified and parsed to an fsync'd
file under SPOOL_DIR and acknowledges. The api replays the spool into the database as soon as it
can; the provider's message id keeps a message stored once, whichever way it arrived.
"""
import dataclasses
import fcntl
import json
import logging
import os
import uuid
from pathlib import Path

from bot.channels.received import Inbound
from bot.pipeline.receive import receive
from campaign.db import impatient_scope

log = logging.getLogger(__name__)
PENDING = "inbound.jsonl"
REPLAYING = ".replaying"


def append(directory: Path, messages: list[Inbound]) -> None:
    """Durably add the messages: written, flushed and fsync'd before the webhook is answered."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(dataclasses.asdict(m), ensure_ascii=False) + "\n" for m in messages)
    with open(directory / PENDING, "a", encoding="utf-8") as spool:
        fcntl.flock(spool, fcntl.LOCK_EX)  # several api processes may append at once
        spool.write(lines)
        spool.flush()
        os.fsync(spool.fileno())
    log.warning("database busy: %s message(s) spooled to %s", len(messages), directory)


def _inbound(fields: dict) -> Inbound:
    """A spooled message; a field an older version wrote and this one no longer has is dropped."""
    known = {f.name for f in dataclasses.fields(Inbound)}
    return Inbound(**{name: value for name, value in fields.items() if name in known})


def waiting(directory: Path) -> bool:
    return directory.is_dir() and any(p.name == PENDING or p.name.endswith(REPLAYING) for p in directory.iterdir())


def replay(directory: Path, seconds: float = 5.0) -> int:
    """Store what the spool holds; returns how many messages were new. A file is removed only
    once all of it is committed; a replay that fails (waiting at most `seconds` for a lock)
    leaves it for the next try."""
    if not waiting(directory):
        return 0
    pending = directory / PENDING
    if pending.exists():
        taken = directory / f"{uuid.uuid4().hex}{REPLAYING}"
        with open(pending, "a", encoding="utf-8") as spool:
            fcntl.flock(spool, fcntl.LOCK_EX)  # no append is half-written when we take the file
            os.rename(pending, taken)
    stored = 0
    for path in sorted(directory.glob(f"*{REPLAYING}")):
        messages = [_inbound(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        with impatient_scope(seconds) as session:
            for message in messages:
                stored += receive(session, message)[1]
        path.unlink(missing_ok=True)
    if stored:
        log.info("replayed %s spooled message(s) into the database", stored)
    return stored
