"""A save that fails (full disk, unwritable folder) is shown and loses nothing: closing is cancelled and the
window keeps the edits and the recovery file; Save As leaves the current file alone; the autosave timer reports
in the status bar and never raises out of its slot."""

import errno
import json
import os
import warnings

import pytest

from engine.graph import fileformat, load_network, network_to_json
from engine.graph.templates import load_template

REAL_WRITE = fileformat.atomic_write_text


def full_disk_outside(folder):
    """An ``atomic_write_text`` for which the disk is full, except under ``folder`` (the recovery files)."""

    def write(path, text):
        if os.path.abspath(path).startswith(os.path.abspath(folder) + os.sep):
            return REAL_WRITE(path, text)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    return write


def test_closing_with_a_failed_save_keeps_the_window_the_edits_and_the_recovery_file(lenet, tmp_path, monkeypatch):
    lenet.set_param("n2", "out_channels", 8)
    assert lenet.autosave.save_now()
    recovery = lenet.autosave.path
    lenet.set_param("n5", "out_channels", 20)
    monkeypatch.setattr(fileformat, "atomic_write_text", full_disk_outside(lenet.autosave.directory))
    lenet.answers["save_changes"] = "save"
    lenet.answers["save_path"] = str(tmp_path / "work.llnet")
    assert not lenet.window.close()  # before: NetworkFileError escaped closeEvent and the window closed
    assert lenet.isVisible() and lenet.isWindowModified() and not lenet.undo_stack.isClean()
    assert lenet.document.node("n2").params["out_channels"] == 8
    assert lenet.document.node("n5").params["out_channels"] == 20
    assert "No space left on device" in lenet.errors[-1] and "work.llnet" in lenet.errors[-1]
    assert not (tmp_path / "work.llnet").exists() and lenet.current_path is None
    assert os.path.exists(recovery)  # kept, and brought up to date with the last edit
    assert load_network(recovery).node("n5").params["out_channels"] == 20
    monkeypatch.setattr(fileformat, "atomic_write_text", REAL_WRITE)  # space again: now it closes
    assert lenet.window.close()
    assert load_network(tmp_path / "work.llnet").node("n5").params["out_channels"] == 20
    assert not os.path.exists(recovery)


def test_a_failing_disk_everywhere_still_cancels_the_close(lenet, tmp_path, monkeypatch):
    lenet.set_param("n2", "out_channels", 8)
    lenet.autosave.save_now()
    recovery = lenet.autosave.path
    lenet.set_param("n2", "out_channels", 9)
    monkeypatch.setattr(fileformat, "atomic_write_text", full_disk_outside(tmp_path / "nowhere"))
    lenet.answers["save_changes"] = "save"
    lenet.answers["save_path"] = str(tmp_path / "work.llnet")
    assert not lenet.window.close()
    assert lenet.isVisible() and lenet.document.node("n2").params["out_channels"] == 9
    assert load_network(recovery).node("n2").params["out_channels"] == 8  # the older recovery survives


def test_saving_into_an_unwritable_folder_is_shown(lenet, tmp_path):
    (tmp_path / "a file").write_text("x", encoding="utf-8")
    lenet.set_param("n2", "out_channels", 8)
    assert not lenet.save_file(str(tmp_path / "a file" / "net.llnet"))  # a folder that cannot exist
    assert "cannot write the file" in lenet.errors[-1] and "net.llnet" in lenet.errors[-1]
    assert lenet.isWindowModified() and lenet.current_path is None
    lenet.answers["save_changes"] = "save"
    lenet.answers["save_path"] = str(tmp_path / "a file" / "other.llnet")
    assert not lenet.window.close()
    assert lenet.isVisible() and lenet.document.node("n2").params["out_channels"] == 8
    assert "other.llnet" in lenet.errors[-1] and os.path.exists(lenet.autosave.path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_saving_into_a_read_only_folder_is_shown(lenet, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        lenet.set_param("n2", "out_channels", 8)
        assert not lenet.save_file(str(folder / "net.llnet"))
        assert "Permission denied" in lenet.errors[-1]
    finally:
        folder.chmod(0o700)


def test_save_as_failing_keeps_the_current_file(lenet, tmp_path, monkeypatch):
    first = tmp_path / "first.llnet"
    assert lenet.save_file(str(first))
    lenet.set_param("n2", "out_channels", 8)
    monkeypatch.setattr(fileformat, "atomic_write_text", full_disk_outside(lenet.autosave.directory))
    lenet.answers["save_path"] = str(tmp_path / "second.llnet")
    lenet.save_as_action.trigger()  # before: the exception escaped the action
    assert "No space left on device" in lenet.errors[-1] and "second.llnet" in lenet.errors[-1]
    assert lenet.current_path == str(first) and lenet.isWindowModified()
    assert not (tmp_path / "second.llnet").exists()
    lenet.save_action.trigger()
    assert "first.llnet" in lenet.errors[-1] and len(lenet.errors) == 2
    assert load_network(first).node("n2").params["out_channels"] != 8


def test_a_failing_autosave_is_shown_in_the_status_bar_and_never_raises(lenet, tmp_path, qtbot):
    (tmp_path / "a file").write_text("x", encoding="utf-8")
    lenet.autosave.directory = str(tmp_path / "a file" / "recovery")
    lenet.autosave.path = os.path.join(lenet.autosave.directory, "recovery-1.llnet")
    lenet.set_param("n2", "out_channels", 8)
    lenet.autosave.timer.timeout.emit()  # the slot, as the timer calls it: pytest-qt fails on an exception
    message = lenet.statusBar().currentMessage()
    assert message.startswith("Autosave failed:") and "recovery" in message
    assert not lenet.errors  # no dialog from a timer
    assert not lenet.autosave.save_now()


def test_the_autosave_timer_survives_a_full_disk(lenet, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(fileformat, "atomic_write_text", full_disk_outside(tmp_path / "nowhere"))
    lenet.autosave.timer.setInterval(10)
    lenet.set_param("n2", "out_channels", 8)
    qtbot.waitUntil(lambda: "No space left" in lenet.statusBar().currentMessage(), timeout=3000)
    assert lenet.autosave.timer.isActive()
    monkeypatch.setattr(fileformat, "atomic_write_text", REAL_WRITE)
    qtbot.waitUntil(lambda: os.path.exists(lenet.autosave.path), timeout=3000)  # the next tick writes it
    lenet.autosave.timer.stop()


def test_opening_a_file_with_unknown_keys_says_so_in_the_status_bar(editor, tmp_path):
    data = network_to_json(load_template("lenet_cifar10"))
    data["colour"] = "blue"
    path = tmp_path / "extra.llnet"
    path.write_text(json.dumps(data), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # caught by the window, not let through
        assert editor.open_file(str(path))
    message = editor.statusBar().currentMessage()
    assert "with warnings" in message and "'colour'" in message and "extra.llnet" in message
    assert len(editor.document.nodes) == 14
