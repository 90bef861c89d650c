"""PostgreSQL: words are letters and digits, without accents, as on SQLite.

PostgreSQL's parser kept "4.6", "data.gov.uk" and "a/b" as single tokens, so "4.6 bids" or
"gov" found nothing there while SQLite (whose tokenizer splits at anything but letters and
digits) found them; and "cafe" did not find "Café", which SQLite's `remove_diacritics` folds.
`library_plain(text)` lower-cases, folds the accented Latin letters below to their base letter
and turns the characters that glue tokens together into spaces; the three vectors are built
from it (dropped and generated again, with their indexes and storage), and search.py folds
the words it sends the same way (FOLD).
"""

from __future__ import annotations

import sqlalchemy as sa

# Lower-case Latin-1 and Latin Extended-A letters whose NFKD form is an ASCII letter plus
# combining marks, and that letter (one character each, so positions never move).
ACCENTED = ("àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżž")
PLAIN = ("aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzz")
GLUE = "./@:_-+'"  # what PostgreSQL's parser reads inside a token (numbers, hosts, paths, …)

FOLD = str.maketrans(ACCENTED, PLAIN)

_GLUE_SQL = GLUE.replace("'", "''")
# translate() looks each character up in its first list: ASCII text (most of it) is looked up
# in the short one; the accents' list doubled the import's time when used for every text.
PLAIN_FUNCTION = f"""CREATE FUNCTION library_plain(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN coalesce(t, '') ~ '[^\\x01-\\x7f]'
                THEN translate(lower(t), '{ACCENTED}{_GLUE_SQL}', '{PLAIN}{" " * len(GLUE)}')
                ELSE translate(lower(coalesce(t, '')), '{_GLUE_SQL}', '{" " * len(GLUE)}') END
$$"""


def _vector(*columns: tuple[str, str]) -> str:
    return " || ".join(f"setweight(to_tsvector('english'::regconfig, library_plain({name})), "
                       f"'{weight}')" for name, weight in columns)


STATEMENTS = [
    PLAIN_FUNCTION,
    "DROP INDEX ix_library_entries_search",
    "DROP INDEX ix_library_entries_rank",
    ("ALTER TABLE library_entries DROP COLUMN search_vector, DROP COLUMN rank_vector, "
    "DROP COLUMN title_vector"),
    "ALTER TABLE library_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    + _vector(("title", "A"), ("topics_text", "B"), ("summary", "C"), ("body_text", "D"))
    + ") STORED",
    "ALTER TABLE library_entries ADD COLUMN rank_vector tsvector GENERATED ALWAYS AS ("
    + _vector(("title", "A"), ("topics_text", "B"), ("summary", "C")) + ") STORED",
    ("ALTER TABLE library_entries ADD COLUMN title_vector tsvector GENERATED ALWAYS AS ("
    "to_tsvector('english'::regconfig, library_plain(title))) STORED"),
    "ALTER TABLE library_entries ALTER COLUMN rank_vector SET STORAGE MAIN",
    "ALTER TABLE library_entries ALTER COLUMN title_vector SET STORAGE MAIN",
    "CREATE INDEX ix_library_entries_search ON library_entries USING GIN (search_vector)",
    "CREATE INDEX ix_library_entries_rank ON library_entries USING GIN (rank_vector)",
]


def upgrade(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        for statement in STATEMENTS:
            conn.exec_driver_sql(statement)
