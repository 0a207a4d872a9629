"""A resolve run killed at any moment leaves the published result serving, and the next run succeeds;
preferences stated while a run publishes are kept. Through the real command (a subprocess of
`herken resolve`, paused at named points with HERKEN_PAUSE_AT: ``herken.pause_points``) and a real
server polled throughout, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text

from herken.cli import main
from herken.pause_points import POINTS
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.server import serve
from profile_api.store import latest_run, open_store

pytestmark = pytest.mark.first   # among the slowest modules: started early when the suite runs on several workers

PAUSED_WITHIN_SECONDS = 120


@pytest.fixture(scope="module")
def other_drop(tmp_path_factory) -> Path:
    """A second drop, of other households: a run of it would change what GetProfile answers."""
    from synth.config import SynthConfig
    from synth.writer import generate_drop

    path = tmp_path_factory.mktemp("other-drop")
    generate_drop(path, households=120, seed=23, config=SynthConfig(noise="v1"))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, small_drop, tmp_path) -> Iterator[tuple[str, Path]]:
    """(url, runs folder) of a store holding the small drop, resolved as a user would."""
    url = f"sqlite:///{tmp_path / 'herken.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_pg_url")
    runs = tmp_path / "runs"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(runs))
        assert main(["resolve", str(small_drop), "--store", url]) == 0
    yield url, runs


def start_resolve(drop: Path, url: str, runs: Path, pause_at: str = "", pause_seconds: int = 600,
                  model: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "HERKEN_RUNS_DIR": str(runs), "HERKEN_PAUSE_AT": pause_at,
           "HERKEN_PAUSE_SECONDS": str(pause_seconds)}
    extra = ["--model", str(model)] if model else []
    return subprocess.Popen([sys.executable, "-m", "herken.cli", "resolve", str(drop), "--store", url, *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_paused(run: subprocess.Popen, point: str) -> list[str]:
    """Read the run's stderr until it says it paused at point; return the lines read."""
    lines: list[str] = []
    deadline = time.monotonic() + PAUSED_WITHIN_SECONDS
    while time.monotonic() < deadline:
        line = run.stderr.readline()
        if not line:
            raise AssertionError(f"the run ended before pausing at {point}: {''.join(lines)}")
        lines.append(line)
        if f"paused at {point}" in line:
            return lines
    raise AssertionError(f"the run did not pause at {point}: {''.join(lines)}")


@dataclass
class Poller:
    """Asks the server for one profile every few milliseconds in a thread, keeping every answer."""

    stub: pb_grpc.ProfileServiceStub
    customer_id: str
    answers: list[bytes] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                reply = self.stub.GetProfile(pb.GetProfileRequest(customer_id=self.customer_id), timeout=10)
                self.answers.append(reply.SerializeToString(deterministic=True))
            except grpc.RpcError as err:
                self.errors.append(f"{err.code().name}: {err.details()}")
            time.sleep(0.01)


@contextmanager
def polling(stub, customer_id: str) -> Iterator[Poller]:
    poller = Poller(stub, customer_id)
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    try:
        yield poller
    finally:
        poller._stop.set()
        thread.join(15)


@contextmanager
def served(url: str) -> Iterator[pb_grpc.ProfileServiceStub]:
    server, port = serve(url, "127.0.0.1", 0, health_interval=0.2)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield pb_grpc.ProfileServiceStub(channel)
    finally:
        channel.close()
        server.stop(0).wait()


def a_customer(url: str) -> str:
    engine = open_store(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT min(customer_id) FROM profile")).scalar()
    finally:
        engine.dispose()


def published_run(url: str) -> str:
    engine = open_store(url)
    try:
        return latest_run(engine).run_id
    finally:
        engine.dispose()


def test_a_run_killed_at_any_point_leaves_the_previous_result_serving_and_the_next_run_succeeds(store, other_drop):
    url, runs = store
    before_run, customer_id = published_run(url), a_customer(url)
    with served(url) as stub:
        before = stub.GetProfile(pb.GetProfileRequest(customer_id=customer_id), timeout=10).SerializeToString(
            deterministic=True)
        for point in POINTS:
            with polling(stub, customer_id) as poller:
                # the published run's model: a run killed on its way need not spend its time training
                run = start_resolve(other_drop, url, runs, pause_at=point, model=runs / before_run / "model.json")
                try:
                    wait_until_paused(run, point)
                    time.sleep(0.3)         # the server is asked while the run stands there
                    run.send_signal(signal.SIGKILL)
                    assert run.wait(30) == -signal.SIGKILL
                finally:
                    run.kill()
                    run.communicate()
                time.sleep(0.3)             # and after the kill
            assert not poller.errors, (point, poller.errors[:3])
            assert len(poller.answers) >= 10 and set(poller.answers) == {before}, point
            assert published_run(url) == before_run, point
        assert not [f for f in runs.iterdir() if not f.name.endswith(".partial") and f.name != before_run]

        run = start_resolve(other_drop, url, runs)          # the next run, to the end
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        after_run = published_run(url)
        assert after_run != before_run
        assert sorted(f.name for f in runs.iterdir()) == sorted([before_run, after_run])   # the killed runs' folders gone
        assert (runs / after_run / "model.json").is_file()
        assert f"saved to {runs / after_run / 'model.json'}" in out
        deadline = time.monotonic() + 10        # the server answers from the new run (the other drop's persons)
        while time.monotonic() < deadline:
            try:
                stub.GetProfile(pb.GetProfileRequest(customer_id=a_customer(url)), timeout=10)
                break
            except grpc.RpcError:
                time.sleep(0.1)
        else:
            raise AssertionError("the new run's persons are not served")


def test_preferences_stated_while_a_run_resolves_and_publishes_are_kept(store, small_drop):
    url, runs = store
    customer_id = a_customer(url)
    stated: dict[str, str] = {}
    with served(url) as stub:
        run = start_resolve(small_drop, url, runs, pause_at="linking,publishing,committing", pause_seconds=1)
        updates = []
        try:
            for point in ("linking", "publishing", "committing"):
                wait_until_paused(run, point)
                key = f"said_while_{point}"
                stated[key] = "yes"
                update = pb.UpdatePreferencesRequest(customer_id=customer_id, source="service",
                                                     preferences=[pb.PreferenceEntry(key=key, value="yes")])
                call = stub.UpdatePreferences.future(update, timeout=15)   # it may wait for the publish's commit
                updates.append(call)
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0, err
        finally:
            run.kill()
        for call, key in zip(updates, stated):
            assert key in {p.key for p in call.result().preferences}      # OK, not busy
        profile = stub.GetProfile(pb.GetProfileRequest(customer_id=customer_id), timeout=10).profile
        assert {p.key: p.value for p in profile.preferences if p.key in stated} == stated
