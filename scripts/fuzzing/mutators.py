"""Byte-level mutations, any file format: flips, truncation, insertion of random or boundary bytes,
splicing two seeds, repeating a chunk. Each takes ``(data, rng, other)`` (``other``: another seed's bytes
of the same member) and returns ``(new bytes, description)``; all are deterministic from ``rng``."""

BOUNDARY = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\xff", b"\x00\x00\x00\x80", b"\xff\xff\xff\x7f",
            b"\x00" * 8, b"\xff" * 8, b"\x00\x00\x00\x00\x00\x00\xf0\x7f")


def flip(data, rng, other):
    data = bytearray(data or b"\x00")
    count = rng.choice((1, 1, 2, 4, 16))
    for _ in range(count):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data), f"flip {count} bit(s)"


def truncate(data, rng, other):
    n = rng.randrange(len(data)) if data else 0
    return data[:n], f"truncate to {n} of {len(data)} bytes"


def insert(data, rng, other):
    i = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        chunk = rng.choice(BOUNDARY) * rng.choice((1, 1, 3, 100))
        what = "boundary"
    else:
        chunk = rng.randbytes(rng.choice((1, 4, 64, 4096)))
        what = "random"
    return data[:i] + chunk + data[i:], f"insert {len(chunk)} {what} bytes at {i}"


def overwrite(data, rng, other):
    if not data:
        return rng.randbytes(8), "replace empty file"
    chunk = rng.choice(BOUNDARY)
    i = rng.randrange(len(data))
    return data[:i] + chunk + data[i + len(chunk):], f"overwrite {len(chunk)} boundary bytes at {i}"


def splice(data, rng, other):
    i, j = rng.randrange(len(data) + 1), rng.randrange(len(other) + 1)
    return data[:i] + other[j:], f"splice head {i} with another seed's tail from {j}"


def repeat(data, rng, other):
    if not data:
        return data, "nothing to repeat"
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.choice((1, 8, 256, 4096)))
    times = rng.choice((2, 10, 1000))
    return data[:j] + data[i:j] * times + data[j:], f"repeat bytes {i}:{j} {times} times"


def empty(data, rng, other):
    return b"", "empty file"


BYTE_MUTATORS = (flip, flip, truncate, insert, overwrite, splice, repeat, empty)


def mutate_bytes(data, rng, other):
    return rng.choice(BYTE_MUTATORS)(data, rng, other)
