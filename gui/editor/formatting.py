"""Numbers, shapes and standing phrases as the editor shows them."""

EMPTY_NETWORK = "Empty network: add an Input layer"  # a fresh canvas invites rather than lists what is missing


def count(n):
    """``62,006``."""
    return f"{n:,}"


def short_count(n):
    """``62.0k``, ``1.25M``: for node faces where space is short."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            value = n / limit
            return f"{value:.3g}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


def shape(dims):
    """``6×28×28``, or an em dash when there is no shape."""
    return "×".join(str(d) for d in dims) if dims else "—"


def outputs(info):
    """A node's output shapes: ``6×28×28``, ``2×4×5, 4×4×5`` for a layer with several, or an em dash."""
    return ", ".join(shape(s) for s in info.outputs) if info.outputs else shape(None)
