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


def apply_to_form(form, error: ServiceError) -> None:
    """Show a service error beside its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
