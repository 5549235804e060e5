"""Why Qt cannot open a window, said before Qt tries.

When a system library of Qt's xcb platform plugin is missing, Qt prints a misleading line ("xcb-cursor0 is
needed") and aborts the process. Here ``ldd`` is asked which libraries of the plugin (and of Qt's own
libraries) are missing, each is named with the Debian/Ubuntu package that provides it, and the user gets the
command that installs them. ``python -m gui.qt_platform --missing-packages`` prints just the package names
(``scripts/setup`` installs them). Qt is not imported here: this must work when Qt cannot load.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys

# Libraries whose Debian package name does not follow the soname rule below.
PACKAGE_EXCEPTIONS = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
}
_SONAME = re.compile(r"^(?P<name>lib[\w.+-]+?)\.so\.(?P<version>[\d.]+)$")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


def debian_package(soname):
    """The Debian package that ships ``soname`` by Debian's library naming policy: ``libxcb-icccm.so.4`` →
    ``libxcb-icccm4``, ``libxkbcommon-x11.so.0`` → ``libxkbcommon-x11-0`` (a hyphen when the name ends in a
    digit), lower case; a few exceptions are listed. None when ``soname`` is not of the ``libNAME.so.N`` form."""
    if soname in PACKAGE_EXCEPTIONS:
        return PACKAGE_EXCEPTIONS[soname]
    match = _SONAME.match(soname)
    if match is None:
        return None
    name, version = match["name"].lower(), match["version"].split(".")[0]
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def missing_libraries(binaries):
    """Sonames that the dynamic loader cannot find for any of ``binaries`` (``ldd``'s "not found" lines), in
    first-seen order; empty when ``ldd`` is not available."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    if not binaries:
        return []
    result = subprocess.run([ldd, *binaries], capture_output=True, text=True, check=False)  # one call: app start
    return list(dict.fromkeys(_NOT_FOUND.findall(result.stdout)))


def qt_binaries():
    """The files Qt loads to open a window on X11: the xcb platform plugin and Qt's GUI libraries."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    qt = os.path.join(spec.submodule_search_locations[0], "Qt")
    names = ["plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6", "lib/libQt6Gui.so.6", "lib/libQt6Widgets.so.6"]
    return [path for path in (os.path.join(qt, name) for name in names) if os.path.exists(path)]


def uses_xcb(environ=os.environ, platform=sys.platform):
    """Whether Qt will open its windows through the xcb plugin (Linux, no other platform asked for)."""
    wanted = environ.get("QT_QPA_PLATFORM", "")
    return platform.startswith("linux") and (wanted == "" or wanted.startswith("xcb"))


def install_command(packages):
    prefix = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    return f"{prefix}apt-get install -y {' '.join(packages)}"


def missing_packages(libraries):
    """The packages providing ``libraries`` (in order, without repeats), and the libraries no rule names."""
    packages, unknown = [], []
    for soname in libraries:
        package = debian_package(soname)
        if package is None:
            unknown.append(soname)
        elif package not in packages:
            packages.append(package)
    return packages, unknown


def problem(environ=os.environ, platform=sys.platform, binaries=None):
    """What stops Qt from opening a window here, as a message for a person, or None when nothing is known to."""
    if not uses_xcb(environ, platform):
        return None
    libraries = missing_libraries(qt_binaries() if binaries is None else binaries)
    if libraries:
        packages, unknown = missing_packages(libraries)
        lines = [f"LayerLab cannot open its window: Qt's X11 platform plugin needs system libraries that are not "
                 f"installed: {', '.join(libraries)}."]
        if packages:
            lines.append(f"On Debian or Ubuntu, install them with:\n    {install_command(packages)}")
            lines.append("(or run scripts/setup, which installs everything LayerLab needs)")
        if unknown:
            lines.append(f"Install the packages that provide: {', '.join(unknown)}.")
        return "\n".join(lines)
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return ("LayerLab cannot open its window: there is no display (DISPLAY is not set). Run it on a desktop, "
                "under a virtual screen (xvfb-run python main.py), or use the headless commands "
                "(python main.py --help).")
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--missing-packages"]:
        packages, _unknown = missing_packages(missing_libraries(qt_binaries()))
        print(" ".join(packages))
        return 0
    message = problem()
    print(message or "Qt's xcb platform plugin has every system library it needs.")
    return 1 if message else 0


if __name__ == "__main__":
    sys.exit(main())
