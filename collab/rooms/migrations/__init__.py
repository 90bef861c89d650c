"""The forum's schema steps after the core's `0001_initial`, which made its first tables
(frozen: later changes get new steps)."""

from . import m0001_reads, m0002_reply_to

MIGRATIONS = [
    ("rooms_0001_reads", m0001_reads.upgrade),
    ("rooms_0002_reply_to", m0002_reply_to.upgrade),
]
