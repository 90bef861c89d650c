"""The notifications' schema steps, in order (frozen: later changes get new steps)."""

from . import m0001_initial

MIGRATIONS = [
    ("notifications_0001_initial", m0001_initial.upgrade),
]
