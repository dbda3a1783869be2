"""Nobody without a token can make the api read, parse or store a large body, or hold it up.

A body over the limit is refused with 413 before any sign-in, token or signature check and
before any parsing, on every route: at once when Content-Length says so, and as soon as the
limit is passed when the body comes in chunks. A head or a body that stalls is given up (408)
while the api goes on answering. Deeply nested JSON, ids past what the database stores and
dates past year 9999 are 4xx that say why, never 500.

The streaming tests talk to the api as it is launched (`onramp api`, in a subprocess, on a free
port) through plain sockets: the client sends at most the limit and a few KiB, then waits for
the answer. A server that wanted more would never answer; GUARD seconds is only how long the
test waits before calling that a failure, not a measure of anything."""
import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.bodies import MAX_BODY
from onramp.settings import get_settings

GUARD = 20.0  # seconds a socket waits for an answer before the test gives up
SLACK = 16 * 1024  # what a client may send past the limit before it must have its answer
HUGE = 150 * 1024 * 1024  # what the client claims (or would go on) to send
TOO_BIG_ID = "99999999999999999999"  # past 64 bits
READ_SECONDS = 2  # REQUEST_READ_SECONDS for the served api: how long a head or a body may take


# --- the api as launched ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[int]:
    """`onramp api` on a fresh SQLite database and a free port; its port."""
    from campaign.migrate import upgrade

    workdir = tmp_path_factory.mktemp("served")
    url = f"sqlite:///{workdir / 'onramp.db'}"
    upgrade(url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "API_HOST": "127.0.0.1", "API_PORT": str(port),
           "PUBLIC_BASE_URL": "", "SPOOL_DIR": str(workdir / "spool"), "REQUEST_READ_SECONDS": str(READ_SECONDS),
           "RASA_URL": f"http://127.0.0.1:{free_port()}"}
    log = open(workdir / "api.log", "wb")
    process = subprocess.Popen([str(Path(sys.executable).parent / "onramp"), "api"], env=env, cwd=workdir,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (workdir / "api.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (workdir / "api.log").read_text()
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> tuple[int, str]:
    """The status and body of one response (0, "" when the server closed without answering)."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            got = sock.recv(65536)
            if not got:
                return (int(data.split()[1]), "") if data.startswith(b"HTTP/") else (0, "")
            data += got
        top, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", top)
        while length and len(body) < int(length.group(1)):
            got = sock.recv(65536)
            if not got:
                break
            body += got
    except ConnectionResetError:
        if not data.startswith(b"HTTP/"):
            return 0, ""
        top, _, body = data.partition(b"\r\n\r\n")
    return int(top.split()[1]), body.decode("utf-8", "replace")


def zeros(total: int, size: int = 8192) -> Iterator[bytes]:
    """`total` bytes, made one chunk at a time as they are sent (nothing is held)."""
    for start in range(0, total, size):
        yield b"0" * min(size, total - start)


def chunked(chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"


def send_until_answered(port: int, request_head: bytes, body: Iterator[bytes], budget: int) -> tuple[int, str, int]:
    """Send the head, then the body while no answer has come, never more than `budget` bytes of
    it; then wait for the answer. The status, the body of the answer, and the bytes sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=GUARD) as sock:
        sock.sendall(request_head)
        sent = 0
        for piece in body:
            answered, _, _ = select.select([sock], [], [], 0)
            if answered or sent + len(piece) > budget:
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        status, text = read_response(sock)
    return status, text, sent


UPLOAD = (b'--xyz\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\n'
          b"Content-Type: application/octet-stream\r\n\r\n")
POSTS = {  # a route of each kind, none given a token, a session or a signature; how its body starts
    "/v1": ("/v1/availability/parse", "application/json", b'{"text": "'),
    "dashboard sign-in": ("/dashboard/login", "multipart/form-data; boundary=xyz", UPLOAD),
    "web chat": ("/chat/api/messages", "application/json", b'{"client_message_id": "m-000001", "text": "'),
    "webhook": ("/webhooks/telegram", "application/json", b'{"update_id": 1, "message": {"text": "'),
}


def body(start: bytes) -> Iterator[bytes]:
    yield start
    yield from zeros(HUGE - len(start))


@pytest.mark.parametrize("path, content_type, start", POSTS.values(), ids=POSTS.keys())
def test_a_declared_150_mb_body_is_refused_before_the_limit_is_read(served, path, content_type, start):
    request = head("POST", path, {"Content-Type": content_type, "Content-Length": str(HUGE)})
    status, text, sent = send_until_answered(served, request, body(start), budget=MAX_BODY + SLACK)
    assert status == 413, text
    assert str(MAX_BODY) in text and sent <= MAX_BODY + SLACK


@pytest.mark.parametrize("path, content_type, start", POSTS.values(), ids=POSTS.keys())
def test_a_chunked_body_without_a_length_is_refused_once_it_passes_the_limit(served, path, content_type, start):
    request = head("POST", path, {"Content-Type": content_type, "Transfer-Encoding": "chunked"})
    status, text, sent = send_until_answered(served, request, chunked(body(start)), budget=MAX_BODY + SLACK)
    assert status == 413, text
    assert str(MAX_BODY) in text and sent <= MAX_BODY + SLACK


def test_a_half_sent_head_and_a_stalled_body_do_not_hold_up_the_api_and_are_given_up(served):
    half = socket.create_connection(("127.0.0.1", served), timeout=GUARD)
    stalled = socket.create_connection(("127.0.0.1", served), timeout=GUARD)
    try:
        half.sendall(b"POST /v1/availability/parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        stalled.sendall(head("POST", "/v1/availability/parse", {"Content-Type": "application/json",
                                                                "Content-Length": "1000"}) + b'{"text": "sat')
        # while both hang, the api answers
        assert httpx.get(f"http://127.0.0.1:{served}/healthz", timeout=GUARD).status_code == 200
        # and then gives both up, saying why where it can
        status, text = read_response(stalled)
        assert status == 408 and f"{READ_SECONDS} seconds" in text, (status, text)
        status, text = read_response(half)
        assert status in (0, 408), (status, text)
        assert half.recv(1) == b""  # closed
    finally:
        half.close()
        stalled.close()


