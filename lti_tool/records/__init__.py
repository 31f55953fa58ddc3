"""Centre administration across areas: follow-up records and their exports, a learner's data
export and erasure (GDPR)."""
