"""Survey pages: the round lifecycle through HTTP, the questionnaire builder (htmx), the
public answer page, results and exports (anonymity in every one), a fixed number of queries."""

import csv
import io
import re
from datetime import timedelta

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.extensions import db
from portal.surveys.models import SurveyInvitation, SurveyResponse, SurveyRound
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category
from tests.helpers import bureau_today, form_data, link_in, outbox_for
from tests.surveys.factories import (
    answer,
    invite,
    make_questionnaire,
    make_round,
    questions_of,
    today,
)

HX = {"HX-Request": "true"}


def _csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_staff_build_a_questionnaire_with_htmx(app, login_as):
    staff = login_as("staff")
    cleaning = make_category(app, name="物业保洁")
    response = staff.post("/surveys/questionnaires", data=form_data(
        staff, "/surveys/questionnaires", title="后勤服务满意度问卷", intro=""))
    assert response.status_code == 303
    url = response.headers["Location"]
    page = url
    for prompt, kind, category in (("保洁总体评价", "scale", str(cleaning)),
                                   ("意见和建议", "text", "")):
        response = staff.post(f"{url}/questions", headers=HX, data=form_data(
            staff, page, kind=kind, category_id=category, prompt=prompt))
        assert response.status_code == 200
        assert 'id="builder"' in response.get_data(as_text=True)
        assert "<html" not in response.get_data(as_text=True)  # only the builder block
    # A scale question without a category is refused beside the field.
    response = staff.post(f"{url}/questions", headers=HX, data=form_data(
        staff, page, kind="scale", category_id="", prompt="缺少类别"))
    assert response.status_code == 422
    assert "A scale question is about one service category" in response.get_data(as_text=True) \
        or "一项服务类别" in response.get_data(as_text=True)
    questionnaire_id = int(url.rsplit("/", 1)[1])
    round_id = make_round(app, questionnaire_id, publish=False)
    first, second = (q[0] for q in questions_of(app, round_id))
    response = staff.post(f"{url}/questions/{second}/up", headers=HX,
                          data=form_data(staff, page))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.index("意见和建议") < html.index("保洁总体评价")
    response = staff.post(f"{url}/questions/{first}/remove", data=form_data(staff, page))
    assert response.status_code == 303
    assert "保洁总体评价" not in staff.get(url).get_data(as_text=True)


def test_staff_create_publish_and_invite_through_the_pages(app, login_as):
    staff = login_as("staff")
    supervisor = make_user(app, "supervisor", name="李明华")
    make_appointment(app, supervisor.id, unit="区发展和改革委员会")
    questionnaire_id = make_questionnaire(app)
    closes = today(app) + timedelta(days=10)
    response = staff.post("/surveys/rounds/new", data=form_data(
        staff, "/surveys/rounds/new", title="2026年下半年满意度调查",
        questionnaire_id=str(questionnaire_id), closes_on=closes.isoformat(), anonymous="y",
        satisfied_points=["4", "3", "2"], target_rate="92", reminder_days="3"))
    assert response.status_code == 303, response.get_data(as_text=True)
    round_url = response.headers["Location"]
    round_id = int(round_url.rsplit("/", 1)[1])
    assert staff.post(f"{round_url}/publish", data=form_data(staff, round_url)).status_code == 303
    invitations = f"{round_url}/invitations"
    assert staff.post(f"{invitations}/roster",
                      data=form_data(staff, invitations)).status_code == 303
    response = staff.post(f"{invitations}/addresses", data=form_data(
        staff, invitations, addresses="not-an-address", unit="区财政局"))
    assert response.status_code == 422
    response = staff.post(f"{invitations}/addresses", data=form_data(
        staff, invitations, addresses="kezhang@czj.example.gov.cn", unit="区财政局"))
    assert response.status_code == 303
    page = staff.get(invitations).get_data(as_text=True)
    assert "李明华" in page and "kezhang@czj.example.gov.cn" in page
    with app.app_context():
        survey = db.session.get(SurveyRound, round_id)
        assert (survey.status, survey.target_rate, survey.anonymous) == ("open", 92, True)
    assert outbox_for(app, supervisor.email)[0].template == "survey_invitation"


