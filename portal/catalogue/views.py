"""The service catalogue's pages: categories with their team, SLA and, when outsourced, the
contract (and so the supplier) that covers them.  Staff and admins edit it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..auth.services import staff_accounts
from ..authz import staff_required
from ..core.nav import nav_item
from ..errors import ServiceError, apply_to_form
from ..extensions import db
from ..forms import select_choices
from ..htmx import redirect_to, render, render_form_errors
from ..i18n import local_today
from ..roles import Role
from . import bp, services
from .forms import CategoryForm
from .models import ServiceCategory

nav_item("catalogue.categories", _l("Service catalogue"), Role.BUREAU, order=33)


@bp.route("/")
@staff_required
def categories():
    rows = db.session.scalars(
        sa.select(ServiceCategory)
        .options(selectinload(ServiceCategory.default_assignee),
                 *services.contracts().list_options())
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)).all()
    return render("catalogue/categories.html", categories=rows, today=local_today())


def _choices(form: CategoryForm) -> None:
    form.default_assignee_id.choices = select_choices(
        [("", _("— nobody by default —")),
         *[(user.id, user.name) for user in staff_accounts()]])
    form.contract_id.choices = select_choices(
        [("", _("— not outsourced —")), *services.contracts().choices()])


def _category_page(category: ServiceCategory | None):
    form = CategoryForm(obj=category) if request.method == "GET" and category else CategoryForm()
    _choices(form)
    if form.validate_on_submit():
        data = services.CategoryInput(
            code=form.code.data or "", name=form.name.data or "", name_en=form.name_en.data or "",
            team=form.team.data or "", default_assignee_id=form.default_assignee_id.data,
            contract_id=form.contract_id.data, response_days=form.response_days.data,
            resolution_days=form.resolution_days.data, sort_order=form.sort_order.data or 0,
            active=bool(form.active.data))
        try:
            saved = services.save_category(category, data)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The category %(name)s is saved.", name=saved.label), "success")
            return redirect_to(url_for("catalogue.categories"))
    action = (url_for("catalogue.category_edit", category_id=category.id) if category
              else url_for("catalogue.category_new"))
    context = {"form": form, "category": category, "action": action}
    if request.method == "POST":
        return render_form_errors("catalogue/category_form.html", "form", **context)
    return render("catalogue/category_form.html", **context)


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def category_new():
    return _category_page(None)


@bp.route("/<int:category_id>/edit", methods=["GET", "POST"])
@staff_required
def category_edit(category_id: int):
    category = db.session.get(ServiceCategory, category_id)
    if category is None:
        abort(404)
    return _category_page(category)
