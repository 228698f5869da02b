"""Benchmark: residents submitting a multi-step online application concurrently.

Starts the production server (gunicorn, as ``./run serve`` does) on its own database,
creates resident accounts, and lets ``--clients`` concurrent clients each log in and
then apply for 住民票の写し again and again through the web flow a browser uses:
start → 5 question pages (each POST validated and saved as a draft, then the redirect
to the next page) → check your answers → submit (→ confirmation page). The fee is
switched off in this benchmark's own catalog so that a submission completes without a
payment. Prints submissions/s and p50/p99 latencies.

    ./run bench submit [--mode web|api] [--clients 16] [--seconds 30] [--workers 4 --threads 2]
    ./run bench submit --mode api --rate 100 --clients 32     # open loop: 100 submissions/s offered
    ./run bench submit --mode api --rate 100 --trace t.csv    # and each start time and latency
    DATABASE_URL=postgres://.../bench_submit ./run bench submit

Closed loop (the default): every client submits again as soon as it has its answer,
so the server is saturated and the table shows its capacity. Open loop (``--rate``):
submissions start on a fixed schedule whatever the server does, and each latency is
counted from the scheduled start, so a queue in front of a slow server is measured
too.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from _django import ROOT, setup, table

PASSWORD = "bench-password-2026"  # noqa: S105 - accounts of the benchmark's own database
STEPS = [
    (
        "requester",
        {
            "name.family": "山田",
            "name.given": "花子",
            "name_kana.family": "やまだ",  # hiragana: converted to katakana by the field
            "name_kana.given": "ﾊﾅｺ",  # half-width: converted too
            "birth_date": "昭和63年4月12日",
            "postal_code": "100-0001",
            "address": "東京都デモ区中央一丁目1番1号",
            "phone": "03-1234-5678",
            "email": "bench@example.jp",
            "relationship": "self",
        },
    ),
    ("target", {"scope": "all"}),
    ("contents_step", {}),
    ("quantity", {"copies": "2", "purpose": "employment"}),
    ("delivery_step", {"delivery": "mail"}),
]
API_DATA: dict[str, object] = {
    "name": {"family": "山田", "given": "花子"},
    "name_kana": {"family": "やまだ", "given": "ﾊﾅｺ"},
    "birth_date": "昭和63年4月12日",
    "postal_code": "100-0001",
    "address": "東京都デモ区中央一丁目1番1号",
    "phone": "03-1234-5678",
    "email": "bench@example.jp",
    "relationship": "self",
    "scope": "all",
    "contents": [],
    "copies": 2,
    "purpose": "employment",
    "delivery": "mail",
    "declaration": True,
}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="submission_key" value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Client:
    """One resident's browser: cookies, CSRF token, redirects followed by hand."""

    def __init__(self, base: str, timings: dict[str, list[float]]) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.timings = timings
        self.csrf = ""

    def _send(self, kind: str, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = None
        headers = {"Accept-Language": "ja"}
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf}).encode()
            headers["Referer"] = self.base + path
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
        start = time.perf_counter()
        try:
            with self.opener.open(request, timeout=60) as response:
                status, location, text = response.status, "", response.read().decode()
        except urllib.error.HTTPError as exc:
            status, location, text = exc.code, exc.headers.get("Location", ""), exc.read().decode()
        self.timings.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
        if match := TOKEN.search(text):
            self.csrf = match.group(1)
        return status, urllib.parse.urlsplit(location).path if location else "", text

    def get(self, kind: str, path: str) -> str:
        status, _, text = self._send(kind, path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        return text

    def post(self, kind: str, path: str, data: dict[str, str]) -> str:
        status, location, _text = self._send(kind, path, data)
        if status != 302:
            raise RuntimeError(f"POST {path}: {status}")
        return location

    def submit_api(self, data: dict[str, object]) -> None:
        """One submission through ``POST /api/v1/applications``: the whole form's
        answers at once, checked exactly as the web flow checks them."""
        import json
        import uuid

        csrf = next((c.value for c in self.jar if c.name == "csrftoken"), "")
        body = json.dumps({"procedure": "juminhyo-copy", "data": data, "submission_key": uuid.uuid4().hex}).encode()
        request = urllib.request.Request(  # noqa: S310
            self.base + "/api/v1/applications",
            data=body,
            headers={"Content-Type": "application/json", "X-CSRFToken": csrf, "Referer": self.base + "/"},
        )
        start = time.perf_counter()
        try:
            with self.opener.open(request, timeout=60) as response:
                status = response.status
                response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            detail = exc.read().decode()[:200]
            raise RuntimeError(f"POST /api/v1/applications: {status} {detail}") from exc
        self.timings.setdefault("submit", []).append((time.perf_counter() - start) * 1000)
        if status != 201:
            raise RuntimeError(f"POST /api/v1/applications: {status}")

    def log_in(self, email: str) -> None:
        self.get("page", "/accounts/login/")
        self.post("login", "/accounts/login/", {"email": email, "password": PASSWORD})

    def apply_once(self) -> None:
        status, location, _ = self._send("page", "/applications/start/juminhyo-copy/")
        if status == 200:  # no draft to resume: start one
            location = self.post("step", "/applications/start/juminhyo-copy/", {})
        elif status != 302:
            raise RuntimeError(f"GET start: {status}")
        location = location.rsplit("/step/", 1)[0] + "/step/requester/" if "/step/" in location else location
        for key, data in STEPS:
            self.get("page", location)
            if not location.endswith(f"/step/{key}/"):
                raise RuntimeError(f"expected step {key}, went to {location}")
            location = self.post("step", location, data)
        check = self.get("page", location)
        match = KEY.search(check)
        if match is None:
            raise RuntimeError("no submission key on the check page")
        submit_path = location.replace("/check/", "/submit/")
        done = self.post("submit", submit_path, {"submission_key": match.group(1), "declaration": "on"})
        self.get("page", done)


def prepare(clients: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from madoguchi.catalog.models import Procedure
    from madoguchi.core.models import User
    from madoguchi.demo.ward import demo_load

    demo_load()
    Procedure.objects.filter(code="juminhyo-copy").update(fee_yen=None)
    password = make_password(PASSWORD)
    for i in range(clients):
        User.objects.get_or_create(
            email=f"bench{i}@example.jp",
            defaults={
                "username": f"bench{i}@example.jp",
                "password": password,
                "kind": "resident",
                "email_verified_at": timezone.now(),
            },
        )


def wait_for(base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: start this many submissions per second on a fixed schedule (needs enough --clients)",
    )
    parser.add_argument(
        "--trace",
        type=Path,
        default=None,
        help="write each submission's start (s from the beginning) and latency (ms) to this CSV file",
    )
    parser.add_argument(
        "--mode",
        choices=["web", "api"],
        default="web",
        help="web: the 14-request browser flow; api: one POST /api/v1/applications per submission",
    )
    args = parser.parse_args()
    setup()
    from django.db import connection

    vendor = connection.vendor
    prepare(args.clients)
    connection.close()

    env = {
        **os.environ,
        "MADOGUCHI_ENV": "production",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key-0123456789abcdef0123456789abcdef"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "madoguchi.config.settings",
        "MADOGUCHI_VAR_DIR": str(Path(os.environ["DATABASE_URL"].removeprefix("sqlite:///")).parent)
        if vendor == "sqlite"
        else os.environ.get("MADOGUCHI_VAR_DIR", str(ROOT / "var")),
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on the loopback: cookies must not be Secure-only here.
        "SECURE_COOKIES": "false",
    }
    # The production server serves hashed static files from the manifest that
    # collectstatic writes with the production settings, as ``./run serve`` does.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server_log = Path(tempfile.mkdtemp(prefix="madoguchi-bench-")) / "server.log"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "madoguchi.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=server_log.open("w"),
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_for(base)
        timings: dict[str, list[float]] = {}
        lock = threading.Lock()
        flows: list[float] = []
        trace: list[tuple[float, float]] = []
        errors: list[str] = []
        clock = {"began": 0.0, "next": 0}
        # Every client logs in first; the measured time starts when all have.
        ready = threading.Barrier(args.clients, action=lambda: clock.update(began=time.monotonic()))

        def next_start() -> float | None:
            """Closed loop: at once. Open loop (--rate): the next slot of the fixed
            schedule, so that a slow server delays the submissions that follow instead
            of the clients sending fewer (latency counts from the scheduled time)."""
            if args.rate is None:
                now = time.monotonic()
                return now if now < clock["began"] + args.seconds else None
            with lock:
                index = clock["next"]
                clock["next"] = index + 1
            at = clock["began"] + index / args.rate
            return at if at < clock["began"] + args.seconds else None

        def run(i: int) -> None:
            mine: dict[str, list[float]] = {}
            client = Client(base, mine)
            client.log_in(f"bench{i}@example.jp")
            mine.clear()
            done: list[float] = []
            starts: list[float] = []
            ready.wait()
            while (scheduled := next_start()) is not None:
                time.sleep(max(0.0, scheduled - time.monotonic()))
                try:
                    if args.mode == "api":
                        client.submit_api(API_DATA)
                    else:
                        client.apply_once()
                except (RuntimeError, OSError) as exc:
                    errors.append(str(exc)[:200])
                    continue
                done.append((time.monotonic() - scheduled) * 1000)
                starts.append(scheduled - clock["began"])
            with lock:
                flows.extend(done)
                trace.extend(zip(starts, done, strict=True))
                for kind, values in mine.items():
                    timings.setdefault(kind, []).extend(values)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - clock["began"]
    finally:
        server.terminate()
        server.wait(timeout=30)

    def pct(values: list[float], p: int) -> str:
        if len(values) < 2:
            return "-"
        return f"{statistics.quantiles(values, n=100)[p - 1]:.0f}"

    every = [v for values in timings.values() for v in values]
    steps = "1 request" if args.mode == "api" else "14 requests"
    if args.rate:
        steps += ", from its scheduled start"
    table(
        f"online application submissions ({args.mode}) on {vendor}: {args.clients} clients"
        + (f" at {args.rate:g}/s (open loop)" if args.rate else " (closed loop)")
        + ", "
        f"gunicorn {args.workers} workers × {args.threads} threads, {elapsed:.0f} s",
        [
            ("submissions", str(len(flows))),
            ("submissions/s", f"{len(flows) / elapsed:.1f}"),
            ("HTTP requests/s", f"{len(every) / elapsed:.0f}"),
            ("errors", str(len(errors))),
            ("submit request p50 (ms)", pct(timings.get("submit", []), 50)),
            ("submit request p99 (ms)", pct(timings.get("submit", []), 99)),
            ("step POST p50 (ms)", pct(timings.get("step", []), 50)),
            ("step POST p99 (ms)", pct(timings.get("step", []), 99)),
            ("any request p50 (ms)", pct(every, 50)),
            ("any request p99 (ms)", pct(every, 99)),
            (f"whole application ({steps}) p50 (ms)", pct(flows, 50)),
            (f"whole application ({steps}) p99 (ms)", pct(flows, 99)),
        ],
    )
    if args.trace:
        args.trace.write_text(
            "start_s,latency_ms\n" + "".join(f"{a:.3f},{b:.1f}\n" for a, b in sorted(trace)), encoding="utf-8"
        )
        print(f"\nper-submission trace: {args.trace}")
    if errors:
        print("\nfirst errors:", *errors[:5], sep="\n  ")
        print(f"server log: {server_log}")


if __name__ == "__main__":
    main()
