"""Every route, for anonymous users and each role, answers the expected status.

A new route without an entry here fails the test: decide who may open it.
"""

import re
from datetime import time

import pytest
import sqlalchemy as sa
from flask import url_for
from flask_login import current_user

from portal.bookings import calendars, services
from portal.database import write_transaction
from portal.extensions import db
from portal.outbox import services as outbox
from portal.outbox.models import OutboxMessage
from tests.bookings.factories import (
    future_day,
    make_booking,
    make_catering,
    make_photo,
    make_venue,
)
from tests.conftest import csrf_token, login, make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_feedback_samples,
    make_supplier,
)
from tests.helpers import bureau_today
from tests.meetings.factories import make_action, make_agenda_item, make_meeting
from tests.rentals.alert_factories import pay
from tests.rentals.factories import make_lease, make_room, make_tenant
from tests.surveys.factories import invite, make_questionnaire, make_round, questions_of

# "supplier": an account of a second supplier, so the sample records (the first supplier's)
# are another supplier's: 404 where the page exists for suppliers, and 404 where it is internal
# too (role guards answer 404 to a supplier, see portal/authz.py denied_status).
ROLES = ("anonymous", "client", "supervisor", "staff", "admin", "supplier")
LOGIN = 302  # anonymous users are sent to the login page


def everyone(status):
    return dict.fromkeys(ROLES, status)


def admin_only():
    return {"anonymous": LOGIN, "client": 403, "supervisor": 403, "staff": 403, "admin": 200,
            "supplier": 404}


def staff_only():
    return {"anonymous": LOGIN, "client": 403, "supervisor": 403, "staff": 200, "admin": 200,
            "supplier": 404}


def supplier_only(status=200):
    return {"anonymous": LOGIN, "client": 403, "supervisor": 403, "staff": 403, "admin": 403,
            "supplier": status}


def expected_status(expected: dict, role: str) -> int:
    """The expected status of ``role``; a supplier's account gets 404 wherever another role
    would be refused (403): internal pages do not exist for it (issue 15)."""
    return expected.get(role, 404 if role == "supplier" else 403)


def account(app, role):
    """A new account of ``role``; a supplier's belongs to a second supplier (with a contract
    in force), not the sample records' supplier."""
    if role != "supplier":
        return make_user(app, role)
    from tests.partners.factories import make_supplier_account

    return make_supplier_account(app)


def logged_in(status=200):
    return {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], status)}


def anonymous_only():
    # Logged-in users are sent home from the login and registration pages.
    return {"anonymous": 200, **dict.fromkeys(ROLES[1:], 302)}


