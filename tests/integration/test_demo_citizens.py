"""The demo's citizens (issue 12's "done when"): a citizen reports the intersection's red-light
run with its video, an officer confirms it, the fine is paid and the citizen sees the reward; a
second person reporting the same event gets none; a public-order report became an incident;
a helper patrolled last quarter and was recognised — seeded once."""

from __future__ import annotations

import pytest

from kupol.bootstrap import Container
from kupol.citizens.demo import FIRST, HELPER, SECOND, sign_up
from kupol.core.audit import Justification
from kupol.demo import ensure_admin, seed_citizens_demo, seed_evidence, seed_owners
from tests.unit.factories import fast_passwords

pytestmark = [pytest.mark.usefixtures(fast_passwords.__name__), pytest.mark.slow]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_citizens_report_one_red_light_run_and_only_the_first_is_rewarded(
    container: Container,
) -> None:
    settings = container.settings
    username, _ = ensure_admin(container)
    seed_owners(container, username)
    seed_evidence(container, settings, username)
    seed_citizens_demo(container, settings, username)
    seed_citizens_demo(container, settings, username)  # a second start adds nothing
    citizens = container.citizens
    anna, anna_id = sign_up(citizens, container.auth, FIRST, "demo-phone-0101")
    boris, boris_id = sign_up(citizens, container.auth, SECOND, "demo-phone-0102")
    [first] = citizens.reports.mine(actor=anna, citizen_id=anna_id)
    assert first.media[0]["media_type"] == "video/mp4"
    assert "123ABC02" in {p["text"] for p in first.plates_read}  # read from the video
    assert first.status == "confirmed" and (first.reward_tenge or 0) > 0
    theirs = {r.kind: r for r in citizens.reports.mine(actor=boris, citizen_id=boris_id)}
    assert theirs["traffic_violation"].status == "duplicate"
    assert not theirs["traffic_violation"].reward_tenge
    assert theirs["public_order"].incident_id is not None
    admin = container.auth.principal_of(username)
    assert citizens.rewards.reconcile(actor=admin).ok
    dana, dana_id = sign_up(citizens, container.auth, HELPER, "demo-phone-0103")
    me = citizens.helpers.me(actor=dana, citizen_id=dana_id)
    assert me is not None and me.status == "active"
    assert [r.level for r in me.recognitions] == ["thanks_letter"]
    waiting = citizens.helpers.helpers(actor=admin, why=Justification(purpose="demo check"),
                                       status="applied")  # fmt: skip
    assert len(waiting) == 1
