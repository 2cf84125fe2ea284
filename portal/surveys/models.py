"""Satisfaction surveys (满意度调查): questionnaires in frozen versions, rounds, invitations,
responses.

* :class:`Questionnaire` — a named questionnaire; its questions live in
  :class:`QuestionnaireVersion`\\ s. A version used by a published round is frozen: editing the
  questionnaire afterwards makes a new version, so every round keeps the questions it asked.
* :class:`Question` — a scale question about one service category (非常满意/满意/基本满意/不满意,
  or "cannot judge", which is not a valid answer) or a free-text question.
* :class:`SurveyRound` — one survey: the version it asks, its closing date, whether it is
  anonymous, its satisfaction-rate definition (which scale points count as satisfied) and
  target. :class:`RoundCategory` snapshots, at publication, the supplier then responsible for
  each category asked about, so "by supplier" figures keep their history.
* :class:`SurveyInvitation` — one invitee and their one-time link (only its SHA-256 is kept).
* :class:`SurveyResponse` / :class:`SurveyAnswer` — what came back. A named round's response
  names its invitation (UNIQUE: one response per invitee). An anonymous round's response names
  nobody and carries no time: the invitation is only marked ``responded`` (no time either) in
  the same transaction, by a conditional UPDATE that only one submission can win.

Responses, answers and invitations are deliberately not :class:`~portal.audit.services.Audited`:
audit rows carry timestamps and record ids, which would re-link an anonymous answer to the
invitation marked in the same flush. Staff actions on rounds and questionnaires are audited.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..page_cache import cache_scope, key, shared_key


class Scale:
    """The four points of the scale, best first; NULL in an answer means "cannot judge"."""

    VERY_SATISFIED, SATISFIED, FAIRLY_SATISFIED, DISSATISFIED = 4, 3, 2, 1
    POINTS = (4, 3, 2, 1)
    LABELS = {4: _l("Very satisfied"), 3: _l("Satisfied"), 2: _l("Fairly satisfied"),
              1: _l("Dissatisfied")}
    DEFAULT_SATISFIED = (4, 3, 2)  # the top three of four

    @staticmethod
    def mask(points) -> int:
        return sum(1 << point for point in set(points))

    @staticmethod
    def points(mask: int) -> tuple[int, ...]:
        return tuple(point for point in Scale.POINTS if mask & (1 << point))


class QuestionKind:
    SCALE = "scale"
    TEXT = "text"
    ALL = (SCALE, TEXT)
    LABELS = {SCALE: _l("Satisfaction scale"), TEXT: _l("Free text")}


class RoundStatus:
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ALL = (DRAFT, OPEN, CLOSED)
    LABELS = {
        DRAFT: lazy_pgettext("survey status", "Draft"),
        OPEN: lazy_pgettext("survey status", "Taking answers"),
        CLOSED: lazy_pgettext("survey status", "Survey closed"),
    }


class InviteeKind:
    SUPERVISOR = "supervisor"
    UNIT_STAFF = "unit_staff"
    ALL = (SUPERVISOR, UNIT_STAFF)
    LABELS = {SUPERVISOR: _l("Supervisor"), UNIT_STAFF: _l("Staff of a served unit")}


class Questionnaire(Audited, db.Model):
    __tablename__ = "survey_questionnaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number")


class QuestionnaireVersion(Audited, db.Model):
    __tablename__ = "survey_questionnaire_version"
    __table_args__ = (
        sa.UniqueConstraint("questionnaire_id", "number", name="uq_questionnaire_version_number"),
        sa.CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questionnaire.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    # Set when a round using it is published; a frozen version's questions never change.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")
    questions: Mapped[list[Question]] = relationship(
        back_populates="version", order_by="Question.position", cascade="all, delete-orphan")

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


class Question(Audited, db.Model):
    __tablename__ = "survey_question"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "position", name="uq_survey_question_position"),
        sa.CheckConstraint("kind IN ('scale', 'text')", name="kind_known"),
        sa.CheckConstraint("kind != 'scale' OR category_id IS NOT NULL",
                           name="scale_has_category"),
        sa.CheckConstraint("length(prompt) > 0", name="prompt_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questionnaire_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(10))
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_category.id", ondelete="RESTRICT"), index=True)
    prompt: Mapped[str] = mapped_column(sa.String(300))

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="questions")
    category = relationship("ServiceCategory")


class SurveyRound(Audited, db.Model):
    __tablename__ = "survey_round"
    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name="status_known"),
        sa.CheckConstraint("satisfied_mask BETWEEN 2 AND 30 AND satisfied_mask % 2 = 0",
                           name="satisfied_points_known"),
        sa.CheckConstraint("target_rate BETWEEN 0 AND 100", name="target_rate_range"),
        sa.CheckConstraint("reminder_days IS NULL OR reminder_days > 0",
                           name="reminder_days_positive"),
        sa.CheckConstraint("status = 'draft' OR version_id IS NOT NULL",
                           name="published_has_version"),
        sa.Index("ix_survey_round_status_closes", "status", "closes_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    questionnaire_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questionnaire.id", ondelete="RESTRICT"), index=True)
    # The frozen version the round asks: chosen when it is published.
    version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("survey_questionnaire_version.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=RoundStatus.DRAFT)
    closes_on: Mapped[date] = mapped_column(sa.Date)  # the last day answers are taken
    anonymous: Mapped[bool] = mapped_column(default=True)
    # The satisfaction-rate definition: bit ``1 << point`` set for each scale point that counts
    # as satisfied (default 非常满意 + 满意 + 基本满意). Rate = satisfied ÷ valid answers.
    satisfied_mask: Mapped[int] = mapped_column(default=Scale.mask(Scale.DEFAULT_SATISFIED))
    target_rate: Mapped[int] = mapped_column(default=90)  # percent
    # Automatic reminder to non-respondents this many days before closing (None: off).
    reminder_days: Mapped[int | None] = mapped_column(default=3)
    published_on: Mapped[date | None] = mapped_column(sa.Date)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)  # closed early by staff
    # Set when the round's figures are stored (:class:`RoundFigure`, :mod:`.figures`): from
    # then on its figures are read from them, not recounted. None: counted live.
    figures_stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship()
    version: Mapped[QuestionnaireVersion | None] = relationship()

    @property
    def satisfied_points(self) -> tuple[int, ...]:
        return Scale.points(self.satisfied_mask)

    def state(self, today: date) -> str:
        """Derived: an open round past its closing date is closed."""
        if self.status == RoundStatus.OPEN and today > self.closes_on:
            return RoundStatus.CLOSED
        return self.status

    def accepts_answers(self, today: date) -> bool:
        return self.state(today) == RoundStatus.OPEN

    @classmethod
    def accepting_answers(cls, today: date):
        """SQL: :meth:`accepts_answers` (open, its closing day not passed)."""
        return sa.and_(cls.status == RoundStatus.OPEN, cls.closes_on >= today)

    CLOSING_WITHIN = 7  # days: a round still taking answers that closes this soon is "closing"

    @classmethod
    def closing(cls, today: date):
        """SQL: taking answers and closing within :data:`CLOSING_WITHIN` days."""
        return sa.and_(cls.accepting_answers(today),
                       cls.closes_on <= today + timedelta(days=cls.CLOSING_WITHIN))

    @classmethod
    def visible_to(cls, user):
        return sa.true() if user.is_staff else sa.false()


class RoundCategory(db.Model):
    """The supplier responsible for a category when the round was published (may be none)."""

    __tablename__ = "survey_round_category"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"),
                                          primary_key=True)
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_category.id", ondelete="RESTRICT"), primary_key=True)
    supplier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supplier.id", ondelete="SET NULL"), index=True)
    contract_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_contract.id", ondelete="SET NULL"))


class SurveyInvitation(db.Model):
    __tablename__ = "survey_invitation"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "email", name="uq_survey_invitation_email"),
        sa.CheckConstraint("kind IN ('supervisor', 'unit_staff')", name="kind_known"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("reminders >= 0", name="reminders_not_negative"),
        sa.CheckConstraint("responded_at IS NULL OR responded", name="responded_at_if_responded"),
        sa.Index("ix_survey_invitation_round_responded", "round_id", "responded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20), default=InviteeKind.SUPERVISOR)
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    unit: Mapped[str] = mapped_column(sa.String(200), default="")
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supervisor_appointment.id", ondelete="SET NULL"))
    # The link's token is derived from this salt and the app's secret key (so a reminder can
    # repeat the link); the database keeps only the token's SHA-256.
    salt: Mapped[str] = mapped_column(sa.String(32))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    responded: Mapped[bool] = mapped_column(default=False)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # named rounds only
    reminders: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[SurveyRound] = relationship()
    user = relationship("User")


def _random_id() -> str:
    return uuid.uuid4().hex


class SurveyResponse(db.Model):
    """One invitee's answers. The key is random, so the order of rows says nothing."""

    __tablename__ = "survey_response"
    __table_args__ = (
        sa.CheckConstraint(
            "(anonymous AND invitation_id IS NULL AND submitted_at IS NULL) OR "
            "(NOT anonymous AND invitation_id IS NOT NULL)", name="anonymous_names_nobody"),
        # SQLite: no hidden rowid, so rows are stored in the order of their random keys, not
        # in the order they came in.
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=_random_id)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"),
                                          index=True)
    anonymous: Mapped[bool]
    # Named rounds only: one response per invitation, guarded by the database.
    invitation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("survey_invitation.id", ondelete="CASCADE"), unique=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # named rounds only

    invitation: Mapped[SurveyInvitation | None] = relationship()
    answers: Mapped[list[SurveyAnswer]] = relationship(cascade="all, delete-orphan")