# endpoint -> (URL values, {role: expected status for GET})
EXPECTED = {
    "static": ({"filename": "css/portal.css"}, everyone(200)),
    "core.home": ({}, everyone(200)),
    "core.healthz": ({}, everyone(200)),
    "core.readyz": ({}, everyone(200)),
    "auth.login": ({}, anonymous_only()),
    "auth.logout": ({}, everyone(405)),
    "auth.register": ({}, anonymous_only()),
    "auth.registered": ({}, everyone(200)),
    "auth.verify_email": ({"token": "not-a-token"}, everyone(410)),
    "auth.resend_verification": ({}, everyone(405)),
    "auth.request_reset": ({}, everyone(200)),
    "auth.reset_password": ({"token": "not-a-token"}, everyone(410)),
    "auth.profile": ({}, logged_in()),
    "auth.change_password": ({}, everyone(405)),
    "admin.users": ({}, admin_only()),
    "admin.create_user": ({}, admin_only()),
    "admin.user_detail": ({"user_id": "{user_id}"}, admin_only()),
    "audit.index": ({}, admin_only()),
    "outbox.index": ({}, admin_only()),
    "outbox.detail": ({"message_id": "{message_id}"}, admin_only()),
    "outbox.retry": ({"message_id": "{message_id}"}, everyone(405)),
    "notifications.index": ({}, logged_in()),
    "notifications.badge": ({}, logged_in()),
    "notifications.preferences": ({}, logged_in()),
    "notifications.open_notification": ({"notification_id": "{notification_id}"},
                                        everyone(405)),
    "notifications.mark_read": ({"notification_id": "{notification_id}"}, everyone(405)),
    "notifications.read_all": ({}, everyone(405)),
    "bookings.venues": ({}, everyone(200)),
    "bookings.overview": ({}, everyone(200)),
    "bookings.grid_page": ({}, everyone(200)),
    "bookings.venue": ({"venue_id": "{venue_id}"}, everyone(200)),
    "bookings.book": ({}, {"anonymous": LOGIN, "client": 200, "supervisor": 403, "staff": 200,
                           "admin": 200}),
    "bookings.quote": ({}, everyone(405)),
    # Another client's booking: 404 for clients and supervisors, as if it did not exist.
    "bookings.detail": ({"booking_id": "{booking_id}"}, {"anonymous": LOGIN, "client": 404,
                                                         "supervisor": 404, "staff": 200,
                                                         "admin": 200, "supplier": 404}),
    "bookings.act": ({"booking_id": "{booking_id}", "action": "approve"}, everyone(405)),
    "bookings.mine": ({}, {"anonymous": LOGIN, "client": 200, "supervisor": 403, "staff": 403,
                           "admin": 403}),
    "bookings.queue": ({}, staff_only()),
    "bookings.waitlist_join": ({}, {"anonymous": LOGIN, "client": 200, "supervisor": 403,
                                    "staff": 403, "admin": 403}),
    "bookings.waitlist_mine": ({}, {"anonymous": LOGIN, "client": 200, "supervisor": 403,
                                    "staff": 403, "admin": 403}),
    "bookings.waitlist_step": ({"entry_id": "{waitlist_entry_id}", "action": "remove"},
                               everyone(405)),
    "bookings.waitlist_venue": ({"venue_id": "{venue_id}"}, staff_only()),
    "bookings.bulk_approve": ({}, everyone(405)),
    "bookings.blackouts": ({}, staff_only()),
    "bookings.edit": ({"booking_id": "{booking_id}"}, {"anonymous": LOGIN, "client": 404,
                                                      "supervisor": 403, "staff": 200,
                                                      "admin": 200}),
    "bookings.series_new": ({}, staff_only()),
    "bookings.series_detail": ({"series_id": "{series_id}"}, staff_only()),
    "bookings.runsheet": ({}, staff_only()),
    "bookings.check_in": ({"booking_id": "{booking_id}"}, staff_only()),
    "bookings.catering": ({}, staff_only()),
    "bookings.venue_new": ({}, staff_only()),
    "bookings.venue_edit": ({"venue_id": "{venue_id}"}, staff_only()),
    "bookings.photo_add": ({"venue_id": "{venue_id}"}, everyone(405)),
    "bookings.photo_delete": ({"venue_id": "{venue_id}", "photo_id": "1"}, everyone(405)),
    "bookings.photo": ({"venue_id": "{venue_id}", "name": "{photo_name}"}, everyone(200)),
    "bookings.catering_options": ({}, staff_only()),
    "bookings.catering_option_toggle": ({"option_id": "{option_id}"}, everyone(405)),
    "bookings.reports": ({}, staff_only()),
    "bookings.reports_export": ({}, staff_only()),
    "bookings.booking_ics": ({"booking_id": "{booking_id}"}, {"anonymous": LOGIN, "client": 404,
                                                              "supervisor": 404, "staff": 200,
                                                              "admin": 200, "supplier": 404}),
    # not approved yet: a message and back to the booking (the PDF exists once approved)
    "bookings.confirmation_pdf": ({"booking_id": "{booking_id}"}, {"anonymous": LOGIN,
                                                                   "client": 404,
                                                                   "supervisor": 404,
                                                                   "staff": 303, "admin": 303,
                                                                   "supplier": 404}),
    "bookings.feed": ({"token": "not-a-token"}, everyone(404)),  # no login: the token is the key
    "bookings.create_feed": ({}, everyone(405)),
    "bookings.revoke_feed": ({"feed_id": "{feed_id}"}, everyone(405)),
    "bookings.create_venue_feed": ({"venue_id": "{venue_id}"}, everyone(405)),
    "rentals.rooms": ({}, staff_only()),
    "rentals.room": ({"room_id": "{room_id}"}, staff_only()),
    "rentals.room_new": ({}, staff_only()),
    "rentals.room_edit": ({"room_id": "{room_id}"}, staff_only()),
    "rentals.room_status": ({"room_id": "{room_id}"}, everyone(405)),
    "rentals.building_new": ({}, staff_only()),
    "rentals.occupancy": ({}, staff_only()),
    "rentals.tenants": ({}, staff_only()),
    "rentals.tenant": ({"tenant_id": "{tenant_id}"}, staff_only()),
    "rentals.tenant_new": ({}, staff_only()),
    "rentals.tenant_edit": ({"tenant_id": "{tenant_id}"}, staff_only()),
    "rentals.room_photo_add": ({"room_id": "{room_id}"}, everyone(405)),
    "rentals.room_photo_delete": ({"room_id": "{room_id}", "photo_id": "1"}, everyone(405)),
    "rentals.room_photo": ({"room_id": "{room_id}", "name": "{photo_name}"},
                           {**staff_only(), "staff": 404, "admin": 404}),
    "rentals.reports": ({}, staff_only()),
    "rentals.reports_export": ({"report": "arrears"}, staff_only()),
    "rentals.leases": ({}, staff_only()),
    "rentals.lease_new": ({}, staff_only()),
    "rentals.lease_edit": ({"lease_id": "{lease_id}"}, staff_only()),
    "rentals.lease_room_check": ({}, staff_only()),
    # another tenant's lease: 404 for a client, as if it did not exist
    "rentals.lease": ({"lease_id": "{lease_id}"}, {"anonymous": LOGIN, "client": 404,
                                                   "supervisor": 403, "staff": 200,
                                                   "admin": 200}),
    "rentals.lease_act": ({"lease_id": "{lease_id}", "action": "approve"}, everyone(405)),
    "rentals.lease_renew": ({"lease_id": "{lease_id}"}, everyone(405)),
    "rentals.lease_deposit": ({"lease_id": "{lease_id}"}, everyone(405)),
    "rentals.lease_deposit_settle": ({"lease_id": "{lease_id}"}, everyone(405)),
    "rentals.record_payment": ({"lease_id": "{lease_id}"}, everyone(405)),
    "rentals.my_leases": ({}, {"anonymous": LOGIN, "client": 200, "supervisor": 403,
                               "staff": 403, "admin": 403}),
    # another tenant's notice or receipt: 404 for a client, as its lease
    "rentals.payment_notice": ({"lease_id": "{paid_lease_id}", "period_id": "{period_id}"},
                               {"anonymous": LOGIN, "client": 404, "supervisor": 403,
                                "staff": 200, "admin": 200}),
    "rentals.payment_notice_pdf": ({"lease_id": "{paid_lease_id}", "period_id": "{period_id}"},
                                   {"anonymous": LOGIN, "client": 404, "supervisor": 403,
                                    "staff": 200, "admin": 200}),
    "rentals.receipt": ({"lease_id": "{paid_lease_id}", "payment_id": "{payment_id}"},
                        {"anonymous": LOGIN, "client": 404, "supervisor": 403, "staff": 200,
                         "admin": 200}),
    "rentals.receipt_pdf": ({"lease_id": "{paid_lease_id}", "payment_id": "{payment_id}"},
                            {"anonymous": LOGIN, "client": 404, "supervisor": 403,
                             "staff": 200, "admin": 200}),
    "rentals.receipt_void": ({"lease_id": "{paid_lease_id}", "payment_id": "{payment_id}"},
                             everyone(405)),
    "surveys.rounds": ({}, staff_only()),
    "surveys.round_new": ({}, staff_only()),
    "surveys.round": ({"round_id": "{survey_round_id}"}, staff_only()),
    "surveys.round_edit": ({"round_id": "{survey_round_id}"}, staff_only()),
    "surveys.round_act": ({"round_id": "{survey_round_id}", "action": "publish"}, everyone(405)),
    "surveys.invitations": ({"round_id": "{survey_round_id}"}, staff_only()),
    "surveys.invite_roster": ({"round_id": "{survey_round_id}"}, everyone(405)),
    "surveys.invite_addresses": ({"round_id": "{survey_round_id}"}, everyone(405)),
    "surveys.remind": ({"round_id": "{survey_round_id}"}, everyone(405)),
    "surveys.results": ({"round_id": "{survey_round_id}"}, staff_only()),
    "surveys.results_export": ({"round_id": "{survey_round_id}"}, staff_only()),
    "surveys.trend": ({}, staff_only()),
    "surveys.trend_export": ({}, staff_only()),
    "surveys.questionnaires": ({}, staff_only()),
    "surveys.questionnaire": ({"questionnaire_id": "{questionnaire_id}"}, staff_only()),
    "surveys.question_add": ({"questionnaire_id": "{questionnaire_id}"}, everyone(405)),
    "surveys.question_remove": ({"questionnaire_id": "{questionnaire_id}",
                                 "question_id": "{question_id}"}, everyone(405)),
    "surveys.question_move": ({"questionnaire_id": "{questionnaire_id}",
                               "question_id": "{question_id}", "direction": "up"},
                              everyone(405)),
    "surveys.mine": ({}, {"anonymous": LOGIN, "client": 403, "supervisor": 200, "staff": 403,
                          "admin": 403}),
    # the one-time link works without logging in
    "surveys.answer": ({"token": "{survey_token}"}, everyone(200)),
    # Feedback: a supervisor's own pages; staff handle; another supervisor's item is a 404.
    "feedback.submit": ({}, {"anonymous": LOGIN, "client": 403, "supervisor": 200, "staff": 403,
                             "admin": 403}),
    "feedback.rooms": ({"building_id": "{building_id}"}, {**logged_in(), "client": 403,
                                                          "supplier": 404}),
    "feedback.mine": ({}, {"anonymous": LOGIN, "client": 403, "supervisor": 200, "staff": 403,
                           "admin": 403}),
    "feedback.queue": ({}, staff_only()),
    "feedback.item": ({"feedback_id": "{feedback_id}"}, {"anonymous": LOGIN, "client": 403,
                                                        "supervisor": 404, "staff": 200,
                                                        "admin": 200}),
    "feedback.act": ({"feedback_id": "{feedback_id}", "action": "close"}, everyone(405)),
    "feedback.photo": ({"feedback_id": "{feedback_id}", "name": "{feedback_photo_name}"},
                       {"anonymous": LOGIN, "client": 403, "supervisor": 404, "staff": 200,
                        "admin": 200, "supplier": 404}),
    "feedback.roster": ({}, staff_only()),
    "feedback.appoint": ({}, staff_only()),
    "feedback.appointment": ({"appointment_id": "{appointment_id}"}, staff_only()),
    "feedback.end_term": ({"appointment_id": "{appointment_id}"}, everyone(405)),
    "feedback.replace": ({"appointment_id": "{appointment_id}"}, staff_only()),
    # another supervisor's appointment letter: 404, as if it did not exist
    "feedback.letter": ({"appointment_id": "{appointment_id}"}, {"anonymous": LOGIN,
                                                                "client": 403,
                                                                "supervisor": 404,
                                                                "staff": 200, "admin": 200}),
    "feedback.letter_docx": ({"appointment_id": "{appointment_id}"}, {"anonymous": LOGIN,
                                                                     "client": 403,
                                                                     "supervisor": 404,
                                                                     "staff": 200,
                                                                     "admin": 200}),
    "catalogue.categories": ({}, staff_only()),
    "catalogue.category_new": ({}, staff_only()),
    "catalogue.category_edit": ({"category_id": "{category_id}"}, staff_only()),
    "feedback.dashboard": ({}, staff_only()),
    "feedback.dashboard_export": ({"report": "categories"}, staff_only()),
    "feedback.by_place": ({}, staff_only()),
    "feedback.by_place_export": ({}, staff_only()),
    "feedback.room_history": ({"room_id": "{room_id}"}, staff_only()),
    "feedback.queue_rooms": ({"building_id": "{building_id}"}, staff_only()),
    # the QR channel: the staff's sheet of codes; the public form and follow page need no login
    "feedback.qr_sheet": ({"building": "会议中心"}, staff_only()),
    "feedback.qr_sheet_pdf": ({"building": "会议中心"}, staff_only()),
    "feedback.public_form": ({"token": "{qr_token}"}, everyone(200)),
    "feedback.follow": ({"token": "not-a-token"}, everyone(404)),
    "suppliers.suppliers": ({}, staff_only()),
    "suppliers.supplier_new": ({}, staff_only()),
    "suppliers.supplier_edit": ({"supplier_id": "{supplier_id}"}, staff_only()),
    "suppliers.supplier": ({"supplier_id": "{supplier_id}"}, staff_only()),
    "suppliers.integrity_upload": ({"supplier_id": "{supplier_id}"}, everyone(405)),
    "suppliers.contact_add": ({"supplier_id": "{supplier_id}"}, everyone(405)),
    "suppliers.contact_delete": ({"contact_id": "{contact_id}"}, everyone(405)),
    # no document uploaded yet
    "suppliers.integrity_document": ({"supplier_id": "{supplier_id}"},
                                     {**staff_only(), "staff": 404, "admin": 404}),
    "suppliers.contracts": ({}, staff_only()),
    "suppliers.contract_new": ({}, staff_only()),
    "suppliers.contract": ({"contract_id": "{contract_id}"}, staff_only()),
    "suppliers.contract_edit": ({"contract_id": "{contract_id}"}, staff_only()),
    "suppliers.contract_renew": ({"contract_id": "{contract_id}"}, staff_only()),
    "suppliers.contract_upload": ({"contract_id": "{contract_id}"}, everyone(405)),
    "suppliers.contract_document": ({"contract_id": "{contract_id}"},
                                    {**staff_only(), "staff": 404, "admin": 404}),
    "suppliers.scorecard_page": ({"supplier_id": "{supplier_id}"}, staff_only()),
    "suppliers.scorecard_export": ({"supplier_id": "{supplier_id}"}, staff_only()),
    # Global search: every signed-in role; each finds only what its pages show it.
    "search.index": ({"q": "保洁"}, logged_in()),
    "search.suggest": ({"q": "保洁"}, logged_in()),
    "meetings.meetings": ({}, staff_only()),
    "meetings.meeting_new": ({}, staff_only()),
    "meetings.prefill": ({"supplier_ids": "{supplier_id}"}, staff_only()),
    "meetings.meeting": ({"meeting_id": "{meeting_id}"}, staff_only()),
    # a held meeting can no longer be edited: back to its page
    "meetings.meeting_edit": ({"meeting_id": "{meeting_id}"},
                              {**staff_only(), "staff": 303, "admin": 303}),
    "meetings.meeting_act": ({"meeting_id": "{meeting_id}", "action": "hold"}, everyone(405)),
    "meetings.agenda_add": ({"meeting_id": "{meeting_id}"}, everyone(405)),
    "meetings.agenda_refresh": ({"meeting_id": "{meeting_id}"}, everyone(405)),
    "meetings.agenda_move": ({"item_id": "{agenda_item_id}", "direction": "up"},
                             everyone(405)),
    "meetings.agenda_delete": ({"item_id": "{agenda_item_id}"}, everyone(405)),
    "meetings.minutes_edit": ({"item_id": "{agenda_item_id}"}, staff_only()),
    "meetings.preview": ({}, everyone(405)),
    "meetings.summary": ({"meeting_id": "{meeting_id}"}, everyone(405)),
    "meetings.attendee_add": ({"meeting_id": "{meeting_id}"}, everyone(405)),
    "meetings.attendee_delete": ({"attendee_id": "{attendee_id}"}, everyone(405)),
    "meetings.attendance": ({"meeting_id": "{meeting_id}"}, everyone(405)),
    "meetings.action_new": ({"meeting_id": "{meeting_id}"}, staff_only()),
    "meetings.action_edit": ({"action_id": "{action_id}"}, staff_only()),
    "meetings.action_act": ({"action_id": "{action_id}", "name": "verify"}, everyone(405)),
    "meetings.action_delete": ({"action_id": "{action_id}"}, everyone(405)),
    "meetings.ready_to_resolve": ({}, staff_only()),
    "meetings.actions": ({}, staff_only()),
    "meetings.resolve_feedback": ({"feedback_id": "{meeting_feedback_id}"}, everyone(405)),
    "meetings.minutes_pdf": ({"meeting_id": "{meeting_id}"}, staff_only()),
    "meetings.minutes_docx_download": ({"meeting_id": "{meeting_id}"}, staff_only()),
    "meetings.invitation_ics": ({"meeting_id": "{meeting_id}"}, staff_only()),
    # The supplier channel: the walking supplier is another supplier than the samples'.
    "partners.feedback": ({}, supplier_only()),
    "partners.feedback_item": ({"feedback_id": "{meeting_feedback_id}"}, supplier_only(404)),
    "partners.post_note": ({"feedback_id": "{meeting_feedback_id}"}, everyone(405)),
    "partners.decide": ({"note_id": "999999", "action": "confirm"}, everyone(405)),
    "partners.actions": ({}, supplier_only()),
    "partners.action": ({"action_id": "{action_id}"},
                        {**staff_only(), "supplier": 404}),
    "partners.action_photo": ({"action_id": "{action_id}", "name": "none.jpg"},
                              {**staff_only(), "staff": 404, "admin": 404, "supplier": 404}),
    "partners.contracts": ({}, supplier_only()),
    "partners.meetings": ({}, supplier_only()),
    "partners.meeting": ({"meeting_id": "{meeting_id}"}, supplier_only(404)),
    "partners.scorecard_page": ({}, supplier_only()),
    "partners.invite": ({"contact_id": "{contact_id}"}, everyone(405)),
    "workreport.report": ({}, staff_only()),
    "workreport.document": ({"report_id": "{work_report_id}"}, staff_only()),
    "workreport.document_pdf": ({"report_id": "{work_report_id}"}, staff_only()),
    "workreport.document_docx": ({"report_id": "{work_report_id}"}, staff_only()),
    "workreport.figures_xlsx": ({"report_id": "{work_report_id}"}, staff_only()),
    "workreport.draft": ({}, everyone(405)),
    "workreport.save_section": ({"report_id": "{work_report_id}", "section": "venues"},
                                everyone(405)),
    "workreport.issue": ({"report_id": "{work_report_id}"}, everyone(405)),
}

