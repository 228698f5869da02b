"""Property tests of the fair merge of appointments and walk-ins (``queue``)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.appointments.queue import Candidate, Rule, choose_next, predicted_order

from .conftest import jst

NOW = jst(2026, 11, 25, 10, 0)
RULE = Rule(max_run=2, walkin_wait=dt.timedelta(minutes=20), early=dt.timedelta(minutes=10))


@st.composite
def candidates(draw: st.DrawFn) -> list[Candidate]:
    """Up to 25 waiting tickets: walk-ins that joined up to 90 minutes ago, and
    appointments whose slot is around now, some on time and some late."""
    count = draw(st.integers(min_value=0, max_value=25))
    result = []
    for index in range(count):
        queued = NOW - dt.timedelta(minutes=draw(st.integers(min_value=0, max_value=90)))
        if draw(st.booleans()):
            start = NOW + dt.timedelta(minutes=15 * draw(st.integers(min_value=-6, max_value=4)))
            result.append(
                Candidate(id=index + 1, queued_at=queued, slot_start=start, slot_end=start + dt.timedelta(minutes=15))
            )
        else:
            result.append(Candidate(id=index + 1, queued_at=queued))
    return result


def priority(c: Candidate) -> bool:
    return c.has_priority(NOW, early=RULE.early)


@given(candidates(), st.integers(min_value=0, max_value=5))
def test_the_choice_is_one_of_the_waiting_and_none_only_when_nobody_waits(waiting: list[Candidate], run: int) -> None:
    choice = choose_next(waiting, priority_run=run, now=NOW, rule=RULE)
    assert (choice is None) == (not waiting)
    if choice is not None:
        assert choice.candidate in waiting
        assert choice.priority == priority(choice.candidate)


@given(candidates(), st.integers(min_value=0, max_value=5))
def test_everyone_is_called_exactly_once(waiting: list[Candidate], run: int) -> None:
    order = predicted_order(waiting, priority_run=run, now=NOW, rule=RULE)
    assert sorted(c.candidate.id for c in order) == sorted(c.id for c in waiting)


@given(candidates(), st.integers(min_value=0, max_value=5))
def test_walk_ins_and_late_appointments_keep_their_order_of_arrival(waiting: list[Candidate], run: int) -> None:
    order = predicted_order(waiting, priority_run=run, now=NOW, rule=RULE)
    regular = [(c.candidate.queued_at, c.candidate.id) for c in order if not c.priority]
    assert regular == sorted(regular)


@given(candidates(), st.integers(min_value=0, max_value=5))
def test_on_time_appointments_go_in_slot_order(waiting: list[Candidate], run: int) -> None:
    order = predicted_order(waiting, priority_run=run, now=NOW, rule=RULE)
    slots = [(c.candidate.slot_start, c.candidate.queued_at, c.candidate.id) for c in order if c.priority]
    assert slots == sorted(slots)  # type: ignore[type-var]


@given(candidates(), st.integers(min_value=0, max_value=5))
def test_at_most_two_appointments_in_a_row_while_a_walk_in_waits_too_long(waiting: list[Candidate], run: int) -> None:
    order = predicted_order(waiting, priority_run=run, now=NOW, rule=RULE)
    left = list(waiting)
    streak = run
    for choice in order:
        regular = [c for c in left if not priority(c)]
        longest = max((NOW - c.queued_at for c in regular), default=dt.timedelta(0))
        if choice.priority and longest > RULE.walkin_wait:
            assert streak < RULE.max_run, "a third appointment in a row while a walk-in waited over 20 minutes"
        streak = streak + 1 if choice.priority else 0
        left.remove(choice.candidate)


@given(candidates(), st.integers(min_value=0, max_value=5))
def test_an_on_time_appointment_goes_first_unless_a_walk_in_is_owed_a_turn(waiting: list[Candidate], run: int) -> None:
    choice = choose_next(waiting, priority_run=run, now=NOW, rule=RULE)
    on_time = [c for c in waiting if priority(c)]
    regular = [c for c in waiting if not priority(c)]
    if not on_time:
        return
    assert choice is not None
    owed = run >= RULE.max_run and regular and max(NOW - c.queued_at for c in regular) > RULE.walkin_wait
    assert choice.priority != bool(owed)


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=10), st.integers(min_value=1, max_value=10))
def test_walk_ins_are_not_starved_by_a_stream_of_appointments(appointments: int, walk_ins: int) -> None:
    """With many on-time appointments and walk-ins who waited long, every third call
    at the latest goes to a walk-in."""
    waiting = [
        Candidate(
            id=i, queued_at=NOW - dt.timedelta(minutes=5), slot_start=NOW, slot_end=NOW + dt.timedelta(minutes=15)
        )
        for i in range(appointments)
    ] + [Candidate(id=100 + i, queued_at=NOW - dt.timedelta(minutes=30 + i)) for i in range(walk_ins)]
    kinds = ["A" if c.priority else "W" for c in predicted_order(waiting, priority_run=0, now=NOW, rule=RULE)]
    text = "".join(kinds)
    first_walk_in = text.index("W")
    assert first_walk_in <= 2
    while_walk_ins_wait = text[: text.rindex("W") + 1]
    assert "AAA" not in while_walk_ins_wait


def test_early_appointments_wait_like_walk_ins_until_their_slot_is_near() -> None:
    early = Candidate(
        id=1,
        queued_at=NOW - dt.timedelta(minutes=1),
        slot_start=NOW + dt.timedelta(minutes=45),
        slot_end=NOW + dt.timedelta(minutes=60),
    )
    walk_in = Candidate(id=2, queued_at=NOW - dt.timedelta(minutes=2))
    assert not early.has_priority(NOW)
    choice = choose_next([early, walk_in], priority_run=0, now=NOW, rule=RULE)
    assert choice is not None and choice.candidate is walk_in
    assert early.has_priority(NOW + dt.timedelta(minutes=36))


def test_a_late_appointment_loses_its_priority() -> None:
    late = Candidate(
        id=1, queued_at=NOW, slot_start=NOW - dt.timedelta(minutes=30), slot_end=NOW - dt.timedelta(minutes=15)
    )
    assert not late.has_priority(NOW)


@given(candidates(), st.integers(min_value=0, max_value=5))
def test_the_predicted_order_is_the_rule_applied_again_and_again(waiting: list[Candidate], run: int) -> None:
    left = list(waiting)
    expected = []
    streak = run
    while left:
        choice = choose_next(left, priority_run=streak, now=NOW, rule=RULE)
        assert choice is not None
        expected.append(choice)
        left.remove(choice.candidate)
        streak = streak + 1 if choice.priority else 0
    assert predicted_order(waiting, priority_run=run, now=NOW, rule=RULE) == expected
