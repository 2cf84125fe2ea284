"""Errors that services raise for the views to show beside a field or as a page message."""

from __future__ import annotations


class ServiceError(Exception):
    """A business rule refused the request; ``field`` names the form field it belongs to.

    An input with several wrong fields is refused once with all of them (``problems``, see
    :class:`Problems`), so the form shows every message beside its field at once.
    """

    def __init__(self, message: str, field: str | None = None,
                 problems: list[ServiceError] | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.problems = problems or [self]

    @property
    def fields(self) -> dict[str | None, list[str]]:
        """The messages per field (None: the form as a whole)."""
        found: dict[str | None, list[str]] = {}
        for problem in self.problems:
            found.setdefault(problem.field, []).append(str(problem.message))
        return found


class Problems:
    """Collects what is wrong with an input, field by field, then refuses it once::

        problems = Problems()
        if not data.description:
            problems.add(_l("Describe what happened."), "description")
        ...
        problems.raise_any()  # one ServiceError carrying every problem
    """

    def __init__(self):
        self.items: list[ServiceError] = []

    def add(self, message, field: str | None = None) -> None:
        """A problem: a message and its field, or one refusal made by a check of its own (it
        keeps its type and attributes, e.g. a booking slot's row)."""
        self.items.append(message if isinstance(message, ServiceError)
                          else ServiceError(message, field))

    def include(self, error: ServiceError) -> None:
        """Every problem of a refusal another check raised."""
        self.items.extend(error.problems)

    def has(self, field: str) -> bool:
        return any(problem.field == field for problem in self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_any(self) -> None:
        """Raise the first problem (its own type) carrying all of them."""
        if self.items:
            first = self.items[0]
            first.problems = list(self.items)
            raise first


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
    """Show a service error beside its field, or at the top of the form; every problem of an
    error carrying several (:class:`Problems`) beside its own field.

    ``field`` is an attribute of the form or a nested field's form name (``slots-0-start``).
    A message the field already shows is not repeated.
    """
    for problem in error.problems:
        field = None
        if problem.field:
            field = getattr(form, problem.field, None)
            if field is None and "-" in problem.field:
                field = _find_field(form, problem.field)
        errors = field.errors if field is not None else form.form_errors
        if str(problem.message) in [str(message) for message in errors]:
            continue
        if field is not None:
            field.errors = [*field.errors, problem.message]
        else:
            form.form_errors.append(problem.message)