# POST with a valid CSRF token and an empty form: who gets through, and what they get.
LOGGED_IN = ROLES[1:]
POST_EXPECTED = {
    "auth.login": ({}, {"anonymous": 422, **dict.fromkeys(LOGGED_IN, 302)}),
    "auth.register": ({}, {"anonymous": 422, **dict.fromkeys(LOGGED_IN, 302)}),
    "auth.verify_email": ({"token": "not-a-token"}, everyone(410)),
    "auth.resend_verification": ({}, everyone(303)),
    "auth.request_reset": ({}, everyone(422)),
    "auth.reset_password": ({"token": "not-a-token"}, everyone(410)),
    "auth.profile": ({}, logged_in(422)),
    "auth.change_password": ({}, logged_in(422)),
    "admin.create_user": ({}, {**admin_only(), "admin": 422}),
    # an absent checkbox means "inactive": the admin deactivates the account
    "admin.user_detail": ({"user_id": "{user_id}"}, {**admin_only(), "admin": 303}),
    "outbox.retry": ({"message_id": "{message_id}"}, {**admin_only(), "admin": 303}),
    # another account's notification (the booking owner's): as if it did not exist
    "notifications.open_notification": ({"notification_id": "{notification_id}"},
                                        logged_in(404)),
    "notifications.mark_read": ({"notification_id": "{notification_id}"}, logged_in(404)),
    "notifications.read_all": ({}, logged_in(303)),
    # absent checkboxes: no kind by email too
    "notifications.preferences": ({}, logged_in(303)),
    "bookings.book": ({}, {"anonymous": LOGIN, "client": 422, "supervisor": 403, "staff": 422,
                           "admin": 422}),
    "bookings.quote": ({}, {"anonymous": LOGIN, "client": 200, "supervisor": 403, "staff": 200,
                            "admin": 200}),
    "bookings.act": ({"booking_id": "{booking_id}", "action": "approve"},
                     {"anonymous": LOGIN, "client": 404, "supervisor": 404, "staff": 303,
                      "admin": 303, "supplier": 404}),
    "bookings.bulk_approve": ({}, {**staff_only(), "staff": 303, "admin": 303}),
    "bookings.waitlist_join": ({}, {"anonymous": LOGIN, "client": 422, "supervisor": 403,
                                    "staff": 403, "admin": 403}),
    # another client's entry: as if it did not exist; staff must give a reason
    "bookings.waitlist_step": ({"entry_id": "{waitlist_entry_id}", "action": "remove"},
                               {"anonymous": LOGIN, "client": 404, "supervisor": 403,
                                "staff": 422, "admin": 422}),
    # the request is not approved, and the empty form is refused beside its fields
    "bookings.check_in": ({"booking_id": "{booking_id}"}, {**staff_only(), "staff": 422,
                                                          "admin": 422}),
    "bookings.blackouts": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "bookings.edit": ({"booking_id": "{booking_id}"}, {"anonymous": LOGIN, "client": 404,
                                                      "supervisor": 403, "staff": 422,
                                                      "admin": 422}),
    "bookings.series_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "bookings.venue_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "bookings.venue_edit": ({"venue_id": "{venue_id}"}, {**staff_only(), "staff": 422,
                                                        "admin": 422}),
    "bookings.photo_add": ({"venue_id": "{venue_id}"}, {**staff_only(), "staff": 422,
                                                       "admin": 422}),
    "bookings.photo_delete": ({"venue_id": "{venue_id}", "photo_id": "999999"},
                              {**staff_only(), "staff": 404, "admin": 404}),
    "bookings.catering_options": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "bookings.catering_option_toggle": ({"option_id": "{option_id}"},
                                        {**staff_only(), "staff": 303, "admin": 303}),
    "bookings.create_feed": ({}, {"anonymous": LOGIN, "client": 200, "supervisor": 403,
                                  "staff": 403, "admin": 403}),
    # another client's feed: 404 for everyone but its owner
    "bookings.revoke_feed": ({"feed_id": "{feed_id}"}, {"anonymous": LOGIN,
                                                        **dict.fromkeys(LOGGED_IN, 404)}),
    "bookings.create_venue_feed": ({"venue_id": "{venue_id}"}, {**staff_only(), "staff": 200,
                                                                "admin": 200}),
    # an empty form: no status chosen, shown beside the field on the room's page
    "rentals.room_status": ({"room_id": "{room_id}"}, {**staff_only(), "staff": 422,
                                                      "admin": 422}),
    "rentals.room_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "rentals.room_edit": ({"room_id": "{room_id}"}, {**staff_only(), "staff": 422,
                                                    "admin": 422}),
    "rentals.building_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "rentals.tenant_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "rentals.tenant_edit": ({"tenant_id": "{tenant_id}"}, {**staff_only(), "staff": 422,
                                                          "admin": 422}),
    "rentals.room_photo_add": ({"room_id": "{room_id}"}, {**staff_only(), "staff": 422,
                                                         "admin": 422}),
    "rentals.room_photo_delete": ({"room_id": "{room_id}", "photo_id": "999999"},
                                  {**staff_only(), "staff": 404, "admin": 404}),
    "rentals.lease_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "rentals.lease_edit": ({"lease_id": "{lease_id}"}, {**staff_only(), "staff": 422,
                                                       "admin": 422}),
    # the sample lease is active: approving it is no longer possible (409, who approved it)
    "rentals.lease_act": ({"lease_id": "{lease_id}", "action": "approve"},
                          {**staff_only(), "staff": 409, "admin": 409}),
    "rentals.lease_renew": ({"lease_id": "{lease_id}"}, {**staff_only(), "staff": 422,
                                                        "admin": 422}),
    "rentals.lease_deposit": ({"lease_id": "{lease_id}"}, {**staff_only(), "staff": 422,
                                                          "admin": 422}),
    "rentals.lease_deposit_settle": ({"lease_id": "{lease_id}"},
                                     {**staff_only(), "staff": 422, "admin": 422}),
    "rentals.record_payment": ({"lease_id": "{lease_id}"}, {**staff_only(), "staff": 422,
                                                           "admin": 422}),
    # an empty form: the reason is missing, said beside the field
    "rentals.receipt_void": ({"lease_id": "{paid_lease_id}", "payment_id": "{payment_id}"},
                             {**staff_only(), "staff": 422, "admin": 422}),
    "surveys.round_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "surveys.round_edit": ({"round_id": "{survey_round_id}"}, {**staff_only(), "staff": 422,
                                                              "admin": 422}),
    # the round is open already: publishing again is refused beside the actions
    # published already: the step is no longer possible (409, who published it)
    "surveys.round_act": ({"round_id": "{survey_round_id}", "action": "publish"},
                          {**staff_only(), "staff": 409, "admin": 409}),
    "surveys.invite_roster": ({"round_id": "{survey_round_id}"}, {**staff_only(), "staff": 303,
                                                                 "admin": 303}),
    "surveys.invite_addresses": ({"round_id": "{survey_round_id}"},
                                 {**staff_only(), "staff": 422, "admin": 422}),
    "surveys.remind": ({"round_id": "{survey_round_id}"}, {**staff_only(), "staff": 303,
                                                          "admin": 303}),
    "surveys.questionnaires": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "surveys.questionnaire": ({"questionnaire_id": "{questionnaire_id}"},
                              {**staff_only(), "staff": 422, "admin": 422}),
    "surveys.question_add": ({"questionnaire_id": "{questionnaire_id}"},
                             {**staff_only(), "staff": 422, "admin": 422}),
    "surveys.question_remove": ({"questionnaire_id": "{questionnaire_id}",
                                 "question_id": "999999"}, {**staff_only(), "staff": 422,
                                                            "admin": 422}),
    "surveys.question_move": ({"questionnaire_id": "{questionnaire_id}", "question_id": "999999",
                               "direction": "up"}, {**staff_only(), "staff": 422, "admin": 422}),
    # an empty answer form: every question must be answered, nothing is saved
    "surveys.answer": ({"token": "{survey_token}"}, everyone(422)),
    # an empty public report: refused beside the fields, nothing saved; a made-up follow link
    "feedback.public_form": ({"token": "{qr_token}"}, everyone(422)),
    "feedback.follow": ({"token": "not-a-token"}, everyone(404)),
    # a new supervisor without a term: refused beside the form
    "feedback.submit": ({}, {"anonymous": LOGIN, "client": 403, "supervisor": 422,
                             "staff": 403, "admin": 403}),
    # staff can never close on the supervisor's behalf; another supervisor's item is a 404
    # only the supervisor closes: a step not theirs is refused without a field (409)
    "feedback.act": ({"feedback_id": "{feedback_id}", "action": "close"},
                     {"anonymous": LOGIN, "client": 403, "supervisor": 404, "staff": 409,
                      "admin": 409}),
    "feedback.appoint": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "feedback.end_term": ({"appointment_id": "{appointment_id}"},
                          {**staff_only(), "staff": 422, "admin": 422}),
    "feedback.replace": ({"appointment_id": "{appointment_id}"},
                         {**staff_only(), "staff": 422, "admin": 422}),
    "catalogue.category_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "catalogue.category_edit": ({"category_id": "{category_id}"},
                                {**staff_only(), "staff": 422, "admin": 422}),
    "suppliers.supplier_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    # absent fields keep the record's values: saved unchanged
    "suppliers.supplier_edit": ({"supplier_id": "{supplier_id}"},
                                {**staff_only(), "staff": 303, "admin": 303}),
    "suppliers.integrity_upload": ({"supplier_id": "{supplier_id}"},
                                   {**staff_only(), "staff": 422, "admin": 422}),
    "suppliers.contact_add": ({"supplier_id": "{supplier_id}"},
                              {**staff_only(), "staff": 422, "admin": 422}),
    "suppliers.contact_delete": ({"contact_id": "{contact_id}"},
                                 {**staff_only(), "staff": 303, "admin": 303}),
    "suppliers.contract_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "suppliers.contract_edit": ({"contract_id": "{contract_id}"},
                                {**staff_only(), "staff": 422, "admin": 422}),
    "suppliers.contract_renew": ({"contract_id": "{contract_id}"},
                                 {**staff_only(), "staff": 422, "admin": 422}),
    "suppliers.contract_upload": ({"contract_id": "{contract_id}"},
                                  {**staff_only(), "staff": 422, "admin": 422}),
    "meetings.meeting_new": ({}, {**staff_only(), "staff": 422, "admin": 422}),
    "meetings.meeting_edit": ({"meeting_id": "{meeting_id}"},
                              {**staff_only(), "staff": 303, "admin": 303}),
    # a held meeting cannot be held again (it moved on: 409)
    "meetings.meeting_act": ({"meeting_id": "{meeting_id}", "action": "hold"},
                             {**staff_only(), "staff": 409, "admin": 409}),
    "meetings.agenda_add": ({"meeting_id": "{meeting_id}"},
                            {**staff_only(), "staff": 422, "admin": 422}),
    "meetings.agenda_refresh": ({"meeting_id": "{meeting_id}"},
                                {**staff_only(), "staff": 303, "admin": 303}),
    "meetings.agenda_move": ({"item_id": "{agenda_item_id}", "direction": "up"},
                             {**staff_only(), "staff": 303, "admin": 303}),
    # the item has an action item: refused (409, not possible in its state)
    "meetings.agenda_delete": ({"item_id": "{agenda_item_id}"},
                               {**staff_only(), "staff": 409, "admin": 409}),
    "meetings.minutes_edit": ({"item_id": "{agenda_item_id}"},
                              {**staff_only(), "staff": 303, "admin": 303}),
    "meetings.preview": ({}, {**staff_only(), "staff": 200, "admin": 200}),
    "meetings.summary": ({"meeting_id": "{meeting_id}"},
                         {**staff_only(), "staff": 303, "admin": 303}),
    "meetings.attendee_add": ({"meeting_id": "{meeting_id}"},
                              {**staff_only(), "staff": 422, "admin": 422}),
    "meetings.attendee_delete": ({"attendee_id": "{attendee_id}"},
                                 {**staff_only(), "staff": 303, "admin": 303}),
    "meetings.attendance": ({"meeting_id": "{meeting_id}"},
                            {**staff_only(), "staff": 303, "admin": 303}),
    "meetings.action_new": ({"meeting_id": "{meeting_id}"},
                            {**staff_only(), "staff": 422, "admin": 422}),
    "meetings.action_edit": ({"action_id": "{action_id}"},
                             {**staff_only(), "staff": 303, "admin": 303}),
    # an open action cannot be verified before it is done (409)
    "meetings.action_act": ({"action_id": "{action_id}", "name": "verify"},
                            {**staff_only(), "staff": 409, "admin": 409}),
    "meetings.resolve_feedback": ({"feedback_id": "{meeting_feedback_id}"},
                                  {**staff_only(), "staff": 422, "admin": 422}),
    "meetings.action_delete": ({"action_id": "{action_id}"},
                               {**staff_only(), "staff": 303, "admin": 303}),
    # another supplier's item or action item: 404 (staff: the sample action item and contact
    # were deleted by the meetings' and suppliers' POSTs above, so 404 too)
    "partners.post_note": ({"feedback_id": "{meeting_feedback_id}"}, supplier_only(404)),
    "partners.decide": ({"note_id": "999999", "action": "confirm"},
                        {**staff_only(), "staff": 404, "admin": 404}),
    "partners.action": ({"action_id": "{action_id}"},
                        {**staff_only(), "staff": 404, "admin": 404, "supplier": 404}),
    "partners.invite": ({"contact_id": "{contact_id}"},
                        {**staff_only(), "staff": 404, "admin": 404}),
    # the default period's draft (the one sampled, or a new one)
    "workreport.draft": ({}, {**staff_only(), "staff": 302, "admin": 302}),
    "workreport.save_section": ({"report_id": "{work_report_id}", "section": "venues"},
                                {**staff_only(), "staff": 302, "admin": 302}),
    # staff may not issue; an admin issues the draft
    "workreport.issue": ({"report_id": "{work_report_id}"}, {**admin_only(), "admin": 302}),
    "auth.logout": ({}, logged_in(303)),  # last: it ends the session
}
# Pages are served under a CSP without 'unsafe-inline': nothing inline may appear in them.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"", re.I)


