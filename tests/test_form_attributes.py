"""Every form of the portal tells the browser the server's rules: ``required`` from
DataRequired/InputRequired, ``maxlength``/``minlength`` from Length, ``min``/``max`` from
NumberRange, as the shared field macro renders them; and every text has a length limit."""

import importlib
import pkgutil
import re
from html.parser import HTMLParser

import pytest
from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired
from wtforms import Form
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

import portal

TEXT_FIELDS = {"StringField", "TextAreaField", "EmailField", "PasswordField", "SearchField",
               "TelField", "URLField"}


def _form_classes() -> list[type]:
    for info in pkgutil.walk_packages(portal.__path__, "portal."):
        if info.name.rsplit(".", 1)[-1].startswith("forms"):
            importlib.import_module(info.name)
    found, queue = set(), [Form]
    while queue:
        for cls in queue.pop().__subclasses__():
            queue.append(cls)
            if cls.__module__.startswith("portal."):
                found.add(cls)
    return sorted(found, key=lambda cls: (cls.__module__, cls.__name__))


FORMS = _form_classes()


def _fields(form):
    for field in form:
        if field.type == "FormField":
            yield from _fields(field.form)
        elif field.type == "FieldList":
            if not field.entries:
                field.append_entry()
            for entry in field.entries:
                yield from (_fields(entry.form) if entry.type == "FormField" else [entry])
        else:
            yield field


def _expected(field) -> list[str]:
    """The attributes the field's validators call for, as they appear in the HTML."""
    wanted = []
    for validator in field.validators:
        if isinstance(validator, DataRequired | InputRequired | FileRequired):
            wanted.append("required")
        if isinstance(validator, Length):
            if validator.max is not None and validator.max > 0:
                wanted.append(f'maxlength="{validator.max}"')
            if validator.min is not None and validator.min > 0:
                wanted.append(f'minlength="{validator.min}"')
        if isinstance(validator, NumberRange):
            if validator.min is not None:
                wanted.append(f'min="{validator.min}"')
            if validator.max is not None:
                wanted.append(f'max="{validator.max}"')
    return wanted


def test_every_form_is_found():
    names = {cls.__name__ for cls in FORMS}
    assert {"FeedbackForm", "BookingForm", "SlotForm", "LeaseForm", "MeetingForm",
            "ContractForm", "RoundForm", "RegistrationForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_rendered_fields_carry_the_validators_rules(app, form_class):
    with app.test_request_context():
        form = form_class(meta={"csrf": False}) if issubclass(form_class, FlaskForm) \
            else form_class()
        render = app.jinja_env.get_template("_macros.html").module.field
        for field in _fields(form):
            if field.type in ("HiddenField", "CSRFTokenField", "SubmitField"):
                continue
            if getattr(field, "choices", ()) is None:
                field.choices = []  # set by the views from the database
            html = str(render(field))
            for attribute in _expected(field):
                pattern = r"\srequired(?=[\s>=])" if attribute == "required" \
                    else re.escape(attribute)
                assert re.search(pattern, html), (field.name, attribute, html)


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_text_field_has_a_length_limit(app, form_class):
    """The server refuses a text over its limit (never cuts it), and the browser knows it."""
    with app.test_request_context():
        form = form_class(meta={"csrf": False}) if issubclass(form_class, FlaskForm) \
            else form_class()
        unlimited = [field.name for field in _fields(form) if field.type in TEXT_FIELDS and not
                     any(isinstance(v, Length) and v.max and v.max > 0 for v in field.validators)]
        assert unlimited == []


# --- the pages themselves: what each form page sends to the browser ---------------------------


class _Inputs(HTMLParser):
    """Every input, select and textarea of a page: name → attributes of its first element."""

    def __init__(self):
        super().__init__()
        self.found: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea") and attributes.get("name"):
            self.found.setdefault(attributes["name"], attributes)


def _page_inputs(html: str) -> dict[str, dict]:
    parser = _Inputs()
    parser.feed(html)
    return parser.found


PAGES = [  # (role, path, form class)
    (None, "/auth/register", "auth.forms.RegistrationForm"),
    (None, "/auth/login", "auth.forms.LoginForm"),
    ("supervisor", "/feedback/new", "feedback.forms.FeedbackForm"),
    ("client", "/venues/book", "bookings.forms.BookingForm"),
    ("staff", "/venues/book", "bookings.forms.StaffBookingForm"),
    ("staff", "/venues/series/new", "bookings.forms.SeriesForm"),
    ("staff", "/venues/new", "bookings.forms.VenueForm"),
    ("staff", "/rentals/leases/new", "rentals.forms_leases.LeaseForm"),
    ("staff", "/rentals/rooms/new", "rentals.forms_inventory.RoomForm"),
    ("staff", "/rentals/tenants/new", "rentals.forms_inventory.TenantForm"),
    ("staff", "/suppliers/new", "suppliers.forms.SupplierForm"),
    ("staff", "/suppliers/contracts/new", "suppliers.forms.ContractForm"),
    ("staff", "/meetings/new", "meetings.forms.MeetingForm"),
    ("staff", "/surveys/rounds/new", "surveys.forms.RoundForm"),
    ("staff", "/catalogue/new", "catalogue.forms.CategoryForm"),
    ("staff", "/feedback/roster/new", "feedback.forms.AppointmentForm"),
    ("admin", "/admin/users/new", "auth.forms.AccountCreateForm"),
]
# Fields a page shows only in another situation.
ABSENT = {"/feedback/roster/new": {"reason"}}  # the reason for replacing a supervisor


@pytest.mark.parametrize("role, path, form_name", PAGES, ids=[page[1] + "-" + (page[0] or "anyone")
                                                              for page in PAGES])
def test_form_pages_send_the_validators_rules_to_the_browser(app, client, login_as, role,
                                                             path, form_name):
    from tests.feedback.factories import make_appointment

    browser = client if role is None else login_as(role)
    if role == "supervisor":
        make_appointment(app, browser.account.id)
    response = browser.get(path)
    assert response.status_code == 200, path
    inputs = _page_inputs(response.get_data(as_text=True))
    module_name, class_name = form_name.rsplit(".", 1)
    form_class = getattr(importlib.import_module(f"portal.{module_name}"), class_name)
    with app.test_request_context():
        form = form_class(meta={"csrf": False})
        checked = 0
        for field in _fields(form):
            wanted = _expected(field)
            if not wanted or field.type in ("HiddenField", "CSRFTokenField") or \
                    field.name in ABSENT.get(path, ()):
                continue
            assert field.name in inputs, (path, field.name)  # the page shows the field
            attributes = inputs[field.name]
            for attribute in wanted:
                name, _eq, value = attribute.partition("=")
                assert name in attributes, (path, field.name, attribute)
                if value:
                    assert attributes[name] == value.strip('"'), (path, field.name, attribute)
            checked += 1
        assert checked, path
