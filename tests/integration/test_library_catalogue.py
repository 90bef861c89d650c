"""A running server counts facets from the library as it is now: entries another process adds
(`collab import-library` beside the server) are found, counted and filtered on the next
search, on SQLite and on PostgreSQL (searches keep the published entries' facts in memory and
read them again when the library's generation moves)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.api import Api
from support.servers import REPO_ROOT, ServerFactory


def _search(api: Api, **params: Any) -> dict[str, Any]:
    r = api.http.get("/api/library", params=params)
    assert r.status_code == 200, r.text[:300]
    return dict(r.json())


def test_entries_another_process_adds_are_found_and_counted_at_once(
    live_server: ServerFactory, database_url: str, tmp_path: Path
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        writer = api.register()
        before = _search(api)
        assert _search(api, q="hedgerows")["total"] == 0  # the catalogue is loaded now
        lines = [json.dumps({"kind": kind, "title": f"Hedgerows survey {n}",
                             "summary": f"Counting hedgerows, part {n}.",
                             "body": "Volunteers walked the hedgerows of the county.",
                             "topics": ["climate"], "author": writer.username,
                             **({"problem": "Hedgerows were unmapped.",
                                 "actions": "Volunteers mapped them.",
                                 "outcomes": [{"label": "Hedgerows mapped", "value": 120,
                                               "unit": "km"}],
                                 "jurisdiction": "Kent County Council", "level": "municipal",
                                 "year": 2024}
                                if kind == "case_study" else {})})
                 for n, kind in enumerate(["article", "article", "case_study"])]
        file = tmp_path / "hedgerows.jsonl"
        file.write_text("\n".join(lines) + "\n")
        done = subprocess.run([sys.executable, "-m", "collab.cli", "import-library", str(file)],
                              env=server.env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

        found = _search(api, q="hedgerows")
        assert found["total"] == 3
        assert found["facets"]["kind"] == {"article": 2, "case_study": 1}
        assert found["facets"]["topic"] == {"climate": 3}
        assert found["facets"]["level"] == {"municipal": 1}
        assert _search(api, q="hedgerows", kind="case_study")["total"] == 1
        assert _search(api, q="hedgerows", level="municipal", topic="climate")["total"] == 1
        assert _search(api, q="hedgerows", jurisdiction="Kent County Council")["total"] == 1
        assert _search(api, q="hedgerows", topic="finance")["total"] == 0
        # Browsing without a query counts them too.
        assert _search(api)["total"] == before["total"] + 3
