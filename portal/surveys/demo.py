"""Demo surveys: two closed rounds of the bureau's satisfaction questionnaire, the later one
with a higher rate (the seed's "满意率不断提高"), and their responses.

Invitees are the supervisors whose appointment was active when each round opened (the
feedback module's demo roster, loaded earlier) plus staff of the served units by address, so
the loader also works when there is no roster. Categories are created only when the service
catalogue is empty.
"""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..auth.services import _hash_token as hash_token
from ..catalogue.models import ServiceCategory
from ..database import utcnow, write_transaction
from ..demo import demo_loader
from ..extensions import db
from ..i18n import local_today
from . import figures
from .models import (
    InviteeKind,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    RoundCategory,
    RoundStatus,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)
from .services import invitation_token, roster_on

CATEGORIES = [  # used only when the catalogue is empty
    ("canteen", "食堂餐饮", "Canteen"), ("cleaning", "物业保洁", "Cleaning"),
    ("meeting", "会议服务", "Meeting service"), ("greening", "绿化养护", "Greening"),
    ("vehicles", "公务车辆", "Official vehicles"),
]
UNIT_STAFF = [
    ("bgs@fgw.example.gov.cn", "区发展和改革委员会"),
    ("zhb@fgw.example.gov.cn", "区发展和改革委员会"),
    ("bgs@czj.example.gov.cn", "区财政局"), ("ysk@czj.example.gov.cn", "区财政局"),
    ("bgs@rd.example.gov.cn", "区人大常委会办公室"), ("bgs@zx.example.gov.cn", "区政协办公室"),
    ("bgs@jyj.example.gov.cn", "区教育局"), ("bgs@wjw.example.gov.cn", "区卫生健康委员会"),
    ("bgs@tjj.example.gov.cn", "区统计局"), ("bgs@sfj.example.gov.cn", "区司法局"),
    ("bgs@mzj.example.gov.cn", "区民政局"), ("bgs@swj.example.gov.cn", "区商务委员会"),
]
COMMENTS = ["食堂菜品可以再丰富一些，增加清淡菜式。", "会议室空调温度有时偏低。",
            "保洁及时，卫生间比以前干净多了。", "希望通勤车增加晚班。", "绿化修剪很整齐，点赞。",
            "整体服务态度很好，响应快。"]
# (days before today it closed, share of answers on each point 4/3/2/1); 185 days apart, so
# the two always fall in different half-years, which name them.
ROUNDS = [
    (205, (0.30, 0.35, 0.17, 0.18)),
    (20, (0.45, 0.35, 0.13, 0.07)),
]


def _title(closes_on) -> str:
    half = "上" if closes_on.month <= 6 else "下"
    return f"{closes_on.year}年{half}半年机关后勤服务满意度调查"


def _categories() -> list[ServiceCategory]:
    categories = list(db.session.scalars(
        sa.select(ServiceCategory).where(ServiceCategory.active.is_(True))
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)))
    if categories:
        return categories[:6]
    for order, (code, name, name_en) in enumerate(CATEGORIES):
        db.session.add(ServiceCategory(code=code, name=name, name_en=name_en, team="后勤服务中心",
                                       sort_order=order))
    db.session.flush()
    return _categories()


def _invite(survey: SurveyRound, email: str, **fields) -> SurveyInvitation:
    salt = secrets.token_hex(16)
    invitation = SurveyInvitation(round_id=survey.id, email=email, salt=salt,
                                  token_hash=hash_token(invitation_token(salt)), **fields)
    db.session.add(invitation)
    return invitation


@demo_loader(order=60)
def load_surveys(context: dict) -> None:
    rng = random.Random(2026)
    today = local_today()
    with write_transaction():
        categories = _categories()
        questionnaire = Questionnaire(
            title="机关后勤服务满意度问卷",
            intro="为不断提高服务质量，请您对本区机关后勤各项服务作出评价。问卷匿名，约需3分钟。")
        first = QuestionnaireVersion(number=1)
        for position, category in enumerate(categories, start=1):
            first.questions.append(Question(position=position, kind=QuestionKind.SCALE,
                                            category_id=category.id,
                                            prompt=f"您对{category.name}服务的总体评价"))
        first.questions.append(Question(position=len(categories) + 1, kind=QuestionKind.TEXT,
                                        prompt="您对后勤服务还有哪些意见和建议？"))
        # Version 2 asks the same and one more question about the first category.
        second = QuestionnaireVersion(number=2)
        for question in first.questions:
            second.questions.append(Question(position=question.position, kind=question.kind,
                                             category_id=question.category_id,
                                             prompt=question.prompt))
        second.questions.insert(1, Question(position=len(categories) + 2,
                                            kind=QuestionKind.SCALE,
                                            category_id=categories[0].id,
                                            prompt="服务人员的态度和响应速度"))
        questionnaire.versions.extend([first, second])
        db.session.add(questionnaire)
        db.session.flush()

        for (days_ago, shares), version in zip(ROUNDS, (first, second), strict=True):
            closes_on = today - timedelta(days=days_ago)
            title = _title(closes_on)
            opened = closes_on - timedelta(days=14)
            version.frozen_at = utcnow() - timedelta(days=days_ago + 14)
            survey = SurveyRound(title=title, questionnaire_id=questionnaire.id,
                                 version_id=version.id, status=RoundStatus.CLOSED,
                                 closes_on=closes_on, anonymous=True, target_rate=90,
                                 reminder_days=3, published_on=opened)
            db.session.add(survey)
            db.session.flush()
            for category in categories:
                contract = category.contract
                db.session.add(RoundCategory(
                    round_id=survey.id, category_id=category.id,
                    supplier_id=contract.supplier_id if contract is not None else None,
                    contract_id=contract.id if contract is not None else None))
            invitations = [
                _invite(survey, user.email, kind=InviteeKind.SUPERVISOR, name=user.name,
                        unit=appointment.unit, user_id=user.id, appointment_id=appointment.id)
                for appointment, user in roster_on(opened)]
            invitations += [_invite(survey, email, kind=InviteeKind.UNIT_STAFF, unit=unit)
                            for email, unit in UNIT_STAFF]
            db.session.flush()
            answered = [inv for inv in invitations if rng.random() < 0.85]
            for invitation in answered:
                invitation.responded = True
                response = SurveyResponse(round_id=survey.id, anonymous=True)
                for question in version.questions:
                    if question.kind == QuestionKind.SCALE:
                        value = None if rng.random() < 0.05 else rng.choices(
                            (4, 3, 2, 1), weights=shares)[0]
                        response.answers.append(SurveyAnswer(question=question, value=value))
                    elif rng.random() < 0.4:
                        response.answers.append(SurveyAnswer(question=question,
                                                             text=rng.choice(COMMENTS)))
                db.session.add(response)
            db.session.flush()
            figures.store(survey)  # closed: its figures kept, as closing it would
    context["survey_rounds"] = len(ROUNDS)