@pytest.fixture
def sample_ids(app, ctx):
    """Records that the parametrised URLs point at."""
    staff = make_user(app, "staff")
    owner = make_user(app, "client")
    venue_id = make_venue(app)
    booking_id = make_booking(app, owner.id, venue_id)
    waiting = make_user(app, "client")
    with ctx(waiting.id):
        from portal.bookings import waitlist

        waitlist_entry_id = waitlist.join(current_user._get_current_object(),
                                          waitlist.WaitlistInput(
                                              venue_id, future_day(), "morning",
                                              *services.pricing.SESSIONS["morning"], 10)).id
    with ctx(staff.id):
        series = services.create_series(current_user._get_current_object(), services.SeriesInput(
            title="周例会", department="区财政局", venue_id=venue_id, weekday=0,
            start=time(14), end=time(15), first_day=future_day(1), last_day=future_day(14),
            headcount=10, layout="theatre"))
        series_id = series.id
    with ctx():
        with write_transaction():
            outbox.queue_email("x@example.com", "reset_password",
                               user=type("U", (), {"name": "X"})(), link="http://x", minutes=5)
        message_id = db.session.scalar(sa.select(OutboxMessage.id))
    with ctx():
        from portal.notifications.models import Notification

        notification_id = db.session.scalar(sa.select(Notification.id).where(
            Notification.user_id == owner.id))
    with ctx(owner.id):
        feed, _token = calendars.create_personal_feed(current_user._get_current_object())
        feed_id = feed.id
    photo_name = make_photo(app, venue_id)
    room_id = make_room(app)
    tenant_id = make_tenant(app)
    lease_id = make_lease(app, tenant_id, [room_id], status="draft")
    paid_lease_id = make_lease(app, make_tenant(app), [make_room(app)])
    payment_id = pay(app, paid_lease_id, 10_000, bureau_today(app))
    with ctx():
        from portal.rentals.models import RentPeriod

        period_id = db.session.scalar(sa.select(RentPeriod.id).where(
            RentPeriod.lease_id == paid_lease_id).limit(1))
    option_id = make_catering(app)
    questionnaire_id = make_questionnaire(app)
    survey_round_id = make_round(app, questionnaire_id)
    survey_token = invite(app, survey_round_id, "invitee@example.com")[0]
    question_id = questions_of(app, survey_round_id)[0][0]
    feedback_ids = make_feedback_samples(app)
    category_id = make_category(app)
    supplier_id = make_supplier(app, category_ids=(category_id,))
    contract_id = make_contract(app, supplier_id, category_id)
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    feedback_id = make_feedback(app, supervisor.id, category_id, supplier_id=supplier_id,
                                status="accepted")
    meeting_id = make_meeting(app, [supplier_id], status="held")
    agenda_item_id = make_agenda_item(app, meeting_id, supplier_id=supplier_id,
                                      feedback_id=feedback_id)
    action_id = make_action(app, meeting_id, supplier_id=supplier_id,
                            agenda_item_id=agenda_item_id, feedback_ids=(feedback_id,))
    with ctx():
        from portal.meetings.models import MeetingAttendee

        attendee_id = db.session.scalar(sa.select(MeetingAttendee.id).where(
            MeetingAttendee.meeting_id == meeting_id))
        from portal.suppliers.models import SupplierContact

        contact_id = db.session.scalar(sa.select(SupplierContact.id).where(
            SupplierContact.supplier_id == supplier_id))
    with ctx():
        from portal.feedback.public import VENUE, sign_place
        from portal.workreport import periods as report_periods
        from portal.workreport import services as report_services

        qr_token = sign_place(VENUE, venue_id)
        work_report_id = report_services.open_draft(report_periods.default_period(), staff).id
    return {**feedback_ids, "questionnaire_id": questionnaire_id, "qr_token": qr_token,
            "survey_round_id": survey_round_id, "survey_token": survey_token,
            "question_id": question_id, "supplier_id": supplier_id, "contract_id": contract_id,
            "meeting_id": meeting_id,
            "agenda_item_id": agenda_item_id, "action_id": action_id,
            "attendee_id": attendee_id, "meeting_feedback_id": feedback_id,
            "contact_id": contact_id,
            "notification_id": notification_id,
            "user_id": staff.id, "message_id": message_id, "venue_id": venue_id,
            "photo_name": photo_name, "option_id": option_id, "feed_id": feed_id,
            "room_id": room_id, "tenant_id": tenant_id, "lease_id": lease_id,
            "paid_lease_id": paid_lease_id, "payment_id": payment_id, "period_id": period_id,
            "booking_id": booking_id, "series_id": series_id,
            "waitlist_entry_id": waitlist_entry_id,
            "work_report_id": work_report_id}


