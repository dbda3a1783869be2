"""Webhooks append to the spool while the api replays it: every message whose append returned
(the provider got its 200 and will not send it again) ends up stored, exactly once.

Threads and separate processes append (several api processes on one host share SPOOL_DIR) while
two replayers drain the spool over and over, as two api processes' runners would."""
import dataclasses
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.channels.received import Inbound
from bot.pipeline import spool
from campaign.db import session_scope
from campaign.models import Message

ROOT = Path(__file__).resolve().parents[2]


def message(provider_id: str, sender: str) -> Inbound:
    return Inbound(channel="sms", external_id=sender, provider_id=provider_id, text=f"hola {provider_id}",
                   phone=sender, signup_source="sms")


class Replaying:
    """spool.replay over and over from two threads until the block ends, then until the spool is empty."""

    def __init__(self, directory: Path, pause: float = 0):
        self.directory, self.pause, self.new, self.errors = directory, pause, 0, []
        self.done = threading.Event()
        self.lock = threading.Lock()

    def _once(self) -> None:
        try:
            new = spool.replay(self.directory, seconds=2)
        except OperationalError:  # the other replayer holds SQLite's write lock: the runner tries again too
            return
        except Exception as error:  # anything else fails the test, once the counts are in
            self.errors.append(error)
            return
        with self.lock:
            self.new += new

    def _loop(self) -> None:
        while not self.done.is_set():
            self._once()
            time.sleep(self.pause)

    def __enter__(self):
        self.threads = [threading.Thread(target=self._loop) for _ in range(2)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        for thread in self.threads:
            thread.join()
        for _ in range(10):
            if not spool.waiting(self.directory):
                break
            self._once()


def check(acknowledged: list[str], replaying: Replaying) -> None:
    with session_scope() as session:
        stored = session.scalars(select(Message.provider_id).where(Message.direction == "in")).all()
    lost = set(acknowledged) - set(stored)
    counts = (f"acknowledged {len(acknowledged)}, stored {len(set(stored))}, lost {len(lost)}, "
              f"replay errors {len(replaying.errors)}")
    print(counts)
    assert not lost, counts
    assert not replaying.errors, replaying.errors
    assert sorted(stored) == sorted(acknowledged)  # nothing else, nothing twice
    assert replaying.new == len(acknowledged)  # each one counted as new once
    assert not spool.waiting(replaying.directory)  # nothing left to be replayed again


def test_appends_from_threads_during_replays_are_all_stored_once(db, tmp_path):
    directory, acknowledged = tmp_path / "spool", []

    def write(writer: int) -> None:
        for n in range(60):
            provider_id = f"SM{writer:02d}{n:030d}"
            spool.append(directory, [message(provider_id, f"+1718555{writer:04d}")])
            acknowledged.append(provider_id)  # the webhook answers 200 now

    with Replaying(directory) as replaying:
        writers = [threading.Thread(target=write, args=(w,)) for w in range(8)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
    check(acknowledged, replaying)


WRITER = """
import sys, threading
from pathlib import Path
from bot.channels.received import Inbound
from bot.pipeline import spool

directory, process = Path(sys.argv[1]), int(sys.argv[2])
acknowledged = []

def write(writer):
    sender = f"+1718555{process}{writer:03d}"
    for n in range(25):
        provider_id = f"SM{process}{writer}{n:030d}"
        spool.append(directory, [Inbound(channel="sms", external_id=sender, provider_id=provider_id, text="hola",
                                         phone=sender, signup_source="sms")])
        acknowledged.append(provider_id)

threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(*acknowledged)
"""


def test_appends_from_processes_during_replays_are_all_stored_once(db, tmp_path):
    directory = tmp_path / "spool"
    with Replaying(directory, pause=0.001) as replaying:  # the writers need some of the two cores
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(directory), str(p)], cwd=ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                   for p in range(3)]
        acknowledged = [line for w in writers for line in w.communicate()[0].split()]
        assert [w.returncode for w in writers] == [0] * 3
    check(acknowledged, replaying)


def test_the_spool_is_readable_by_its_owner_only(tmp_path):
    """It holds phone numbers and what people wrote, whatever the process's umask."""
    directory = tmp_path / "spool"
    umask = os.umask(0o022)  # the usual one: group and others could read what it creates
    try:
        spool.append(directory, [message("SM" + "1" * 32, "+17185550001")])
        directory.chmod(0o755)  # as an older version left it
        spool.append(directory, [message("SM" + "2" * 32, "+17185550002")])
    finally:
        os.umask(umask)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert len(files) >= 1 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def line(provider_id: str) -> str:
    return json.dumps(dataclasses.asdict(message(provider_id, "+17185550001"))) + "\n"


def stored_in_order() -> list[str]:
    with session_scope() as session:
        return session.scalars(select(Message.provider_id).order_by(Message.id)).all()


def test_replay_keeps_the_spooling_order_and_reads_what_an_older_version_left(db, tmp_path):
    directory = tmp_path / "spool"
    directory.mkdir()
    (directory / f"{'a' * 32}{spool.REPLAYING}").write_text(line("SM1"))  # its replay had failed
    (directory / spool.PENDING).write_text(line("SM2"))
    spool.append(directory, [message("SM3", "+17185550001")])
    spool.append(directory, [message("SM4", "+17185550001"), message("SM5", "+17185550001")])
    assert spool.replay(directory) == 5
    assert stored_in_order() == ["SM1", "SM2", "SM3", "SM4", "SM5"]
    assert not spool.waiting(directory)
    # an api process of the older version, still running during the upgrade, appends to its file
    with open(directory / spool.PENDING, "a", encoding="utf-8") as old:
        old.write(line("SM6"))
    assert spool.replay(directory) == 1
    assert stored_in_order()[-1] == "SM6"


def test_a_half_written_file_is_never_replayed_and_goes_in_time(db, tmp_path):
    """A webhook that died while writing never answered: what it wrote is not a message."""
    directory = tmp_path / "spool"
    spool.append(directory, [message("SM1", "+17185550001")])
    temp = directory / f".{spool._name()}.tmp"
    temp.write_text(line("SM2")[:20])
    assert spool.replay(directory) == 1
    assert temp.exists() and not spool.waiting(directory)  # it may still be being written
    os.utime(temp, (0, 0))
    spool.append(directory, [message("SM3", "+17185550001")])
    assert spool.replay(directory) == 1
    assert not temp.exists() and stored_in_order() == ["SM1", "SM3"]
