"""PostgreSQL's fast path for the door: a whole group of changes in one round trip.

Most hot changes have one shape: at most one check (an UPDATE or SELECT that may refuse) and
one INSERT of the new row (a post, a chat message, a vote). For that shape the door composes,
once per shape, one statement of data-modifying CTEs that does everything a change needs:

    WITH c AS (<the check> RETURNING 1),
         s AS (INSERT INTO rt_channels … SELECT … WHERE EXISTS (SELECT 1 FROM c)
               ON CONFLICT (name) DO UPDATE SET seq = rt_channels.seq + 1 RETURNING seq),
         w AS (INSERT INTO <the row's table> (…) SELECT …, s.seq, … FROM s RETURNING …),
         e AS (INSERT INTO rt_events … SELECT …, $d0 || w.id::text || $d1 || s.seq::text … FROM s, w),
         k AS (INSERT INTO rt_send_keys … FROM s, w WHERE <a key was given>)
    SELECT (SELECT count(*) FROM c), (SELECT seq FROM s), (SELECT id FROM w), …

and runs it for every change of the group with asyncpg's `fetchmany`, which pipelines the
executions and ends them with one Sync: one round trip and one commit for the group (on
PostgreSQL statements before a Sync form one implicit transaction). The event's JSON is built
in Python with placeholders for the numbers only the database knows (the new id, the seq) and
spliced around them in SQL. A refused change (its check matched nothing) writes nothing and
the others go on; if any change fails, the whole group is rolled back and the door decides its
changes one by one. Anything of another shape takes the general path (batches.py).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import orjson

from .door import Change, Results
from .events import now_iso

_INSERT = re.compile(r"^(INSERT INTO \S+ \([^)]*\)) VALUES \((.*)\) RETURNING (.+)$", re.DOTALL)
_PARAM = re.compile(r"\$(\d+)")
# Placeholders for database-assigned numbers: random per process, so that no text a member
# writes can collide with them.
_BASE = random.SystemRandom().randrange(10**17, 9 * 10**17) * 10


@dataclass(frozen=True, slots=True)
class Plan:
    sql: str
    check_names: list[str]
    write_names: list[str]      # the write's params, without `seq`
    returning: list[str]
    data_parts: int
    subject_parts: int
    ack_parts: int


_plans: dict[tuple[Any, ...], Plan | None] = {}


def _shift(sql: str, offset: int, replace: dict[int, str] | None = None) -> str:
    def sub(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if replace and n in replace:
            return replace[n]
        return f"${n + offset}"
    return _PARAM.sub(sub, sql)


def _placeholders(change: Change, returning: list[str], name: str | None
                  ) -> tuple[Results, dict[str, str]] | None:
    """Results with a unique placeholder number for each database-assigned value."""
    results: Results = {"seq": _BASE + 1}
    tokens = {str(_BASE + 1): "s.seq::text"}
    row = {}
    for n, column in enumerate(returning, start=2):
        row[column] = _BASE + n
        tokens[str(_BASE + n)] = f"w.{column}::text"
    if name:
        results[name] = row
    return results, tokens


def _split(text: str, tokens: dict[str, str]) -> tuple[list[str], list[str]]:
    """Cut `text` at each placeholder: the literal parts and the SQL between them."""
    pattern = re.compile("|".join(re.escape(t) for t in tokens))
    parts, between, last = [], [], 0
    for m in pattern.finditer(text):
        parts.append(text[last:m.start()])
        between.append(tokens[m.group(0)])
        last = m.end()
    parts.append(text[last:])
    return parts, between


def _expr(first_param: int, between: list[str]) -> str:
    pieces = []
    for n, sql in enumerate(between):
        pieces.append(f"${first_param + n}::text")
        pieces.append(sql)
    pieces.append(f"${first_param + len(between)}::text")
    return " || ".join(pieces)


def prepare(change: Change, dialect: Any, epoch: str) -> tuple[Plan, list[Any]] | None:
    """The composed statement for `change` and its arguments, or None (not the fast shape)."""
    if len(change.checks) > 1 or len(change.writes) != 1 or change.lock is not None \
            or not change.plain:
        return None
    write = change.writes[0]
    wsql, _, _, _, wreturns = write.stmt.compiled(dialect)
    m = _INSERT.match(wsql)
    if m is None or not wreturns:
        return None
    returning = [col.strip().rpartition(".")[2] for col in m.group(3).split(",")]
    placed = _placeholders(change, returning, write.name)
    if placed is None:
        return None
    fake, tokens = placed
    try:
        data_text = orjson.dumps(change.data(fake)).decode()
        subject = change.subject(fake) if callable(change.subject) else change.subject
        ack: dict[str, Any] = {"seq": fake["seq"]}
        if change.ack is not None:
            ack["data"] = change.ack(fake)
        ack_text = orjson.dumps(ack).decode()
    except (KeyError, TypeError, ValueError):
        return None  # the builders need more than numbers: the general path
    data_parts, data_between = _split(data_text, tokens)
    subject_parts, subject_between = _split(subject or "", tokens)
    ack_parts, ack_between = _split(ack_text, tokens)
    check = change.checks[0] if change.checks else None
    key = (id(check.stmt) if check else None, id(write.stmt), tuple(data_between),
           tuple(subject_between), subject is None, tuple(ack_between), check and check.name)
    plan = _plans.get(key, False)
    if plan is False:
        plan = _compose(change, dialect, returning, data_between, subject_between,
                        subject is None, ack_between)
        _plans[key] = plan
    if plan is None:
        return None
    return plan, _args(change, plan, dialect, epoch, data_parts, subject_parts, ack_parts,
                       subject)


def _compose(change: Change, dialect: Any, returning: list[str], data_between: list[str],
             subject_between: list[str], no_subject: bool, ack_between: list[str]
             ) -> Plan | None:
    ctes = []
    check_names: list[str] = []
    offset = 0
    check = change.checks[0] if change.checks else None
    if check is not None:
        csql, check_names, _, _, creturns = check.stmt.compiled(dialect)
        if "seq" in check_names:
            return None  # a check runs before the seq exists
        ctes.append(f"c AS ({csql}{'' if creturns else ' RETURNING 1'})")
        offset = len(check_names)
    write = change.writes[0]
    wsql, wnames, _, _, _ = write.stmt.compiled(dialect)
    m = _INSERT.match(wsql)
    assert m is not None
    seq_positions = {n + 1: "s.seq" for n, name in enumerate(wnames) if name == "seq"}
    write_names = [name for name in wnames if name != "seq"]
    # Renumber the write's params past the check's, dropping `seq` (it is s.seq).
    renumber: dict[int, str] = dict(seq_positions)
    k = offset
    for n, name in enumerate(wnames, start=1):
        if name != "seq":
            k += 1
            renumber[n] = f"${k}"
    values = _PARAM.sub(lambda mm: renumber[int(mm.group(1))], m.group(2))
    p = k  # last param used so far
    ch, epoch, type_, actor, ts, user, skey, now = (f"${p + i}" for i in range(1, 9))
    p += 8
    gate = " WHERE EXISTS (SELECT 1 FROM c)" if check is not None else ""
    ctes.append(f"s AS (INSERT INTO rt_channels (name, seq, epoch) SELECT {ch}::text, 1, "
                f"{epoch}::text{gate} ON CONFLICT (name) DO UPDATE SET seq = rt_channels.seq + 1 "
                "RETURNING seq)")
    ctes.append(f"w AS ({m.group(1)} SELECT {values} FROM s RETURNING {m.group(3)})")
    data = _expr(p + 1, data_between)
    p += len(data_between) + 1
    if no_subject:
        subject = "NULL"
    else:
        subject = _expr(p + 1, subject_between)
        p += len(subject_between) + 1
    ack = _expr(p + 1, ack_between)
    p += len(ack_between) + 1
    ctes.append("e AS (INSERT INTO rt_events (channel, seq, type, data, actor, ts, subject) "
                f"SELECT {ch}::text, s.seq, {type_}::text, {data}, {actor}::text, {ts}::text, "
                f"{subject} FROM s, w)")
    ctes.append("k AS (INSERT INTO rt_send_keys (user_id, key, ack, created_at) "
                f"SELECT {user}::bigint, {skey}::text, {ack}, {now}::text FROM s, w "
                f"WHERE {user}::bigint IS NOT NULL)")
    checked = "(SELECT count(*) FROM c)" if check is not None else "1"
    selects = [f"{checked} AS checked", "(SELECT seq FROM s) AS seq"]
    selects += [f"(SELECT {col} FROM w) AS w_{col}" for col in returning]
    sql = "WITH " + ", ".join(ctes) + " SELECT " + ", ".join(selects)
    return Plan(sql, check_names, write_names, returning, len(data_between) + 1,
                0 if no_subject else len(subject_between) + 1, len(ack_between) + 1)


def _args(change: Change, plan: Plan, dialect: Any, epoch: str, data_parts: list[str],
          subject_parts: list[str], ack_parts: list[str], subject: str | None) -> list[Any]:
    args: list[Any] = []
    results: Results = {}
    if change.checks:
        check = change.checks[0]
        args += check.stmt.args(dialect, check.bound(results))[1]
    write = change.writes[0]
    _, wargs, _ = write.stmt.args(dialect, {"seq": 0, **write.bound(results)})
    _, wnames, _, _, _ = write.stmt.compiled(dialect)
    args += [value for name, value in zip(wnames, wargs, strict=True) if name != "seq"]
    key = change.key
    args += [change.channel, epoch, change.type,
             orjson.dumps(change.actor).decode() if change.actor else None, change.ts,
             key.user_id if key else None, key.key if key else None, now_iso()]
    args += data_parts
    if subject is not None:
        args += subject_parts
    args += ack_parts
    return args


def results_of(row: Any, plan: Plan, name: str | None) -> Results:
    results: Results = {"seq": row["seq"]}
    if name:
        results[name] = {col: row[f"w_{col}"] for col in plan.returning}
    return results
