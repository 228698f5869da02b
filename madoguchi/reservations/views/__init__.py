"""Views of the reservations app: ``public`` (no login), ``resident`` (the logged-in
resident's own bookings, groups, applications, registrations) and ``staff``."""
