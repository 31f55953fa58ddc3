"""The trainer's grading inside the course: roster, grading page, grades the learner sees."""
