"""The demo platform's service endpoints (token, AGS, NRPS): thin, the rules are in `gradebook`."""

from __future__ import annotations

from functools import wraps

from flask import Response, current_app, jsonify, request

from . import gradebook
from .gradebook import ServiceRefusal


def _answer(body, status: int = 200, media_type: str = "application/json", link: str | None = None) -> Response:
    response = current_app.response_class(current_app.json.dumps(body), status=status, mimetype=media_type)
    if link:
        response.headers["Link"] = link
    response.headers["Cache-Control"] = "no-store"
    return response


def service(*scopes: str):
    """A service view: bearer token with one of `scopes`; refusals as JSON."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                if scopes:
                    gradebook.check_bearer(request.headers.get("Authorization"), *scopes)
                return view(*args, **kwargs)
            except ServiceRefusal as refusal:  # what it wrote is rolled back with the error answer
                response = jsonify({"status": refusal.status, "error": refusal.error, "reason": refusal.detail})
                response.status_code = refusal.status
                if refusal.status == 401:
                    response.headers["WWW-Authenticate"] = f'Bearer error="{refusal.error}"'
                return response

        return wrapper

    return decorator


def _json_body(media_type: str):
    if request.mimetype != media_type:
        raise ServiceRefusal(415, "unsupported_media_type", f"Content-Type must be {media_type}")
    return request.get_json(silent=True)


@service()
def token():
    return _answer(gradebook.issue_token(request.form.to_dict()))


@service(gradebook.SCOPE_LINEITEM, gradebook.SCOPE_LINEITEM_READONLY)
def list_line_items(context_id: str):
    items, link = gradebook.list_line_items(context_id, request.args.to_dict())
    return _answer(items, media_type=gradebook.CONTAINER_TYPE, link=link)


@service(gradebook.SCOPE_LINEITEM)
def create_line_item(context_id: str):
    item = gradebook.create_line_item(context_id, _json_body(gradebook.LINEITEM_TYPE))
    return _answer(gradebook.item_document(item), 201, gradebook.LINEITEM_TYPE)


@service(gradebook.SCOPE_LINEITEM, gradebook.SCOPE_LINEITEM_READONLY)
def get_line_item(context_id: str, item_id: int):
    return _answer(gradebook.item_document(gradebook.line_item(context_id, item_id)), media_type=gradebook.LINEITEM_TYPE)


@service(gradebook.SCOPE_LINEITEM)
def change_line_item(context_id: str, item_id: int):
    item = gradebook.line_item(context_id, item_id)
    if request.method == "DELETE":
        gradebook.delete_line_item(item)
        return Response(status=204)
    item = gradebook.update_line_item(item, _json_body(gradebook.LINEITEM_TYPE))
    return _answer(gradebook.item_document(item), media_type=gradebook.LINEITEM_TYPE)


@service(gradebook.SCOPE_SCORE)
def post_score(context_id: str, item_id: int):
    item = gradebook.line_item(context_id, item_id)
    gradebook.record_score(item, _json_body(gradebook.SCORE_TYPE))
    return Response(status=204)


@service(gradebook.SCOPE_NRPS)
def memberships(context_id: str, type_id: int):
    container, link = gradebook.memberships(context_id, request.args.to_dict())
    return _answer(container, media_type=gradebook.MEMBERSHIP_TYPE, link=link)
