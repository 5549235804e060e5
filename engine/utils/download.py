"""Streaming a URL into a file with a progress bar: shared by dataset downloads and ``engine.hub``.

Callers write into a temporary file beside the target (``files.temporary_file_beside``) and rename it into
place only after their own checks (length here; MD5 or SHA-256 there), so nothing half-downloaded is kept.
"""

import hashlib
import os
import sys
import urllib.request

USER_AGENT = "layerlab"
CHUNK = 1 << 20


class _TextProgress:
    """A stand-in for tqdm when it is not installed: a percentage line on stderr."""

    def __init__(self, total=None, desc="", **_):
        self.total, self.desc, self.n, self._last = total, desc, 0, -1

    def update(self, n):
        self.n += n
        if self.total:
            pct = int(100 * self.n / self.total)
            if pct != self._last:
                self._last = pct
                sys.stderr.write(f"\r{self.desc}: {pct:3d}% {self.n}/{self.total} B")
        else:
            sys.stderr.write(f"\r{self.desc}: {self.n} B")

    def close(self):
        sys.stderr.write("\n")
        sys.stderr.flush()


def _progress_bar(total, desc, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return _TextProgress(total=total, desc=desc)
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)


def fetch(url, dest, progress, timeout):
    """Stream ``url`` into the file ``dest``; raise if the transfer ends short of its Content-Length.
    ``progress``: True for a console bar, False for none, or ``progress(received, total)``."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        report = progress if callable(progress) else None
        bar = None if report else _progress_bar(total, os.path.basename(dest).split(".part")[0].lstrip("."), progress)
        received = 0
        try:
            while True:
                chunk = response.read(CHUNK // 4)
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
                if report is not None:
                    report(received, total)
        finally:
            if bar is not None:
                bar.close()
        if total is not None and received != total:
            raise OSError(f"transfer interrupted: received {received} of {total} bytes from {url}")


def file_digest(path, algorithm, chunk_size=CHUNK):
    """The hex digest of the file at ``path`` with hashlib's ``algorithm`` ("md5", "sha256"), read in chunks;
    a checksum of a download, not a security measure."""
    h = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()
