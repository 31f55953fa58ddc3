"""Every area's models, imported so that Alembic and `db.create_all` see them all."""

from .activities.models import Activity, Draft, QuizAttempt, SectionRead, WheelRating  # noqa: F401
from .records.models import PrivacyEvent  # noqa: F401
from .demo.models import DemoLineItem, DemoPlacedItem, DemoPlatformKey, DemoScore  # noqa: F401
from .gradebook.models import LinkLineItem, ScoreOutbox  # noqa: F401
from .llm.models import AiCall, LlmConfig  # noqa: F401
from .grading.models import Grade  # noqa: F401
from .declarations.models import AssignmentPolicy, CentreSettings, ChecklistTicks, Submission  # noqa: F401
from .lti.models import (  # noqa: F401
    Context,
    Deployment,
    LaunchSession,
    LtiUser,
    Platform,
    RegistrationInvite,
    ResourceLink,
    ToolKey,
)
