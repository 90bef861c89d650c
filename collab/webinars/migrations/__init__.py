"""The webinars' schema steps, in order (frozen: later changes get new steps)."""

from . import m0001_initial, m0002_sqlite_ids, m0003_description_text

MIGRATIONS = [
    ("webinars_0001_initial", m0001_initial.upgrade),
    ("webinars_0002_sqlite_ids", m0002_sqlite_ids.upgrade),
    ("webinars_0003_description_text", m0003_description_text.upgrade),
]