def test_the_answer_page_takes_one_response_and_refuses_a_second(app, client):
    round_id = make_round(app)
    invite(app, round_id, "a@example.com")
    link = link_in(outbox_for(app, "a@example.com")[0])
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the link holds the token
    html = page.get_data(as_text=True)
    assert "非常满意" in html and 'name="viewport"' in html
    fields = {f"q{qid}": "4" if kind == "scale" else "很好" for qid, kind, _c in
              questions_of(app, round_id)}
    response = client.post(link, data=form_data(client, link, **fields))
    assert response.status_code == 200
    assert "已保存" in response.get_data(as_text=True) or "saved" in response.get_data(
        as_text=True)
    again = client.post(link, data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', html).group(1), **fields})
    assert again.status_code == 409
    assert "只保留" in again.get_data(as_text=True) or "only one response" in again.get_data(
        as_text=True)
    reopened = client.get(link)
    assert reopened.status_code == 200 and "survey-form" not in reopened.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 1


def test_the_answer_page_of_a_closed_round_says_so(app, client, login_as):
    round_id = make_round(app)
    invite(app, round_id, "late@example.com")
    link = link_in(outbox_for(app, "late@example.com")[0])
    staff = login_as("staff")
    url = f"/surveys/rounds/{round_id}"
    assert staff.post(f"{url}/close", data=form_data(staff, url)).status_code == 303
    response = client.get(link)
    assert response.status_code == 410
    fields = {f"q{qid}": "4" for qid, kind, _c in questions_of(app, round_id)}
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|value="([^"]+)"',
                      client.get("/auth/login").get_data(as_text=True))
    response = client.post(link, data={"csrf_token": token.group(1) or token.group(2), **fields})
    assert response.status_code == 410
    assert client.get("/surveys/r/not-a-token").status_code == 404


def _anonymous_round_with_people(app):
    category = make_category(app, name="食堂餐饮")
    round_id = make_round(app, make_questionnaire(app, [category]))
    people = [make_user(app, "supervisor", name=name) for name in ("李明华", "张卫东")]
    for person in people:
        make_appointment(app, person.id, unit="区财政局办公室")
    with app.test_request_context():
        from portal.surveys import services

        services.invite_roster(db.session.get(SurveyRound, round_id))
    for person, (value, text) in zip(people, ((4, "菜品丰富"), (1, "排队太久")), strict=True):
        link = link_in(outbox_for(app, person.email)[0])
        answer(app, round_id, link.rsplit("/", 1)[1], value=value, text=text)
    return round_id, people


def _who_answered_headers(app) -> list[str]:
    """The invitations table's "Answered" and "Reminders" column headers as the (Chinese)
    page renders them."""
    with app.test_request_context():
        from flask_babel import gettext

        headers = [f'<th scope="col">{gettext("Answered")}</th>',
                   f'<th scope="col" class="num">{gettext("Reminders")}</th>']
    assert "Answered" not in headers[0]  # the real translation, not the msgid
    return headers


