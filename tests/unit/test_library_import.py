"""`collab import-library`: good lines are loaded as published entries in batches, each bad
line is named by its number, and the entries are searchable at once."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from collab.accounts.service import create_user
from collab.cli import main
from collab.library import search
from collab.library.importer import import_library
from collab.realtime import Hub

pytestmark = pytest.mark.anyio


def line(n: int, **over: object) -> str:
    entry = {"kind": "article", "title": f"Imported guide {n}",
             "summary": f"Summary {n}", "body": f"Body text about hedgerows {n}.",
             "topics": ["climate"], "author": "importer"}
    entry.update(over)
    return json.dumps(entry)


async def test_good_lines_load_and_bad_ones_are_named(hub: Hub) -> None:
    await create_user("importer", "long-enough-password")
    lines = [line(n) for n in range(7)]
    lines.insert(2, "{not json")
    lines.insert(4, line(99, author="nobody"))
    lines.insert(5, "")  # blank lines are skipped, not errors
    lines.insert(6, line(98, topics=["no-such-topic"]))
    lines.append(line(97, kind="case_study"))  # misses the case study's fields
    lines.append(line(96, published_at="2020-05-01T10:00:00Z", featured=True,
                      kind="paper", authors=["A. B."], year=2019, abstract="Hedgerow study."))
    progress = io.StringIO()
    report = await import_library(io.BytesIO("\n".join(lines).encode()), batch_size=3,
                                  progress=progress)
    assert report.imported == 8
    assert [number for number, _ in report.refused] == [3, 5, 7, 12]
    assert "line 3:" in progress.getvalue() and "entries/s" in progress.getvalue()
    found = await search.search(search.parse_request({"q": "hedgerows", "per_page": "50"}))
    assert found.total == 8
    paper = await search.search(search.parse_request({"q": "hedgerow", "kind": "paper"}))
    assert [r["year"] for r in paper.results] == [2019]
    assert paper.results[0]["published_at"].startswith("2020-05-01")


async def test_unknown_topics_can_be_added(hub: Hub) -> None:
    await create_user("importer", "long-enough-password")
    data = line(1, topics=["rural-affairs", "climate"]).encode()
    refused = await import_library(io.BytesIO(data))
    assert refused.imported == 0 and len(refused.refused) == 1
    added = await import_library(io.BytesIO(data), add_topics=True)
    assert added.imported == 1
    found = await search.search(search.parse_request({"topic": "rural-affairs"}))
    assert found.total == 1


async def test_only_well_formed_topics_of_lines_that_load_are_added(hub: Hub) -> None:
    from collab.library import service

    await create_user("importer", "long-enough-password")
    service._topics = (0.0, {})  # another test's database may be cached
    before = set(await service.topic_map())
    lines = [line(1, topics=["Procurement"]), line(2, topics=["Brand New Topic"]),
             line(3, topics=["from-refused-line"], title=None),
             line(4, topics=["nul\u0000topic"]), line(5, topics=["street-lighting"])]
    report = await import_library(io.BytesIO("\n".join(lines).encode()), add_topics=True)
    assert report.imported == 1 and [n for n, _ in report.refused] == [1, 2, 3, 4]
    assert set(await service.topic_map()) - before == {"street-lighting"}


def test_the_command_reports_and_fails_on_bad_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("BROADCAST_URL", "COLLAB_ENV", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SECRET_FILE", str(tmp_path / "secret"))
    assert main(["migrate"]) == 0
    assert main(["createuser", "--username", "importer", "--password", "long-enough"]) == 0
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(line(n) for n in range(3)) + "\n")
    assert main(["import-library", str(good)]) == 0
    assert "imported 3 entries" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line(1) + "\n[1, 2]\n")
    assert main(["import-library", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "imported 1 entries" in captured.out and "line 2:" in captured.err
    with pytest.raises(SystemExit) as missing:
        main(["import-library", str(tmp_path / "nope.jsonl")])
    assert "cannot read" in str(missing.value.code)


async def test_topic_names_with_accents_get_plain_slugs(hub: Hub) -> None:
    from collab.errors import Conflict, Invalid
    from collab.library import service

    expert = await create_user("topic-expert", "long-enough-password", role="expert")
    service._topics = (0.0, {})
    assert (await service.add_topic(expert, {"name": "Énergie"}))["slug"] == "energie"
    assert (await service.add_topic(expert, {"name": "Ümwelt Politik"}))["slug"] \
        == "umwelt-politik"
    with pytest.raises(Conflict):
        await service.add_topic(expert, {"name": "ENERGIE"})
    with pytest.raises(Invalid):
        await service.add_topic(expert, {"name": "東京"})
