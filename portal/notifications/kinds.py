"""The kinds of notification: one per mail template, and who each one concerns.

A notification's kind is the name of the mail template it copies.  ``KINDS`` lists the kinds a
user may receive in the portal, with the roles they concern (the preferences page offers each
role its own).  ``EMAIL_ONLY`` are the mails that carry a secret (a one-time link that works
without a password): they always go by email and never become notifications, so the link is
never stored in clear and cannot be switched off.  ``tests/notifications`` fails when a mail
template is in neither list.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..roles import Role

BUREAU = Role.BUREAU
CLIENT, SUPERVISOR, ADMIN, SUPPLIER = Role.CLIENT, Role.SUPERVISOR, Role.ADMIN, Role.SUPPLIER


@dataclass(frozen=True)
class Kind:
    template: str  # templates/emails/<template>.txt
    label: object  # a lazy string
    roles: tuple[str, ...]


KINDS: tuple[Kind, ...] = (
    Kind("booking_status", _l("Bookings: requests, approvals and other steps"),
         (CLIENT, *BUREAU)),
    Kind("waitlist_offer", _l("Waitlists: a freed slot held for you"), (CLIENT,)),
    Kind("lease_status", _l("Leases: approval and termination"), (CLIENT, *BUREAU)),
    Kind("lease_expiring", _l("Leases: expiry warnings"), (CLIENT, *BUREAU)),
    Kind("rent_notice", _l("Rent: payment notices before the rent is due"),
         (CLIENT, *BUREAU)),
    Kind("rent_overdue", _l("Rent: overdue reminders"), (CLIENT, *BUREAU)),
    Kind("deposit_to_return", _l("Deposits to return"), (CLIENT, *BUREAU)),
    Kind("feedback_status", _l("My feedback: each handling step"), (SUPERVISOR,)),
    Kind("feedback_submitted", _l("Feedback: new items to handle"), BUREAU),
    Kind("feedback_supervisor_step", _l("Feedback: supervisors' confirmations and reopenings"),
         BUREAU),
    Kind("feedback_escalated", _l("Feedback: escalations to the leadership"), (ADMIN,)),
    Kind("meeting_status", _l("Joint meetings: status and action items"),
         (SUPERVISOR, *BUREAU)),
    Kind("action_status", _l("Action items: verified or reopened"), (CLIENT, SUPPLIER)),
    Kind("feedback_transferred", _l("Feedback transferred to your company"), (SUPPLIER,)),
    Kind("proposal_decided", _l("Your proposed resolutions: confirmed or declined"),
         (SUPPLIER,)),
    Kind("supplier_note", _l("Feedback: suppliers' progress notes and proposals"), BUREAU),
    Kind("contract_expiring", _l("Service contracts: expiry warnings"), BUREAU),
)
BY_TEMPLATE = {kind.template: kind for kind in KINDS}

# Password reset, email verification and invitations, and the surveys' personal answer links:
# each carries a link that works once without logging in; so do the follow links of public
# (QR) feedback, whose reporters have no account.
EMAIL_ONLY = frozenset({"reset_password", "verify_email", "invitation", "survey_invitation",
                        "survey_reminder", "feedback_public_received",
                        "feedback_public_outcome"})


def kinds_for(role: str) -> list[Kind]:
    return [kind for kind in KINDS if role in kind.roles]


def kind_label(template: str):
    kind = BY_TEMPLATE.get(template)
    return kind.label if kind is not None else template
