"""The demo's citizens, seeded once through the same services the portal and the console use:
two people report one red-light run at the simulated intersection — the first with the clip,
the second with a still of it a minute later — an officer confirms both (the first wins, the
second is a duplicate), signs the violation, the owner pays, and the first earns the reward;
a public-order report becomes an incident; a helper patrols an area in Astana, with a quarter
of shifts behind them and the recognition it earned.

The citizens' numbers are fictional (``+7 701 000 01 01`` …): sign in as them on the portal
with the code written to ``data_dir/sms.log``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import av
import cv2

from kupol.citizens.domain import Citizens
from kupol.citizens.reports import Media
from kupol.core.audit import Justification
from kupol.core.auth import AuthService, Principal
from kupol.core.errors import ConflictError
from kupol.core.messages import utcnow
from kupol.documents.service import DocumentService
from kupol.traffic.domain import Traffic

FIRST, SECOND, HELPER = "+77010000101", "+77010000102", "+77010000103"
"""Fictional numbers of the demo's citizens."""
RED_LIGHT_AT_S = 17.0
"""When the simulated intersection's car 123 ABC 02 runs the red light (its clip's second)."""
WHY = Justification(purpose="demo: citizens' reports")


@dataclass(frozen=True, kw_only=True)
class SeededCitizens:
    first_report: int
    second_report: int
    violation_id: int
    reward_tenge: int
    incident_id: int | None


def sign_up(
    citizens: Citizens, auth: AuthService, phone: str, device: str
) -> tuple[Principal, int]:
    """A citizen signed up by phone with the texted code (as the portal does)."""
    citizens.accounts.send_code(phone=phone, device=device)
    code = re.search(r"\d{6}", citizens.sms.last_to(phone) or "")
    assert code is not None, "the log gateway wrote no code"
    result = citizens.accounts.verify(phone=phone, code=code.group(), device=device)
    principal = auth.authenticate(result.token)
    return principal, citizens.accounts.citizen_id(principal.user_id)


def still_of(clip: Path, at_s: float) -> bytes:
    """A JPEG of the clip's frame at ``at_s`` seconds (what a second witness photographed)."""
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= at_s:
                image = frame.to_ndarray(format="bgr24")
                return bytes(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1])
    raise ValueError(f"{clip} is shorter than {at_s} s")


def seed_citizens(
    citizens: Citizens, *, auth: AuthService, traffic: Traffic, documents: DocumentService,
    officer: Principal, gateway: Principal, clip: Path, place: tuple[float, float],
) -> SeededCitizens | None:  # fmt: skip
    """Seed the story above once (None when the citizens are there already)."""
    if citizens.accounts.known(FIRST):
        return None
    if documents.authority.certificate(officer.username) is None:
        documents.authority.issue(officer.username)
    lat, lon = place
    occurred = utcnow().replace(microsecond=0) - timedelta(minutes=20)
    anna, anna_id = sign_up(citizens, auth, FIRST, "demo-phone-0101")
    boris, boris_id = sign_up(citizens, auth, SECOND, "demo-phone-0102")
    first = citizens.reports.submit(
        actor=anna, citizen_id=anna_id, device="demo-phone-0101", kind="traffic_violation",
        description="Красная Toyota проехала на красный свет на перекрёстке",
        media=[Media(filename="red-light.mp4", media_type="video/mp4", data=clip.read_bytes())],
        occurred_at=occurred, lat=lat, lon=lon,
    )  # fmt: skip
    second = citizens.reports.submit(
        actor=boris, citizen_id=boris_id, device="demo-phone-0102", kind="traffic_violation",
        description="Қызыл Toyota бағдаршамның қызыл түсіне өтті",
        media=[Media(filename="photo.jpg", media_type="image/jpeg",
                     data=still_of(clip, RED_LIGHT_AT_S))],
        occurred_at=occurred + timedelta(seconds=40), lat=lat + 0.0003, lon=lon,
    )  # fmt: skip
    plate = "123ABC02"  # the officer picks the red Toyota among the plates read
    review = citizens.review
    won = review.decide(actor=officer, report_id=first.id, outcome="confirmed",
                        offence="red_light", plate=plate)  # fmt: skip
    review.decide(actor=officer, report_id=second.id, outcome="confirmed", offence="red_light",
                  plate=plate)  # fmt: skip
    assert won.violation_id is not None
    traffic.review.approve(violation_id=won.violation_id, actor=officer)
    _, notices = traffic.notices.list(actor=officer, why=WHY)
    notice = next(n for n in notices if n.violation_id == won.violation_id)
    reward = 0
    if notice.status == "issued":  # the owner is in the demo's registry
        traffic.notices.record_payment(
            notice_id=notice.id, actor=gateway, status="paid", reference="DEMO-KASPI-0001",
            amount_tenge=notice.discounted_tenge or notice.amount_tenge,
            paid_on=notice.issued_on,
        )  # fmt: skip
        reward = citizens.reports.one_of_mine(actor=anna, citizen_id=anna_id,
                                              report_id=first.id).reward_tenge or 0  # fmt: skip
    fight = citizens.reports.submit(
        actor=boris, citizen_id=boris_id, device="demo-phone-0102", kind="public_order",
        description="Драка у входа в торговый центр, трое мужчин",
        media=[Media(filename="crowd.jpg", media_type="image/jpeg",
                     data=still_of(clip, 5.0))],
        occurred_at=occurred - timedelta(hours=1), lat=51.1605, lon=71.4704,
    )  # fmt: skip
    made = review.decide(actor=officer, report_id=fight.id, outcome="confirmed")
    seed_helpers(citizens, auth, manager=officer)
    return SeededCitizens(first_report=first.id, second_report=second.id,
                          violation_id=won.violation_id, reward_tenge=reward,
                          incident_id=made.incident_id)  # fmt: skip


