"""Account administration: list and search users, create internal accounts, change roles."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit.services import history_for
from ..auth import services as accounts
from ..auth.forms import AccountCreateForm, AccountEditForm
from ..auth.models import Role, User, role_choices
from ..authz import admin_required, visible_or_404
from ..errors import ServiceError, apply_to_form
from ..htmx import redirect_to, render, render_form_errors
from ..pagination import paginate
from . import bp


@bp.route("/users")
@admin_required
def users():
    query = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    if role not in Role.ALL:
        role = ""
    pager = paginate(accounts.users_stmt(query, role))
    return render("admin/users.html", "results", pager=pager, q=query, role=role,
                  roles=role_choices())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def create_user():
    form = AccountCreateForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_account(
                role=form.role.data, email=form.email.data, name=form.name.data,
                organisation=form.organisation.data or "", phone=form.phone.data or "",
            )
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("Account created; an invitation to set a password was sent to %(email)s.",
                    email=user.email), "success")
            return redirect_to(url_for("admin.user_detail", user_id=user.id))
    if request.method == "POST":
        return render_form_errors("admin/user_new.html", "form", form=form)
    return render("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_detail(user_id: int):
    user = visible_or_404(User, user_id)
    form = AccountEditForm(obj=user)
    if form.validate_on_submit():
        try:
            accounts.update_account(user, role=form.role.data, active=form.active.data,
                                    acting_user=current_user._get_current_object())
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The account is saved."), "success")
            return redirect_to(url_for("admin.user_detail", user_id=user.id))
    context = {"user": user, "form": form, "history": history_for(user)}
    if request.method == "POST":
        return render_form_errors("admin/user_detail.html", "form", **context)
    return render("admin/user_detail.html", **context)
