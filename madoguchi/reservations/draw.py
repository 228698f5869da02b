"""The lottery draw: pure Python over plain data, no database, so that anyone can
re-run it from the published inputs and the revealed seed.

Algorithm ``madoguchi-lottery/1``:

1. The seed is 32 random bytes. Its SHA-256 (hex) is published when the round is
   created, before applications close; the seed itself is published after the draw.
2. The order of applications: each application's sort key is
   ``HMAC-SHA256(key=seed, message=<application public id as text>)``; applications
   are sorted by that key (ties, which practically never happen, by the id).
3. First choices: in that order, each application's entries (in their own order)
   get their 1st-choice slot if the slot has capacity left and the application's
   group has fewer wins than the cap.
4. Second choices: again in the same order, each entry that won nothing gets its
   2nd-choice slot under the same conditions.
5. The waitlist of a slot is every entry that chose it and won nothing, in the same
   application order (then entry order). A lapsed win is offered to the first of them
   whose group is still under the cap.

The result is the list of wins ``(application, entry position, slot, choice)``; its
digest is the SHA-256 of the wins as canonical JSON, sorted. Same seed and inputs,
same digest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

ALGORITHM = "madoguchi-lottery/1"
SEED_BYTES = 32


@dataclass(frozen=True, slots=True)
class DrawEntry:
    position: int
    #: Slot keys, 1st choice first.
    choices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DrawApplication:
    #: The application's public id (the HMAC message).
    key: str
    #: Whose wins count against the cap (the group).
    group: str
    entries: tuple[DrawEntry, ...]


@dataclass(frozen=True, slots=True)
class DrawWin:
    application: str
    position: int
    slot: str
    choice: int


def seed_hash(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def order_key(seed: bytes, key: str) -> bytes:
    return hmac.digest(seed, key.encode("utf-8"), "sha256")


def draw_order(seed: bytes, applications: Iterable[DrawApplication]) -> list[DrawApplication]:
    """The applications in draw order."""
    digest = hmac.digest
    keyed = [(digest(seed, a.key.encode("utf-8"), "sha256"), a.key, a) for a in applications]
    # Tuples compare by HMAC, then by key; keys are unique, so the applications
    # themselves are never compared.
    keyed.sort()
    return [item[2] for item in keyed]


def run_draw(
    *,
    seed: bytes,
    applications: Sequence[DrawApplication],
    capacity: Mapping[str, int],
    max_wins: int,
) -> list[DrawWin]:
    """Draw: see the module docstring. ``capacity`` maps every drawable slot key to
    how many entries it takes (1 for a room); a choice of a slot not in it never wins."""
    remaining = dict(capacity)
    wins_of: dict[str, int] = {}
    result: list[DrawWin] = []
    win = result.append
    # Entries that lost their 1st choice, in draw order: (application, group, position, 2nd choice).
    second_round: list[tuple[str, str, int, str]] = []
    wait = second_round.append
    for application in draw_order(seed, applications):
        group = application.group
        count = wins_of.get(group, 0)
        if count >= max_wins:
            continue
        start = count
        key = application.key
        for entry in application.entries:
            choices = entry.choices
            slot = choices[0]
            left = remaining.get(slot, 0)
            if left > 0 and count < max_wins:
                remaining[slot] = left - 1
                count += 1
                win(DrawWin(key, entry.position, slot, 1))
            elif len(choices) > 1:
                wait((key, group, entry.position, choices[1]))
        if count != start:
            wins_of[group] = count
    for key, group, position, slot in second_round:
        count = wins_of.get(group, 0)
        if count >= max_wins:
            continue
        left = remaining.get(slot, 0)
        if left > 0:
            remaining[slot] = left - 1
            wins_of[group] = count + 1
            win(DrawWin(key, position, slot, 2))
    return result


def waitlist(
    *, seed: bytes, applications: Iterable[DrawApplication], slot: str, exclude: set[tuple[str, int]]
) -> list[tuple[str, int, int]]:
    """``(application, position, choice)`` of every entry that chose ``slot``, in
    waitlist order, leaving out the entries in ``exclude`` (those that already won)."""
    found: list[tuple[bytes, str, int, int]] = []
    for application in applications:
        for entry in application.entries:
            if (application.key, entry.position) in exclude or slot not in entry.choices:
                continue
            found.append(
                (order_key(seed, application.key), application.key, entry.position, entry.choices.index(slot) + 1)
            )
    found.sort()
    return [(key, position, choice) for _k, key, position, choice in found]


def result_digest(wins: Iterable[DrawWin]) -> str:
    rows = sorted([w.application, w.position, w.slot, w.choice] for w in wins)
    canonical = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
