"""A supervisor answers a satisfaction survey on a phone through the one-time link in the
invitation email, without logging in; opening the link again says it was answered. Staff
then read the result, with its chart and table."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category
from tests.helpers import link_in, outbox_for
from tests.surveys.factories import make_questionnaire, make_round

pytestmark = pytest.mark.browser


def test_a_supervisor_answers_on_a_phone_through_the_one_time_link(live_server, new_context,
                                                                   problems):
    app, base = live_server.app, live_server.url
    supervisor = make_user(app, "supervisor", name="李明华")
    make_appointment(app, supervisor.id, unit="区发展和改革委员会")
    canteen = make_category(app, name="食堂餐饮", name_en="Canteen")
    cleaning = make_category(app, name="物业保洁", name_en="Cleaning")
    round_id = make_round(app, make_questionnaire(app, [canteen, cleaning]),
                          title="2026年上半年满意度调查")
    with app.test_request_context():
        from portal.extensions import db
        from portal.surveys import services
        from portal.surveys.models import SurveyRound

        assert services.invite_roster(db.session.get(SurveyRound, round_id)) == 1
    link = base + link_in(outbox_for(app, supervisor.email)[0], base)

    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(link)
    expect(phone.get_by_role("heading", name="2026年上半年满意度调查")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    canteen_question = phone.get_by_role("group", name="食堂餐饮")
    canteen_question.get_by_label("非常满意").tap()
    phone.get_by_role("group", name="物业保洁").get_by_label("无法评价").tap()
    phone.get_by_label("意见和建议").fill("午餐可以多一些清淡菜式。")
    phone.get_by_role("button", name="提交答卷").tap()
    expect(phone.get_by_text("感谢您的参与，您的答卷已保存。")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The link works once: opening it again says so and offers no form.
    phone.goto(link)
    expect(phone.get_by_text("已通过此链接提交过答卷")).to_be_visible()
    expect(phone.get_by_role("button", name="提交答卷")).to_have_count(0)

    # Staff see the result: 1 valid answer, 100 %, with the chart's table.
    staff_account = make_user(app, "staff")
    staff = new_context().new_page()
    staff.goto(f"{base}/auth/login")
    staff.fill("#email", staff_account.email)
    staff.fill("#password", staff_account.password)
    staff.locator("#login-form").locator("button[type=submit]").click()
    staff.wait_for_url(f"{base}/")
    staff.goto(f"{base}/surveys/rounds/{round_id}/results")
    expect(staff.locator("#categories svg")).to_be_visible()
    expect(staff.locator("#categories table").first).to_contain_text("100%")
    expect(staff.get_by_text("午餐可以多一些清淡菜式。")).to_be_visible()
    expect(staff.get_by_text("李明华")).to_have_count(0)  # anonymous: nobody named

    # An administrator reading the outbox sees the invitation with its link masked: no way
    # to open it, see whether it was answered, or answer in the invitee's place.
    admin_account = make_user(app, "admin")
    admin = new_context().new_page()
    admin.goto(f"{base}/auth/login")
    admin.fill("#email", admin_account.email)
    admin.fill("#password", admin_account.password)
    admin.locator("#login-form").locator("button[type=submit]").click()
    admin.wait_for_url(f"{base}/")
    admin.goto(f"{base}/admin/outbox/?recipient={supervisor.email}")
    admin.get_by_role("link", name="满意度调查：2026年上半年满意度调查").click()
    expect(admin.locator(".mail-body")).to_contain_text("/surveys/r/••••••")
    token = link.rsplit("/", 1)[1]
    assert token not in admin.content()
    expect(admin.locator(".mail-body a[href*='/surveys/r/']")).to_have_count(0)

    problems.assert_clean()
