from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField


def preferences_form(kinds, current: dict[str, bool]) -> FlaskForm:
    """One checkbox per kind that concerns the user's role: "also by email"."""

    class PreferencesForm(FlaskForm):
        pass

    for kind in kinds:
        setattr(PreferencesForm, kind.template, BooleanField(kind.label))
    return PreferencesForm(data=current)
