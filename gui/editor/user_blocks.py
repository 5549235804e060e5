"""User blocks: groups saved to the palette ("My blocks") to be added to any network again, one JSON file a
block in a folder of the user's application data::

    {"format": "layerlab.block", "version": 1, "name": "stem", "description": "...",
     "fragment": {"nodes": [...], "edges": [...], "groups": [...]}}

The fragment is ``copy_fragment``'s, what the clipboard carries, so adding a block is a paste. The files are
read like documents, as untrusted data: within a byte budget, as JSON only (nothing in them is run), the
fragment checked completely (``fragment_from_json``). A file that is not a valid block is left out of the list
and reported in ``problems``, so one bad file never hides the others or stops the editor. A block's file name is
made from its name (safe characters and a hash of the whole name), so no name reaches outside the folder and
saving a name again replaces its block.
"""

import hashlib
import os
import re
import warnings
from dataclasses import dataclass

from PySide6.QtCore import QStandardPaths

from engine.graph import NetworkFileError
from engine.graph.fileformat import MAX_TEXT, dumps, fragment_from_json, parse_json
from engine.graph.inference import infer
from engine.graph.limits import MAX_NAME_LENGTH
from engine.utils.files import atomic_write_text, read_limited

BLOCK_MIME = "application/x-layerlab-block"  # a palette drag of a user block: its name, UTF-8
FORMAT = "layerlab.block"
VERSION = 1
EXTENSION = ".json"
MAX_BLOCK_BYTES = 16 * 1024 * 1024  # a 20,000-node network is about 3 MiB


def default_blocks_dir():
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or os.path.expanduser("~/.layerlab")
    return os.path.join(base, "blocks")


def name_problem(name):
    """Why ``name`` cannot name a block, or None (any printable text: it is shown, not used as a path)."""
    if not isinstance(name, str) or not name.strip():
        return "a block needs a name"
    if len(name) > MAX_NAME_LENGTH:
        return f"a block's name has at most {MAX_NAME_LENGTH} characters, {name[:20]!r}... has {len(name):,}"
    if not name.isprintable():
        return f"a block's name cannot hold control characters: {name!r:.80}"
    return None


def description_problem(description):
    if not isinstance(description, str) or len(description) > MAX_TEXT:
        return f"a block's description is text of at most {MAX_TEXT:,} characters"
    try:
        description.encode("utf-8")
    except UnicodeEncodeError:
        return "a block's description must be valid Unicode text"
    return None


