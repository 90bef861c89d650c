"""PostgreSQL: `collab_rank_between(a, b)`, the ranks of `ranks.py` computed in the database.

A move on PostgreSQL is one statement (`writes.MOVE_CARD`): the version check, the neighbour
read, the new rank and the writes, one round trip instead of two. A board's moves run one after
another under its lock, so each round trip saved is a move's worth of waiting for the others.
The functions follow `ranks.py` line by line; `tests/unit/test_boards_rank_sql.py` checks that
both give the same rank for the same neighbours. Comparisons are `COLLATE "C"` (byte order),
as the rank columns are. SQLite keeps the Python (its statements cost no round trip).
"""

from __future__ import annotations

import sqlalchemy as sa

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

FUNCTIONS = [
    # The length of a rank's integer part, from its first character.
    """CREATE OR REPLACE FUNCTION collab_rank_int_len(head text) RETURNS int
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    DECLARE h int := ascii(head);
    BEGIN
        IF h BETWEEN 97 AND 122 THEN RETURN h - 97 + 2; END IF;
        IF h BETWEEN 65 AND 90 THEN RETURN 90 - h + 2; END IF;
        RAISE EXCEPTION 'invalid rank head %', head;
    END $$""",
    """CREATE OR REPLACE FUNCTION collab_rank_validate(key text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    DECLARE n int;
    BEGIN
        IF key = '' OR translate(key, '{digits}', '') <> '' OR key = 'A' || repeat('0', 26)
        THEN
            RAISE EXCEPTION 'invalid rank %', key;
        END IF;
        n := collab_rank_int_len(substr(key, 1, 1));
        IF n > length(key) OR (length(key) > n AND right(key, 1) = '0') THEN
            RAISE EXCEPTION 'invalid rank %', key;
        END IF;
    END $$""",
    # A fraction strictly between fractions a and b (NULL: 1).
    """CREATE OR REPLACE FUNCTION collab_rank_mid(a text, b text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
        d constant text := '{digits}';
        n int := 0;
        da int;
        db int;
        s int;
    BEGIN
        IF b IS NOT NULL AND a COLLATE "C" >= b COLLATE "C" THEN
            RAISE EXCEPTION '% is not below %', a, b;
        END IF;
        IF b IS NOT NULL THEN
            WHILE (CASE WHEN n < length(a) THEN substr(a, n + 1, 1) ELSE '0' END)
                    = substr(b, n + 1, 1) LOOP
                n := n + 1;
            END LOOP;
            IF n > 0 THEN
                RETURN substr(b, 1, n) || collab_rank_mid(substr(a, n + 1), substr(b, n + 1));
            END IF;
        END IF;
        da := CASE WHEN length(a) > 0 THEN strpos(d, substr(a, 1, 1)) - 1 ELSE 0 END;
        db := CASE WHEN b IS NOT NULL THEN strpos(d, substr(b, 1, 1)) - 1 ELSE 62 END;
        IF db - da > 1 THEN
            s := da + db;  -- Python's round(s / 2): halves go to the even neighbour
            RETURN substr(d, CASE WHEN s % 2 = 0 THEN s / 2
                                  WHEN ((s - 1) / 2) % 2 = 0 THEN (s - 1) / 2
                                  ELSE (s + 1) / 2 END + 1, 1);
        END IF;
        IF b IS NOT NULL AND length(b) > 1 THEN
            RETURN substr(b, 1, 1);
        END IF;
        RETURN substr(d, da + 1, 1) || collab_rank_mid(substr(a, 2), NULL);
    END $$""",
    """CREATE OR REPLACE FUNCTION collab_rank_inc(integer_part text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    DECLARE
        d constant text := '{digits}';
        head text := substr(integer_part, 1, 1);
        digits text := substr(integer_part, 2);
        v int;
    BEGIN
        FOR k IN REVERSE length(digits)..1 LOOP
            v := strpos(d, substr(digits, k, 1));
            IF v < 62 THEN
                RETURN head || overlay(digits PLACING substr(d, v + 1, 1) FROM k FOR 1);
            END IF;
            digits := overlay(digits PLACING '0' FROM k FOR 1);
        END LOOP;
        IF head = 'Z' THEN RETURN 'a0'; END IF;
        IF head = 'z' THEN RETURN NULL; END IF;
        head := chr(ascii(head) + 1);
        IF ascii(head) > 97 THEN
            digits := digits || '0';
        ELSE
            digits := left(digits, -1);
        END IF;
        RETURN head || digits;
    END $$""",
    """CREATE OR REPLACE FUNCTION collab_rank_dec(integer_part text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    DECLARE
        d constant text := '{digits}';
        head text := substr(integer_part, 1, 1);
        digits text := substr(integer_part, 2);
        v int;
    BEGIN
        FOR k IN REVERSE length(digits)..1 LOOP
            v := strpos(d, substr(digits, k, 1)) - 2;
            IF v >= 0 THEN
                RETURN head || overlay(digits PLACING substr(d, v + 1, 1) FROM k FOR 1);
            END IF;
            digits := overlay(digits PLACING 'z' FROM k FOR 1);
        END LOOP;
        IF head = 'a' THEN RETURN 'Zz'; END IF;
        IF head = 'A' THEN RETURN NULL; END IF;
        head := chr(ascii(head) - 1);
        IF ascii(head) < 90 THEN
            digits := digits || 'z';
        ELSE
            digits := left(digits, -1);
        END IF;
        RETURN head || digits;
    END $$""",
    # A rank strictly between a and b (NULL: the start or the end of the column).
    """CREATE OR REPLACE FUNCTION collab_rank_between(a text, b text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
        ia text;
        fa text;
        ib text;
        fb text;
        r text;
    BEGIN
        IF a IS NOT NULL THEN PERFORM collab_rank_validate(a); END IF;
        IF b IS NOT NULL THEN PERFORM collab_rank_validate(b); END IF;
        IF a IS NOT NULL AND b IS NOT NULL AND a COLLATE "C" >= b COLLATE "C" THEN
            RAISE EXCEPTION '% is not below %', a, b;
        END IF;
        IF a IS NOT NULL THEN
            ia := left(a, collab_rank_int_len(substr(a, 1, 1)));
            fa := substr(a, length(ia) + 1);
        END IF;
        IF b IS NOT NULL THEN
            ib := left(b, collab_rank_int_len(substr(b, 1, 1)));
            fb := substr(b, length(ib) + 1);
        END IF;
        IF a IS NULL THEN
            IF b IS NULL THEN RETURN 'a0'; END IF;
            IF ib = 'A' || repeat('0', 26) THEN RETURN ib || collab_rank_mid('', fb); END IF;
            IF ib COLLATE "C" < b COLLATE "C" THEN RETURN ib; END IF;
            r := collab_rank_dec(ib);
            IF r IS NULL THEN RAISE EXCEPTION 'cannot go below the smallest rank'; END IF;
            RETURN r;
        END IF;
        IF b IS NULL THEN
            RETURN coalesce(collab_rank_inc(ia), ia || collab_rank_mid(fa, NULL));
        END IF;
        IF ia = ib THEN RETURN ia || collab_rank_mid(fa, fb); END IF;
        r := collab_rank_inc(ia);
        IF r IS NULL THEN RAISE EXCEPTION 'cannot go above the largest rank'; END IF;
        IF r COLLATE "C" < b COLLATE "C" THEN RETURN r; END IF;
        RETURN ia || collab_rank_mid(fa, NULL);
    END $$""",
]


def upgrade(conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for sql in FUNCTIONS:
        conn.exec_driver_sql(sql.replace("{digits}", DIGITS))
