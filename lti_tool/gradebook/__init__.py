"""Grade passback: the durable score outbox and its worker, AGS and NRPS clients, service tokens.

What the rest of the app uses (see each function's docstring):

    enqueue_score(session, *, link, user, kind, score_given=None, score_maximum=None, comment=None,
                  launch=None) -> ScoreOutbox
    outbox_state(link_pk, user_pks) -> dict[user_pk, State]
    retry_failed(row_id, *, link_pk) -> State | None
    retry_all_failed(link_pk) -> int
    learner_roster(launch_session) -> list[Member] | RosterUnavailable

The worker: `flask lti-tool worker` (production), a thread of the dev server (OUTBOX_THREAD).
"""

from .nrps import Member, RosterUnavailable, course_members, learner_roster
from .outbox import (GRADE, QUIZ, SUBMISSION, State, enqueue_score, outbox_state, retry_all_failed, retry_failed,
                     waiting_count)

__all__ = [
    "GRADE", "QUIZ", "SUBMISSION", "Member", "RosterUnavailable", "State", "course_members", "enqueue_score",
    "learner_roster", "outbox_state", "retry_all_failed", "retry_failed", "waiting_count",
]
