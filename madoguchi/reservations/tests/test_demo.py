from __future__ import annotations

from typing import Any

import pytest

from madoguchi.demo.ward import demo_load
from madoguchi.reservations.demo import reservations_demo_load
from madoguchi.reservations.models import Event, Facility, Group, LotteryRound

pytestmark = pytest.mark.django_db


def test_the_demo_ward_has_facilities_a_lottery_open_now_and_events_and_loading_twice_changes_nothing(
    settings: Any,
) -> None:
    demo_load()
    assert set(Facility.objects.values_list("code", flat=True)) == {"chuo-kumin-kaikan", "sogo-taiikukan"}
    lottery = LotteryRound.objects.get()
    assert lottery.phase() == LotteryRound.Phase.OPEN
    assert lottery.slots.exists()
    assert Group.objects.get(representative__email="hanako@example.jp").status == Group.Status.APPROVED
    assert Event.objects.count() == 2
    assert reservations_demo_load().lines() == ["reservations: nothing changed"]
