"""The web chat page speaks the supporter's language: its words come from the catalogs, chosen by
Accept-Language and then by the conversation's language; Arabic and Urdu pages run right to left."""
import html
import json
import re
import shutil
import subprocess

import pytest
from fastapi.testclient import TestClient

from bot import catalog
from onramp.settings import get_settings

LANGUAGES = ["en", "es", "fr", "zh", "bn", "ar", "ur", "hi"]


@pytest.fixture(scope="module")
def client():
    from api.main import create_app

    with TestClient(create_app(run_pipeline=False)) as client:
        yield client


def page(client, accept_language=None, cookie=None) -> str:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    if cookie:
        headers["Cookie"] = cookie
    response = client.get("/chat", headers=headers)
    assert response.status_code == 200
    return response.text


def html_tag(text: str) -> str:
    return re.search(r"<html[^>]*>", text).group()


def test_a_spanish_browser_gets_the_page_in_spanish(client):
    text = page(client, "es-MX,es;q=0.9,en;q=0.5")
    title = re.search(r"<title>(.*?)</title>", text).group(1)
    assert "chat de voluntariado" in html.unescape(title)
    assert 'placeholder="Escribe un mensaje…"' in text and ">Enviar</button>" in text
    assert html_tag(text) == '<html lang="es" dir="ltr">'
    visible = text.split("<script>")[0]     # the scripts carry every language, for switching
    assert "Type a message" not in visible and ">Send<" not in visible


@pytest.mark.parametrize("language", ["ar", "ur"])
def test_arabic_and_urdu_pages_run_right_to_left(client, language):
    assert html_tag(page(client, language)) == f'<html lang="{language}" dir="rtl">'


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_page_shows_its_own_catalog_words(client, language):
    text = html.unescape(page(client, language))
    words = catalog.load(language)
    for key in ("webchat_header", "webchat_placeholder", "webchat_send", "webchat_message_label"):
        assert words[key] in text, key
    assert words["webchat_title"].replace("{campaign}", "").strip(" —") in text


@pytest.mark.parametrize("accept_language, expected", [
    ("fr;q=0.4, zh-TW;q=0.8, de", "zh"),     # German is not offered; Chinese is preferred over French
    ("bn-BD", "bn"),
    ("de-DE,de;q=0.9", "en"),                # nothing offered: the campaign's default language
    ("", "en"),
    ("hi;q=0, ur", "ur"),                    # q=0 means "not this one"
])
def test_the_browsers_preferences_choose_among_the_campaign_languages(client, accept_language, expected):
    assert f'lang="{expected}"' in html_tag(page(client, accept_language))


def test_the_conversations_language_wins_over_the_browsers_once_known(client):
    assert html_tag(page(client, "en-US", cookie="onramp_lang=bn")) == '<html lang="bn" dir="ltr">'
    assert html_tag(page(client, "en-US", cookie="onramp_lang=ar")) == '<html lang="ar" dir="rtl">'
    # a language the campaign does not offer is ignored
    assert html_tag(page(client, "fr", cookie="onramp_lang=xx")) == '<html lang="fr" dir="ltr">'


def test_the_page_carries_every_languages_words_for_switching(client):
    words = json.loads(re.search(r"const PAGE_WORDS = (\{.*?\}), RTL", page(client, "en")).group(1))
    assert sorted(words) == sorted(get_settings().languages)
    assert words["ur"]["webchat_send"] == catalog.load("ur")["webchat_send"]


# A few DOM functions, enough to run the page's own script without a browser.
FAKE_DOM = """
const els = {};
const el = (id) => els[id] || (els[id] = { id, textContent: "", placeholder: "", attrs: {},
  setAttribute(k, v) { this.attrs[k] = v; }, appendChild() {}, scrollTop: 0 });
global.document = { documentElement: { lang: "en", dir: "ltr" }, title: "", cookie: "",
  getElementById: el, createElement: () => el(Math.random()) };
global.localStorage = { getItem: () => "a-chat-token", setItem: () => {}, removeItem: () => {} };  // a chat already started
global.crypto = { randomUUID: () => "session-id" };
global.fetch = async () => ({ ok: true, json: async () => ({ messages: [
  { id: 1, direction: "out", text: "خوش آمدید", language: "ur", choices: [] }] }) });
global.setInterval = () => {};
setTimeout(() => console.log(JSON.stringify({ lang: document.documentElement.lang, dir: document.documentElement.dir,
  send: els["send-button"].textContent, cookie: document.cookie })), 50);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the page's script")
def test_the_page_switches_to_the_conversations_language_when_a_reply_arrives(client, tmp_path):
    scripts = re.findall(r"<script>(.*?)</script>", page(client, "en"), re.S)
    program = tmp_path / "page.js"
    program.write_text(FAKE_DOM + "\n;\n".join(scripts), encoding="utf-8")
    result = subprocess.run(["node", str(program)], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert (state["lang"], state["dir"], state["send"]) == ("ur", "rtl", catalog.load("ur")["webchat_send"])
    assert "onramp_lang=ur" in state["cookie"]
