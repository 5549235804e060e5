"""LayerLab, not Qt, says why a window cannot open: missing system libraries named with their Debian packages
and the command that installs them, or the missing display."""

import os
import shutil
import subprocess
import sys

import pytest

from gui import qt_platform

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libEGL.so.1", "libegl1"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("ld-linux-x86-64.so.2", None),
])
def test_debian_package_names(soname, package):
    assert qt_platform.debian_package(soname) == package


@pytest.fixture
def library_with_a_missing_dependency(tmp_path):
    """A real shared library linked against ``libxcb-layerlabtest.so.3``, which is then deleted."""
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("needs gcc and ldd to build a library with a missing dependency")
    (tmp_path / "dep.c").write_text("int dep(void) { return 1; }\n")
    (tmp_path / "user.c").write_text("int dep(void);\nint user(void) { return dep(); }\n")
    dep = tmp_path / "libxcb-layerlabtest.so.3"
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,-soname,libxcb-layerlabtest.so.3", "-o", str(dep),
                    str(tmp_path / "dep.c")], check=True)
    user = tmp_path / "libuser.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(user), str(tmp_path / "user.c"), str(dep)], check=True)
    dep.unlink()
    return str(user)


def test_missing_library_is_named_with_its_package_and_install_command(library_with_a_missing_dependency):
    assert qt_platform.missing_libraries([library_with_a_missing_dependency]) == ["libxcb-layerlabtest.so.3"]
    message = qt_platform.problem({"DISPLAY": ":0"}, "linux", [library_with_a_missing_dependency])
    assert "libxcb-layerlabtest.so.3" in message
    assert "apt-get install -y libxcb-layerlabtest3" in message


def test_nothing_missing_with_a_display_is_no_problem():
    assert qt_platform.missing_libraries([sys.executable]) == []
    assert qt_platform.problem({"DISPLAY": ":0"}, "linux", [sys.executable]) is None


def test_no_display_is_said_plainly():
    message = qt_platform.problem({}, "linux", [sys.executable])
    assert "no display" in message and "xvfb-run" in message


@pytest.mark.parametrize(("environ", "platform"), [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"), ({"QT_QPA_PLATFORM": "wayland"}, "linux"), ({}, "darwin"),
])
def test_other_platforms_are_left_to_qt(environ, platform, library_with_a_missing_dependency):
    assert qt_platform.problem(environ, platform, [library_with_a_missing_dependency]) is None


def test_qt_binaries_are_found_in_the_installed_pyside6():
    binaries = qt_platform.qt_binaries()
    assert any(path.endswith("libqxcb.so") for path in binaries)
    assert all(os.path.exists(path) for path in binaries)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb check is for Linux")
def test_main_explains_instead_of_letting_qt_abort():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1
    assert "LayerLab cannot open its window" in result.stderr
    assert "Aborted" not in result.stderr and "qt.qpa" not in result.stderr
