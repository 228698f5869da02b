"""Writes of the reservations app, one module per entity: ``bookings`` (first-come
booking, payment, confirmation, cancellation, lapse), ``groups`` (団体登録),
``lottery`` (rounds, applications, the draw, the waitlist) and ``events``
(registration, waitlist, check-in). Each service does its whole change in one
``transaction.atomic`` with its audit record and any outgoing message."""
