"""Demo venues, catering standards and a few months of bookings, drawn from the seed.

The seed: the conference center opened to outside clients, the canteen hosting meeting meals
and wedding banquets, 230+ meeting batches in half a year including the district People's
Congress (区人代会) and CPPCC (区政协会) sessions.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from ..database import utcnow, write_transaction
from ..demo import demo_loader
from ..extensions import db
from . import pricing
from .models import (
    Booking,
    BookingCatering,
    BookingStatus,
    CateringOption,
    Venue,
    VenueEquipment,
    VenueLayout,
    VenueSlot,
)
from .services import (
    BookingInput,
    CateringInput,
    SlotInput,
    local_datetime,
    request_booking,
    slot_period,
    transition,
)

VENUES = [
    # code, name, kind, building, floor, layouts, equipment, public, half, evening, full (yuan)
    ("HZ-101", "大礼堂", "hall", "会议中心", "1F",
     {"theatre": 480, "classroom": 260}, ["projector", "led_screen", "sound", "stage"], True,
     3000, 2000, 5000),
    ("HZ-201", "多功能厅(智能化会议室)", "hall", "会议中心", "2F",
     {"theatre": 150, "classroom": 90, "boardroom": 40, "banquet": 120},
     ["projector", "led_screen", "video_conference", "interpretation", "sound"], True,
     1800, 1200, 3000),
    ("HZ-301", "第一会议室", "meeting_room", "会议中心", "3F",
     {"boardroom": 30, "classroom": 40}, ["projector", "video_conference"], True,
     600, 400, 1000),
    ("HZ-302", "第二会议室", "meeting_room", "会议中心", "3F",
     {"boardroom": 20, "classroom": 30, "theatre": 40}, ["projector"], True, 500, 300, 800),
    ("HZ-303", "第三会议室", "meeting_room", "会议中心", "3F",
     {"boardroom": 12}, ["led_screen"], True, 300, 200, 500),
    ("HZ-305", "贵宾接待室", "meeting_room", "会议中心", "3F",
     {"boardroom": 16}, ["video_conference"], False, 800, 500, 1300),
    ("ST-201", "机关食堂宴会厅", "banquet_hall", "机关食堂", "2F",
     {"banquet": 300, "theatre": 200}, ["sound", "stage", "led_screen"], True,
     2000, 2500, 3500),
]

CATERING = [
    ("meal", "工作餐 30元/人", 3000), ("meal", "工作餐 50元/人", 5000),
    ("tea_break", "茶歇 25元/人", 2500), ("tea_break", "精品茶歇 40元/人", 4000),
    ("banquet", "宴席 1888元/桌", 188800), ("banquet", "喜宴 2888元/桌", 288800),
]

INTERNAL_EVENTS = ["区人大常委会会议", "区政协常委会议", "区政府常务会议",
                   "全区安全生产工作会议", "机关党建工作推进会", "区委理论学习中心组学习会",
                   "三优一满意工作推进会"]
EXTERNAL_EVENTS = ["世界精细化工发展研讨会筹备会", "企业年度总结会", "行业协会理事会",
                   "职业技能培训班", "新品发布会", "学术交流会"]


@demo_loader(order=20)
def load_bookings(context: dict) -> None:
    rng = random.Random(2026)
    with write_transaction():
        venues = []
        for (code, name, kind, building, floor, layouts, equipment, public,
             half, evening, full) in VENUES:
            venue = Venue(code=code, name=name, kind=kind, building=building, floor=floor,
                          public=public, opens_at=time(8, 0), closes_at=time(22, 0),
                          setup_minutes=30, cleanup_minutes=30,
                          external_half_day_fen=half * 100, external_evening_fen=evening * 100,
                          external_full_day_fen=full * 100,
                          internal_half_day_fen=half * 50, internal_evening_fen=evening * 50,
                          internal_full_day_fen=full * 50,
                          description=f"{building}{floor} {name}")
            venue.layouts = [VenueLayout(layout=k, capacity=v) for k, v in layouts.items()]
            venue.equipment = [VenueEquipment(equipment=e) for e in equipment]
            db.session.add(venue)
            venues.append(venue)
        options = [CateringOption(kind=k, name=n, unit_price_fen=p) for k, n, p in CATERING]
        db.session.add_all(options)
        db.session.flush()

        users = context.get("users", {})
        clients = [u for u in users.values() if u.role == "client"]
        staff = next((u for u in users.values() if u.role == "staff"), None)
        today = utcnow().astimezone(local_datetime(date.today(), time()).tzinfo).date()
        taken: dict[int, list[tuple[datetime, datetime]]] = {}  # blocked periods per venue

        def take(venue, day, start, end) -> tuple[datetime, ...] | None:
            """The slot's period, kept, if the venue is free then (buffers included)."""
            period = slot_period(venue, type("Slot", (), {"day": day, "start": start,
                                                          "end": end}))
            if any(b_from < period[3] and period[2] < b_until
                   for b_from, b_until in taken.get(venue.id, ())):
                return None
            taken.setdefault(venue.id, []).append(period[2:])
            return period

        # The wedding banquet the seed mentions (喜庆婚宴), added below, on a Saturday.
        wedding_day = today + timedelta(days=(5 - today.weekday()) % 7 + 14)
        wedding_period = take(venues[-1], wedding_day, time(17, 0), time(21, 0))
        if staff is not None:
            for slot in _two_day_conference(venues, options, clients, staff, today):
                taken.setdefault(slot.venue_id, []).append((slot.blocked_from,
                                                            slot.blocked_until))
        for _ in range(90):
            day = today + timedelta(days=rng.randint(-75, 40))
            if day.weekday() >= 5 and rng.random() < 0.7:
                continue
            venue = rng.choice(venues)
            session = rng.choice(["morning", "afternoon", "full_day", "evening"])
            period = take(venue, day, *pricing.SESSIONS[session])
            if period is None:
                continue
            internal = not venue.public or rng.random() < 0.55 or not clients
            layout = max(venue.layouts, key=lambda item: item.capacity)
            headcount = rng.randint(max(5, layout.capacity // 4), layout.capacity)
            start, end = pricing.SESSIONS[session]
            if day < today:
                status = rng.choice([BookingStatus.COMPLETED] * 6 + [BookingStatus.CANCELLED,
                                                                     BookingStatus.NO_SHOW])
            else:
                status = rng.choice([BookingStatus.APPROVED] * 3 + [BookingStatus.REQUESTED])
            booking = Booking(
                client_id=None if internal else rng.choice(clients).id,
                department=rng.choice(["区人大常委会办公室", "区政协办公室", "区政府办公室",
                                        "区发展和改革委员会", "区财政局"]) if internal else "",
                created_by_id=staff.id if internal and staff else None,
                status=status,
                rate_kind=pricing.RateKind.FREE if internal else pricing.RateKind.EXTERNAL,
                title=rng.choice(INTERNAL_EVENTS if internal else EXTERNAL_EVENTS),
                headcount=headcount, layout=layout.layout,
                starts_at=local_datetime(day, start),
            )
            starts, ends, blocked_from, blocked_until = period
            booking.slots.append(VenueSlot(
                venue_id=venue.id, session=session, starts_at=starts, ends_at=ends,
                blocked_from=blocked_from, blocked_until=blocked_until,
                active=status in BookingStatus.ACTIVE))
            booking.count_slot_seconds()
            if rng.random() < 0.6:
                meal = rng.choice([o for o in options if o.kind == "meal"])
                booking.catering.append(BookingCatering(
                    option_id=meal.id, kind="meal", label=meal.name,
                    unit_price_fen=meal.unit_price_fen, quantity=headcount, times=1))
            if status == BookingStatus.REQUESTED:
                booking.expires_at = utcnow() + timedelta(hours=72)
            if status == BookingStatus.COMPLETED:
                booking.actual_headcount = headcount - rng.randint(0, headcount // 10)
            db.session.add(booking)
        # The wedding banquet the seed mentions (喜庆婚宴), for the demo client without company.
        bride = next((u for u in clients if not u.organisation), None)
        if bride is not None:
            hall = venues[-1]
            wedding = Booking(client_id=bride.id, status=BookingStatus.APPROVED,
                              rate_kind=pricing.RateKind.EXTERNAL, title="黄晓梅、陈立新 喜宴",
                              headcount=280, layout="banquet",
                              starts_at=local_datetime(wedding_day, time(17, 0)))
            starts, ends, blocked_from, blocked_until = wedding_period
            wedding.slots.append(VenueSlot(venue_id=hall.id, session="custom", starts_at=starts,
                                           ends_at=ends, blocked_from=blocked_from,
                                           blocked_until=blocked_until, active=True))
            wedding.count_slot_seconds()
            banquet = next(o for o in options if o.name.startswith("喜宴"))
            wedding.catering.append(BookingCatering(
                option_id=banquet.id, kind="banquet", label=banquet.name,
                unit_price_fen=banquet.unit_price_fen, quantity=28, times=1))
            db.session.add(wedding)


def _two_day_conference(venues, options, clients, staff, today) -> list[VenueSlot]:
    """A two-day symposium (the seed's 世界精细化工发展研讨会) with tea breaks and meals every
    day and a banquet on the evening of day 2 only, requested and approved through the
    services; its slots."""
    client = next((u for u in clients if u.organisation), None)
    if client is None:
        return []
    hall = next(v for v in venues if v.code == "HZ-201")
    banquet_hall = next(v for v in venues if v.code == "ST-201")
    first = today + timedelta(days=(1 - today.weekday()) % 7 + 14)  # a Tuesday
    second = first + timedelta(days=1)

    def option(prefix):
        return next(o for o in options if o.name.startswith(prefix))

    data = BookingInput(
        title="世界精细化工发展研讨会", headcount=120, layout="theatre",
        purpose="两天学术交流，第二天晚宴", equipment=["projector", "interpretation"],
        slots=[SlotInput(hall.id, day, "full_day", *pricing.SESSIONS["full_day"])
               for day in (first, second)]
        + [SlotInput(banquet_hall.id, second, "evening", *pricing.SESSIONS["evening"])],
        catering=[CateringInput(option("工作餐 50").id, 120, 1),  # lunch, every day
                  CateringInput(option("茶歇 25").id, 120, 2),  # two breaks, every day
                  CateringInput(option("宴席").id, 10, day=second)],  # the dinner, day 2
        contact_phone="021-57921234")
    booking = request_booking(client, data, notify=False)
    transition(booking, "approve", staff, notify=False, deposit_fen=1_000_000,
               deposit_due_on=first - timedelta(days=7))
    return list(booking.slots)
