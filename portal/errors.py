"""Errors that services raise for the views to show beside a field or as a page message."""

from __future__ import annotations


class ServiceError(Exception):
    """A business rule refused the request; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class Conflict(ServiceError):
    """The change collides with another record (a taken email, an overlapping booking...)."""


class NotAllowed(ServiceError):
    """The transition or action is not allowed for this user in this state."""


def _find_field(fields, name: str):
    """The field named ``name`` (its form name: ``slots-0-start`` for a row of a FieldList)."""
    for field in fields:
        if field.name == name:
            return field
        if field.type in ("FieldList", "FormField") and name.startswith(field.name + "-"):
            return _find_field(field, name)
    return None


def apply_to_form(form, error: ServiceError) -> None:
    """Show a service error beside its field, or at the top of the form.

    ``field`` is an attribute of the form or a nested field's form name (``slots-0-start``).
    """
    field = None
    if error.field:
        field = getattr(form, error.field, None)
        if field is None and "-" in error.field:
            field = _find_field(form, error.field)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
