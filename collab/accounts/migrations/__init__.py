"""Accounts' schema steps after the core's `0001_initial` (frozen: later changes get new steps)."""

from . import (
    m0002_username_key,
    m0003_token_expiry,
    m0004_sessions,
    m0005_time_zone,
    m0006_suspension,
)

MIGRATIONS = [
    ("accounts_0002_username_key", m0002_username_key.upgrade),
    ("accounts_0003_token_expiry", m0003_token_expiry.upgrade),
    ("accounts_0004_sessions", m0004_sessions.upgrade),
    ("accounts_0005_time_zone", m0005_time_zone.upgrade),
    ("accounts_0006_suspension", m0006_suspension.upgrade),
]
