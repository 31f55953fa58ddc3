"""Shared by the LLM tests: launches on AI exercises, the centre pointed at the local fake chat
server (real SDKs over HTTP), server-sent events read as the browser reads them."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.llm.centre import ConfigChange, close_providers, save_config
from lti_tool.llm.models import AiCall
from lti_tool.llm.resilience import reset_breakers
from lti_tool.lti.models import Platform

from .llm_fake_servers import FakeChatServer
from .lti_platform import CLAIM, landing_url

AI_THEME = "m1.t4"  # e1, e2: ai_prompt; e3: role_play
PROMPT_EXERCISE = "m1.t4.e1"
ROLE_PLAY_EXERCISE = "m1.t4.e3"
TRANSFORMATION_EXERCISE = "m2.t4.e1"
SECRET = "sk-test-Zq8WvK3pLm2Xr9Ty"


@pytest.fixture(autouse=True)
def fresh_breakers(app) -> Iterator[None]:
    """Circuit breakers are per process and per endpoint: each test starts with closed ones. The
    SDK clients the app kept are closed with it."""
    reset_breakers()
    yield
    close_providers(app)
    reset_breakers()


@pytest.fixture(scope="module")
def chat_server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as server:
        yield server


@pytest.fixture
def server(chat_server) -> FakeChatServer:
    chat_server.reset()
    chat_server.answer = "Voici quelques pistes pour avancer, étape par étape."
    chat_server.chunk_delay = 0.0
    chat_server.api_key = None
    chat_server.model = None
    chat_server.hold, chat_server.hold_at = None, 1
    return chat_server


def open_item(platform, client, item: str = AI_THEME, *, sub: str = "learner-1", role: str = "learner",
              name: str | None = None, link_id: str = "link-ai", context: str = "course-101",
              locale: str = "fr-FR", claims: dict | None = None, acknowledge: bool = True) -> str:
    """The launch's token URL. With `acknowledge`, the user has read the notice about the AI
    assistant (as it names the centre's provider now: configure the centre first)."""
    extra = {CLAIM + "custom": {"catalogue_item": item},
             CLAIM + "context": {"id": context, "title": "Cours " + context}, **(claims or {})}
    if name:
        extra["name"] = name
    response = platform.launch(client, role, sub=sub, link_id=link_id, locale=locale, **extra)
    url = landing_url(response)
    if acknowledge:
        acknowledge_notice(client, url)
    return url


def acknowledge_notice(client, url: str) -> dict:
    """Click "I understand" under the notice about the AI assistant."""
    response = client.post(url + "ai/notice")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def page(client, url: str) -> str:
    return html.unescape(client.get(url).get_data(as_text=True))


def platform_pk() -> int:
    return db.session.execute(select(Platform.id).order_by(Platform.id)).scalars().first()


def configure(server: FakeChatServer | None, provider: str = "openai", *, api_key: str | None = SECRET,
              **settings) -> None:
    """Point the centre at the fake server (a local endpoint: the EU confirmation is given)."""
    if provider == "openai":
        base_url = server.openai_base_url
    elif provider == "mistral":
        base_url = server.mistral_server_url
    else:
        base_url = None
    change = ConfigChange(provider=provider, model=settings.pop("model", "test-model") if provider != "fake" else "",
                          base_url=base_url, api_key=api_key, confirm_eu=provider != "fake", **settings)
    save_config(platform_pk(), None, change)
    db.session.commit()


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        events.append((name, json.loads("\n".join(data))))
    return events


def stream(client, url: str, **body):
    """POST …/ai/chat and read the whole event stream: (response, events, text of the deltas)."""
    response = client.post(url + "ai/chat", json=body, headers={"Accept": "text/event-stream"})
    if response.mimetype != "text/event-stream":
        return response, [], ""
    events = parse_sse(response.get_data(as_text=True))
    return response, events, "".join(data["text"] for name, data in events if name == "delta")


def calls() -> list[AiCall]:
    db.session.expire_all()
    return list(db.session.execute(select(AiCall).order_by(AiCall.id)).scalars())


def count_calls() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(AiCall)).scalar_one()


def sent_text(server: FakeChatServer) -> str:
    """Everything the tool sent to the fake server, as one string."""
    return "\n".join(json.dumps(r.body, ensure_ascii=False) for r in server.requests)
