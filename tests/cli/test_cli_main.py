"""``main.py`` without a command opens the GUI (or says why it cannot); with one it runs the command."""

import sys
import types

import main as entry


def test_no_arguments_open_the_gui(monkeypatch):
    monkeypatch.setattr(entry.qt_platform, "problem", lambda: None)  # whether this machine has a display
    calls = []
    monkeypatch.setitem(sys.modules, "gui.app", types.SimpleNamespace(main=lambda argv: calls.append(argv) or 0))
    assert entry.main([]) == 0
    assert entry.main(["net.llnet"]) == 0
    assert calls == [[], ["net.llnet"]]


def test_without_the_gui_the_help_says_why(monkeypatch, capsys):
    monkeypatch.setattr(entry.qt_platform, "problem", lambda: None)
    monkeypatch.setitem(sys.modules, "gui.app", None)  # import gui.app raises ImportError
    assert entry.main([]) == 1
    out, err = capsys.readouterr()
    assert "usage: main.py" in out and "summary" in out
    assert "the GUI is unavailable (import of gui.app halted; None in sys.modules)" in err


def test_a_command_does_not_start_the_gui(monkeypatch, cli):
    monkeypatch.setitem(sys.modules, "gui.app", None)
    result = cli("summary", "missing.llnet")
    assert result.code == 2 and "GUI" not in result.err
    assert cli().code == 1  # no command: the GUI, unavailable here
