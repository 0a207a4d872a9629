"""The committed sample drop is what the generator writes with --noise v1, and it resolves.

The fixture was written before issue 12 and stays v1: it is the committed proof that v1 still writes
exactly what the generator wrote then.
"""

from pathlib import Path

from identity.ingest import read_drop
from synth.config import SynthConfig
from synth.writer import generate_drop

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "small-drop"


def test_committed_drop_is_what_the_generator_writes(tmp_path: Path) -> None:
    generate_drop(tmp_path / "drop", households=60, seed=1, config=SynthConfig(noise="v1"))
    written = sorted(p.name for p in (tmp_path / "drop").iterdir())
    assert written == sorted(p.name for p in FIXTURE.iterdir() if p.suffix == ".csv")
    for name in written:
        assert (tmp_path / "drop" / name).read_bytes() == (FIXTURE / name).read_bytes(), (
            f"{name} differs: regenerate with `herken generate fixtures/small-drop --households 60 --seed 1 --noise v1`"
        )


def test_committed_drop_reads_without_quarantine() -> None:
    drop = read_drop(FIXTURE)
    assert len(drop.records) == 194
    assert not drop.quarantine
