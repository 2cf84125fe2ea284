from __future__ import annotations

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import ServiceError, apply_to_form
from ..extensions import limiter
from ..htmx import redirect_to, render, render_form_errors
from ..i18n import set_lang_cookie
from ..security import safe_next
from . import bp, services
from .forms import (
    ChangePasswordForm,
    ConfirmForm,
    EmailOnlyForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    SetPasswordForm,
)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed_attempt(response) -> bool:
    # Only bad credentials count toward the limit.
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_attempt)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    resend_form = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.LoginRefused as refused:
            form.form_errors.append(refused.message)
            resend_form = EmailOnlyForm(formdata=None, email=form.email.data)
            return render_form_errors("auth/login.html", "form", form=form,
                                      resend_form=resend_form)
        if user is not None:
            next_url = safe_next(request.args.get("next"), url_for("core.home"))
            session.clear()  # a fresh session: nothing from before login carries over
            login_user(user, remember=form.remember.data)
            services.record_login(user, form.password.data)
            response = redirect_to(next_url)
            if user.locale:
                set_lang_cookie(response, user.locale)
            return response
        g.login_failed = True
        form.form_errors.append(_("The email or password is not correct."))
    if request.method == "POST":
        return render_form_errors("auth/login.html", "form", form=form, resend_form=resend_form)
    return render("auth/login.html", form=form, resend_form=resend_form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.end_all_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have logged out on every device."), "success")
    return redirect_to(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            services.register_client(
                name=form.name.data, organisation=form.organisation.data or "",
                phone=form.phone.data, email=form.email.data, password=form.password.data,
            )
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            return redirect_to(url_for("auth.registered"))
    if request.method == "POST":
        return render_form_errors("auth/register.html", "form", form=form)
    return render("auth/register.html", form=form)


@bp.route("/register/done")
def registered():
    return render("auth/registered.html")


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    form = ConfirmForm()
    valid = services.peek_token(token, "verify_email") is not None
    if valid and form.validate_on_submit():
        try:
            services.verify_email(token)
        except ServiceError as error:
            flash(error.message, "danger")
            return redirect(url_for("auth.login"))
        flash(_("Your email is verified. You can log in now."), "success")
        return redirect(url_for("auth.login"))
    return render("auth/verify.html", form=form, valid=valid, status=200 if valid else 410)


@bp.route("/resend-verification", methods=["POST"])
@limiter.limit("5 per minute")
def resend_verification():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.resend_verification(form.email.data)
    flash(_("If that account is waiting for verification, a new link is on its way."), "info")
    return redirect_to(url_for("auth.login"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"])
def request_reset():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(_("If an account uses that email, we have sent it a link to set a new password."),
              "info")
        return redirect_to(url_for("auth.login"))
    if request.method == "POST":
        return render_form_errors("auth/reset_request.html", "form", form=form)
    return render("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    token_row = services.peek_token(token, "reset_password", "invitation")
    if token_row is None:
        return render("auth/reset_password.html", form=None, valid=False, status=410)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("Your password is set. Please log in."), "success")
            return redirect_to(url_for("auth.login"))
    context = {"form": form, "valid": True, "invitation": token_row.purpose == "invitation"}
    if request.method == "POST":
        return render_form_errors("auth/reset_password.html", "form", **context)
    return render("auth/reset_password.html", **context)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user, locale=user.locale or str(get_locale()))
    password_form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        services.update_profile(user, name=form.name.data,
                                organisation=form.organisation.data or "",
                                phone=form.phone.data or "", locale=form.locale.data)
        flash(_("Your profile is saved."), "success")
        response = redirect_to(url_for("auth.profile"))
        set_lang_cookie(response, form.locale.data)
        return response
    context = {"form": form, "password_form": password_form, "user": user}
    if request.method == "POST":
        return render_form_errors("auth/profile.html", "profile_form", **context)
    return render("auth/profile.html", **context)


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ProfileForm(formdata=None, obj=user, locale=user.locale or str(get_locale()))
    password_form = ChangePasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            services.change_password(user, current=password_form.current_password.data,
                                     new=password_form.new_password.data)
        except ServiceError as error:
            apply_to_form(password_form, error)
        else:
            # This session goes on under the new epoch; every other one has ended.
            login_user(user)
            flash(_("Your password is changed; other devices have been logged out."), "success")
            return redirect_to(url_for("auth.profile"))
    return render_form_errors("auth/profile.html", "password_block", form=form,
                              password_form=password_form, user=user)
