"""The error a user can act on, raised by any area and turned into a page or JSON by
lti_tool.errors (the app's error handlers)."""

from __future__ import annotations

from flask_babel import LazyString


class ToolError(Exception):
    """An error the user can act on. `message` is translated when rendered."""

    status = 400
    code = "bad_request"

    def __init__(self, message: LazyString | str, *, status: int | None = None, code: str | None = None,
                 hint: LazyString | str | None = None, fields: dict | None = None) -> None:
        super().__init__(str(code or self.code))
        self.message = message
        self.hint = hint
        # Field path → what is wrong with it, for forms to point at (JSON answers only).
        self.fields = fields
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
