"""Benchmark: Japanese procedure search over 1,000 procedures.

Generates a catalog of 1,000 procedures (the real catalog plus generated variants of
it), imports it, then times ``procedure_page(q=..., limit=50)`` — the code behind the web page
and ``GET /api/v1/procedures?q=`` — for a mix of queries typed as kanji, hiragana,
katakana, half-width kana, with typos and two words. Prints p50/p95/p99 latency.

    ./run bench search [--procedures 1000] [--rounds 30]
    DATABASE_URL=postgres://... ./run bench search
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from _django import ROOT, setup, table

QUERIES = [
    "住民票",
    "じゅうみんひょう",
    "ｼﾞｭｳﾐﾝﾋｮｳ",
    "住民表",
    "転入",
    "てんにゅう",
    "児童手当",
    "じどうてあて",
    "保育園 申込",
    "粗大ごみ",
    "そだいごみ",
    "印鑑",
    "マイナンバー",
    "国民健康保険",
    "こくほ",
    "犬",
    "介護",
    "証明書 郵送",
    "ぜいきん",
    "存在しない手続き",
]


def build_catalog(n: int, folder: Path) -> None:
    data_dir = ROOT / "madoguchi" / "catalog" / "data"
    procs = yaml.safe_load((data_dir / "procedures.yaml").read_text(encoding="utf-8"))
    base = procs["procedures"]
    variants = [
        "（郵送）",
        "（代理人）",
        "（法人）",
        "（再交付）",
        "（変更）",
        "（廃止）",
        "（外国人住民）",
        "（証明）",
        "（相談）",
        "（オンライン）",
    ]
    out = list(base)
    i = 0
    while len(out) < n:
        src = base[i % len(base)]
        suffix = variants[(i // len(base)) % len(variants)]
        copy = dict(src)
        copy["code"] = f"{src['code']}-v{i}"
        copy["name"] = f"{src['name']}{suffix}"
        out.append(copy)
        i += 1
    procs["procedures"] = out[:n]
    (folder / "procedures.yaml").write_text(yaml.safe_dump(procs, allow_unicode=True), encoding="utf-8")
    (folder / "life_events.yaml").write_text(
        (data_dir / "life_events.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--procedures", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    setup()
    from django.db import connection

    from madoguchi.catalog.importer import catalog_import
    from madoguchi.catalog.search import clear_index
    from madoguchi.catalog.selectors import procedure_page

    folder = Path(tempfile.mkdtemp(prefix="madoguchi-catalog-"))
    build_catalog(args.procedures, folder)
    t0 = time.perf_counter()
    catalog_import(directory=folder)
    import_s = time.perf_counter() - t0

    clear_index()
    t0 = time.perf_counter()
    procedure_page(q="住民票", limit=50)
    cold_ms = (time.perf_counter() - t0) * 1000

    timings: list[float] = []
    hits: dict[str, int] = {}
    for _ in range(args.rounds):
        for q in QUERIES:
            t0 = time.perf_counter()
            count, _page = procedure_page(q=q, limit=50)
            timings.append((time.perf_counter() - t0) * 1000)
            hits[q] = count
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    table(
        f"search over {args.procedures} procedures on {connection.vendor} ({len(timings)} queries)",
        [
            ("catalog import (s)", f"{import_s:.2f}"),
            ("first query incl. index build (ms)", f"{cold_ms:.1f}"),
            ("p50 (ms)", f"{q[49]:.2f}"),
            ("p95 (ms)", f"{q[94]:.2f}"),
            ("p99 (ms)", f"{q[98]:.2f}"),
            ("max (ms)", f"{timings[-1]:.2f}"),
            ("target p95 (ms)", "< 50"),
        ],
    )
    print("\nresults per query:", ", ".join(f"{k}={v}" for k, v in hits.items()))


if __name__ == "__main__":
    main()