def test_no_page_or_export_of_an_anonymous_round_names_who_answered_what(app, login_as):
    round_id, people = _anonymous_round_with_people(app)
    staff = login_as("staff")
    base = f"/surveys/rounds/{round_id}"
    results = staff.get(f"{base}/results").get_data(as_text=True)
    assert "菜品丰富" in results and "排队太久" in results
    invitations = staff.get(f"{base}/invitations").get_data(as_text=True)
    assert "李明华" in invitations  # who was invited is known...
    for header in _who_answered_headers(app):  # ...not who answered, nor who was reminded
        assert header not in invitations
    english = staff.get(f"{base}/invitations?lang=en").get_data(as_text=True)
    assert '<th scope="col">Invitee</th>' in english
    assert '<th scope="col">Answered</th>' not in english
    assert '<th scope="col" class="num">Reminders</th>' not in english
    staff.get(f"{base}/invitations?lang=zh")
    exports = [staff.get(f"{base}/results/export?report={r}&format=csv")
               for r in ("categories", "suppliers", "answers", "comments")]
    workbook = staff.get(f"{base}/results/export?report=answers&format=xlsx")
    cells = [str(c.value) for row in load_workbook(io.BytesIO(workbook.data)).active.iter_rows()
             for c in row]
    text = results + "".join(e.get_data(as_text=True) for e in exports) + " ".join(cells)
    for person in people:
        assert person.email not in text and "李明华" not in text.replace(invitations, "")
    for response in exports:
        assert response.status_code == 200
    answers = _csv(exports[2])
    assert len(answers) == 3 and answers[0][0].startswith("食堂餐饮")
    # The database holds no link either.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse).where(
            SurveyResponse.invitation_id.is_not(None) | SurveyResponse.submitted_at.is_not(
                None))) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyInvitation).where(
            SurveyInvitation.responded_at.is_not(None))) == 0


def test_a_named_round_shows_who_answered(app, login_as):
    round_id = make_round(app, anonymous=False)
    token, = invite(app, round_id, "named@example.com")
    answer(app, round_id, token, value=4, text="满意")
    staff = login_as("staff")
    invitations = staff.get(f"/surveys/rounds/{round_id}/invitations").get_data(as_text=True)
    for header in _who_answered_headers(app):  # what the anonymous round's test looks for
        assert header in invitations
    export = staff.get(f"/surveys/rounds/{round_id}/results/export?report=answers&format=csv")
    assert "named@example.com" in export.get_data(as_text=True)


def test_results_show_rate_sample_size_and_response_rate(app, login_as):
    round_id, _people = _anonymous_round_with_people(app)
    staff = login_as("staff")
    html = staff.get(f"/surveys/rounds/{round_id}/results").get_data(as_text=True)
    assert "50%" in html  # one of two satisfied
    assert "<svg" in html and "chart-target" in html
    assert "样本量 2" in html
    assert "100%" in html  # both invitees answered
    categories = _csv(staff.get(
        f"/surveys/rounds/{round_id}/results/export?report=categories&format=csv"))
    assert categories[1][0] == "食堂餐饮" and categories[1][-1] == "50.0%"
    trend = staff.get("/surveys/trend").get_data(as_text=True)
    assert "<svg" in trend and "2026年上半年满意度调查" in trend
    rows = _csv(staff.get("/surveys/trend/export?format=csv"))
    assert rows[1][3] == "50.0%" and rows[1][4] == "90.0%"


def test_pages_run_a_fixed_number_of_queries(app, login_as, count_queries):
    round_id, _people = _anonymous_round_with_people(app)
    staff = login_as("staff")
    urls = ["/surveys/", "/surveys/trend", f"/surveys/rounds/{round_id}/results",
            f"/surveys/rounds/{round_id}/invitations",
            f"/surveys/rounds/{round_id}/results/export?report=categories&format=csv",
            "/surveys/trend/export?format=xlsx"]

    def counts():
        result = []
        for url in urls:
            with count_queries() as queries:
                assert staff.get(url).status_code == 200
            result.append(len(queries))
        return result

    few = counts()
    category = make_category(app, name="会议服务")
    for n in range(3):
        other = make_round(app, make_questionnaire(app, [category, make_category(app)]),
                           title=f"第{n}轮")
        for token in invite(app, other, *(f"p{n}-{k}@example.com" for k in range(3))):
            answer(app, other, token, value=3, text="好")
    assert counts() == few