class SurveyAnswer(db.Model):
    __tablename__ = "survey_answer"
    __table_args__ = (
        sa.CheckConstraint("value IS NULL OR value BETWEEN 1 AND 4", name="value_on_scale"),
        sa.Index("ix_survey_answer_question_value", "question_id", "value"),
    )

    response_id: Mapped[str] = mapped_column(
        sa.ForeignKey("survey_response.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_question.id", ondelete="RESTRICT"), primary_key=True)
    value: Mapped[int | None]  # scale questions: 1–4, None = cannot judge
    text: Mapped[str] = mapped_column(sa.Text, default="")

    question: Mapped[Question] = relationship()


class RoundFigure(db.Model):
    """A closed round's scale answers counted per question and scale point (0: cannot judge),
    stored in the transaction that closes it (:mod:`portal.surveys.figures`). A round's
    rates are these counts under its own definition (``satisfied_mask``, frozen once
    published); a point nobody chose has no row."""

    __tablename__ = "survey_round_figure"
    __table_args__ = (
        sa.CheckConstraint("point BETWEEN 0 AND 4", name="point_known"),
        sa.CheckConstraint("answers > 0", name="answers_positive"),
    )

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"),
                                          primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_question.id", ondelete="RESTRICT"), primary_key=True)
    point: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    answers: Mapped[int]


def round_key(round_id: int) -> str:
    """One survey round's records: its results page reads them (portal/page_cache.py)."""
    return key("surveys", "round", round_id)


def _answer_keys(answer, session) -> set[str]:
    response = session.get(SurveyResponse, answer.response_id)
    return {round_key(response.round_id)} if response else {shared_key("surveys")}


# Cached pages drawn from these models are rendered afresh after any change to them: a round's
# results after a change of that round's records, the pages spanning every round (the list, the
# trend, the dashboards) after any; questionnaires are shared by every page.
cache_scope("surveys", Questionnaire, QuestionnaireVersion, Question, SurveyRound, RoundCategory,
            SurveyInvitation, SurveyResponse, SurveyAnswer, RoundFigure,
            keys={SurveyRound: lambda row, session: {round_key(row.id)},
                  RoundFigure: lambda row, session: {round_key(row.round_id)},
                  RoundCategory: lambda row, session: {round_key(row.round_id)},
                  SurveyInvitation: lambda row, session: {round_key(row.round_id)},
                  SurveyResponse: lambda row, session: {round_key(row.round_id)},
                  SurveyAnswer: _answer_keys})
