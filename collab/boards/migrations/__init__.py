"""The boards' schema steps, in order (frozen: later changes get new steps)."""

from . import (
    m0001_initial,
    m0002_rank_sql,
    m0003_card_key_index,
    m0004_sqlite_ids,
    m0005_invitations,
)

MIGRATIONS = [
    ("boards_0001_initial", m0001_initial.upgrade),
    ("boards_0002_rank_sql", m0002_rank_sql.upgrade),
    ("boards_0003_card_key_index", m0003_card_key_index.upgrade),
    ("boards_0004_sqlite_ids", m0004_sqlite_ids.upgrade),
    ("boards_0005_invitations", m0005_invitations.upgrade),
]
