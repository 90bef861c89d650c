"""The community's schema steps (frozen: later changes get new steps)."""

from . import m0001_profiles

MIGRATIONS = [
    ("community_0001_profiles", m0001_profiles.upgrade),
]
