"""The form of the service catalogue's pages; the rules behind it live in
:mod:`portal.catalogue.services`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..audit.vocabulary import describe
from ..forms import int_or_none, strip_filter
from .models import ServiceCategory


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       filters=[strip_filter])
    name = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=100)],
                       filters=[strip_filter])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=100)],
                          filters=[strip_filter])
    team = StringField(_l("Responsible team"), validators=[Optional(), Length(max=100)],
                       filters=[strip_filter])
    default_assignee_id = SelectField(_l("Default assignee"), coerce=int_or_none,
                                      validate_choice=False)
    contract_id = SelectField(_l("Service contract (outsourced)"), coerce=int_or_none,
                              validate_choice=False,
                              description=_l("Leave empty when the bureau's own staff provide "
                                             "the service."))
    response_days = IntegerField(_l("First response within (working days)"),
                                 validators=[InputRequired(), NumberRange(1, 60)])
    resolution_days = IntegerField(_l("Resolution within (working days)"),
                                   validators=[InputRequired(), NumberRange(1, 250)])
    sort_order = IntegerField(_l("Order in lists"), validators=[Optional()], default=0)
    active = BooleanField(_l("Offered to supervisors"), default=True)


# How the audit trail reads these records (see portal.audit.vocabulary).
describe(ServiceCategory, _l("Service category"), CategoryForm,
         display=lambda category: category.label)
