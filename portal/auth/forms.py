from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..audit.vocabulary import describe
from ..forms import ChinesePhone, max_length, select_choices, strip_filter
from ..i18n import LANGUAGE_NAMES
from .models import User, assignable_role_choices, role_choices
from .passwords import MAX_LENGTH

_required = DataRequired(message=_l("This field is required."))
_email = Email(message=_l("Enter a valid email address."), check_deliverability=False)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, max_length(254)],
                       filters=[strip_filter])
    password = PasswordField(_l("Password"), validators=[_required, max_length(MAX_LENGTH)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class RegistrationForm(FlaskForm):
    name = StringField(_l("Contact name"), validators=[_required, Length(max=100)],
                       filters=[strip_filter])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)],
                               filters=[strip_filter],
                               description=_l(
                                   "Company or agency; leave empty for a private person."))
    phone = StringField(_l("Phone"), validators=[_required, max_length(20), ChinesePhone()],
                        filters=[strip_filter])
    email = EmailField(_l("Email"), validators=[_required, _email, Length(max=254)],
                       filters=[strip_filter])
    password = PasswordField(
        _l("Password"), validators=[_required, Length(max=MAX_LENGTH)],
        description=_l("At least 8 characters; a long passphrase is best."),
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[_required, max_length(MAX_LENGTH),
                    EqualTo("password", message=_l("The passwords do not match."))],
    )


class EmailOnlyForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, _email, max_length(254)],
                       filters=[strip_filter])


class ConfirmForm(FlaskForm):
    """A button that POSTs (with CSRF) so that link scanners cannot use a one-time link."""


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[_required, Length(max=MAX_LENGTH)],
        description=_l("At least 8 characters; a long passphrase is best."),
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[_required, max_length(MAX_LENGTH),
                    EqualTo("password", message=_l("The passwords do not match."))],
    )


class ProfileForm(FlaskForm):
    name = StringField(lazy_pgettext("person", "Name"),
                       validators=[_required, Length(max=100)], filters=[strip_filter])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)],
                               filters=[strip_filter])
    phone = StringField(_l("Phone"), validators=[Optional(), max_length(20), ChinesePhone()],
                        filters=[strip_filter])
    locale = SelectField(_l("Language"), choices=lambda: select_choices(LANGUAGE_NAMES.items()))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[_required, max_length(MAX_LENGTH)])
    new_password = PasswordField(_l("New password"), validators=[_required, Length(max=MAX_LENGTH)])
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[_required, max_length(MAX_LENGTH),
                    EqualTo("new_password", message=_l("The passwords do not match."))],
    )


class AccountCreateForm(FlaskForm):
    role = SelectField(_l("Role"), choices=lambda: select_choices(assignable_role_choices()))
    name = StringField(lazy_pgettext("person", "Name"),
                       validators=[_required, Length(max=100)], filters=[strip_filter])
    email = EmailField(_l("Email"), validators=[_required, _email, Length(max=254)],
                       filters=[strip_filter])
    organisation = StringField(_l("Unit"), validators=[Optional(), Length(max=200)],
                               filters=[strip_filter])
    phone = StringField(_l("Phone"), validators=[Optional(), max_length(20), ChinesePhone()],
                        filters=[strip_filter])


class AccountEditForm(FlaskForm):
    role = SelectField(_l("Role"), choices=lambda: select_choices(role_choices()))
    active = BooleanField(lazy_pgettext("account", "Active"))


describe(User, _l("Account"), AccountCreateForm, AccountEditForm, ProfileForm, labels={
    "email_verified_at": _l("Email verified"), "password_hash": _l("Password"),
    "session_epoch": _l("Sessions ended"), "last_login_at": _l("Last signed in"),
    "organisation": AccountCreateForm.organisation,
    "supplier_id": _l("Supplier"), "supplier_contact_id": _l("Supplier contact"),
}, choices={"role": dict(role_choices()), "locale": LANGUAGE_NAMES},
    routine=("last_login_at", "session_epoch", "password_hash"))