def seed_helpers(citizens: Citizens, auth: AuthService, *, manager: Principal) -> None:
    """A patrol area by Expo in Astana and a helper who patrolled it last quarter (weekly
    four-hour shifts, one missed), recognised for it; and an application waiting."""
    helpers = citizens.helpers
    with contextlib.suppress(ConflictError):
        helpers.add_area(actor=manager, name="Есиль — Экспо", lat=51.0891, lon=71.4150,
                         radius_m=1200, description="Проспект Мангилик Ел, Экспо")  # fmt: skip
    area = next(a for a in helpers.areas(actor=manager) if a.name == "Есиль — Экспо")
    dana, dana_id = sign_up(citizens, auth, HELPER, "demo-phone-0103")
    helper = helpers.apply(
        actor=dana, citizen_id=dana_id, full_name="Дана Ержанова (демо)",
        motivation="Живу рядом, вечером свободна", home_area_id=area.id,
    )  # fmt: skip
    helpers.decide(actor=manager, helper_id=helper.id, decision="approve")
    today = (utcnow() + timedelta(hours=5)).date()
    quarter = (today.month - 1) // 3
    start_of_quarter = date(today.year, quarter * 3 + 1, 1)
    last = (start_of_quarter - timedelta(days=1)).replace(day=1)
    first_month = date(last.year, (last.month - 1) // 3 * 3 + 1, 1)
    first_day = datetime(first_month.year, first_month.month, 3, 13, tzinfo=UTC)  # 18:00
    for week in range(12):
        start = first_day + timedelta(weeks=week)
        shift = helpers.plan_shift(actor=manager, helper_id=helper.id, area_id=area.id,
                                   start=start, end=start + timedelta(hours=4))  # fmt: skip
        helpers.mark(actor=manager, shift_id=shift.id,
                     status="no_show" if week == 7 else "attended")  # fmt: skip
    upcoming = datetime.combine(today + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    helpers.plan_shift(actor=manager, helper_id=helper.id, area_id=area.id,
                       start=upcoming + timedelta(hours=13),
                       end=upcoming + timedelta(hours=17))  # fmt: skip
    helpers.recognise(actor=manager, on=today)
    waiting, waiting_id = sign_up(citizens, auth, "+77010000104", "demo-phone-0104")
    helpers.apply(actor=waiting, citizen_id=waiting_id, full_name="Ержан Касымов (демо)",
                  motivation="Бывший военный", home_area_id=area.id)  # fmt: skip
