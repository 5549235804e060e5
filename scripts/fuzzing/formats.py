"""Structure-aware mutations, one family per file format. ``mutate(fmt, data, rng, other)`` returns
``(bytes, description)``: half the time a byte-level mutation (``mutators``), otherwise one that knows the
format: JSON tree edits, ZIP members with lying sizes and deflate bombs, ``.npy`` headers, safetensors
headers, pickles, IDX headers and gzip bombs, image headers. Deterministic from ``rng``."""

import functools
import gzip
import io
import json
import pickle
import struct
import warnings
import zipfile
import zlib

import numpy as np

from .mutators import mutate_bytes

SLOT = "\x00slot\x00"
BOMB_BYTES = 1 << 30  # what a bomb expands to: far over any budget, under the children's memory cap


# ----------------------------------------------------------------------------------------- JSON
def _paths(tree, prefix=()):
    """Every (path, value) in a JSON tree, containers included."""
    yield prefix, tree
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _paths(v, (*prefix, i))


def _set(tree, path, value):
    if not path:
        return value
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return tree


def _deep(rng):
    depth = rng.choice((1000, 1100, 5000, 100_000))
    if rng.random() < 0.5:
        return "[" * depth + "0" + "]" * depth, f"nesting {depth} lists deep"
    return '{"a":' * depth + "0" + "}" * depth, f"nesting {depth} objects deep"


NUMBERS = ("1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1e-400", "-0", "1e300", "-1e300",
           "9007199254740993", "18446744073709551617", "1" + "0" * 5000, "2147483648", "-2147483649", "0.5")
SWAPS = ("null", "true", "false", '"text"', "[]", "{}", "0", "-1", "1.5", '[1, 2, 3]', '{"k": 1}', '""')


def mutate_json_value(tree, rng):
    """A JSON text: ``tree`` with one edit; the edit's raw text lands where ``SLOT`` is."""
    tree = json.loads(json.dumps(tree))
    spots = list(_paths(tree))
    path, value = rng.choice(spots)
    op = rng.choice(("deep", "number", "swap", "dup", "unknown", "long", "delete", "grow"))
    raw, what = None, ""
    dicts = [(p, v) for p, v in spots if isinstance(v, dict) and v]
    if op == "deep":
        raw, what = _deep(rng)
    elif op == "number":
        raw = rng.choice(NUMBERS)
        what = f"number {raw[:20]}"
    elif op == "swap":
        raw = rng.choice(SWAPS)
        what = f"type swap to {raw}"
    elif op == "long":
        raw = json.dumps("x" * rng.choice((10_000, 1_000_000, 5_000_000)))
        what = f"string of {len(raw)} characters"
    elif op == "grow" and isinstance(value, list) and value:
        times = rng.choice((100, 10_000))
        tree = _set(tree, path, value * times)
        return json.dumps(tree), f"list at {list(path)[:6]} repeated {times} times"
    elif op in ("dup", "unknown", "delete") and dicts:
        path, value = rng.choice(dicts)
        key = rng.choice(list(value))
        if op == "delete":
            del value[key]
            return json.dumps(tree), f"delete key {key!r} at {list(path)[:6]}"
        if op == "unknown":
            value[f"unknown_{rng.randrange(100)}"] = rng.choice((1, "x", [1], {"y": None}))
            return json.dumps(tree), f"unknown key at {list(path)[:6]}"
        value[SLOT] = 0
        other = json.dumps(rng.choice((None, 1, "other", [0], {})))
        text = json.dumps(tree).replace(json.dumps(SLOT) + ": 0", json.dumps(key) + ": " + other)
        return text, f"duplicate key {key!r} at {list(path)[:6]}"
    else:
        raw, what = rng.choice(NUMBERS), "number"
    tree = _set(tree, path, SLOT)
    return json.dumps(tree).replace(json.dumps(SLOT), raw, 1), f"{what} at {list(path)[:6]}"


def _json(data, rng, other):
    try:
        tree = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng, other)
    if rng.random() < 0.05 and isinstance(tree, dict) and isinstance(tree.get("nodes"), list):
        return _chain(tree, rng)
    text, what = mutate_json_value(tree, rng)
    return text.encode("utf-8", "surrogatepass"), what


def _chain(tree, rng):
    """A network document whose middle is a chain of thousands of ReLUs: loading must stay linear."""
    n = rng.choice((2000, 10_000, 20_000))
    first = tree["nodes"][0]
    nodes = [first] + [{"id": f"c{i}", "type": "ReLU", "name": f"chain{i}", "params": {}, "position": [i, 0]}
                       for i in range(n)]
    edges = [{"from": first["id"], "to": "c0", "port": 0}]
    edges += [{"from": f"c{i}", "to": f"c{i + 1}", "port": 0} for i in range(n - 1)]
    tree = dict(tree, nodes=nodes, edges=edges)
    return json.dumps(tree).encode(), f"chain of {n} nodes"


