"""Survey rules: questionnaire versions, the rate definition, one response per invitee,
closed rounds, reminders, the roster, the supplier snapshot and the reports."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditLog
from portal.catalogue.models import ServiceCategory
from portal.database import write_transaction
from portal.errors import Conflict, NotAllowed, ServiceError
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from portal.suppliers.models import ServiceContract
from portal.surveys import reports, services
from portal.surveys.models import (
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    RoundCategory,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category, make_contract, make_supplier
from tests.helpers import outbox_for
from tests.surveys.factories import (
    STAFF,
    answer,
    close,
    invite,
    make_questionnaire,
    make_round,
    questions_of,
    today,
)


def _versions(app, questionnaire_id):
    with app.test_request_context():
        return [(v.number, v.frozen, [q.prompt for q in v.questions]) for v in db.session.scalars(
            sa.select(QuestionnaireVersion)
            .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
            .order_by(QuestionnaireVersion.number))]


# --- versions ----------------------------------------------------------------------------------


def test_editing_a_questionnaire_used_by_a_round_makes_a_new_version(app):
    category = make_category(app)
    questionnaire_id = make_questionnaire(app, [category], text=False)
    draft_id = make_round(app, questionnaire_id, publish=False)
    with app.test_request_context():
        questionnaire = db.session.get(Questionnaire, questionnaire_id)
        services.add_question(questionnaire, QuestionKind.TEXT, "其他建议", None)
    assert _versions(app, questionnaire_id) == [(1, False, ["总体评价", "其他建议"])]  # a draft

    round_id = make_round(app, questionnaire_id)  # published: version 1 is frozen
    with app.test_request_context():
        questionnaire = db.session.get(Questionnaire, questionnaire_id)
        first_question = questionnaire.versions[0].questions[0].id
        services.add_question(questionnaire, QuestionKind.SCALE, "响应速度", category)
        services.move_question(questionnaire, first_question, "down")  # by position
        services.remove_question(questionnaire, questionnaire.versions[0].questions[1].id)
    assert _versions(app, questionnaire_id) == [
        (1, True, ["总体评价", "其他建议"]),
        (2, False, ["其他建议", "响应速度"]),
    ]
    # The published round keeps the questions it asked; the draft will ask the latest.
    assert [q[0] for q in questions_of(app, round_id)] != [q[0] for q in
                                                          questions_of(app, draft_id)]
    with app.test_request_context():
        survey = db.session.get(SurveyRound, round_id)
        assert [q.prompt for q in survey.version.questions] == ["总体评价", "其他建议"]
        draft = db.session.get(SurveyRound, draft_id)
        services.publish_round(draft, STAFF)
        assert draft.version.number == 2 and draft.version.frozen


def test_a_round_needs_a_scale_question_and_a_scale_question_a_category(app):
    questionnaire_id = make_questionnaire(app, [], text=True)
    round_id = make_round(app, questionnaire_id, publish=False)
    with app.test_request_context():
        with pytest.raises(NotAllowed):
            services.publish_round(db.session.get(SurveyRound, round_id), STAFF)
        with pytest.raises(ServiceError) as error:
            services.add_question(db.session.get(Questionnaire, questionnaire_id),
                                  QuestionKind.SCALE, "总体评价", None)
        assert error.value.field == "category_id"


def test_a_round_is_refused_with_every_problem_of_its_input(app):
    with app.test_request_context(), pytest.raises(ServiceError) as error:
        services.save_round(None, services.RoundInput(
            title=" ", questionnaire_id=None, closes_on=None, satisfied_points=(),
            target_rate=150, reminder_days=0))
    assert set(error.value.fields) == {"title", "closes_on", "satisfied_points", "target_rate",
                                       "reminder_days", "questionnaire_id"}


def test_published_round_keeps_its_definition(app):
    round_id = make_round(app)
    with app.test_request_context():
        survey = db.session.get(SurveyRound, round_id)
        data = services.RoundInput(title="新标题", questionnaire_id=survey.questionnaire_id,
                                   closes_on=survey.closes_on, anonymous=True,
                                   satisfied_points=(4, 3), target_rate=95)
        with pytest.raises(NotAllowed) as error:
            services.save_round(survey, data)
        assert error.value.field == "satisfied_points"
        data.satisfied_points = (4, 3, 2)
        services.save_round(survey, data)  # the title and target may change
        assert survey.title == "新标题" and survey.target_rate == 95


# --- the rate definition -----------------------------------------------------------------------


def _answered_round(app, satisfied=(4, 3, 2), anonymous=True):
    category = make_category(app)
    round_id = make_round(app, make_questionnaire(app, [category]), satisfied=satisfied,
                          anonymous=anonymous)
    emails = [f"p{n}@example.com" for n in range(6)]
    tokens = invite(app, round_id, *emails)
    for token, value in zip(tokens, (4, 3, 2, 1, None), strict=False):  # the sixth: no answer
        answer(app, round_id, token, value=value)
    return round_id, category


def test_the_default_rate_counts_the_top_three_points_over_valid_answers(app):
    round_id, category = _answered_round(app)
    with app.test_request_context():
        figures = reports.round_figures(round_id)
    assert figures.overall.valid == 4  # "cannot judge" is not a valid answer
    assert figures.overall.cannot_judge == 1
    assert figures.overall.rate == 75.0  # (非常满意 + 满意 + 基本满意) ÷ valid
    assert figures.responses == 5 and figures.invitations == 6
    assert figures.response_rate == pytest.approx(83.3)
    assert [(f.key, f.rate, f.valid) for f in figures.by_category] == [(category, 75.0, 4)]


def test_a_round_may_count_only_the_top_two_points(app):
    round_id, _category = _answered_round(app, satisfied=(4, 3))
    with app.test_request_context():
        assert reports.round_figures(round_id).overall.rate == 50.0
        trend = reports.rounds_trend()
    assert [(p.round_id, p.rate, p.target, p.figure.valid) for p in trend] == [
        (round_id, 50.0, 90, 4)]


def test_trend_is_oldest_first_and_leaves_out_drafts(app):
    later = make_round(app, closes_on=today(app) + timedelta(days=20), title="第二轮")
    earlier = make_round(app, closes_on=today(app) + timedelta(days=5), title="第一轮")
    make_round(app, publish=False, title="草稿")
    with app.test_request_context():
        assert [p.round_id for p in reports.rounds_trend()] == [earlier, later]


# --- one response per invitee; closed rounds ---------------------------------------------------


def test_a_second_response_is_refused_and_nothing_is_saved(app):
    round_id = make_round(app)
    token, = invite(app, round_id, "once@example.com")
    answer(app, round_id, token, value=4)
    with pytest.raises(Conflict) as error:
        answer(app, round_id, token, value=1)
    assert "only one response" in str(error.value.message)
    with app.test_request_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 1
        assert reports.round_figures(round_id).overall.counts == {4: 1}


def test_the_database_refuses_a_second_response_to_an_invitation(app):
    round_id = make_round(app, anonymous=False)
    invite(app, round_id, "named@example.com")
    with app.test_request_context():
        invitation_id = db.session.scalar(sa.select(SurveyInvitation.id))
        with pytest.raises(sa.exc.IntegrityError), write_transaction():
            for _ in range(2):
                db.session.add(SurveyResponse(round_id=round_id, anonymous=False,
                                              invitation_id=invitation_id))
                db.session.flush()


def test_a_closed_round_refuses_answers(app):
    round_id = make_round(app)
    first, second = invite(app, round_id, "a@example.com", "b@example.com")
    close(app, round_id)
    with pytest.raises(NotAllowed):
        answer(app, round_id, first)
    # An open round past its closing date is closed too.
    other = make_round(app)
    token, = invite(app, other, "c@example.com")
    with app.test_request_context(), write_transaction():
        db.session.get(SurveyRound, other).closes_on = today(app) - timedelta(days=1)
    with pytest.raises(NotAllowed):
        answer(app, other, token)
    with app.test_request_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 0


def test_an_unknown_link_is_refused(app):
    make_round(app)
    with app.test_request_context(), pytest.raises(ServiceError):
        services.submit_response("not-a-token", services.AnswerInput({}, {}))


def test_every_scale_question_must_be_answered(app):
    round_id = make_round(app)
    token, = invite(app, round_id, "a@example.com")
    with app.test_request_context(), pytest.raises(ServiceError) as error:
        services.submit_response(token, services.AnswerInput({}, {}))
    assert error.value.field.startswith("q")
    assert len(error.value.problems) == len([q for q in questions_of(app, round_id)
                                             if q[1] == "scale"])  # all at once
    answer(app, round_id, token)  # the link still works


# --- anonymity ---------------------------------------------------------------------------------


def test_an_anonymous_response_names_nobody_and_has_no_time(app):
    round_id = make_round(app)
    token, = invite(app, round_id, "secret@example.com")
    answer(app, round_id, token, value=3, text="食堂很好")
    with app.test_request_context():
        response = db.session.scalar(sa.select(SurveyResponse))
        invitation = db.session.scalar(sa.select(SurveyInvitation))
        assert response.invitation_id is None and response.submitted_at is None
        assert response.anonymous and len(response.id) == 32  # a random key, not a sequence
        assert invitation.responded and invitation.responded_at is None
        audited = set(db.session.scalars(sa.select(AuditLog.object_type)))
        assert not audited & {"survey_response", "survey_answer", "survey_invitation"}
        with pytest.raises(sa.exc.IntegrityError), write_transaction():
            response.invitation_id = invitation.id  # the database refuses a link


def test_a_named_response_names_its_invitation(app):
    round_id = make_round(app, anonymous=False)
    token, = invite(app, round_id, "named@example.com")
    answer(app, round_id, token)
    with app.test_request_context():
        response = db.session.scalar(sa.select(SurveyResponse))
        assert response.invitation.email == "named@example.com"
        assert response.submitted_at is not None


# --- invitations and reminders -----------------------------------------------------------------


def test_inviting_the_roster_takes_supervisors_with_an_active_appointment(app):
    active = make_user(app, "supervisor", name="李明华")
    ended = make_user(app, "supervisor", name="张卫东")
    make_appointment(app, active.id, unit="区发展和改革委员会")
    make_appointment(app, ended.id, start=today(app) - timedelta(days=400),
                     end=today(app) - timedelta(days=10))
    round_id = make_round(app)
    with app.test_request_context():
        survey = db.session.get(SurveyRound, round_id)
        assert services.invite_roster(survey) == 1
        assert services.invite_roster(survey) == 0  # nobody twice
        invitation = db.session.scalar(sa.select(SurveyInvitation))
        assert (invitation.email, invitation.unit) == (active.email, "区发展和改革委员会")
        assert len(invitation.token_hash) == 64 and invitation.salt not in invitation.token_hash
    mail, = outbox_for(app, active.email)
    assert "/surveys/r/" in mail.body_text
    assert outbox_for(app, ended.email) == []


def test_invitations_need_an_open_round_and_valid_addresses(app):
    draft = make_round(app, publish=False)
    with app.test_request_context():
        with pytest.raises(NotAllowed):
            services.invite_addresses(db.session.get(SurveyRound, draft), "a@example.com")
        with pytest.raises(ServiceError) as error:
            services.parse_addresses("a@example.com\nnot an address")
        assert error.value.field == "addresses"
        assert services.parse_addresses("A@Example.com, b@example.com；\n a@example.com") == [
            "a@example.com", "b@example.com"]


def test_reminders_of_a_named_round_go_only_to_invitees_who_have_not_answered(app):
    round_id = make_round(app, anonymous=False)
    done, waiting = invite(app, round_id, "done@example.com", "waiting@example.com")
    answer(app, round_id, done)
    with app.test_request_context():
        assert services.send_reminders(db.session.get(SurveyRound, round_id)) == 1
    assert [m.template for m in outbox_for(app, "done@example.com")] == ["survey_invitation"]
    reminder = outbox_for(app, "waiting@example.com")[-1]
    assert reminder.template == "survey_reminder"
    assert f"/surveys/r/{waiting}" in reminder.body_text  # the same link again
    assert "尚未收到您" in reminder.body_text


def test_reminders_of_an_anonymous_round_go_to_everyone_and_thank_who_answered(app):
    """Reminding only non-respondents would tell anyone reading the outbox (or the reminder
    counts and times) who has answered an anonymous round."""
    round_id = make_round(app, anonymous=True)
    done, waiting = invite(app, round_id, "done@example.com", "waiting@example.com")
    answer(app, round_id, done)
    with app.test_request_context():
        assert services.send_reminders(db.session.get(SurveyRound, round_id)) == 2
    reminders = {email: outbox_for(app, email)[-1]
                 for email in ("done@example.com", "waiting@example.com")}
    assert {m.template for m in reminders.values()} == {"survey_reminder"}
    first, second = (m.body_text.replace(t, "TOKEN") for m, t in zip(
        reminders.values(), (done, waiting), strict=True))
    assert first == second  # the same email: nothing in it tells the two apart
    assert "如您已经答卷，感谢您" in first  # worded for both
    with app.app_context():
        counts = {i.email: (i.reminders, i.last_reminded_at) for i in db.session.scalars(
            sa.select(SurveyInvitation).where(SurveyInvitation.round_id == round_id))}
    assert counts["done@example.com"] == counts["waiting@example.com"]
    # Once everyone has answered, no reminder goes out at all.
    answer(app, round_id, waiting)
    with app.test_request_context():
        assert services.send_reminders(db.session.get(SurveyRound, round_id)) == 0


def test_the_automatic_reminder_goes_out_once(app):
    round_id = make_round(app, closes_on=today(app) + timedelta(days=2), reminder_days=3)
    make_round(app, closes_on=today(app) + timedelta(days=10), reminder_days=3)  # not yet
    invite(app, round_id, "w@example.com")
    with app.test_request_context():
        assert services.send_due_reminders() == 1
        assert services.send_due_reminders() == 0
    assert [m.template for m in outbox_for(app, "w@example.com")] == [
        "survey_invitation", "survey_reminder"]


# --- the supplier snapshot and supplier_satisfaction -------------------------------------------


def test_by_supplier_figures_keep_the_supplier_of_publication(app):
    category = make_category(app, name="物业保洁")
    old_supplier = make_supplier(app, name="金山物业有限公司", category_ids=(category,))
    new_supplier = make_supplier(app, name="新城保洁有限公司", category_ids=(category,))
    old_contract = make_contract(app, old_supplier, category)
    with app.test_request_context(), write_transaction():
        db.session.get(ServiceCategory, category).contract_id = old_contract
    round_id = make_round(app, make_questionnaire(app, [category]))
    for token, value in zip(invite(app, round_id, "a@example.com", "b@example.com"), (4, 1),
                            strict=True):
        answer(app, round_id, token, value=value)
    # The contract passes to another supplier after the round.
    new_contract = make_contract(app, new_supplier, category)
    with app.test_request_context(), write_transaction():
        db.session.get(ServiceCategory, category).contract_id = new_contract
    with app.test_request_context():
        figures = reports.round_figures(round_id)
        assert [(f.label, f.rate, f.valid) for f in figures.by_supplier] == [
            ("金山物业有限公司", 50.0, 2)]
        snapshot = db.session.get(RoundCategory, (round_id, category))
        assert snapshot.contract_id == old_contract
        scores = reports.supplier_satisfaction([old_supplier, new_supplier])
    assert scores[new_supplier] == []
    score, = scores[old_supplier]
    assert (score.round_id, score.category_label, score.rate, score.valid_responses) == (
        round_id, "物业保洁", 50.0, 2)


def test_the_snapshot_follows_renewals_and_leaves_out_an_ended_contract(app):
    """Publication snapshots the supplier under the contract in force that day: a renewal in
    force passes to its supplier; a contract ended with no successor leaves no supplier."""
    renewed, ended = make_category(app, name="物业保洁"), make_category(app, name="绿化养护")
    old_supplier = make_supplier(app, name="金山物业有限公司")
    new_supplier = make_supplier(app, name="新城保洁有限公司")
    last_year = today(app) - timedelta(days=30)
    old = make_contract(app, old_supplier, renewed, starts_on=last_year - timedelta(days=364),
                        ends_on=last_year)
    new = make_contract(app, new_supplier, renewed, starts_on=last_year + timedelta(days=1),
                        ends_on=today(app) + timedelta(days=300))
    gone = make_contract(app, old_supplier, ended, starts_on=last_year - timedelta(days=364),
                         ends_on=last_year)
    with app.test_request_context(), write_transaction():
        db.session.get(ServiceContract, old).successor_id = new
        db.session.get(ServiceCategory, renewed).contract_id = old
        db.session.get(ServiceCategory, ended).contract_id = gone
    round_id = make_round(app, make_questionnaire(app, [renewed, ended]))
    with app.test_request_context():
        snapshot = {row.category_id: (row.supplier_id, row.contract_id) for row in
                    db.session.scalars(sa.select(RoundCategory)
                                       .where(RoundCategory.round_id == round_id))}
    assert snapshot == {renewed: (new_supplier, new), ended: (None, None)}


def test_supplier_satisfaction_keeps_the_latest_rounds(app):
    category = make_category(app)
    supplier = make_supplier(app, category_ids=(category,))
    contract = make_contract(app, supplier, category)
    with app.test_request_context(), write_transaction():
        db.session.get(ServiceCategory, category).contract_id = contract
    questionnaire = make_questionnaire(app, [category])
    rounds = [make_round(app, questionnaire, closes_on=today(app) + timedelta(days=d),
                         title=f"第{d}轮") for d in (3, 6, 9)]
    with app.test_request_context():
        latest = reports.supplier_satisfaction([supplier])[supplier]
        assert [s.round_id for s in latest] == [rounds[2], rounds[1]]
        assert all(s.rate is None and s.valid_responses == 0 for s in latest)
        assert len(reports.supplier_satisfaction([supplier], rounds=3)[supplier]) == 3
        assert reports.supplier_satisfaction([]) == {}


class _RowsRead:
    """Wraps ``db.session.execute`` to record how many rows each statement brought back."""

    def __init__(self, execute):
        self.execute, self.rows = execute, []

    def __call__(self, *args, **kwargs):
        rows = self.execute(*args, **kwargs).all()
        self.rows.append(len(rows))
        return type("Rows", (), {"all": lambda _self: rows, "__iter__": lambda _self: iter(rows)})()


def test_supplier_satisfaction_over_eight_rounds_takes_as_many_queries_as_two(
        app, count_queries, monkeypatch):
    """The scorecard's satisfaction over time asks for eight rounds: still two queries, and
    each supplier gets its own latest rounds."""
    cleaning, greening, canteen = (make_category(app, name=name) for name in (
        "物业保洁", "绿化养护", "食堂餐饮"))
    supplier = make_supplier(app, category_ids=(cleaning, greening))
    other = make_supplier(app, category_ids=(canteen,))
    contracts = {category: make_contract(app, owner, category) for category, owner in (
        (cleaning, supplier), (greening, supplier), (canteen, other))}
    with app.test_request_context(), write_transaction():
        for category, contract in contracts.items():
            db.session.get(ServiceCategory, category).contract_id = contract
    both = make_questionnaire(app, [cleaning, greening, canteen], text=False)
    canteen_only = make_questionnaire(app, [canteen], text=False)
    rounds = []
    for day in range(1, 11):
        round_id = make_round(app, both, closes_on=today(app) + timedelta(days=day),
                              title=f"第{day}轮")
        rounds.append(round_id)
        for n, token in enumerate(invite(app, round_id, f"a{day}@example.com",
                                         f"b{day}@example.com")):
            answer(app, round_id, token, values={cleaning: 4 - n, greening: 1, canteen: 3})
    canteen_round = make_round(app, canteen_only, closes_on=today(app) + timedelta(days=20))
    with app.test_request_context():
        with count_queries() as two_queries:
            two = reports.supplier_satisfaction([supplier, other])
        with count_queries() as eight_queries:
            eight = reports.supplier_satisfaction([supplier, other], rounds=8)
        with pytest.raises(ValueError):
            reports.supplier_satisfaction([supplier], rounds=0)
    selects = [[q for q in queries if q.lstrip().upper().startswith("SELECT")]
               for queries in (two_queries, eight_queries)]
    assert [len(queries) for queries in selects] == [2, 2]
    # The latest rounds are picked in SQL: the first query reads only the figures returned,
    # not every round the suppliers were ever asked about.
    for wanted in (2, 8):
        with app.test_request_context():
            spy = _RowsRead(db.session.execute)
            monkeypatch.setattr(db.session, "execute", spy)
            figures = reports.supplier_satisfaction([supplier, other], rounds=wanted)
            monkeypatch.undo()
        assert spy.rows[0] == sum(len(f) for f in figures.values()) == 3 * wanted
    assert [(s.round_id, s.category_label) for s in two[supplier]] == [
        (rounds[9], "物业保洁"), (rounds[9], "绿化养护"),
        (rounds[8], "物业保洁"), (rounds[8], "绿化养护")]
    assert [s.round_id for s in eight[supplier]][::2] == rounds[:1:-1]  # newest first
    assert len(eight[supplier]) == 16
    assert {(s.category_label, s.rate, s.valid_responses) for s in eight[supplier]} == {
        ("物业保洁", 100.0, 2), ("绿化养护", 0.0, 2)}
    # The canteen supplier's latest rounds include the canteen-only one.
    assert [s.round_id for s in eight[other]] == [canteen_round, *rounds[:2:-1]]
    assert eight[other][0].valid_responses == 0 and eight[other][1].rate == 100.0


def test_satisfaction_section_context_without_rounds(app):
    with app.test_request_context():
        context = reports.satisfaction_section_context()
    assert context["survey_trend"] == [] and context["survey_latest"] is None


def test_invitation_mail_reaches_the_outbox_with_the_round(app):
    round_id = make_round(app, title="满意度调查A")
    invite(app, round_id, "x@example.com")
    with app.test_request_context():
        message = db.session.scalar(sa.select(OutboxMessage)
                                    .where(OutboxMessage.recipient == "x@example.com"))
        assert "满意度调查A" in message.subject


def test_trend_by_supplier_follows_the_contract_of_each_round(app):
    category = make_category(app, name="物业保洁")
    old_supplier = make_supplier(app, name="金山物业有限公司", category_ids=(category,))
    new_supplier = make_supplier(app, name="新城保洁有限公司", category_ids=(category,))
    questionnaire = make_questionnaire(app, [category])
    rounds = []
    for supplier, value, days in ((old_supplier, 1, 3), (new_supplier, 4, 6)):
        contract = make_contract(app, supplier, category)
        with app.test_request_context(), write_transaction():
            db.session.get(ServiceCategory, category).contract_id = contract
        round_id = make_round(app, questionnaire, title=f"第{days}轮",
                              closes_on=today(app) + timedelta(days=days))
        for token in invite(app, round_id, f"a{days}@example.com", f"b{days}@example.com"):
            answer(app, round_id, token, value=value)
        rounds.append(round_id)
    with app.test_request_context():
        trend = reports.rounds_trend()
        by_supplier = {row.label: [f and (f.rate, f.valid) for f in row.figures]
                       for row in reports.trend_by("supplier", trend)}
        by_category = [(row.label, [f.rate for f in row.figures])
                       for row in reports.trend_by("category", trend)]
    assert by_supplier == {"新城保洁有限公司": [None, (100.0, 2)],
                           "金山物业有限公司": [(0.0, 2), None]}
    assert by_category == [("物业保洁", [0.0, 100.0])]
