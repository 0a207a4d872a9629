"""The command line's small promises: counts that make sense, a closed pipe, a folder generated again."""

from __future__ import annotations

import os

import pytest

from herken.cli import _ClosedPipeQuiet, main


def test_output_to_a_reader_that_has_gone_is_dropped_and_the_command_goes_on():
    """Review finding (session 33): `herken events | head -1` ended in a BrokenPipeError traceback (for forget,
    after its commit)."""
    read, write = os.pipe()
    os.close(read)
    stream = _ClosedPipeQuiet(os.fdopen(write, "w", encoding="utf-8"))
    assert stream.write("a line nobody reads\n" * 10_000) > 0      # more than the pipe holds: the write fails
    stream.flush()
    assert stream.write("and another\n") == len("and another\n")
    stream.close()


@pytest.mark.parametrize("command", [["generate", "out"], ["demo"]])
def test_a_number_of_households_below_one_is_refused_by_the_parser(command, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--households", "0"])
    assert stopped.value.code == 2 and "must be at least 1" in capsys.readouterr().err


def test_a_default_drop_generated_where_a_renamed_one_was_leaves_no_taxonomy_of_it(tmp_path):
    assert main(["generate", str(tmp_path), "--households", "3", "--taxonomy", "renamed"]) == 0
    assert (tmp_path / "categories.csv").exists() and (tmp_path / "attributes_truth.csv").exists()
    assert main(["generate", str(tmp_path), "--households", "3"]) == 0
    assert not (tmp_path / "categories.csv").exists() and not (tmp_path / "attributes_truth.csv").exists()


def test_output_still_buffered_when_the_command_ends_is_dropped_quietly_too(tmp_path):
    """Review of session 33's diff: with output buffered (no PYTHONUNBUFFERED), what was still in the buffer when the
    command ended hit the closed pipe in run()'s last flush: a traceback and exit 120."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    code = ("import sys; from herken.cli import run; "
            f"sys.argv = ['herken', 'generate', {str(tmp_path / 'drop')!r}, '--households', '2']; run()")
    command = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    command.stdout.close()                                  # the reader goes before anything is read
    _, err = command.communicate(timeout=120)
    assert command.returncode == 0 and b"Traceback" not in err, err
    assert (tmp_path / "drop" / "pos.csv").exists()       # and the command did its work