def _text(data, rng, other):
    """A line-oriented text file (CSV, JSON lines): edit one line, or duplicate lines."""
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    choice = rng.random()
    if choice < 0.3:
        try:
            text, what = mutate_json_value(json.loads(lines[i]), rng)
            lines[i] = text.encode()
            return b"\n".join(lines), f"line {i}: {what}"
        except ValueError:
            pass
    if choice < 0.6:
        cells = lines[i].split(b",")
        j = rng.randrange(len(cells))
        cells[j] = rng.choice((b"nan", b"inf", b"-1e400", b"", b"x" * 100_000, b"1" * 5000, b'"', b"\x00"))
        lines[i] = b",".join(cells)
        return b"\n".join(lines), f"line {i} cell {j} replaced"
    if choice < 0.7:
        return b"\n".join(lines + [lines[i]] * 100_000), f"line {i} repeated 100000 times"
    return mutate_bytes(data, rng, other)


# ----------------------------------------------------------------------------------------- ZIP
@functools.cache
def _zeros_deflated():
    """A raw deflate stream of ``BOMB_BYTES`` zeros (about 1 MiB): one 16 MiB block compressed after a full
    flush compresses the same every time, so the stream is that block's bytes repeated, then a final block."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = 1 << 24
    chunk = comp.compress(bytes(block)) + comp.flush(zlib.Z_FULL_FLUSH)
    return chunk * (BOMB_BYTES // block) + comp.flush()


def _zip_members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def _zip_write(members, compress=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for info, payload in members:
            kind = zipfile.ZIP_DEFLATED if info.filename in compress else zipfile.ZIP_STORED
            zf.writestr(zipfile.ZipInfo(info.filename, info.date_time), payload, kind)
    return buffer.getvalue()


def _lie_about_size(data, rng):
    """Patch a member's sizes in the central directory (and local header) to lie."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    info = rng.choice(infos)
    lie = rng.choice((0, 1, info.file_size + 1, 0xFFFFFFFF, 0x7FFFFFFF))
    out = bytearray(data)
    where = rng.choice(("central", "local", "both"))
    if where in ("local", "both"):
        struct.pack_into("<II", out, info.header_offset + 18, lie, lie)
    if where in ("central", "both"):
        start = out.find(b"PK\x01\x02")
        while start != -1:
            name_len = struct.unpack_from("<H", out, start + 28)[0]
            if out[start + 46:start + 46 + name_len].decode("utf-8", "replace") == info.filename:
                struct.pack_into("<II", out, start + 20, lie, lie)
                break
            start = out.find(b"PK\x01\x02", start + 4)
    return bytes(out), f"zip member {info.filename} claims size {lie} ({where} header)"


def _bomb_member(name):
    """A ZIP holding ``name`` as a deflate bomb, its headers honest about the expanded size."""
    payload = _zeros_deflated()
    crc = 0  # wrong, as in the gzip bomb: a reader that expands all of it before checking has already lost
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(payload), BOMB_BYTES,
                        len(name), 0) + name.encode()
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(payload), BOMB_BYTES,
                          len(name), 0, 0, 0, 0, 0, 0) + name.encode()
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(payload), 0)
    return local + payload + central + end


def _zip(data, rng, other, member_mutator):
    try:
        members = _zip_members(data)
    except (zipfile.BadZipFile, ValueError, OSError):
        return mutate_bytes(data, rng, other)
    choice = rng.random()
    if choice < 0.2:
        return _lie_about_size(data, rng)
    if choice < 0.3:
        name = rng.choice(members)[0].filename
        return _bomb_member(name), f"deflate bomb: member {name} expands to {BOMB_BYTES} bytes"
    if choice < 0.4:
        name = rng.choice(members)[0].filename
        return _zip_write(members, compress={name}), f"member {name} deflated instead of stored"
    if choice < 0.5:
        info, payload = rng.choice(members)
        members.append((info, payload))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name we are making
            return _zip_write(members), f"member {info.filename} twice"
    index = rng.randrange(len(members))
    info, payload = members[index]
    new, what = member_mutator(info.filename, payload, rng)
    members[index] = (info, new)
    return _zip_write(members), f"member {info.filename}: {what}"


def _llw_member(name, payload, rng):
    if name.endswith(".json"):
        return _json(payload, rng, payload)
    return mutate_bytes(payload, rng, payload)


