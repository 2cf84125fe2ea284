"""The public answer page: an invitee opens their one-time link (no login), answers once.

Phone-first: one column, big tap targets, the scale as radio buttons per question. After the
closing date, or once answered, the link says so and takes nothing.
"""

from __future__ import annotations

from flask import abort, request
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from ..errors import Conflict, NotAllowed, ServiceError
from ..extensions import limiter
from ..forms import strip_filter
from ..htmx import render
from ..i18n import local_today
from . import bp, services
from .models import QuestionKind, Scale


def _page(invitation, status=200, **context):
    survey = invitation.round
    response = render("surveys/answer.html", status=status, survey=survey,
                      invitation=invitation,
                      questions=survey.version.questions if survey.version else [],
                      scale_points=Scale.POINTS, scale_labels=Scale.LABELS, kinds=QuestionKind,
                      max_answer=services.MAX_ANSWER, **{"errors": {}, **context})
    # The page belongs to one invitee's link: no shared cache keeps it, no referrer leaves it.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _read_answers(questions) -> tuple[services.AnswerInput, dict]:
    values, texts, chosen = {}, {}, {}
    for question in questions:
        raw = request.form.get(f"q{question.id}", "")
        if question.kind == QuestionKind.SCALE:
            if raw == "0":
                values[question.id] = None
            elif raw.isdigit() and int(raw) in Scale.POINTS:
                values[question.id] = int(raw)
            chosen[question.id] = raw
        else:
            raw = strip_filter(raw)  # refused beside the question when too long, never cut
            texts[question.id] = chosen[question.id] = raw
    return services.AnswerInput(values, texts), chosen


@bp.route("/r/<token>", methods=["GET", "POST"])
@limiter.limit("120 per minute", methods=["POST"])  # a whole office may share one address
def answer(token: str):
    invitation = services.find_invitation(token)
    if invitation is None:
        abort(404)
    survey = invitation.round
    if survey.version is None:  # a draft round has no invitations; defensive
        abort(404)
    if not survey.accepts_answers(local_today()):
        return _page(invitation, status=410, closed=True)
    if request.method == "GET":
        if invitation.responded:  # a plain page that says so; a second POST is a 409
            return _page(invitation, answered=True)
        return _page(invitation, chosen={})
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        abort(400)
    data, chosen = _read_answers(survey.version.questions)
    try:
        services.submit_response(token, data)
    except Conflict as error:
        return _page(invitation, status=409, answered=True, message=str(error.message))
    except NotAllowed as error:
        return _page(invitation, status=410, closed=True, message=str(error.message))
    except ServiceError as error:
        errors = error.fields
        return _page(invitation, status=422, chosen=chosen, errors=errors,
                     error=" ".join(errors.pop(None, [])))
    return _page(invitation, thanks=True)
