"""A run's folder: named after the run only once it is published; leftovers of killed runs cleared away."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from herken.run_folder import clear_leftovers, finish, partial_folder


def test_a_run_writes_into_a_partial_folder_that_gets_its_name_when_published(tmp_path):
    folder = partial_folder(tmp_path, "run-1")
    (folder / "model.json").write_text("{}")
    assert folder.name == "run-1.partial"
    final = finish(folder)
    assert final == tmp_path / "run-1" and sorted(p.name for p in final.iterdir()) == ["model.json"]


def test_leftovers_of_ended_runs_are_removed_the_published_one_finished_a_running_one_kept(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(ended.stdout)
    for run_id, owner in (("run-killed", f"{dead_pid} {socket.gethostname()}"),
                          ("run-published", f"{dead_pid} {socket.gethostname()}"),
                          ("run-running", f"{os.getpid()} {socket.gethostname()}"),
                          ("run-elsewhere", f"{dead_pid} another-host")):
        folder = tmp_path / f"{run_id}.partial"
        folder.mkdir()
        (folder / "owner").write_text(owner)
        (folder / "quarantine.csv").write_text("personal data")
    (tmp_path / "run-no-owner.partial").mkdir()          # killed as it made its folder
    clear_leftovers(tmp_path, "run-published")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-elsewhere.partial", "run-published",
                                                          "run-running.partial"]
    assert not (tmp_path / "run-published" / "owner").exists()