def _npy_member(name, payload, rng):
    """A ``.npy`` member with a lying header: huge shapes, big-endian, float128, objects, Fortran order."""
    if not payload.startswith(b"\x93NUMPY") or rng.random() < 0.3:
        return mutate_bytes(payload, rng, payload)
    header_len = struct.unpack_from("<H", payload, 8)[0]
    body = payload[10 + header_len:]
    descr = rng.choice(("'<f4'", "'>f4'", "'>f8'", "'<f16'", "'<c16'", "'|O'", "'<U10'", "'|V8'", "'<M8[s]'",
                        "'>i8'", "'|b1'", "'<f2'", "'<f4'"))
    shape = rng.choice(("(1099511627776,)", "(1048576, 1048576)", "(-1,)", "(0,)", "(3,)", "()",
                        "(2147483648, 2)", "(" + "1, " * 64 + ")", "(10,)"))
    fortran = rng.choice(("False", "True"))
    header = f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}".encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    new = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body
    return new, f"npy header descr={descr} shape={shape[:30]} fortran={fortran}"


# ----------------------------------------------------------------------------------------- safetensors
def _safetensors(data, rng, other):
    if len(data) < 8 or rng.random() < 0.3:
        return mutate_bytes(data, rng, other)
    n = struct.unpack_from("<Q", data)[0]
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        return mutate_bytes(data, rng, other)
    body = data[8 + n:]
    names = [k for k in header if k != "__metadata__"]
    choice = rng.random()
    if choice < 0.15:
        lie = rng.choice((0, 7, n + 1, n - 1, 1 << 40, (1 << 64) - 1))
        return struct.pack("<Q", lie) + data[8:], f"header length claims {lie}"
    if choice < 0.5 and names:
        key = rng.choice(names)
        entry = header[key]
        field = rng.choice(("offsets", "shape", "dtype"))
        entry[field] = {
            "offsets": rng.choice(([0, 1 << 40], [8, 4], [0, len(body) + 4], [-4, 4], [0, 0], [0], "x")),
            "shape": rng.choice(([1 << 40], [1 << 20, 1 << 20], [-1], [], [0], [2] * 64, ["a"])),
            "dtype": rng.choice(("F64", "BF16", "F8_E4M3", "U64", "BOOL", "X", 3, "I8")),
        }[field]
        text, what = json.dumps(header), f"tensor {key} {field} = {entry[field]}"
    elif choice < 0.6 and names:
        key = rng.choice(names)
        header[SLOT] = 0
        text = json.dumps(header).replace(json.dumps(SLOT) + ": 0", json.dumps(key) + ": " + json.dumps(header[key]))
        what = f"duplicate key {key}"
    else:
        text, what = mutate_json_value(header, rng)
    raw = text.encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + body, what


# ----------------------------------------------------------------------------------------- pickle
class _Reduced:
    """Pickles as whatever ``__reduce__`` says, so a crafted reduction can be written with ``pickle``."""

    def __init__(self, reduction):
        self.reduction = reduction

    def __reduce__(self):
        return self.reduction


def _huge_array(rng):
    shape = rng.choice(((1 << 40,), (1 << 20, 1 << 20, 3), (-1,), (50000, 3072)))
    dtype = rng.choice((np.dtype(np.uint8), np.dtype(">f8"), np.dtype(np.float64)))
    state = (1, shape, dtype, False, b"\x00" * 16)
    return _Reduced((np.core.multiarray._reconstruct, (np.ndarray, (0,), b"b"), state)), f"array {shape} {dtype}"


def _dag(depth):
    node = [1, 2, 3]
    for _ in range(depth):
        node = [node, node]
    return node


def _pickle(data, rng, other):
    try:
        tree = pickle.loads(data)  # our own seed, made by this harness
    except Exception:  # a seed mutated before: stay at the byte level
        return mutate_bytes(data, rng, other)
    if not isinstance(tree, dict) or rng.random() < 0.3:
        return mutate_bytes(data, rng, other)
    key = rng.choice(list(tree))
    choice = rng.random()
    if choice < 0.25:
        depth = rng.choice((20, 40, 60))
        tree[key], what = _dag(depth), f"{key!r} a shared-object DAG {depth} deep"
    elif choice < 0.45:
        tree[key], what = _huge_array(rng)
        what = f"{key!r} reconstructs an {what}"
    elif choice < 0.6:
        tree[key] = rng.choice((None, "text", b"bytes", 1.5, -1, 1 << 70, [], {}, [None] * 10, list(range(10**5))))
        what = f"{key!r} swapped to a {type(tree[key]).__name__}"
    elif choice < 0.7:
        del tree[key]
        what = f"{key!r} deleted"
    elif choice < 0.8:
        depth = rng.choice((1000, 100_000))
        return _deep_pickle(tree, key, depth), f"{key!r} nested {depth} lists deep"
    else:
        tree[key] = _Reduced((eval, ("1+1",)))
        what = f"{key!r} a reduction calling eval"
    return pickle.dumps(tree, protocol=2), what


