"""`collab collect-static DIR`: the files nginx serves under the names pages link (docs/deploy.md)."""

from __future__ import annotations

import gzip
from pathlib import Path

from collab.cli import main
from collab.web.static import StaticFiles


def test_every_static_file_is_written_under_its_fingerprinted_name(tmp_path: Path) -> None:
    assert main(["collect-static", str(tmp_path / "static")]) == 0
    files = StaticFiles()
    for plain, url in files.urls.items():
        written = tmp_path / url.removeprefix("/")
        assert written.read_bytes() == files.assets[plain].body, url
        packed = written.with_name(written.name + ".gz")
        if files.assets[plain].gzipped is None:
            assert not packed.exists(), f"{packed.name}: gzip does not make it smaller"
        else:
            assert gzip.decompress(packed.read_bytes()) == files.assets[plain].body, url
    names = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert "static/collab.css" not in names, "plain names are the app's (ETag revalidation)"
    assert any(n.startswith("static/collab.") and n.endswith(".css") for n in names)
