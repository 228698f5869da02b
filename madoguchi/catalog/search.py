"""Japanese search over the procedure catalog.

A query is folded the way residents type it: NFKC (半角ｶﾅ → 全角, 全角英数 → 半角),
katakana → hiragana, and kanji → their reading (pykakasi). Each procedure is indexed
by its name, synonyms, department and summary, both as written and as readings, so
「住民票」, 「じゅうみんひょう」, 「ｼﾞｭｳﾐﾝﾋｮｳ」 and the typo 「住民表」 (same reading) all find
住民票の写し. Remaining typos are caught by fuzzy matching of readings (rapidfuzz).

Ranking, highest first: the query equals a name or synonym; it is contained in the
name or a synonym (as written or as reading); fuzzy match of the reading; contained in
department or summary. Ties go to the shorter name. Words separated by spaces must
all match (AND).

The index lives in process memory and is rebuilt when the catalog changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db.models import Count, Max
from rapidfuzz import fuzz, process

from madoguchi.catalog.models import CatalogImport, Procedure
from madoguchi.core.japanese import normalize, reading

EXACT = 100.0
NAME = 80.0
SYNONYM = 70.0
NAME_READING = 65.0
READING = 60.0
FUZZY = 45.0
OTHER = 20.0
FUZZY_MIN_RATIO = 80.0


@dataclass(frozen=True)
class IndexEntry:
    pk: int
    name_len: int
    names: tuple[str, ...]  # normalized name and synonyms
    readings: tuple[str, ...]  # readings of name and synonyms
    other: str  # normalized department name and summary
    other_reading: str


def _entry(proc: Procedure) -> IndexEntry:
    names = [normalize(proc.name), *(normalize(s) for s in proc.synonyms)]
    readings = [proc.reading or reading(proc.name), *(reading(s) for s in proc.synonyms)]
    dept = proc.department.name
    return IndexEntry(
        pk=proc.pk,
        name_len=len(proc.name),
        names=tuple(n for n in names if n),
        readings=tuple(r for r in readings if r),
        other=normalize(f"{dept} {proc.summary}"),
        other_reading=reading(dept),
    )


def _term_score(entry: IndexEntry, term: str, term_reading: str, fuzzy: float) -> float:
    if term in entry.names or term_reading in entry.readings:
        return EXACT
    if entry.names and term in entry.names[0]:
        return NAME
    if any(term in n for n in entry.names[1:]):
        return SYNONYM
    if term_reading and entry.readings and term_reading in entry.readings[0]:
        return NAME_READING
    if term_reading and any(term_reading in r for r in entry.readings):
        return READING
    if fuzzy >= FUZZY_MIN_RATIO:
        return FUZZY * fuzzy / 100.0
    if term in entry.other or (term_reading and term_reading in entry.other_reading):
        return OTHER
    return 0.0


def _fuzzy(term: str, text: str) -> float:
    """How well ``term`` (with a typo or two) matches ``text`` or a part of it. Only a
    query no longer than the text is aligned inside it; a longer query is compared
    whole, so that a long query does not match a short word it happens to contain."""
    if len(term) <= len(text):
        return float(fuzz.partial_ratio(term, text))
    return float(fuzz.ratio(term, text))


class SearchIndex:
    def __init__(self, entries: list[IndexEntry]) -> None:
        self.entries = entries
        # All readings in one list for rapidfuzz's batch matching, with the entry each
        # belongs to and a weight (the name counts a little more than a synonym).
        self._readings: list[str] = []
        self._owner: list[int] = []
        self._weight: list[float] = []
        for i, entry in enumerate(entries):
            for j, text in enumerate(entry.readings):
                self._readings.append(text)
                self._owner.append(i)
                self._weight.append(1.0 if j == 0 else 0.95)

    def _fuzzy_scores(self, term_reading: str) -> dict[int, float]:
        """Best fuzzy score per entry index, for entries scoring at least the minimum."""
        best: dict[int, float] = {}
        if len(term_reading) < 3:
            return best
        hits = process.extract(
            term_reading, self._readings, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_MIN_RATIO, limit=None
        )
        for text, _score, k in hits:
            score = _fuzzy(term_reading, text) * self._weight[k]
            owner = self._owner[k]
            if score > best.get(owner, 0.0):
                best[owner] = score
        return best

    def search(self, query: str, allowed: set[int] | None = None) -> list[int]:
        terms = [t for t in (normalize(part) for part in query.replace("\u3000", " ").split(" ")) if t]
        if not terms:
            return []
        term_readings = [reading(t) for t in terms]
        fuzzy = [self._fuzzy_scores(r) for r in term_readings]
        scored: list[tuple[float, int, int]] = []
        for i, entry in enumerate(self.entries):
            if allowed is not None and entry.pk not in allowed:
                continue
            total = 0.0
            for term, term_reading, term_fuzzy in zip(terms, term_readings, fuzzy, strict=True):
                score = _term_score(entry, term, term_reading, term_fuzzy.get(i, 0.0))
                if score == 0.0:
                    break
                total += score
            else:
                scored.append((-total, entry.name_len, entry.pk))
        scored.sort()
        return [pk for _, _, pk in scored]


_lock = threading.Lock()
_cache: dict[str, tuple[tuple[object, ...], SearchIndex]] = {}


def _catalog_stamp() -> tuple[object, ...]:
    imports = CatalogImport.objects.aggregate(last=Max("pk"))
    procs = Procedure.objects.filter(active=True).aggregate(n=Count("pk"), last=Max("pk"))
    return (imports["last"], procs["n"], procs["last"])


def get_index() -> SearchIndex:
    """The index for the current catalog, rebuilt when the catalog changed."""
    stamp = _catalog_stamp()
    with _lock:
        cached = _cache.get("index")
        if cached is not None and cached[0] == stamp:
            return cached[1]
    procs = Procedure.objects.filter(active=True).select_related("department")
    index = SearchIndex([_entry(p) for p in procs])
    with _lock:
        _cache["index"] = (stamp, index)
    return index


def clear_index() -> None:
    with _lock:
        _cache.clear()
