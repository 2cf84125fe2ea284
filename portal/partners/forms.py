"""Forms of the supplier channel; the rules live in :mod:`portal.partners.services`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Optional

from ..audit.vocabulary import describe
from ..forms import max_length, select_choices, strip_filter
from .models import ActionItemPhoto, NoteKind, ProposalStatus, SupplierNote

MAX_BODY = SupplierNote.MAX_BODY


class NoteForm(FlaskForm):
    kind = RadioField(_l("What you are posting"), choices=select_choices(NoteKind.LABELS.items()),
                      default=NoteKind.PROGRESS,
                      description=_l("A proposed resolution goes to the bureau, who confirm it "
                                     "before the supervisor is asked to close the item."))
    body = TextAreaField(_l("Your answer"), filters=[strip_filter], validators=[
        DataRequired(_l("Write what you have done or propose.")), max_length(MAX_BODY)])


class DecisionForm(FlaskForm):
    """Staff's confirmation (optionally rewording the response) or refusal of a proposal."""

    expected_status = HiddenField()
    response = TextAreaField(_l("Response the supervisor will read"), filters=[strip_filter],
                             validators=[Optional(), max_length(MAX_BODY)],
                             description=_l("Leave empty to use the supplier's text."))
    reason = TextAreaField(_l("Reason"), filters=[strip_filter],
                           validators=[Optional(), max_length(MAX_BODY)])


class ActionDoneForm(FlaskForm):
    expected_status = HiddenField()
    note = TextAreaField(_l("What was done"), filters=[strip_filter], validators=[
        DataRequired(_l("Describe what was done.")), max_length(MAX_BODY)])
    photos = MultipleFileField(_l("Photos (up to 3)"),
                               description=_l("JPEG, PNG, WebP or GIF images."))


describe(SupplierNote, _l("Supplier's note"), NoteForm, DecisionForm, labels={
    "status": _l("Status"), "decision_note": _l("Bureau's note"),
    "decided_at": _l("Decided"), "decided_by_id": _l("Decided by"),
    "feedback_id": _l("Feedback"), "supplier_id": _l("Supplier"), "author_id": _l("Author"),
}, choices={"kind": NoteKind.LABELS, "status": ProposalStatus.LABELS})
describe(ActionItemPhoto, _l("Action item photo"), labels={"action_item_id": _l("Action item")},
         display=lambda photo: f"#{photo.id}", hidden=("file_name",))
