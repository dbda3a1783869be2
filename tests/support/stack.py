"""The four processes (rasa, actions, api, worker) started for real, on free ports and a fresh
SQLite database, once per test session: the trained model takes a while to load."""
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from onramp.settings import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rasa_headers(env: dict[str, str]) -> dict[str, str]:
    """Rasa's HTTP API takes the app's JWT (bot/rasa_client.py), from a stack's own environment:
    RASA_JWT_SECRET when set, else the secret derived from its SERVICE_TOKEN."""
    from bot.rasa_client import auth_headers
    from onramp.settings import DEFAULT_SERVICE_TOKEN, Settings

    return auth_headers(Settings(service_token=env.get("SERVICE_TOKEN", DEFAULT_SERVICE_TOKEN),
                                 rasa_jwt_secret=env.get("RASA_JWT_SECRET", "")))


def wait_until_answers(url: str, deadline: float, gone: Callable[[], str | None], late: Callable[[], str],
                       headers: dict[str, str] | None = None, pause: float = 0.5) -> None:
    """Until `url` answers 200: a RuntimeError saying `gone()` when the process behind it has
    exited, or `late()` after the deadline (time.monotonic())."""
    while True:
        exited = gone()
        if exited:
            raise RuntimeError(exited)
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(late())
        time.sleep(pause)


class Places:
    """Where a stack's processes listen and keep their data: free ports and databases of its own
    under `workdir`, and the environment that tells each process so."""

    def __init__(self, workdir: Path, db_url: str | None = None, **env: str):
        self.workdir = workdir
        self.ports = {name: free_port() for name in ("rasa", "actions", "api")}
        self.db_url = db_url or f"sqlite:///{workdir / 'onramp.db'}"
        self.api_url = f"http://127.0.0.1:{self.ports['api']}"
        self.rasa_url = f"http://127.0.0.1:{self.ports['rasa']}"
        self.actions_url = f"http://127.0.0.1:{self.ports['actions']}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "RASA_TRACKER_STORE_URL": f"sqlite:///{workdir / 'rasa-tracker.db'}",
            "API_PORT": str(self.ports["api"]),
            "RASA_PORT": str(self.ports["rasa"]),
            "ACTIONS_PORT": str(self.ports["actions"]),
            "RASA_URL": self.rasa_url,
            "INBOUND_LEASE_SECONDS": "3",
            **env,
        }

    def health_urls(self) -> dict[str, str]:
        return {"rasa": f"{self.rasa_url}/status", "actions": f"{self.actions_url}/health", "api": f"{self.api_url}/healthz"}


class Stack(Places):
    def __init__(self, workdir: Path, credentials: str = "bot/assistant/credentials.yml"):
        super().__init__(workdir, LOG_LEVEL="INFO")
        self.procs: dict[str, subprocess.Popen] = {}
        self.credentials = credentials  # Rasa's input channels (a bench may add bare Rasa's REST channel)

    def onramp(self, *args: str) -> None:
        subprocess.run([str(ROOT / ".venv/bin/onramp"), *args], env=self.env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)

    def _rasa_env(self) -> dict[str, str]:
        output = subprocess.run(
            [sys.executable, "-c", "import json; from onramp.cli.run import rasa_environment; print(json.dumps(rasa_environment()))"],
            env=self.env, cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
        import json

        return {**self.env, **json.loads(output)}

    def commands(self) -> dict[str, list[str]]:
        rasa = str(ROOT / ".venv-rasa/bin/rasa")
        return {
            # as the Procfile starts it: the JWT secret reaches Rasa through its environment
            # (onramp/rasa_launch.py), never its command line, where ps shows it to every local user
            "rasa": [str(ROOT / ".venv-rasa/bin/python"), "-m", "onramp.rasa_launch", "run", "--enable-api", "-i",
                     "127.0.0.1", "-p", str(self.ports["rasa"]), "-m", "models/onramp.tar.gz", "--endpoints",
                     "endpoint.yml", "--credentials", self.credentials, "--jwt-method", "HS256"],
            "actions": [rasa, "run", "actions", "--actions", "actions", "-p", str(self.ports["actions"])],
            "api": [str(ROOT / ".venv/bin/onramp"), "api"],
            "worker": [str(ROOT / ".venv/bin/onramp"), "worker"],
        }

    def start(self, name: str) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(self.commands()[name], env=self.full_env, cwd=ROOT, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(30)

    def up(self, timeout: float = 240, processes: tuple[str, ...] = ("rasa", "actions", "api", "worker"),
           demo: bool = True) -> "Stack":
        """Start the processes (all four by default; a run that needs no model can leave Rasa
        and the action server out)."""
        self.onramp("db", "upgrade")
        if demo:
            self.onramp("demo", "load")
        self.full_env = self._rasa_env()
        for name in processes:
            self.start(name)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 240) -> None:
        rasa_auth = self.rasa_headers()
        deadline = time.monotonic() + timeout
        for name, url in self.health_urls().items():
            if name not in self.procs:
                continue
            wait_until_answers(
                url, deadline, headers=rasa_auth if name == "rasa" else None,
                gone=lambda name=name: f"{name} exited early:\n{self.tail(name)}" if self.procs[name].poll() is not None else None,
                late=lambda name=name: f"{name} not ready after {timeout}s:\n{self.tail(name)}")

    def rasa_headers(self) -> dict[str, str]:
        return rasa_headers(self.full_env)

    def wait_api(self, timeout: float = 60) -> None:
        wait_until_answers(self.health_urls()["api"], time.monotonic() + timeout, gone=lambda: None,
                           late=lambda: f"api not ready:\n{self.tail('api')}", pause=0.3)

    def tail(self, name: str, lines: int = 60) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"

    def down(self) -> None:
        for name in list(self.procs):
            try:
                self.kill(name, signal.SIGTERM)
            except Exception:
                pass
