"""LTI roles to the tool's three roles: learner, trainer, admin."""

from __future__ import annotations

LEARNER, TRAINER, ADMIN = "learner", "trainer", "admin"

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
# Mentor is not among them: LTI scopes a mentor to the users of its `role_scope_mentor` claim
# (a parent, a workplace tutor), never to a whole course's work and grades.
TRAINER_ROLES = {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}
ADMIN_ROLES = {LIS + "system/person#Administrator", LIS + "institution/person#Administrator"}


def _context_role_name(role: str) -> str | None:
    """'…/membership#Instructor', '…/membership/Instructor#TeachingAssistant' or a bare
    'Instructor' (simple names are allowed by LTI 1.3 core §A.2.3) → the principal name."""
    if role.startswith(LIS + "membership"):
        rest = role[len(LIS + "membership"):]
        if rest.startswith("#"):
            return rest[1:]
        if rest.startswith("/"):
            principal, _, sub = rest[1:].partition("#")
            return sub if principal == "Instructor" and sub == "TeachingAssistant" else principal
        return None
    if "://" not in role and "#" not in role:
        return role
    return None


def map_roles(roles: list[str]) -> str:
    """The tool role for a list of LTI roles.

    A system or institution administrator is an admin (who also reaches the trainer view):
    Moodle sends its site administrators as Instructor *and* Administrator. Otherwise a context
    teaching role makes a trainer; anyone else, including a Mentor and a launch with no
    recognised role, is a learner and sees only their own work.
    """
    if any(role in ADMIN_ROLES for role in roles):
        return ADMIN
    context_names = {name for name in map(_context_role_name, roles) if name}
    if context_names & TRAINER_ROLES:
        return TRAINER
    return LEARNER


def is_staff(role: str) -> bool:
    return role in (TRAINER, ADMIN)
