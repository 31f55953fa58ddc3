"""The gradebook: scores sent to the platform (LTI AGS) through a durable outbox and its worker,
the platform's roster (NRPS) and the service tokens both use.

Other areas call `gradebook.services` (post a submission, a quiz score or a grade; where each
learner's latest score stands; send again) and `gradebook.nrps.learner_roster`. The worker:
`flask lti-tool worker` (production), a thread of the dev server (OUTBOX_THREAD).
"""