def test_a_head_that_goes_on_and_on_is_refused_before_it_ends(served):
    """h11 holds at most its limit of a head that has not ended (httptools holds all of it)."""
    endless = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: "
    status, text, _ = send_until_answered(served, endless, zeros(4 * 1024 * 1024), budget=4 * 1024 * 1024)
    assert status == 400, text


# --- in process -----------------------------------------------------------------------------------

@pytest.fixture
def app(tmp_path, monkeypatch):
    """The app on a fresh SQLite database (these checks are about the edge, not the database)."""
    from campaign.migrate import upgrade
    from tests.support import databases

    url = f"sqlite:///{tmp_path / 'onramp.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    databases.reset_caches()
    upgrade(url)
    from api.main import create_app

    yield create_app(run_pipeline=False)
    databases.reset_caches()


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_multipart_upload_to_the_sign_in_page_is_refused_before_it_is_parsed(client):
    response = client.post("/dashboard/login", files={"upload": ("big.bin", b"0" * (2 * MAX_BODY))})
    assert response.status_code == 413, response.text
    assert str(MAX_BODY) in response.json()["error"]


@pytest.mark.parametrize("path", ["/chat/api/messages", "/chat/api/sessions", "/webhooks/twilio",
                                  "/webhooks/telegram", "/webhooks/whatsapp_cloud", "/v1/volunteers/1/bookings"])
def test_web_chat_webhooks_and_the_api_refuse_a_large_body_before_anything_else(client, path):
    response = client.post(path, content=b"{" + b" " * MAX_BODY + b"}", headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert str(MAX_BODY) in response.json()["error"]


def test_a_body_at_the_limit_is_still_read(client):
    text = "sat morning " + " " * (MAX_BODY - 200)
    response = client.post("/v1/availability/parse", json={"text": text},
                           headers={"Authorization": f"Bearer {get_settings().service_token}"})
    assert response.status_code != 413, response.text


NESTED = "[" * 30_000 + "]" * 30_000


def test_deeply_nested_json_is_a_400_that_says_so_on_the_api(client):
    response = client.post("/v1/availability/parse", content=NESTED, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {get_settings().service_token}"})
    assert response.status_code == 400, response.text
    assert "nested" in response.json()["error"]


def test_deeply_nested_json_is_a_400_that_says_so_on_the_web_chat(client):
    session = client.post("/chat/api/sessions", json={}).json()["session"]
    response = client.post("/chat/api/messages", content=NESTED,
                           headers={"Content-Type": "application/json", "X-Chat-Session": session})
    assert response.status_code == 400, response.text
    assert "nested" in response.json()["error"]


def test_nesting_inside_a_string_is_only_text(client):
    session = client.post("/chat/api/sessions", json={}).json()["session"]
    response = client.post("/chat/api/messages", json={"client_message_id": "nested-in-text", "text": "[" * 900 + '\\"{' * 300},
                           headers={"X-Chat-Session": session})
    assert response.status_code == 202, response.text


@pytest.fixture
def organizer(client):
    from tests.dashboard.conftest import make_account, sign_in

    make_account("org@example.org", "organizer")
    assert sign_in(client, "org@example.org").status_code == 303
    return client


@pytest.mark.parametrize("path", [
    f"/dashboard/volunteers/{TOO_BIG_ID}", f"/dashboard/shifts/{TOO_BIG_ID}", f"/dashboard/shifts/{TOO_BIG_ID}/edit",
    f"/dashboard/conversations/{TOO_BIG_ID}", f"/dashboard/volunteers.csv?id={TOO_BIG_ID}",
    "/dashboard/funnel?end=9999-12-31", "/dashboard/funnel?end=0001-01-01",
    "/dashboard/funnel?start=9999-12-31&end=9999-12-31"])
def test_ids_and_dates_past_what_the_database_stores_are_4xx_on_the_dashboard(organizer, path):
    response = organizer.get(path)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.json()["error"]


@pytest.mark.parametrize("path", [f"/dashboard/outbox/{TOO_BIG_ID}/retry", f"/dashboard/outbox/{TOO_BIG_ID}/cancel",
                                  f"/dashboard/bookings/{TOO_BIG_ID}/attendance", f"/dashboard/shifts/{TOO_BIG_ID}/cancel",
                                  f"/dashboard/conversations/{TOO_BIG_ID}/claim"])
def test_ids_past_what_the_database_stores_are_4xx_on_dashboard_forms(organizer, path):
    from tests.dashboard.conftest import csrf_of

    token = csrf_of(organizer.get("/dashboard/shifts/new").text)
    response = organizer.post(path, data={"csrf_token": token}, follow_redirects=False)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])