def file_name(name):
    """The file of the block ``name``: its letters, digits, _ and - (at most 60), then a hash of the whole name,
    so different names never share a file and no name can reach outside the folder."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_-")[:60] or "block"
    return f"{slug}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}{EXTENSION}"


@dataclass(frozen=True)
class UserBlock:
    name: str
    description: str
    path: str
    layers: int  # the nodes it adds
    params: int | None  # None unless every node gets a shape within the block (one without an Input gets none)


class UserBlocks:
    """The saved blocks in ``folder`` (default: ``<app data>/blocks``). ``problems`` lists ``(path, message)``
    for each file the last ``blocks()`` left out."""

    def __init__(self, folder=None):
        self.folder = os.path.abspath(folder if folder is not None else default_blocks_dir())
        self.problems = []

    def path(self, name):
        return os.path.join(self.folder, file_name(name))

    def save(self, name, fragment, description=""):
        """Save (or replace) the block ``name``; returns its path. ``ValueError`` for a bad name or description,
        ``NetworkFileError`` for a fragment that is not a valid one or a file that cannot be written."""
        problem = name_problem(name) or description_problem(description)
        if problem:
            raise ValueError(problem)
        name = name.strip()
        path = self.path(name)
        if not fragment_from_json(fragment, path).nodes:
            raise NetworkFileError(path, "a block needs at least one layer")
        text = dumps({"format": FORMAT, "version": VERSION, "name": name, "description": description,
                      "fragment": fragment})
        if len(text.encode("utf-8")) > MAX_BLOCK_BYTES:
            raise NetworkFileError(path, f"the block is over the {MAX_BLOCK_BYTES // 2 ** 20} MiB a block may have")
        atomic_write_text(path, text, NetworkFileError)
        return path

    def blocks(self):
        """Every valid block, sorted by name; the files that are not are in ``problems`` afterwards."""
        self.problems, found = [], {}
        for path in self._files():
            try:
                with warnings.catch_warnings():  # unknown keys: read anyway, as a document's are
                    warnings.simplefilter("ignore")
                    name, description, network = self._read(path)
            except NetworkFileError as e:
                self.problems.append((path, e.problem))
                continue
            block = UserBlock(name, description, path, len(network.nodes), _params(network))
            if name in found:  # the file save() writes wins, as in fragment() and remove()
                kept, other = (block, found[name]) if path == self.path(name) else (found[name], block)
                self.problems.append((other.path, f"a second block named {name!r}; {kept.path} is used"))
                block = kept
            found[name] = block
        return sorted(found.values(), key=lambda b: (b.name.casefold(), b.name))

    def fragment(self, name):
        """The block's fragment (for the controller's paste), checked again now: ``NetworkFileError`` naming its
        file when it is gone or no longer a valid block."""
        path = self._find(name)
        fragment = _load(path)["fragment"]
        fragment_from_json(fragment, path)
        return fragment

    def remove(self, name):
        """Delete the block's file; whether there was one. ``NetworkFileError`` when it cannot be removed."""
        path = self._find(name)
        try:
            os.remove(path)
        except FileNotFoundError:
            return False
        except OSError as e:
            raise NetworkFileError(path, f"cannot remove the block: {e.strerror or e}") from None
        return True

    # ----- reading -----
    def _files(self):
        try:
            names = sorted(os.listdir(self.folder))
        except FileNotFoundError:
            return []
        except OSError as e:
            self.problems.append((self.folder, f"cannot list the blocks: {e.strerror or e}"))
            return []
        return [os.path.join(self.folder, n) for n in names if n.endswith(EXTENSION) and not n.startswith(".")]

    def _read(self, path):
        """``(name, description, scratch network)`` of the block file ``path``, or ``NetworkFileError``."""
        data = _load(path)
        return data["name"], data["description"], fragment_from_json(data["fragment"], path)

    def _find(self, name):
        """The file of the block ``name``: where ``save`` puts it, else a listed file that holds it (one copied
        in under another name)."""
        path = self.path(name)
        if os.path.exists(path):
            return path
        for block in self.blocks():
            if block.name == name:
                return block.path
        return path


def _load(path):
    """The checked top level of a block file (its fragment still to be checked)."""
    raw = read_limited(path, MAX_BLOCK_BYTES, NetworkFileError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NetworkFileError(path, "not a LayerLab block: the file is not UTF-8 text") from None
    data = parse_json(text, path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        kind = f"format is {data.get('format')!r:.60}" if isinstance(data, dict) else f"a JSON {type(data).__name__}"
        raise NetworkFileError(path, f"not a LayerLab block ({kind}, not {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NetworkFileError(path, f"'version' must be a positive integer, got {version!r:.60}")
    if version > VERSION:
        raise NetworkFileError(path, f"the block is version {version}, newer than this LayerLab reads ({VERSION}); "
                                     "update LayerLab")
    name, description = data.get("name"), data.get("description", "")
    problem = name_problem(name)
    if problem:
        raise NetworkFileError(path, problem)
    problem = description_problem(description)
    if problem:
        raise NetworkFileError(path, problem)
    if not isinstance(data.get("fragment"), dict):
        raise NetworkFileError(path, "the block has no 'fragment' object of nodes")
    return {"name": name.strip(), "description": description, "fragment": data["fragment"]}


def _params(network):
    """The parameters of every node of ``network`` with its repeats, or None unless every node has a shape."""
    if not network.nodes or network.input_node() is None:
        return None
    result = infer(network)
    if any(info.error or info.blocked for info in result.nodes.values()):
        return None
    return sum(info.params for info in result.nodes.values())
