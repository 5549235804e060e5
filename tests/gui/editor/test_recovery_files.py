"""Recovery files left by crashed sessions are handled one by one: a damaged one is reported by name and set
aside, never costing the good ones; nonsense metadata (a time of 1e300, NaN, text, a negative time, a path
that is a number, a huge or unreadable file) is ignored and never stops the app from starting."""

import json
import os

import pytest
from PySide6.QtWidgets import QMessageBox

from engine.graph import fileformat, save_network
from engine.graph.templates import load_template
from gui import main_window
from gui.editor.files import DAMAGED_SUFFIX, Recovery

DEAD = 999_999_000  # above any pid the kernel hands out


def left(folder, pid, content, mtime, meta=None):
    """A recovery file of the dead process ``pid``: ``content`` is a template key or raw bytes."""
    path = folder / f"recovery-{pid}.llnet"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        save_network(load_template(content), str(path))
    if meta is not None:
        (folder / f"recovery-{pid}.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def folder(editor, tmp_path):
    path = tmp_path / "recovery"
    path.mkdir()
    editor.autosave.directory = str(path)
    return path


def test_a_damaged_recovery_file_does_not_cost_the_good_ones(editor, folder):
    good = left(folder, DEAD + 1, "resnet_cifar10", 1_000, {"original_path": "/work/resnet.llnet"})
    bad = left(folder, DEAD + 2, b'{"format": "layerlab.network", "version": 2, "nodes": [', 2_000)
    offered = []
    editor.window.ask_restore = lambda recovery: offered.append(recovery.path) or True
    assert editor.offer_recovery()
    assert offered == [str(good)]  # the damaged newest one is not offered
    assert len(editor.document.nodes) == 40 and editor.current_path == "/work/resnet.llnet"
    assert len(editor.errors) == 1 and str(bad) in editor.errors[0] and "bad JSON" in editor.errors[0]
    assert os.path.exists(str(bad) + DAMAGED_SUFFIX) and not bad.exists()  # kept for the user, not offered again
    assert not good.exists()
    editor.errors.clear()
    assert not editor.offer_recovery() and not editor.errors


def test_each_good_file_is_offered_in_turn_until_one_is_restored(editor, folder):
    oldest = left(folder, DEAD + 1, "mlp_fashion_mnist", 1_000)
    middle = left(folder, DEAD + 2, "resnet_cifar10", 2_000)
    newest = left(folder, DEAD + 3, "lenet_cifar10", 3_000)
    answers = iter([False, True])
    offered = []
    editor.window.ask_restore = lambda recovery: offered.append(recovery.path) or next(answers)
    assert editor.offer_recovery()
    assert offered == [str(newest), str(middle)]
    assert len(editor.document.nodes) == 40
    assert not newest.exists() and not middle.exists()  # declined, then restored
    assert oldest.exists()  # not reached: offered at the next start


def test_a_declined_file_goes_and_a_damaged_one_stays_aside(editor, folder):
    bad = left(folder, DEAD + 1, b"\x00\xff garbage", 1_000)
    good = left(folder, DEAD + 2, "lenet_cifar10", 2_000)
    editor.answers["restore"] = False
    assert not editor.offer_recovery()
    assert not good.exists() and os.path.exists(str(bad) + DAMAGED_SUFFIX)
    assert "not UTF-8" in editor.errors[0] and editor.document.nodes == {}


def test_an_oversized_recovery_file_is_reported_without_reading_it(editor, folder, monkeypatch):
    big = left(folder, DEAD + 1, "resnet_cifar10", 1_000)
    monkeypatch.setattr(fileformat, "MAX_BYTES", 1_000)
    editor.answers["restore"] = True
    assert not editor.offer_recovery()
    assert str(big) in editor.errors[0] and "over the" in editor.errors[0]


NONSENSE = ['{"saved_at": 1e300}', '{"saved_at": NaN}', '{"saved_at": Infinity}', '{"saved_at": "yesterday"}',
            '{"saved_at": -5}', '{"saved_at": true}', '{"saved_at": 1e18, "original_path": 7}', "[1, 2]", "{",
            '{"original_path": ["a"]}', '{"saved_at": ' + "9" * 5000 + "}", "[" * 100_000, "\udcff"]


@pytest.mark.parametrize("meta", NONSENSE)
def test_nonsense_metadata_is_ignored(editor, folder, monkeypatch, meta):
    path = left(folder, DEAD + 1, "lenet_cifar10", 1_000)
    (folder / f"recovery-{DEAD + 1}.json").write_text(meta, encoding="utf-8", errors="surrogateescape")
    recovery = Recovery(str(path))
    assert recovery.saved_at is None and recovery.original_path is None
    questions = []
    monkeypatch.setattr(main_window.QMessageBox, "question",
                        lambda *args: questions.append(args[2]) or QMessageBox.Yes)
    del editor.window.ask_restore  # the window's own question, its dialog answered by the stand-in above
    assert editor.offer_recovery()
    assert questions == ["LayerLab did not close normally. Restore the unsaved network?"]


def test_sensible_metadata_is_shown(editor, folder, monkeypatch):
    left(folder, DEAD + 1, "lenet_cifar10", 1_000, {"original_path": "/w/net.llnet", "saved_at": 1_700_000_000.5})
    questions = []
    monkeypatch.setattr(main_window.QMessageBox, "question",
                        lambda *args: questions.append(args[2]) or QMessageBox.No)
    del editor.window.ask_restore
    assert not editor.offer_recovery()
    assert "(last saved as /w/net.llnet) from " in questions[0] and " 2023?" not in questions[0]


def test_oversized_fifo_metadata_and_odd_names_are_ignored(editor, folder):
    path = left(folder, DEAD + 1, "lenet_cifar10", 1_000)
    os.mkfifo(folder / f"recovery-{DEAD + 1}.json")  # a blocking read would hang the start
    assert Recovery(str(path)).saved_at is None
    with open(folder / f"recovery-{DEAD + 2}.json", "wb") as f:
        f.truncate(10 * 1024 * 1024)
    assert Recovery(str(folder / f"recovery-{DEAD + 2}.llnet")).original_path is None
    left(folder, "9" * 20, "lenet_cifar10", 500)  # a pid no process can have (os.kill overflows)
    left(folder, "9" * 40, "lenet_cifar10", 400)  # not a name we write
    (folder / "recovery-abc.llnet").write_text("x")
    (folder / "notes.llnet").write_text("x")
    found = editor.autosave.left_behind()
    assert [os.path.basename(r.path) for r in found] == [f"recovery-{DEAD + 1}.llnet", f"recovery-{'9' * 20}.llnet"]


def test_a_missing_recovery_folder_or_an_unreadable_one_offers_nothing(editor, tmp_path):
    editor.autosave.directory = str(tmp_path / "missing")
    assert not editor.offer_recovery()
    (tmp_path / "file").write_text("x")
    editor.autosave.directory = str(tmp_path / "file")
    assert not editor.offer_recovery() and not editor.errors


def test_a_recovery_file_that_cannot_be_removed_does_not_stop_the_start(editor, folder, monkeypatch):
    path = left(folder, DEAD + 1, "lenet_cifar10", 1_000)

    def refuse(p):
        raise PermissionError(13, "Permission denied", p)

    monkeypatch.setattr(os, "remove", refuse)
    editor.answers["restore"] = False
    assert not editor.offer_recovery()  # before: the error escaped at start
    assert path.exists()  # offered again next time


def test_temporary_files_of_writes_a_crash_cut_short_go_at_the_next_start(editor, folder):
    """A killed autosave leaves ``.recovery-<pid>.llnet.<pid>-<hex>.tmp``; no later write has that target (the
    name carries the dead pid), so the scan for recovery files removes it; a live writer's stays."""
    dead = folder / f".recovery-{DEAD}.llnet.{DEAD}-0123456789ab.tmp"
    dead_meta = folder / f".recovery-{DEAD}.json.{DEAD}-0123456789ab.tmp"
    live = folder / f".recovery-{os.getpid()}.llnet.{os.getpid()}-0123456789ab.tmp"
    for path in (dead, dead_meta, live):
        path.write_bytes(b'{"format": "layerla')
    editor.window.ask_restore = lambda recovery: False
    editor.offer_recovery()
    assert sorted(os.listdir(folder)) == [live.name]
