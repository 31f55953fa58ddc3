"""Deep Linking 2.0 responses: the items a trainer picked, as signed ltiResourceLink content items."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from .errors import LtiRefusal
from .models import LaunchSession
from .registry import find_platform
from .toolconf import ToolRegistration

# Moodle lower-cases custom parameter names and turns other characters into "_": keep ours so.
CATALOGUE_ITEM_PARAM = "catalogue_item"
POLICY_PARAM = "ai_policy"
SCORE_MAXIMUM_PARAM = "score_maximum"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


@dataclass(frozen=True)
class PickedItem:
    catalogue_id: str
    title: str
    score_maximum: float
    # The AI-use level the trainer chose; it becomes the assignment's policy on first launch.
    ai_policy: str | None = None


def deep_linking_response(session: LaunchSession, items: list[PickedItem]) -> tuple[str, str]:
    """(return URL, signed JWT) answering the session's deep-linking request with `items`.

    Each item becomes a resource link to our launch URL, carrying the catalogue id as a custom
    parameter and a line item (scoreMaximum, label, resourceId = catalogue id), so the platform
    creates the gradebook column.
    """
    settings = session.services.get("deep_linking")
    platform = find_platform(session.platform.issuer, session.platform.client_id)
    if not settings or platform is None:
        raise LtiRefusal("session_expired", detail="no deep-linking request in this session")
    launch_url = current_app.config["TOOL_BASE_URL"] + "/lti/launch"
    resources = []
    for item in items:
        line_item = (LineItem().set_score_maximum(item.score_maximum).set_label(item.title)
                     .set_resource_id(item.catalogue_id))
        resources.append(
            DeepLinkResource().set_url(launch_url).set_title(item.title).set_lineitem(line_item)
            .set_custom_params({CATALOGUE_ITEM_PARAM: item.catalogue_id, SCORE_MAXIMUM_PARAM: f"{item.score_maximum:g}",
                                **({POLICY_PARAM: item.ai_policy} if item.ai_policy else {})})
        )
    deep_link = DeepLink(ToolRegistration(platform), session.deployment_id, settings)
    message = deep_link.get_message_jwt(resources)
    if message.get(DL_DATA) is None:
        message.pop(DL_DATA, None)  # `data` is echoed only when the platform sent it
    return settings["deep_link_return_url"], deep_link.encode_jwt(message)
