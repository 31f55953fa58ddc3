"""common.db: an INSERT that a concurrent or repeated insert of the same key does not break."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_tool.common.db import insert_ignoring_conflict
from lti_tool.extensions import db
from lti_tool.lti.models import LtiUser, Platform


def test_inserting_the_same_key_twice_keeps_the_first_row_and_raises_nothing(app, platform):
    platform_id = db.session.execute(select(Platform.id)).scalar_one()
    insert_ignoring_conflict(LtiUser, platform_id=platform_id, sub="learner-1", name="Camille")
    insert_ignoring_conflict(LtiUser, platform_id=platform_id, sub="learner-1", name="Someone else")
    insert_ignoring_conflict(LtiUser, platform_id=platform_id, sub="learner-2", name="Yanis")
    db.session.commit()
    assert db.session.execute(select(func.count()).select_from(LtiUser)).scalar_one() == 2
    assert db.session.execute(select(LtiUser.name).where(LtiUser.sub == "learner-1")).scalar_one() == "Camille"
