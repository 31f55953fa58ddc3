"""Reading the AI log for other areas: what the assistant did for one learner on one assignment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update

from ..extensions import db
from .models import AiCall


def calls_of(link_pk: int, user_pk: int) -> list[dict[str, Any]]:
    """Every call made for this learner on this placed activity, oldest first, as a submission
    freezes them (the prompt and answer as they were sent and logged: pseudonymised)."""
    rows = db.session.execute(select(AiCall).where(AiCall.resource_link_pk == link_pk, AiCall.user_pk == user_pk)
                              .order_by(AiCall.id)).scalars()
    return [{"id": row.id, "at": row.created_at.isoformat(timespec="seconds") + "Z", "provider": row.provider,
             "model": row.model, "purpose": row.purpose, "exercise_id": row.exercise_id, "prompt": row.prompt,
             "answer": row.answer, "outcome": row.outcome} for row in rows]


def call_counts(link_pk: int, user_pks: list[int]) -> dict[int, int]:
    """Calls per learner on this placed activity."""
    if not user_pks:
        return {}
    rows = db.session.execute(select(AiCall.user_pk, func.count()).where(
        AiCall.resource_link_pk == link_pk, AiCall.user_pk.in_(user_pks)).group_by(AiCall.user_pk)).all()
    return {user_pk: count for user_pk, count in rows}


def forget_texts_of(user_pk: int) -> int:
    """Blank the texts of the calls a person made, or that were about their work (a trainer's
    feedback draft), keeping each call's counts (the centre's usage and costs) with no link to
    them. Returns the calls changed."""
    result = db.session.execute(update(AiCall).where(or_(AiCall.user_pk == user_pk, AiCall.subject_pk == user_pk))
                                .values(prompt=[], answer=""))
    return result.rowcount