def test_home_tile_shows_the_latest_rate_against_its_target(app, login_as):
    round_id, _people = _anonymous_round_with_people(app)
    staff = login_as("staff")
    home = staff.get("/").get_data(as_text=True)
    assert f"/surveys/rounds/{round_id}/results" in home and "50%" in home
    assert f"/surveys/rounds/{round_id}/results" not in login_as("supervisor").get(
        "/").get_data(as_text=True)


def test_staff_edit_an_open_round_but_not_its_definition(app, login_as):
    round_id = make_round(app)
    staff = login_as("staff")
    url = f"/surveys/rounds/{round_id}/edit"
    page = staff.get(url).get_data(as_text=True)
    assert "disabled" in page
    with app.app_context():
        survey = db.session.get(SurveyRound, round_id)
        fields = {"title": "改名后的调查", "questionnaire_id": str(survey.questionnaire_id),
                  "closes_on": survey.closes_on.isoformat(), "anonymous": "y",
                  "satisfied_points": ["4", "3", "2"], "target_rate": "95",
                  "reminder_days": ""}
    assert staff.post(url, data=form_data(staff, url, **fields)).status_code == 303
    fields["satisfied_points"] = ["4"]
    response = staff.post(url, data=form_data(staff, url, **fields))
    assert response.status_code == 422
    with app.app_context():
        survey = db.session.get(SurveyRound, round_id)
        assert (survey.title, survey.target_rate, survey.reminder_days) == ("改名后的调查", 95,
                                                                           None)
        assert survey.satisfied_points == (4, 3, 2)


def test_trend_page_has_tables_by_category_and_supplier_and_their_exports(app, login_as):
    round_id, _people = _anonymous_round_with_people(app)
    staff = login_as("staff")
    html = staff.get("/surveys/trend").get_data(as_text=True)
    assert 'id="trend-category"' in html and 'id="trend-supplier"' in html
    rows = _csv(staff.get("/surveys/trend/export?report=category&format=csv"))
    assert rows[1] == ["食堂餐饮", "50.0%", "2"]
    rows = _csv(staff.get("/surveys/trend/export?report=supplier&format=csv"))
    assert rows[1][0] in ("本局自营（未外包）", "Bureau staff (not outsourced)")
    assert staff.get("/surveys/trend/export?report=nope").status_code == 404


def test_the_invitation_list_pages(app, login_as):
    round_id = make_round(app, anonymous=False)
    invite(app, round_id, *(f"p{n:02d}@example.com" for n in range(27)))
    staff = login_as("staff")
    first = staff.get(f"/surveys/rounds/{round_id}/invitations").get_data(as_text=True)
    assert f"/surveys/rounds/{round_id}/invitations?page=2" in first
    second = staff.get(f"/surveys/rounds/{round_id}/invitations?page=2").get_data(as_text=True)
    assert "p26@example.com" in second and "p00@example.com" not in second


def test_the_satisfaction_section_renders_on_its_own_for_the_dashboard(app):
    from flask import render_template_string

    from portal.surveys.reports import satisfaction_section_context

    _anonymous_round_with_people(app)
    with app.test_request_context():
        html = render_template_string(
            '<main>{% include "surveys/_satisfaction_section.html" %}</main>',
            **satisfaction_section_context())
    assert html.count("<svg") == 3  # the trend, by category, by supplier
    assert html.count("<table") == 3  # each chart with its table
    assert "chart-target" in html and "食堂餐饮" in html


def test_the_satisfaction_section_without_any_round(app):
    from flask import render_template_string

    from portal.surveys.reports import satisfaction_section_context

    with app.test_request_context():
        html = render_template_string('{% include "surveys/_satisfaction_section.html" %}',
                                      **satisfaction_section_context())
    assert "<svg" not in html and "暂无数据" in html


