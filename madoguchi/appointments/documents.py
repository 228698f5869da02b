"""Documents of the appointments app: the iCalendar (.ics) of an appointment and the
QR code (SVG, segno) that leads from the entrance to a counter's ticket page."""

from __future__ import annotations

import datetime as dt
import io

import segno
from django.conf import settings
from django.utils.html import escape
from icalendar import Alarm, Calendar, Event

from madoguchi.appointments import clock
from madoguchi.appointments.models import Appointment, AppointmentStatus


def _pick(ja: str, en: str, language: str) -> str:
    return en if language == "en" and en else ja


def appointment_ics(appointment: Appointment, *, url: str, language: str = "ja") -> bytes:
    """One event for the appointment, in Asia/Tokyo with its VTIMEZONE, a reminder an
    hour before, and the appointment's ``sequence`` so that a calendar updates the
    event when it is changed; a cancelled appointment gives ``METHOD:CANCEL`` and
    ``STATUS:CANCELLED`` for the same UID."""
    slot = appointment.slot
    counter = slot.counter
    procedure = slot.procedure
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    cal = Calendar()
    cal.add("prodid", "-//madoguchi//appointments//JA")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.public_id}@madoguchi")
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", clock.local(slot.starts_at))
    event.add("dtend", clock.local(slot.ends_at))
    ward = settings.WARD_NAME_EN if language == "en" else settings.WARD_NAME
    prefix = "Counter appointment" if language == "en" else "窓口予約"
    event.add("summary", f"{prefix}: {_pick(procedure.name, procedure.name_en, language)} ({ward})")
    location = " ".join(
        part
        for part in (
            _pick(counter.name, counter.name_en, language),
            _pick(counter.location, counter.location_en, language),
        )
        if part
    )
    event.add("location", location)
    bring = procedure.bring_en if language == "en" and procedure.bring_en else procedure.bring
    lines = [f"{'Reference' if language == 'en' else '予約番号'}: {appointment.reference}"]
    if bring:
        lines.append(("What to bring" if language == "en" else "持ち物") + ":")
        lines.extend(f"- {item}" for item in bring)
    lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _pick(procedure.name, procedure.name_en, language))
        alarm.add("trigger", dt.timedelta(hours=-1))
        event.add_component(alarm)
    cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def qr_svg(url: str, *, title: str, scale: int = 6, inline: bool = True) -> str:
    """The QR code of ``url`` as an SVG with a <title> and an ``aria-label`` (its
    accessible name). ``inline``: with a viewBox and no fixed size, so CSS sizes it."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer,
        kind="svg",
        scale=scale,
        border=4,
        title=title,
        xmldecl=False,
        svgclass="qr-code",
        lineclass=None,
        omitsize=inline,
    )
    svg = buffer.getvalue().decode()
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
