"""Follow-up records (trainers and administrators of the course) and a person's data export and
erasure (administrators), under the launch token."""

from __future__ import annotations

from flask import current_app, g, render_template

from ..catalogue.services import get_catalogue
from ..common.i18n import lazy_gettext as _l
from ..lti.access import current_launch, launch_required
from ..common.spreadsheet import csv_download
from ..common.errors import ToolError
from ..common.http import form_body, json_api
from ..common.time import utcnow
from ..declarations.labels import labels, with_labels
from . import privacy, records
from .schemas import PERSON_DATA, ActivityLineOut, CourseRecordsOut, EraseSchema, FollowUpRecordOut

STAFF = ("trainer", "admin")

# A line per learner and activity; the JSON exports keep codes and numbers as they are.
CSV_COLUMNS = {
    "learner": _l("Learner"), "activity": _l("Activity"), "status": _l("Status"),
    "exercises_done": _l("Exercises done"), "exercises_total": _l("Exercises"),
    "parts_read": _l("Parts read"), "parts_total": _l("Parts"), "quiz_score": _l("Quiz score"),
    "quiz_total": _l("Quiz questions"), "versions": _l("Versions"), "submitted_at": _l("Submitted at (UTC)"),
    "declared_level": _l("Declared AI use"), "allowed_level": _l("Allowed AI use"),
    "checklist_ticked": _l("Checklist items ticked"), "checklist_total": _l("Checklist items"),
    "ai_calls": _l("AI assistant calls"), "flags": _l("Flags"), "score": _l("Grade"),
    "score_maximum": _l("Out of"), "feedback": _l("Feedback"), "graded_at": _l("Graded at (UTC)"),
}


def _records(user_pk: int | None = None) -> list[records.FollowUpRecord]:
    session = current_launch()
    catalogue = get_catalogue(session.locale)
    if user_pk is not None:
        return [records.learner_record(session, catalogue, user_pk)]
    return records.course_records(session, catalogue)


def _csv_rows(found: list[records.FollowUpRecord]):
    schema = ActivityLineOut()  # one for the whole export: building a schema costs more than a line
    for record in found:
        for line in record.lines:
            yield with_labels({"learner": record.name, **schema.dump(line)})


@launch_required(*STAFF)
def course_page():
    found = _records()
    return render_template("records/course.html", launch=current_launch(), token=g.launch_token, records=found)


@launch_required(*STAFF)
def course_csv():
    return csv_download("follow-up.csv", CSV_COLUMNS, _csv_rows(_records()))


@json_api("The follow-up records of the launch's course, as codes and numbers", out=CourseRecordsOut, errors=(404,))
@launch_required(*STAFF)
def course_json():
    found = _records()  # 404 first for a launch without a course
    return CourseRecordsOut().dump({"course": current_launch().context.title, "learners": found})


@launch_required(*STAFF)
def record_page(user_pk: int):
    record = _records(user_pk)[0]
    return render_template("records/record.html", launch=current_launch(), token=g.launch_token, record=record,
                           labels=labels(), generated_at=utcnow())


@launch_required(*STAFF)
def record_csv(user_pk: int):
    return csv_download(f"follow-up-{user_pk}.csv", CSV_COLUMNS, _csv_rows(_records(user_pk)))


@json_api("A learner's follow-up record in the launch's course", out=FollowUpRecordOut, errors=(404,))
@launch_required(*STAFF)
def record_json(user_pk: int):
    return FollowUpRecordOut().dump(_records(user_pk)[0])


# --- a person's data (administrators) --------------------------------------------------------------


@json_api("Export a person's data (administrators)", out=PERSON_DATA, errors=(404,))
@launch_required("admin")
def person_data(user_pk: int):
    session = current_launch()
    person = privacy.find_person(session.platform_id, user_pk)
    data = privacy.export_person(person, requested_by=session.user_pk)
    response = current_app.json.response(data)
    response.headers["Content-Disposition"] = f"attachment; filename=personal-data-{user_pk}.json"
    return response


@launch_required("admin")
def erase_person(user_pk: int):
    session = current_launch()
    person = privacy.find_person(session.platform_id, user_pk)
    if EraseSchema().validate(form_body()):
        raise ToolError(_l("Tick the box to confirm the erasure."), status=422, code="erase_unconfirmed",
                        fields={"confirm": _l("Tick the box to confirm the erasure.")})
    name = person.name
    erased = privacy.erase_person(person, requested_by=session.user_pk)
    return render_template("records/erased.html", launch=session, token=g.launch_token, name=name, erased=erased)


@launch_required("admin")
def privacy_register():
    session = current_launch()
    return render_template("records/register.html", launch=session, token=g.launch_token,
                           entries=privacy.register_of(session.platform_id))
