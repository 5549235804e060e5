"""What kind of CPU this is, where a choice between kernels was measured to differ by it (bench/NOTES.md)."""

import functools

CPUINFO = "/proc/cpuinfo"


def vendor(cpuinfo=CPUINFO):
    """The CPU's vendor as Linux reports it ("GenuineIntel", "AuthenticAMD"); "" where it cannot be read."""
    return _first_processor(cpuinfo).get("vendor_id", "")


def flags(cpuinfo=CPUINFO):
    """The CPU's feature flags as Linux reports them ("avx2", "avx512f", ...); empty where they cannot be read."""
    return frozenset(_first_processor(cpuinfo).get("flags", "").split())


@functools.cache
def _first_processor(cpuinfo):
    """The fields of the first processor's block of ``cpuinfo``; empty where the file cannot be read."""
    fields = {}
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as info:
            for line in info:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields
