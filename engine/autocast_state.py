"""The autocast switches that ``Op.apply`` reads: one ``active`` flag (the only check an op pays while autocast
is off), the per-device-type ``enabled`` flags and dtypes, the weight-cast cache, and the hook that casts an
op's inputs (``engine.amp.policy`` installs it with its table; ``Op.apply`` cannot import the amp package,
which imports the ops). The state is process-wide, not per thread as PyTorch's is."""

from . import dtypes


class _AutocastState:
    __slots__ = ("active", "cache", "cache_enabled", "cast_inputs", "dtype", "enabled", "nesting")

    def __init__(self):
        self.active = False  # autocast is enabled for some device type
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}  # id(leaf parameter) -> (parameter, its cast), emptied when the outermost region ends
        self.cast_inputs = None  # (op class, input tensors) -> the tensors the op runs on

    def refresh(self):
        self.active = any(self.enabled.values())


state = _AutocastState()