def test_a_supervisor_finds_the_surveys_waiting_for_them(app, login_as):
    supervisor = login_as("supervisor")
    make_appointment(app, supervisor.account.id)
    round_id = make_round(app, title="待答问卷")
    with app.test_request_context():
        from portal.surveys import services

        services.invite_roster(db.session.get(SurveyRound, round_id))
    assert "/surveys/mine" in supervisor.get("/").get_data(as_text=True)  # the tile
    page = supervisor.get("/surveys/mine").get_data(as_text=True)
    link = link_in(outbox_for(app, supervisor.account.email)[0])
    assert "待答问卷" in page and link in page
    answer(app, round_id, link.rsplit("/", 1)[1])
    page = supervisor.get("/surveys/mine").get_data(as_text=True)
    assert link not in page and "您已作答" in page
    assert login_as("supervisor").get("/surveys/mine").get_data(as_text=True).count(
        "待答问卷") == 0  # another supervisor sees only their own


def test_reminding_an_anonymous_round_writes_to_every_invitee(app, login_as):
    round_id = make_round(app)
    done, _waiting = invite(app, round_id, "done@example.com", "waiting@example.com")
    answer(app, round_id, done)
    staff = login_as("staff")
    page = f"/surveys/rounds/{round_id}/invitations"
    html = staff.get(page).get_data(as_text=True)
    assert "邮件同时感谢已答卷者" in html  # the page says who the reminders go to
    response = staff.post(f"{page}/remind", data=form_data(staff, page), follow_redirects=True)
    assert "已向全部 2 名受邀人发送提醒（匿名调查）。" in response.get_data(as_text=True)
    for email in ("done@example.com", "waiting@example.com"):
        assert outbox_for(app, email)[-1].template == "survey_reminder"


def test_a_draft_whose_closing_date_passed_is_not_published(app, login_as):
    from portal.database import write_transaction
    from portal.surveys.models import RoundCategory, RoundStatus

    round_id = make_round(app, publish=False)
    with app.test_request_context(), write_transaction():
        db.session.get(SurveyRound, round_id).closes_on = today(app) - timedelta(days=1)
    staff = login_as("staff")
    url = f"/surveys/rounds/{round_id}"
    assert f'action="{url}/publish"' not in staff.get(url).get_data(as_text=True)  # hidden
    refused = staff.post(f"{url}/publish", data={**form_data(staff, url),
                                                  "expected_status": "draft"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="closes_on-error"' in html and "截止日期不能早于今天" in html
    with app.app_context():
        survey = db.session.get(SurveyRound, round_id)
        assert survey.status == RoundStatus.DRAFT and survey.version_id is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RoundCategory)) == 0


def test_a_round_past_its_closing_date_is_not_closed_again(app, login_as):
    from portal.database import write_transaction
    from portal.surveys.models import RoundStatus

    round_id = make_round(app)
    with app.test_request_context(), write_transaction():
        db.session.get(SurveyRound, round_id).closes_on = today(app) - timedelta(days=2)
    staff = login_as("staff")
    url = f"/surveys/rounds/{round_id}"
    assert f'action="{url}/close"' not in staff.get(url).get_data(as_text=True)
    refused = staff.post(f"{url}/close", data={**form_data(staff, url),
                                                "expected_status": "open"})
    assert refused.status_code == 409
    assert "本次调查已于截止日期" in refused.get_data(as_text=True)
    with app.app_context():
        survey = db.session.get(SurveyRound, round_id)
        assert survey.status == RoundStatus.OPEN and survey.closed_on is None


def test_publishing_a_published_round_says_who_published_it(app, login_as):
    round_id = make_round(app, publish=False)
    first, second = login_as("staff", name="周海燕"), login_as("staff")
    url = f"/surveys/rounds/{round_id}"
    seen = form_data(second, url)  # the second page still offers "publish"
    assert first.post(f"{url}/publish", data={**form_data(first, url),
                                               "expected_status": "draft"}).status_code == 303
    late = second.post(f"{url}/publish", data={**seen, "expected_status": "draft"})
    html = late.get_data(as_text=True)
    assert late.status_code == 409
    assert "该调查刚刚被周海燕改为“进行中”" in html
    assert f'action="{url}/publish"' not in html and f'action="{url}/close"' in html


