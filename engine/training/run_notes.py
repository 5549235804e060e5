"""What a person says about a run: a title shown instead of its folder name, tags, and a free-text note.

They live in the run folder's own ``notes.json``, apart from ``run.json``: the training process rewrites
``run.json`` while it runs, and a rename made meanwhile (in the GUI, or from another shell) must neither be lost
nor race with it. The folder keeps its name, so sweeps and resumed runs still find it. Deleting a run moves its
folder to the desktop's trash (freedesktop.org trash on Linux, the Recycle Bin, the macOS Trash) through
Send2Trash, so a run deleted by mistake can be restored.
"""

import json
import os
from dataclasses import dataclass, field

from send2trash import send2trash

from ..utils.files import atomic_write_text
from ..utils.json_text import check_record, parse_json
from .run_errors import RunFileError
from .runs import read_text

FORMAT = "layerlab.run-notes"
VERSION = 1
FILE_NAME = "notes.json"
MAX_BYTES = 1 << 20
MAX_TITLE = 200
MAX_TAG = 64
MAX_TAGS = 64
MAX_NOTE = 100_000


@dataclass
class RunNotes:
    title: str = ""
    tags: list = field(default_factory=list)
    note: str = ""

    def label(self, folder_name):
        """The name a person sees: the title, else the folder's name."""
        return self.title or folder_name


def notes_path(folder):
    return os.path.join(os.fspath(folder), FILE_NAME)


def _checked_title(title, where):
    if not isinstance(title, str) or "\n" in title or "\r" in title or len(title) > MAX_TITLE:
        raise RunFileError(where, f"a run's title is one line of at most {MAX_TITLE} characters, got {title!r:.80}")
    return title.strip()


def _checked_tag(tag, where):
    text = tag.strip() if isinstance(tag, str) else tag
    if not isinstance(text, str) or not text or len(text) > MAX_TAG or "," in text or any(c.isspace() for c in text):
        raise RunFileError(where, f"a tag is one word of 1 to {MAX_TAG} characters without commas, got {tag!r:.80}")
    return text


def _checked_tags(tags, where):
    if not isinstance(tags, list):
        raise RunFileError(where, f"'tags' must be a list of words, got {tags!r:.80}")
    checked = list(dict.fromkeys(_checked_tag(tag, where) for tag in tags))
    if len(checked) > MAX_TAGS:
        raise RunFileError(where, f"a run has at most {MAX_TAGS} tags, got {len(checked)}")
    return checked


def _checked_note(note, where):
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise RunFileError(where, f"a run's note is text of at most {MAX_NOTE:,} characters")
    return note


def load_notes(folder):
    """The notes of the run in ``folder``: empty ones when it has none; ``RunFileError`` naming ``notes.json``
    when that file is damaged."""
    path = notes_path(folder)
    if not os.path.lexists(path):
        return RunNotes()
    data = parse_json(read_text(path, MAX_BYTES), path, RunFileError, max_depth=3)
    check_record(data, path, RunFileError, "run's notes", FORMAT, VERSION)
    return RunNotes(_checked_title(data.get("title", ""), path), _checked_tags(data.get("tags", []), path),
                    _checked_note(data.get("note", ""), path))


def save_notes(folder, notes):
    """Write ``notes`` (a ``RunNotes``) to the run folder atomically; values are checked first, so a refused
    value (``RunFileError``) leaves the file as it was."""
    path = notes_path(folder)
    if not os.path.isfile(os.path.join(os.fspath(folder), "run.json")):
        raise RunFileError(folder, "not a run folder (it has no run.json)")
    checked = RunNotes(_checked_title(notes.title, path), _checked_tags(list(notes.tags), path),
                       _checked_note(notes.note, path))
    data = {"format": FORMAT, "version": VERSION, "title": checked.title, "tags": checked.tags, "note": checked.note}
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", RunFileError)
    return checked


def edit_notes(folder, title=None, add_tags=(), remove_tags=(), note=None):
    """Change part of a run's notes (None and empty leave that part as it is); returns the new ``RunNotes``.
    Removing a tag the run does not have is refused, since it is most likely a typing mistake."""
    notes = load_notes(folder)
    path = notes_path(folder)
    missing = [tag for tag in remove_tags if tag not in notes.tags]
    if missing:
        have = ", ".join(notes.tags) or "none"
        raise RunFileError(path, f"the run has no tag {missing[0]!r} (its tags: {have})")
    tags = [tag for tag in notes.tags if tag not in set(remove_tags)] + [_checked_tag(t, path) for t in add_tags]
    return save_notes(folder, RunNotes(notes.title if title is None else title, tags,
                                       notes.note if note is None else note))


def trash_run(folder):
    """Move the run folder to the trash; ``RunFileError`` when it is not a run folder or the trash refuses."""
    folder = os.path.abspath(os.fspath(folder))
    if not os.path.isfile(os.path.join(folder, "run.json")):
        raise RunFileError(folder, "not a run folder (it has no run.json); nothing was moved to the trash")
    try:
        send2trash(folder)
    except OSError as e:
        raise RunFileError(folder, f"could not be moved to the trash ({e.strerror or e})") from None


def find_run(runs, key):
    """The run among ``runs`` (``Run`` objects) whose folder name is ``key``, else the one titled ``key``;
    ``LookupError`` with a message naming the runs there are when none is, or several share the title."""
    for run in runs:
        if run.name == key:
            return run
    titled = []
    for run in runs:
        try:
            if load_notes(run.folder).title == key:
                titled.append(run)
        except (RunFileError, OSError):
            continue
    if len(titled) == 1:
        return titled[0]
    names = ", ".join(run.name for run in runs) or "none"
    if titled:
        raise LookupError(f"{len(titled)} runs are titled {key!r} ({', '.join(r.name for r in titled)}): "
                       "name the run's folder")
    raise LookupError(f"no run named or titled {key!r} (the runs: {names})")