def _deep_pickle(tree, key, depth):
    """``tree`` with ``key`` nested ``depth`` lists deep, written opcode by opcode (pickle.dumps would recurse)."""
    tree = dict(tree)
    tree[key] = SLOT
    text = pickle.dumps(tree, protocol=2)
    marker = b"X" + struct.pack("<I", len(SLOT.encode())) + SLOT.encode()  # BINUNICODE of the slot
    deep = b"]" * depth + b"a" * (depth - 1)  # EMPTY_LIST pushes; APPEND nests each into the one below
    return text.replace(marker, deep, 1)


# ----------------------------------------------------------------------------------------- IDX and gzip
def _idx_gz(data, rng, other):
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return mutate_bytes(data, rng, other)
    choice = rng.random()
    if choice < 0.1:
        header = raw[:4 + 4 * raw[3]]
        return _gzip_bomb(header), f"gzip bomb: header {header.hex()} then {BOMB_BYTES} zero bytes"
    if choice < 0.5 and len(raw) >= 8:
        out = bytearray(raw)
        ndim = out[3]
        if rng.random() < 0.3:
            out[rng.choice((2, 3))] = rng.choice((0, 1, 3, 8, 0x0D, 0xFF, 200))
            what = f"idx magic {bytes(out[:4]).hex()}"
        else:
            d = rng.randrange(max(1, ndim))
            value = rng.choice((0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 1 << 20, 65536))
            struct.pack_into(">I", out, 4 + 4 * d, value)
            what = f"idx dimension {d} = {value}"
        return gzip.compress(bytes(out), mtime=0), what
    if choice < 0.6:
        return raw, "not gzipped"
    new, what = mutate_bytes(raw, rng, raw)
    return gzip.compress(new, mtime=0), f"inside gzip: {what}"


def _gzip_bomb(header):
    deflated = _zeros_deflated()
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(header) + comp.flush(zlib.Z_SYNC_FLUSH)
    # a header block flushed in front of the final block of zeros makes one deflate stream; the trailer's CRC
    # is left 0: a reader that decompresses all of it before checking has already lost
    size = (len(header) + BOMB_BYTES) & 0xFFFFFFFF
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head + deflated + struct.pack("<II", 0, size)


# ----------------------------------------------------------------------------------------- images
def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


@functools.cache
def _png_bomb():
    return _png_chunk(b"IDAT", zlib.compress(bytes(1 << 26), 9)) + _png_chunk(b"IEND", b"")


def _image(data, rng, other):
    choice = rng.random()
    if choice < 0.15:
        w, h = rng.choice(((100_000, 100_000), (1 << 31, 1), (65535, 65535), (0, 0), (20_000, 20_000)))
        ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
        body = zlib.compress(b"\x00" * 64)
        png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")
        return png, f"PNG whose IHDR says {w}x{h}"
    if choice < 0.25:
        w, h = rng.choice(((100_000, 100_000), (-50_000, 50_000), (30_000, 30_000)))
        info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
        return b"BM" + struct.pack("<IHHI", 54 + 16, 0, 0, 54) + info + b"\x00" * 16, f"BMP {w}x{h}"
    if choice < 0.35:
        n = rng.randrange(len(data))
        return data[:n], f"image truncated to {n} of {len(data)} bytes"
    if choice < 0.45:
        return rng.choice((b"not an image at all\n", b"{}", b"\x00" * 1000, b"PK\x03\x04")), "not an image"
    if choice < 0.55 and data.startswith(b"\x89PNG"):
        return data[:33] + _png_bomb(), "PNG whose IDAT expands to 64 MiB, more than its header says"
    return mutate_bytes(data, rng, other)


FAMILIES = {"json": _json, "text": _text, "safetensors": _safetensors, "pickle": _pickle, "idx": _idx_gz,
            "image": _image,
            "llw": lambda d, r, o: _zip(d, r, o, _llw_member),
            "npz": lambda d, r, o: _zip(d, r, o, _npy_member)}


def prepare():
    """Make the bombs now, so that making them later does not stall the runner while children are timed."""
    _zeros_deflated()
    _png_bomb()


def mutate(fmt, data, rng, other):
    """``(bytes, description)``: ``data`` (a file of format ``fmt``) mutated once, or twice in a row."""
    if rng.random() < 0.4:
        out, what = mutate_bytes(data, rng, other)
    else:
        out, what = FAMILIES[fmt](data, rng, other)
    if rng.random() < 0.1:
        out, more = mutate_bytes(out, rng, other)
        what = f"{what}; then {more}"
    return out, what