def test_the_answer_page_shows_every_problem_beside_its_question_and_cuts_nothing(app, client):
    round_id = make_round(app)
    invite(app, round_id, "b@example.com")
    link = link_in(outbox_for(app, "b@example.com")[0])
    questions = questions_of(app, round_id)
    scales = [qid for qid, kind, _c in questions if kind == "scale"]
    [text] = [qid for qid, kind, _c in questions if kind == "text"]
    page = client.get(link).get_data(as_text=True)
    assert f'id="q{text}-count">0 / 4000<' in page and 'maxlength="4000"' in page
    response = client.post(link, data=form_data(client, link, **{f"q{text}": "好" * 4001}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for qid in scales:  # every unanswered question at once, beside it
        assert f'id="q{qid}-error"' in html
    assert "最多 4000 个字符，当前为 4001 个。" in html and f'id="q{text}-error"' in html
    assert "好" * 4001 in html  # what was typed comes back whole
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 0
    fields = {**{f"q{qid}": "4" for qid in scales}, f"q{text}": "好" * 4000}
    response = client.post(link, data=form_data(client, link, **fields))
    assert response.status_code == 200
    with app.app_context():
        from portal.surveys.models import SurveyAnswer

        assert db.session.scalar(sa.select(sa.func.length(SurveyAnswer.text))
                                 .where(SurveyAnswer.text != "")) == 4000


def _rounds_old_adequate_new_thin(app):
    """An older round 5 of 8 answered (all satisfied), a newer one 2 of 8 (none satisfied)."""
    questionnaire = make_questionnaire(app, [make_category(app, name="保洁服务")])
    today = bureau_today(app)
    older = make_round(app, questionnaire, title="2026年第一季度满意度调查",
                       closes_on=today + timedelta(days=5))
    newer = make_round(app, questionnaire, title="2026年第二季度满意度调查",
                       closes_on=today + timedelta(days=20))
    for round_id, answered, value in ((older, 5, 4), (newer, 2, 1)):
        tokens = invite(app, round_id, *(f"r{round_id}-{k}@example.com" for k in range(8)))
        for token in tokens[:answered]:
            answer(app, round_id, token, value=value)
    return older, newer


def test_home_headline_is_the_latest_round_with_an_adequate_sample_and_names_it(app, login_as):
    older, newer = _rounds_old_adequate_new_thin(app)
    staff = login_as("staff")
    home = staff.get("/?lang=en").get_data(as_text=True)
    assert f"/surveys/rounds/{older}/results" in home
    assert f"/surveys/rounds/{newer}/results" not in home
    assert "Satisfaction rate: 2026年第一季度满意度调查" in home and ">100%<" in home
    assert "2026年第二季度满意度调查: 2 of 8 answered so far, too few for a headline" in home
    chinese = staff.get("/?lang=zh").get_data(as_text=True)
    assert "满意率：2026年第一季度满意度调查" in chinese


def test_home_headline_thresholds_are_settings(app, login_as, monkeypatch):
    older, newer = _rounds_old_adequate_new_thin(app)
    monkeypatch.setitem(app.config, "SURVEY_HEADLINE_MIN_RESPONSES", 2)
    monkeypatch.setitem(app.config, "SURVEY_HEADLINE_MIN_RESPONSE_RATE", 25)
    home = login_as("staff").get("/?lang=en").get_data(as_text=True)
    assert f"/surveys/rounds/{newer}/results" in home and ">0%<" in home
    assert "too few for a headline" not in home
    monkeypatch.setitem(app.config, "SURVEY_HEADLINE_MIN_RESPONSES", 6)
    home = login_as("staff").get("/?lang=en").get_data(as_text=True)
    # No round is adequate: the latest is shown, marked as a small sample.
    assert f"/surveys/rounds/{newer}/results" in home and "Small sample: 2 responses" in home
