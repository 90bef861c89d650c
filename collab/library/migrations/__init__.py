"""The library's schema steps, in order (frozen: later changes get new steps)."""

from . import (
    m0001_initial,
    m0002_prefix,
    m0003_generation,
    m0004_pg_matches,
    m0005_rank_index,
    m0006_sqlite_ids,
    m0007_typed_prefix,
    m0008_pg_plain,
    m0009_pg_words,
    m0011_vocabulary,
    m0012_rendered,
)

MIGRATIONS = [
    ("library_0001_initial", m0001_initial.upgrade),
    ("library_0002_prefix_index", m0002_prefix.upgrade),
    ("library_0003_generation", m0003_generation.upgrade),
    ("library_0004_pg_matches", m0004_pg_matches.upgrade),
    ("library_0005_rank_index", m0005_rank_index.upgrade),
    ("library_0006_sqlite_ids", m0006_sqlite_ids.upgrade),
    ("library_0007_typed_prefix", m0007_typed_prefix.upgrade),
    ("library_0008_pg_plain", m0008_pg_plain.upgrade),
    ("library_0009_pg_words", m0009_pg_words.upgrade),
    ("library_0011_vocabulary", m0011_vocabulary.upgrade),
    ("library_0012_rendered", m0012_rendered.upgrade),
]
