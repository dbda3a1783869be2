"""The stack as a person starts it: `onramp run` (the Procfile under honcho, each process kept
running by onramp.keep), on free ports and a fresh database. Its processes are found in the
process tree, so a test can kill one of them the way a crash would."""
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil

from onramp.settings import ROOT
from tests.support.stack import Places, rasa_headers, wait_until_answers

# How to recognise each process's own command line (not its onramp.keep supervisor's).
MARKS = {
    "rasa": ["--enable-api"],
    "actions": ["run", "actions"],
    "api": ["onramp", "api"],
    "worker": ["onramp", "worker"],
}


class RunStack(Places):
    def __init__(self, workdir: Path, env: dict[str, str], args: tuple[str, ...] = (), api_processes: int = 1,
                 hold_on_kill: bool = False):
        super().__init__(workdir, env.get("DATABASE_URL"), **env)
        # hold_on_kill: a killed process stays down until start() (its supervisor is paused),
        # as the tests written for a stack without supervision expect
        self.hold_on_kill = hold_on_kill
        self.args = args
        self.api_processes = api_processes
        self._started_before_kill = 0
        self.log = workdir / "onramp-run.log"
        self.proc: subprocess.Popen | None = None

    def up(self, timeout: float = 300) -> "RunStack":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(ROOT / ".venv/bin/onramp"), "run", *self.args], env=self.env, cwd=ROOT,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        for name, url in self.health_urls().items():
            wait_until_answers(
                url, deadline, headers=self.rasa_headers() if name == "rasa" else None,
                gone=lambda: f"onramp run exited early:\n{self.tail()}" if self.proc.poll() is not None else None,
                late=lambda url=url: f"{url} not ready after {timeout}s:\n{self.tail()}")

    def rasa_headers(self) -> dict[str, str]:
        return rasa_headers(self.env)

    def _command_lines(self) -> list[tuple[psutil.Process, list[str]]]:
        """Every process `onramp run` started, with its command line (those gone are left out)."""
        found = []
        for child in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                found.append((child, child.cmdline()))
            except psutil.Error:
                continue
        return found

    def processes(self, name: str) -> list[psutil.Process]:
        found = []
        for child, line in self._command_lines():
            if "onramp.keep" in line or "-c" in line[:2]:
                continue  # a supervisor, or the shell honcho starts it with
            words = [Path(part).name for part in line]
            if all(mark in words for mark in MARKS[name]):
                found.append(child)
        return found

    def supervisors(self, name: str) -> list[psutil.Process]:
        found = []
        for child, line in self._command_lines():
            if "onramp.keep" in line and line.index("onramp.keep") + 1 < len(line):
                label = line[line.index("onramp.keep") + 1]
                if label == name or label.startswith(f"{name}."):
                    found.append(child)
        return found

    def pids(self, name: str) -> set[int]:
        return {p.pid for p in self.processes(name)}

    def kill(self, name: str) -> set[int]:
        """kill -9 of a process (every copy when it runs several) and of what it started (an
        api's uvicorn workers), not of its supervisor, which starts it again."""
        found = self.processes(name)
        assert found, f"no {name} process running:\n{self.tail()}"
        self._started_before_kill = self.api_startups()
        if self.hold_on_kill:
            for keeper in self.supervisors(name):
                keeper.suspend()
        doomed = [child for process in found for child in process.children(recursive=True)] + found
        for process in doomed:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(doomed, timeout=10)
        return {p.pid for p in found}

    def start(self, name: str, timeout: float = 60) -> None:
        """What the supervisor does by itself: wait until the process runs again."""
        for keeper in self.supervisors(name):
            keeper.resume()
        deadline = time.monotonic() + timeout
        while not self.pids(name):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} was not started again:\n{self.tail()}")
            time.sleep(0.2)

    def api_startups(self) -> int:
        return self.log.read_text(errors="replace").count("Application startup complete.") if self.log.exists() else 0

    def wait_api(self, timeout: float = 90) -> None:
        """Until every api process is up again: one that is still loading shares the machine
        with the first that answers, and would make its answers slow."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200
                        and self.api_startups() >= self._started_before_kill + self.api_processes):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"api not ready:\n{self.tail()}")

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else "(no log)"

    def down(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)  # Ctrl-C
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