@pytest.mark.parametrize("method, path", [
    ("GET", f"/v1/volunteers/{TOO_BIG_ID}"), ("GET", f"/v1/teams/{TOO_BIG_ID}"),
    ("PATCH", f"/v1/shifts/{TOO_BIG_ID}"), ("POST", f"/v1/outbox/{TOO_BIG_ID}/cancel"),
    ("GET", f"/v1/volunteers?team_id={TOO_BIG_ID}")])
def test_ids_past_what_the_database_stores_are_4xx_on_the_api(client, method, path):
    response = client.request(method, path, json={}, headers={"Authorization": f"Bearer {get_settings().service_token}"})
    assert response.status_code == 422, response.text
    assert "less than or equal to" in response.json()["error"]


# --- the middleware on its own ---------------------------------------------------------------------

def _stub(read: bool = True):
    """An app that says how much body it read (or answers 401 without reading any)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from api.body_limit import BodyLimit

    async def upload(request):
        if not read:
            return JSONResponse({"error": "sign in first"}, status_code=401)
        return JSONResponse({"read": len(await request.body())})

    app = Starlette(routes=[Route("/upload", upload, methods=["GET", "POST"]), Route("/other", upload, methods=["POST"])])
    return BodyLimit(app, seconds=5, limit=1024, larger={"/upload": 8192}, session_cookie="onramp_session")


def test_a_larger_limit_is_for_its_path_and_only_with_a_session_cookie():
    client = TestClient(_stub())
    small, signed_in = {"Content-Type": "text/csv"}, {"Content-Type": "text/csv", "Cookie": "onramp_session=abc"}
    assert client.post("/upload", content=b"x" * 4096, headers=signed_in).json() == {"read": 4096}
    for path, headers, size, limit in [("/upload", small, 4096, 1024), ("/upload", signed_in, 16384, 8192),
                                       ("/other", signed_in, 4096, 1024)]:
        refused = client.post(path, content=b"x" * size, headers=headers)
        assert (refused.status_code, refused.headers["connection"]) == (413, "close"), refused.text
        assert str(limit) in refused.json()["error"]
    chunked = client.post("/upload", content=iter([b"x" * 4096] * 4), headers=signed_in)  # no length: counted
    assert chunked.status_code == 413 and "8192" in chunked.text  # the app's own handler said it


def test_a_signed_in_upload_answered_without_being_read_closes_the_connection():
    client = TestClient(_stub(read=False))
    response = client.post("/upload", content=b"x" * 4096, headers={"Cookie": "onramp_session=abc"})
    assert (response.status_code, response.headers["connection"]) == (401, "close")
    assert "connection" not in client.get("/upload").headers  # nothing to leave unread: kept alive


def test_nesting_is_read_across_chunks_strings_and_escapes():
    from api.bodies import BodyRefused, JsonDepth

    within = b'{"a": ["[[[{{\\\\", "\\"]]]", [[' + b"[" * 60 + b"]" * 62 + b"]}"  # 64 deep, brackets in strings
    deeper = b"[" * 65 + b"]" * 65
    for size in (1, 2, 3, 7, len(within)):
        depth = JsonDepth(64)
        for start in range(0, len(within), size):
            depth.feed(within[start:start + size])
        with pytest.raises(BodyRefused, match="nested more than 64"):
            depth = JsonDepth(64)
            for start in range(0, len(deeper), size):
                depth.feed(deeper[start:start + size])