def test_every_route_has_an_expectation(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - EXPECTED.keys() == set(), "routes without an expectation"
    assert EXPECTED.keys() - endpoints == set(), "expectations for routes that do not exist"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_as_expected(app, role, sample_ids):
    client = app.test_client()
    if role != "anonymous":
        assert login(client, account(app, role)).status_code == 303
    failures = []
    for endpoint, (values, expected) in EXPECTED.items():
        values = {key: str(value).format(**sample_ids) for key, value in values.items()}
        with app.test_request_context():
            url = url_for(endpoint, **values)
        with client.get(url) as response:
            status = response.status_code
            if status == 200 and response.mimetype == "text/html":
                inline = INLINE.findall(response.get_data(as_text=True))
                if inline:
                    failures.append(f"{endpoint}: inline script or style {inline[:3]}")
        if status != expected_status(expected, role):
            failures.append(f"{endpoint} {url}: {status}, expected "
                            f"{expected_status(expected, role)}")
    assert failures == []


def test_every_post_route_has_an_expectation(app):
    posting = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert posting ^ POST_EXPECTED.keys() == set()


@pytest.mark.parametrize("role", ROLES)
def test_every_post_route_checks_who_may_post(app, role, sample_ids):
    client = app.test_client()
    if role != "anonymous":
        assert login(client, account(app, role)).status_code == 303
    failures = []
    for endpoint, (values, expected) in POST_EXPECTED.items():
        values = {key: str(value).format(**sample_ids) for key, value in values.items()}
        with app.test_request_context():
            url = url_for(endpoint, **values)
        token = csrf_token(client, "/auth/reset")
        status = client.post(url, data={"csrf_token": token}).status_code
        if status != expected_status(expected, role):
            failures.append(f"POST {endpoint} {url}: {status}, expected "
                            f"{expected_status(expected, role)}")
    assert failures == []
