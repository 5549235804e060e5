"""Runs that follow their document to its file.

A run of a network that has no file yet goes to the shared default runs folder (``$LAYERLAB_RUNS``). When the
document first gets a file, the runs this window made for it move into ``NET.runs/`` beside it; a run still
training then moves when it ends, since its callbacks write to its folder until then. Other documents' runs in
the shared folder are left alone. A later Save As under another name leaves the runs with the file they were
made for (that file still exists and still owns them); new runs go beside the new file.
"""

import os
from dataclasses import dataclass, field

from engine.training.runs import move_run, runs_folder


@dataclass
class RunsMoved:
    """What a move did: ``moved`` pairs ``(old folder, new folder)``, ``failed`` pairs ``(folder, reason)``."""

    destination: str
    moved: list = field(default_factory=list)
    failed: list = field(default_factory=list)

    def failure_text(self):
        """A message naming each run that could not be moved and where it still is; empty when all moved."""
        return "\n".join(f"Could not move run {os.path.basename(folder)} to {self.destination} ({reason}); it is "
                         f"still in {os.path.dirname(folder)}." for folder, reason in self.failed)


class DocumentRuns:
    def __init__(self):
        self.path = None  # the document's file; None while it has none
        self.unsaved = []  # folders of the runs started here while the document had no file
        self.live = None  # (folder, destination) of a running run to move when it ends
        self.earlier_runs = None  # runs folder of the file the document was saved from under another name

    def forget(self):
        """Another document is shown: the runs tracked belong to the old one."""
        self.path, self.unsaved, self.live, self.earlier_runs = None, [], None, None

    def run_started(self, folder, unsaved_document):
        """A new run (``unsaved_document``: of the document while it had no file) began in ``folder``."""
        if not unsaved_document:
            return
        if self.path is None:
            self.unsaved.append(folder)
        else:  # the document got a file while the run was loading its data
            self.live = (folder, runs_folder(self.path))

    def file_changed(self, path, live_folder=None):
        """The document's file is now ``path`` (None: none). At its first file, move the runs made before it
        (``live_folder``, still training, waits for ``run_ended``). A ``RunsMoved``, or None when nothing moved."""
        previous, self.path = self.path, path
        if path is None or previous == path:
            return None
        if previous is not None:
            earlier = runs_folder(previous)
            self.earlier_runs = earlier if os.path.isdir(earlier) else None
        folders, self.unsaved = self.unsaved, []
        destination = runs_folder(path)
        if live_folder in folders:
            folders.remove(live_folder)
            self.live = (live_folder, destination)
        return move_runs(folders, destination) if folders else None

    def run_ended(self, folder):
        """The run in ``folder`` has ended: move it if the document got a file meanwhile."""
        if self.live is None or self.live[0] != folder:
            return None
        (folder, destination), self.live = self.live, None
        return move_runs([folder], destination)


def move_runs(folders, destination):
    """Move each run folder into ``destination``; one that cannot be moved stays where it is."""
    report = RunsMoved(destination)
    for folder in filter(os.path.isdir, folders):  # one deleted by hand meanwhile has nothing to move
        try:
            report.moved.append((folder, move_run(folder, destination)))
        except OSError as e:
            report.failed.append((folder, e.strerror or str(e)))
    return report
