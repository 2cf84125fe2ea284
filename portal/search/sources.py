"""What each module contributes to the search index, and which page shows a result.

A :class:`Source` reads its records' documents with one Core query per batch (so the same
code serves the migration's backfill, ``flask search reindex`` and the session hook), names the
page a result links to (whose role decorator and the model's ``visible_to`` decide who sees
it), and lists the changes that make a document stale (:class:`Watch`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..bookings.models import Booking, Venue
from ..feedback.models import Feedback
from ..meetings.models import ActionItem, AgendaItem, Meeting, short_text
from ..rentals.models import Building, Lease, Room, Tenant
from ..roles import Role
from ..suppliers.models import ServiceContract, Supplier


@dataclass(frozen=True)
class Doc:
    object_id: int
    title: str
    detail: str
    parts: tuple[str | None, ...]


# ids(objects) -> the source's ids: a list, or a SELECT of them.
IdsOf = Callable[[list], "Iterable[int] | sa.Select"]


@dataclass(frozen=True)
class Watch:
    """Changes of ``model`` that make documents of the source stale.

    ``fields``: the columns whose change matters (None: any).  ``created``: whether creating or
    deleting such an object matters too (a new building has no rooms yet).
    """

    model: type
    fields: frozenset[str] | None
    ids: IdsOf = field(default=lambda objects: [obj.id for obj in objects])
    created: bool = True


@dataclass(frozen=True)
class Page:
    """Where a role other than staff opens a record: ``endpoint`` with the record's id as
    ``id_arg``, or (``id_arg`` None) the list page ``endpoint`` at the record's row
    ``#{anchor}-{id}``."""

    endpoint: str
    id_arg: str | None = None
    anchor: str | None = None


@dataclass(frozen=True)
class Source:
    key: str
    label: object
    model: type
    endpoint: str  # the record's page; its role decorator says who may open it
    id_arg: str
    load: Callable[[sa.Connection, Callable], Iterable[Doc]]
    watches: tuple[Watch, ...]
    # Who gets results from this source when the page's decorator does not say it all:
    # the staff directory is shown to staff, but only an admin opens an account's page.
    roles: tuple[str, ...] | None = None
    # Which records of ``model`` have a document (None: all of them).
    scope: Callable[[], sa.ColumnElement[bool]] | None = None
    # A supplier's account opens its own records on its partners pages, not on the staff
    # page of ``endpoint`` (None: the supplier has no page for the module's records).
    supplier_page: Page | None = None

    def page(self, role: str) -> Page:
        """The page that shows a record of this source to ``role``."""
        if role == Role.SUPPLIER and self.supplier_page is not None:
            return self.supplier_page
        return Page(self.endpoint, self.id_arg)


def _fields(*names: str) -> frozenset[str]:
    return frozenset(names)


def _dependents(model, column: str):
    """Watch ids: the records of ``model`` whose ``column`` refers to the changed objects."""
    def ids(objects):
        return sa.select(model.id).where(getattr(model, column).in_([o.id for o in objects]))
    return ids


# --- documents ------------------------------------------------------------------------------


def _bookings(conn, where):
    rows = conn.execute(
        sa.select(Booking.id, Booking.title, Booking.department, User.organisation)
        .outerjoin(User, User.id == Booking.client_id).where(where(Booking.id)))
    for row in rows:
        reference = f"HY{row.id:06d}"
        customer = row.organisation or row.department
        yield Doc(row.id, f"{reference} {row.title}", customer,
                  (reference, row.title, row.department, row.organisation))


def _venues(conn, where):
    rows = conn.execute(sa.select(Venue.id, Venue.code, Venue.name, Venue.building)
                        .where(where(Venue.id)))
    for row in rows:
        yield Doc(row.id, row.name, f"{row.code} · {row.building}",
                  (row.code, row.name, row.building))


def _feedback(conn, where):
    rows = conn.execute(
        sa.select(Feedback.id, Feedback.description, Feedback.location_detail,
                  Building.name.label("building"), Room.code.label("room"))
        .outerjoin(Building, Building.id == Feedback.building_id)
        .outerjoin(Room, Room.id == Feedback.room_id).where(where(Feedback.id)))
    for row in rows:
        location = " ".join(part for part in (row.building, row.room, row.location_detail)
                            if part)
        yield Doc(row.id, f"#{row.id} {short_text(row.description, 60)}", location,
                  (str(row.id), row.description, location))


def _suppliers(conn, where):
    rows = conn.execute(sa.select(Supplier.id, Supplier.name, Supplier.uscc)
                        .where(where(Supplier.id)))
    for row in rows:
        yield Doc(row.id, row.name, row.uscc, (row.name, row.uscc))


def _contracts(conn, where):
    rows = conn.execute(
        sa.select(ServiceContract.id, ServiceContract.number, ServiceContract.title,
                  Supplier.name.label("supplier"))
        .join(Supplier, Supplier.id == ServiceContract.supplier_id)
        .where(where(ServiceContract.id)))
    for row in rows:
        yield Doc(row.id, f"{row.number} {row.title}", row.supplier, (row.number, row.title))


