"""A run's title, tags and note (notes.json beside run.json), finding a run by folder or title, and moving a run
to the desktop's trash (a real freedesktop.org trash in a temporary XDG data folder)."""

import json
import os
import subprocess
import sys

import pytest
from run_support import saved_network, train_run

from engine.training.run_notes import RunNotes, edit_notes, find_run, load_notes, notes_path, save_notes, trash_run
from engine.training.run_table import run_rows
from engine.training.runs import RunFileError, list_runs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notes")
    network, path = saved_network(folder)
    return path, [train_run(network, path, epochs=1, lr=lr) for lr in (0.01, 0.1)]


def test_a_run_without_notes_has_empty_ones_and_its_folder_name_as_label(runs):
    _, (run, _) = runs
    notes = load_notes(run.folder)
    assert notes == RunNotes() and notes.label(run.name) == run.name


def test_notes_are_saved_atomically_and_read_back(runs):
    path, (run, other) = runs
    saved = save_notes(run.folder, RunNotes("  baseline ", ["good", "lenet", "good"], "first try\nlr 0.01"))
    assert saved == RunNotes("baseline", ["good", "lenet"], "first try\nlr 0.01")
    assert load_notes(run.folder) == saved
    assert sorted(os.listdir(run.folder)).count("notes.json") == 1
    assert not [name for name in os.listdir(run.folder) if name.startswith(".") or name.endswith(".tmp")]
    with open(notes_path(run.folder)) as fh:
        assert json.load(fh)["format"] == "layerlab.run-notes"
    rows = {row.name: row for row in run_rows(path)}
    assert rows[run.name].label == "baseline" and rows[run.name].tags == ["good", "lenet"]
    assert rows[run.name].note == "first try\nlr 0.01" and rows[other.name].label == other.name
    assert rows[run.name].as_dict()["tags"] == ["good", "lenet"]


def test_edits_change_only_what_is_given(runs):
    _, (_, run) = runs
    save_notes(run.folder, RunNotes("high lr", ["a", "b"], "kept"))
    notes = edit_notes(run.folder, add_tags=["c"], remove_tags=["a"])
    assert notes == RunNotes("high lr", ["b", "c"], "kept")
    assert edit_notes(run.folder, title="", note="") == RunNotes("", ["b", "c"], "")
    with pytest.raises(RunFileError, match="no tag 'zzz' \\(its tags: b, c\\)"):
        edit_notes(run.folder, remove_tags=["zzz"])


@pytest.mark.parametrize("notes, problem", [
    (RunNotes("two\nlines"), "one line"),
    (RunNotes("x" * 201), "at most 200"),
    (RunNotes(tags=["has space"]), "one word"),
    (RunNotes(tags=["a,b"]), "without commas"),
    (RunNotes(tags=[""]), "one word"),
    (RunNotes(note="x" * 100_001), "at most 100,000"),
])
def test_bad_values_are_refused_and_the_file_is_left_as_it_was(runs, notes, problem):
    _, (run, _) = runs
    before = load_notes(run.folder)
    with pytest.raises(RunFileError, match=problem) as caught:
        save_notes(run.folder, notes)
    assert "notes.json" in str(caught.value)
    assert load_notes(run.folder) == before


@pytest.mark.parametrize("text, problem", [
    ("{", "notes.json"),
    ('{"format": "other"}', "not a LayerLab run's notes"),
    ('{"format": "layerlab.run-notes", "version": 9}', "version 9"),
    ('{"format": "layerlab.run-notes", "version": 1, "tags": "a b"}', "'tags' must be a list"),
])
def test_a_damaged_notes_file_is_named_and_the_run_stays_listed(tmp_path, text, problem):
    network, path = saved_network(tmp_path)
    run = train_run(network, path, epochs=1)
    with open(notes_path(run.folder), "w") as fh:
        fh.write(text)
    with pytest.raises(RunFileError, match=problem):
        load_notes(run.folder)
    (row,) = run_rows(path)
    assert row.status == "finished" and "notes.json" in row.message and row.label == run.name


def test_find_run_by_folder_then_title(runs):
    path, (first, second) = runs
    save_notes(first.folder, RunNotes("baseline"))
    save_notes(second.folder, RunNotes(first.name))  # a title equal to another run's folder name
    listed = list_runs(path)
    assert find_run(listed, first.name).folder == first.folder
    assert find_run(listed, "baseline").folder == first.folder
    with pytest.raises(LookupError, match=f"no run named or titled 'nope' \\(the runs: {first.name}, {second.name}\\)"):
        find_run(listed, "nope")
    save_notes(second.folder, RunNotes("baseline"))
    with pytest.raises(LookupError, match="2 runs are titled 'baseline'"):
        find_run(listed, "baseline")


def trash_elsewhere(folder, data_home):
    """``trash_run`` in a fresh process whose trash is under ``data_home`` (Send2Trash reads $XDG_DATA_HOME once,
    at import), so a test never fills the user's own trash."""
    code = "import sys; from engine.training.run_notes import trash_run; trash_run(sys.argv[1])"
    return subprocess.run([sys.executable, "-c", code, str(folder)], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "XDG_DATA_HOME": str(data_home)})


def test_trash_moves_the_folder_to_the_freedesktop_trash(tmp_path):
    network, path = saved_network(tmp_path)
    run = train_run(network, path, epochs=1)
    done = trash_elsewhere(run.folder, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert not os.path.exists(run.folder) and list_runs(path) == []
    trashed = tmp_path / "data" / "Trash" / "files" / run.name
    assert (trashed / "run.json").is_file() and (trashed / "metrics.csv").is_file()
    info = (tmp_path / "data" / "Trash" / "info" / f"{run.name}.trashinfo").read_text()
    assert "Path=" in info and "DeletionDate=" in info  # restorable from the desktop's trash
    with pytest.raises(RunFileError, match="not a run folder"):
        trash_run(tmp_path)
    assert os.path.isdir(tmp_path)
