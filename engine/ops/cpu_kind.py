"""What kind of CPU this is, where a choice between kernels was measured to differ by it (bench/NOTES.md)."""

import functools


@functools.cache
def vendor(cpuinfo="/proc/cpuinfo"):
    """The CPU's vendor as Linux reports it ("GenuineIntel", "AuthenticAMD"); "" where it cannot be read."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "vendor_id":
                    return value.strip()
                if not line.strip():  # the first processor's block has ended
                    break
    except OSError:
        pass
    return ""
