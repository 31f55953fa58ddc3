"""Erasing a person ends every launch session of theirs on every worker (issue 25, item 10): a
token taken before the erasure opens nothing after it, on the worker that erased them or another."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from lti_tool import create_app
from lti_tool.common.store import RedisStore
from lti_tool.extensions import db
from lti_tool.lti.models import LaunchSession, LtiUser

from .conftest import IsolatedClient, empty_tables
from .lti_platform import TestPlatform
from .test_submissions import REQUIRED, open_item, submit, tick, work

SKIPPED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def workers(database_url, http_mock):
    """Two app instances on the same database and the same Redis store, as two gunicorn workers;
    the platform registered and its key set served."""
    store = RedisStore("redis://127.0.0.1:6379/0", prefix=f"t-{uuid.uuid4().hex}:")
    apps = [create_app("test", SQLALCHEMY_DATABASE_URI=database_url, LTI_STORE=store, SERVER_NAME="tool.test",
                       PREFERRED_URL_SCHEME="https") for _ in range(2)]
    for worker in apps:
        worker.test_client_class = IsolatedClient
    platform = TestPlatform()
    platform.serve_jwks(http_mock)
    with apps[0].app_context():
        platform.register()
    try:
        yield apps, platform
    finally:
        with apps[0].app_context():
            empty_tables()
        for worker in apps:
            worker.extensions["lti_http"].close()
            with worker.app_context():
                db.engine.dispose()


def token_routes(app) -> list[tuple[str, str]]:
    """(method, URL template with {token}) of every view behind a launch token; the other
    arguments filled with a plausible value (an id, an exercise of the activity)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "token" not in rule.arguments:
            continue
        values = {"token": "{token}"}
        for name in rule.arguments - {"token"}:
            values[name] = 1 if isinstance(rule._converters.get(name), IntegerConverter) else "m1.t2.e1"
        path = rule.build(values, append_unknown=False)[1]
        routes += [(method, path) for method in sorted(rule.methods - SKIPPED_METHODS)]
    return routes


@pytest.mark.parametrize("erase_by", ["page", "cli"])
def test_erasing_a_person_ends_their_launch_sessions_on_every_worker(workers, erase_by):
    (first, second), platform = workers
    on_first, on_second = first.test_client(), second.test_client()
    # Camille launches two activities on the first worker; her tokens go on working on the second.
    with first.app_context():
        camille = open_item(platform, on_first, sub="learner-a", name="Camille Martin")
        camille_2 = open_item(platform, on_first, "m2.t1", sub="learner-a", link_id="link-2", name="Camille Martin")
        admin = open_item(platform, on_first, sub="admin-1", role="admin", name="Sam Leroy")
    with second.app_context():
        work(on_second, camille)
        assert tick(on_second, camille, *REQUIRED).status_code == 200
        assert submit(on_second, camille).status_code == 201
        assert on_second.get(camille).status_code == 200
        assert on_second.get(camille + "grade").status_code == 200
        assert on_second.post(camille_2 + "themes/m2.t1/read").status_code == 200
    with first.app_context():
        camille_pk = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "learner-a")).scalar_one()
        assert db.session.execute(select(func.count()).select_from(LaunchSession)
                                  .where(LaunchSession.user_pk == camille_pk)).scalar_one() == 2

        if erase_by == "page":
            erased = on_first.post(admin + f"admin/people/{camille_pk}/erase", data={"confirm": "yes"})
            assert erased.status_code == 200, erased.get_data(as_text=True)[:300]
        else:
            result = first.test_cli_runner().invoke(args=[
                "lti-tool", "erase-person", "--issuer", platform.issuer, "--client-id", platform.client_id,
                "--sub", "learner-a", "--yes"])
            assert result.exit_code == 0, result.output
        assert db.session.execute(select(func.count()).select_from(LaunchSession)
                                  .where(LaunchSession.user_pk == camille_pk)).scalar_one() == 0

    # Every view behind a token, on either worker, with either of her tokens: refused, never served.
    statuses = set()
    for worker, client in ((first, on_first), (second, on_second)):
        routes = token_routes(worker)
        assert len(routes) > 40  # the whole API, not a sample
        with worker.app_context():
            for url in (camille, camille_2):
                token = url.split("/")[2]
                for method, path in routes:
                    response = client.open(path.format(token=token), method=method, json={})
                    assert response.status_code in (401, 404), (method, path, response.status_code)
                    statuses.add(response.status_code)
    assert statuses == {401}  # "session_expired", from every view: none answers 404 by chance
    # The landing page says her launch is over, as the JSON API does.
    with second.app_context():
        landing = on_second.get(camille)
        assert landing.status_code == 401 and "session_expired" in landing.get_data(as_text=True)
        assert on_second.get(camille + "grade", headers={"Accept": "application/json"}).get_json()["error"]["code"] == "session_expired"
        # The administrator's own launch is untouched.
        assert on_second.get(admin + "follow-up.json").status_code == 200
