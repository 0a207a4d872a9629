"""Memory sizes as people write them, and the engine's share of a run's cap."""

from __future__ import annotations

import pytest

from identity.memory import ENGINE_FLOOR, MemorySizeError, engine_limit, machine_memory, parse_size, run_cap


@pytest.mark.parametrize("text, size", [
    ("2GB", 2 * 1000**3), ("500 MB", 500 * 1000**2), ("1.5GiB", int(1.5 * 1024**3)), ("8g", 8 * 1000**3),
    ("123456", 123456), (" 2 gb ", 2 * 1000**3),
])
def test_sizes_as_people_write_them(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "2 GBs", "-1GB", "0MB", "GB"])
def test_what_is_not_a_size_says_how_to_write_one(text):
    with pytest.raises(MemorySizeError, match="2GB"):
        parse_size(text)


def test_the_engine_gets_a_share_of_the_cap_and_never_less_than_its_floor():
    assert engine_limit(10 * 1000**3) == "4000MB"
    assert engine_limit(1000) == f"{ENGINE_FLOOR // 1000**2}MB"


def test_without_a_limit_a_run_may_use_a_third_of_the_machine():
    assert run_cap(None) == int(machine_memory() / 3)
    assert run_cap("2GB") == 2 * 1000**3


def test_profile_batches_are_as_large_as_the_build_memory_allows():
    from profile_api.profile_build import BATCH_PERSONS, MIN_BATCH_PERSONS, batch_persons_for

    assert batch_persons_for(None) == BATCH_PERSONS
    assert batch_persons_for("100GB") == BATCH_PERSONS
    assert batch_persons_for("400MB") == 16_000     # --memory-limit 2GB: the build gets 400 MB
    assert batch_persons_for("1MB") == MIN_BATCH_PERSONS


def test_a_small_build_memory_goes_to_one_worker_instead_of_being_split_too_thin(monkeypatch):
    """--memory-limit 2GB gives the profile build 400 MB: split between two workers, 200 MB each ran out of
    memory at 300k records; one worker gets it all. A larger build keeps a worker per core."""
    import profile_api.profile_build as build

    monkeypatch.setattr(build.os, "cpu_count", lambda: 2)
    assert build.profile_workers("400MB") == 1
    assert build.profile_workers("1MB") == 1
    assert build.profile_workers("1600MB") == 2
    assert build.profile_workers(None) == 2
    monkeypatch.setattr(build.os, "cpu_count", lambda: 1)
    assert build.profile_workers("100GB") == 1
