"""Moving a run folder next to the network file: its name kept or suffixed on a clash, every file kept, a rename
within a filesystem and a whole copy across filesystems, and nothing lost when the move fails."""

import os
import shutil
import tempfile

import pytest

from engine.graph.templates import load_template
from engine.training import create_run, list_runs, load_run
from engine.training.runs import move_run, runs_folder


@pytest.fixture
def unsaved_run(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLAB_RUNS", str(tmp_path / "cache"))
    run = create_run(load_template("mlp_fashion_mnist"))
    run.finish(test_accuracy=0.5)
    return run


def contents(folder):
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))}


def test_a_run_moves_into_the_runs_folder_of_a_file_under_its_name(unsaved_run, tmp_path):
    before = contents(unsaved_run.folder)
    moved = move_run(unsaved_run.folder, runs_folder(tmp_path / "net.llnet"))
    assert moved == str(tmp_path / "net.runs" / unsaved_run.name)
    assert not os.path.exists(unsaved_run.folder) and contents(moved) == before
    assert [r.folder for r in list_runs(tmp_path / "net.llnet")] == [moved]
    assert load_run(moved).test_accuracy == 0.5


def test_a_name_taken_gets_a_suffix(unsaved_run, tmp_path):
    parent = tmp_path / "net.runs"
    (parent / unsaved_run.name).mkdir(parents=True)
    (parent / f"{unsaved_run.name}-2").mkdir()
    moved = move_run(unsaved_run.folder, parent)
    assert moved == str(parent / f"{unsaved_run.name}-3")
    assert sorted(os.listdir(parent)) == sorted([unsaved_run.name, f"{unsaved_run.name}-2", f"{unsaved_run.name}-3"])
    assert os.listdir(parent / unsaved_run.name) == []  # the folder that was there is left alone


def test_a_failed_move_leaves_the_run_where_it_was(unsaved_run, tmp_path):
    blocker = tmp_path / "net.runs"
    blocker.write_text("a file where the runs folder would go")
    before = contents(unsaved_run.folder)
    with pytest.raises(OSError):
        move_run(unsaved_run.folder, blocker)
    assert contents(unsaved_run.folder) == before and blocker.read_text().startswith("a file")


@pytest.mark.skipif(not os.path.isdir("/dev/shm") or not os.access("/dev/shm", os.W_OK), reason="needs /dev/shm")
def test_a_run_moves_across_filesystems_as_a_whole_copy(unsaved_run):
    other = tempfile.mkdtemp(dir="/dev/shm")
    try:
        if os.stat(other).st_dev == os.stat(unsaved_run.folder).st_dev:
            pytest.skip("/dev/shm is on the same filesystem")
        before = contents(unsaved_run.folder)
        moved = move_run(unsaved_run.folder, os.path.join(other, "net.runs"))
        assert contents(moved) == before and not os.path.exists(unsaved_run.folder)
    finally:
        shutil.rmtree(other)
