"""A full drop whose file accepts no row where the store holds rows of its kind is refused, not published: a
header-only export or a delimiter at the end of every row would otherwise empty the store of them."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import text

from herken.cli import main
from profile_api.store import latest_run, open_store


def _held(url: str) -> tuple[int, int, str]:
    engine = open_store(url)
    with engine.connect() as conn:
        pos = conn.execute(text("SELECT count(*) FROM source_record WHERE source = 'pos'")).scalar()
        interactions = conn.execute(text("SELECT count(*) FROM interaction")).scalar()
    return pos, interactions, latest_run(engine).run_id


def test_a_file_that_accepts_no_row_is_refused_unless_allowed(small_drop, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["resolve", str(small_drop), "--store", url]) == 0
    before = _held(url)
    assert before[0] > 0 and before[1] > 0
    drop = tmp_path / "drop"
    shutil.copytree(small_drop, drop)
    pos = drop / "pos.csv"
    pos.write_text(pos.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")    # the header only
    interactions = drop / "interactions.csv"
    lines = interactions.read_text(encoding="utf-8").splitlines()
    interactions.write_text("\n".join([lines[0], *(line + "," for line in lines[1:])]) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["resolve", str(drop), "--store", url]) == 2
    err = capsys.readouterr().err
    assert f"pos.csv accepts none of its 0 row(s) where the store holds {before[0]:,} pos records" in err
    assert "interactions.csv accepts none of its" in err and "has 13 columns, the header has 12" in err
    assert "--allow-empty interactions --allow-empty pos" in err
    assert _held(url) == before                              # nothing published
    interactions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["resolve", str(drop), "--store", url, "--allow-empty", "pos"]) == 0
    pos_after, interactions_after, run = _held(url)
    assert pos_after == 0 and run != before[2]
