"""When the database cannot take a webhook in time, its verified messages wait in local files.

Twilio gives up on a webhook after 15 s and never retries an inbound SMS, so a message whose
insert is stuck behind a lock would be lost at the provider. The webhook waits a few seconds at
most (WEBHOOK_DB_SECONDS); then it writes the messages it verified and parsed to a file of their
own under SPOOL_DIR, fsync'd, and acknowledges. The api replays the spool into the database as
soon as it can; the provider's message id keeps a message stored once, whichever way it arrived.

Webhooks (threads, and several api processes on one host) spool while replays run, so a writer
and a reader never share a file: each webhook writes a new file under a temporary name and
renames it into place, so a replay sees all of it or nothing, and a replay deletes a file only
once its messages are committed. (Older versions appended to one file that replay renamed, read
and deleted: a webhook that had opened it just before wrote into a file already read, and its
acknowledged message was deleted with it.)
"""
import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import secrets
import stat
import threading
import time
from pathlib import Path

from bot.channels.received import Inbound
from bot.pipeline.receive import receive
from campaign.db import impatient_scope

log = logging.getLogger(__name__)
SPOOLED = ".inbound"  # one webhook's messages, JSON lines, under a name that sorts in spooling order
PENDING = "inbound.jsonl"  # the one file older versions appended to
REPLAYING = ".replaying"  # older versions' taken files, left there by a replay that failed
STALE_TEMP_SECONDS = 3600

_clock = threading.Lock()
_last_ns = 0


def _name() -> str:
    """Sorts in spooling order, so replay keeps each contact's messages in order: the wall clock,
    since files outlive processes and reboots, kept increasing within the process should it step
    back; the pid and a random part keep names of processes apart (containers may share pids)."""
    global _last_ns
    with _clock:
        _last_ns = max(time.time_ns(), _last_ns + 1)
        return f"{_last_ns:020d}-{os.getpid()}-{secrets.token_hex(4)}{SPOOLED}"


def _private(directory: Path) -> None:
    """0700: the files hold phone numbers and what people wrote (older versions used the umask's mode)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        try:
            directory.chmod(0o700)
        except OSError as error:  # not ours (a mounted volume): the message matters more
            log.warning("spool directory %s is not private: %s", directory, error)


def _sync(directory: Path) -> None:
    """A rename is durable once its directory is."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append(directory: Path, messages: list[Inbound]) -> None:
    """Durably add the messages: on disk under their final name before the webhook is answered."""
    _private(directory)
    lines = "".join(json.dumps(dataclasses.asdict(m), ensure_ascii=False) + "\n" for m in messages)
    name = _name()
    temp = directory / f".{name}.tmp"  # replay never reads it: a half-written file has no final name
    try:
        with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as file:
            file.write(lines)
            file.flush()
            os.fsync(file.fileno())
        os.rename(temp, directory / name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync(directory)
    log.warning("database busy: %s message(s) spooled to %s", len(messages), directory)


def _inbound(fields: dict) -> Inbound:
    """A spooled message; a field an older version wrote and this one no longer has is dropped."""
    known = {f.name for f in dataclasses.fields(Inbound)}
    return Inbound(**{name: value for name, value in fields.items() if name in known})


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def waiting(directory: Path) -> bool:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return False
    return any(n.endswith((SPOOLED, REPLAYING)) for n in names) or _size(directory / PENDING) > 0


def _store(lines: list[str], seconds: float) -> int:
    """Store the messages in one transaction; returns how many were new."""
    messages = [_inbound(json.loads(line)) for line in lines if line.strip()]
    if not messages:
        return 0
    with impatient_scope(seconds) as session:
        return sum(receive(session, message)[1] for message in messages)


def _replay_files(paths: list[Path], seconds: float) -> int:
    lines, read = [], []
    for path in paths:
        try:
            lines += path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:  # another replay committed it and deleted it meanwhile
            continue
        read.append(path)
    stored = _store(lines, seconds)
    for path in read:  # only now that their messages are committed
        path.unlink(missing_ok=True)
    return stored


def _replay_pending(directory: Path, seconds: float) -> int:
    """The file older versions appended to, emptied in place under their lock and never renamed
    or removed: an older process still appending during an upgrade writes where we read next."""
    try:
        pending = open(directory / PENDING, "r+", encoding="utf-8")
    except FileNotFoundError:
        return 0
    with pending:
        fcntl.flock(pending, fcntl.LOCK_EX)
        lines = pending.read().splitlines()
        stored = _store(lines, seconds)
        if lines:
            pending.truncate(0)
            os.fsync(pending.fileno())
    return stored


def _remove_stale_temps(directory: Path) -> None:
    """A webhook that died while writing never answered; its file only keeps private data."""
    for temp in directory.glob(f".*{SPOOLED}.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                temp.unlink()


def replay(directory: Path, seconds: float = 5.0) -> int:
    """Store what the spool holds, oldest first; returns how many messages were new. A file is
    removed only once its messages are committed; a replay that fails (waiting at most `seconds`
    for a lock) leaves it for the next try. Replays may overlap (api processes): a message
    stored twice is stored once, by its provider id."""
    if not waiting(directory):
        return 0
    stored = _replay_files(sorted(directory.glob(f"*{REPLAYING}")), seconds)  # from before the upgrade
    stored += _replay_pending(directory, seconds)
    stored += _replay_files(sorted(directory.glob(f"*{SPOOLED}")), seconds)
    _remove_stale_temps(directory)
    if stored:
        log.info("replayed %s spooled message(s) into the database", stored)
    return stored