def _tenants(conn, where):
    rows = conn.execute(sa.select(Tenant.id, Tenant.name, Tenant.uscc, Tenant.id_number)
                        .where(where(Tenant.id)))
    for row in rows:
        # As on the tenant list: a person's ID number is shown in full on their page only.
        shown = row.uscc or f"{row.id_number[:6]}********{row.id_number[-4:]}"
        yield Doc(row.id, row.name, shown, (row.name, row.uscc, row.id_number))


def _leases(conn, where):
    rows = conn.execute(sa.select(Lease.id, Tenant.name.label("tenant"))
                        .join(Tenant, Tenant.id == Lease.tenant_id).where(where(Lease.id)))
    for row in rows:
        reference = f"ZL{row.id:06d}"
        yield Doc(row.id, reference, row.tenant, (reference, row.tenant))


def _rooms(conn, where):
    rows = conn.execute(
        sa.select(Room.id, Room.code, Room.office_department, Building.name.label("building"))
        .join(Building, Building.id == Room.building_id).where(where(Room.id)))
    for row in rows:
        yield Doc(row.id, f"{row.building} {row.code}", row.office_department,
                  (row.code, row.building))


def _meetings(conn, where):
    texts = defaultdict(list)
    for row in conn.execute(sa.select(AgendaItem.meeting_id, AgendaItem.title,
                                      AgendaItem.discussion, AgendaItem.decisions)
                            .where(where(AgendaItem.meeting_id))):
        texts[row.meeting_id] += [row.title, row.discussion, row.decisions]
    for row in conn.execute(sa.select(ActionItem.meeting_id, ActionItem.description)
                            .where(where(ActionItem.meeting_id))):
        texts[row.meeting_id].append(row.description)
    rows = conn.execute(sa.select(Meeting.id, Meeting.title, Meeting.location, Meeting.summary)
                        .where(where(Meeting.id)))
    for row in rows:
        yield Doc(row.id, row.title, row.location,
                  (row.title, row.location, row.summary, *texts[row.id]))


def _people(conn, where):
    rows = conn.execute(
        sa.select(User.id, User.name, User.email, User.organisation)
        .where(where(User.id), _internal()))
    for row in rows:
        yield Doc(row.id, row.name, row.email, (row.name, row.email, row.organisation))


def _internal():
    return User.role.in_(Role.INTERNAL)


def _meeting_of(objects):
    return [obj.meeting_id for obj in objects if obj.meeting_id is not None]


SOURCES: tuple[Source, ...] = (
    Source("bookings", _l("Bookings"), Booking, "bookings.detail", "booking_id", _bookings, (
        Watch(Booking, _fields("title", "department", "client_id")),
        Watch(User, _fields("organisation"), _dependents(Booking, "client_id"), created=False),
    )),
    Source("venues", _l("Venues"), Venue, "bookings.venue", "venue_id", _venues, (
        Watch(Venue, _fields("code", "name", "building")),
    )),
    Source("feedback", _l("Feedback"), Feedback, "feedback.item", "feedback_id", _feedback, (
        Watch(Feedback, _fields("description", "location_detail", "building_id", "room_id")),
        Watch(Building, _fields("name"), _dependents(Feedback, "building_id"), created=False),
        Watch(Room, _fields("code"), _dependents(Feedback, "room_id"), created=False),
    ), supplier_page=Page("partners.feedback_item", "feedback_id")),
    Source("suppliers", _l("Suppliers"), Supplier, "suppliers.supplier", "supplier_id",
           _suppliers, (Watch(Supplier, _fields("name", "uscc")),)),
    Source("contracts", _l("Service contracts"), ServiceContract, "suppliers.contract",
           "contract_id", _contracts, (
               Watch(ServiceContract, _fields("number", "title", "supplier_id")),
               Watch(Supplier, _fields("name"), _dependents(ServiceContract, "supplier_id"),
                     created=False),
           ), supplier_page=Page("partners.contracts", anchor="contract")),
    Source("tenants", _l("Tenants"), Tenant, "rentals.tenant", "tenant_id", _tenants, (
        Watch(Tenant, _fields("name", "uscc", "id_number")),
    )),
    Source("leases", _l("Leases"), Lease, "rentals.lease", "lease_id", _leases, (
        Watch(Lease, _fields("tenant_id")),
        Watch(Tenant, _fields("name"), _dependents(Lease, "tenant_id"), created=False),
    )),
    Source("rooms", _l("Rooms (rentals)"), Room, "rentals.room", "room_id", _rooms, (
        Watch(Room, _fields("code", "building_id", "office_department")),
        Watch(Building, _fields("name"), _dependents(Room, "building_id"), created=False),
    )),
    Source("meetings", _l("Joint meetings and minutes"), Meeting, "meetings.meeting",
           "meeting_id", _meetings, (
               Watch(Meeting, _fields("title", "location", "summary")),
               Watch(AgendaItem, _fields("title", "discussion", "decisions", "meeting_id"),
                     _meeting_of),
               Watch(ActionItem, _fields("description", "meeting_id"), _meeting_of),
           ), supplier_page=Page("partners.meeting", "meeting_id")),
    Source("people", _l("Staff directory"), User, "admin.user_detail", "user_id", _people, (
        Watch(User, _fields("name", "email", "organisation", "role")),
    ), roles=Role.BUREAU, scope=_internal),
)

BY_KEY = {source.key: source for source in SOURCES}
