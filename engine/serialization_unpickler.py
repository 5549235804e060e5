"""A pickle interpreter that never runs code: the opcodes and the rules of PyTorch's ``weights_only`` unpickler
(``torch/_weights_only_unpickler.py``), with every global resolved by the caller instead of imported.

Only the opcodes PyTorch admits are read (protocol 2, what ``torch.save`` writes); a global is looked up with
``resolve(full_name)``, which returns the engine's stand-in or raises; ``REDUCE`` and ``NEWOBJ`` call only what
``resolve`` returned, ``BUILD`` sets attributes only on ``OrderedDict``s (a state dict's ``_metadata``) and on
instances of classes the user allowlisted (``serialization_allowlist``), and a
persistent id must be a ``('storage', ...)`` tuple, handed to ``persistent_load``. Reading only slices the
pickle's bytes, so nothing it declares can make us allocate more than it holds."""

import collections
import pickle
import struct
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING

from .serialization_allowlist import is_allowlisted


class UnpicklingError(pickle.UnpicklingError):
    """What the file does that the restricted unpickler refuses (a forbidden global, opcode or call)."""


def _op(code):
    return code[0]


def build_allowlisted(inst, state):
    """BUILD on an instance of a class the user allowlisted: its ``__setstate__``, or its ``__dict__`` and
    slots set from the state, as pickle does."""
    setstate = getattr(inst, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slots = None
    if type(state) is tuple and len(state) == 2:
        state, slots = state
    if state:
        if type(state) is not dict or not all(type(k) is str for k in state):
            raise UnpicklingError(f"BUILD of {type(inst).__name__} with a state that is not a dict of names")
        inst.__dict__.update(state)
    if slots:
        if type(slots) is not dict:
            raise UnpicklingError(f"BUILD of {type(inst).__name__} with slot state that is not a dict")
        for k, v in slots.items():
            setattr(inst, k, v)


class RestrictedUnpickler:
    """``RestrictedUnpickler(data, resolve, persistent_load).load()``: the object pickled in ``data`` from
    ``start`` on; ``pos`` is then just past its STOP (where a next pickle in ``data`` would start)."""

    def __init__(self, data, resolve, persistent_load, start=0):
        self.data = memoryview(data)
        self.pos = start
        self.resolve = resolve
        self.persistent_load = persistent_load
        self.allowed = []  # every object resolve() returned: the only things REDUCE and NEWOBJ may call
        self.memo = {}

    def read(self, n):
        end = self.pos + n
        if end > len(self.data):
            raise UnpicklingError("the pickle ends early (truncated)")
        out = self.data[self.pos:end]
        self.pos = end
        return out

    def readline(self):
        end = bytes(self.data[self.pos:self.pos + 1024]).find(b"\n")
        if end < 0:
            raise UnpicklingError("a GLOBAL name is not terminated")
        return bytes(self.read(end + 1)[:-1]).decode("utf-8")

    def load(self):
        self.metastack = []
        self.stack = []
        while True:
            key = self.read(1)[0]
            if key == _op(pickle.STOP):
                if len(self.stack) != 1 or self.metastack:
                    raise UnpicklingError("the pickle leaves a malformed stack")
                return self.stack.pop()
            handler = _HANDLERS.get(key)
            if handler is None:
                raise UnpicklingError(f"Unsupported operand {key}")
            handler(self)

    def pop_mark(self):
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def is_allowed(self, obj):
        return any(obj is a for a in self.allowed)

    def op_global(self):
        module, name = self.readline(), self.readline()
        if (module, name) in NAME_MAPPING:
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
        obj = self.resolve(f"{module}.{name}")
        self.allowed.append(obj)
        self.stack.append(obj)

    def op_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if not self.is_allowed(func) or type(args) is not tuple:
            raise UnpicklingError(f"Trying to call reduce for unrecognized function {func!r}")
        self.stack[-1] = func(*args)

    def op_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        plain = any(cls is c for c in (collections.OrderedDict, collections.Counter, set))
        if not (plain or (isinstance(cls, type) and is_allowlisted(cls))) or type(args) is not tuple:
            raise UnpicklingError(f"Can only create new object for classes allowlisted, but got {cls!r}")
        self.stack.append(cls.__new__(cls, *args))

    def op_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if is_allowlisted(type(inst)):
            build_allowlisted(inst, state)
            return
        if type(inst) is not collections.OrderedDict or type(state) is not dict:
            raise UnpicklingError(f"Can only build OrderedDict, but got {type(inst).__name__}")
        if not all(type(k) is str and not hasattr(collections.OrderedDict, k) for k in state):
            raise UnpicklingError("BUILD of an OrderedDict with attribute names that are not plain or that shadow "
                                  "its methods")
        inst.__dict__.update(state)

    def op_append(self):
        item = self.stack.pop()
        self.list_target("append").append(item)

    def op_appends(self):
        items = self.pop_mark()
        self.list_target("extend").extend(items)

    def list_target(self, what):
        if type(self.stack[-1]) is not list:
            raise UnpicklingError(f"Can only {what} to lists, but got {type(self.stack[-1]).__name__}")
        return self.stack[-1]

    def op_setitem(self):
        v, k = self.stack.pop(), self.stack.pop()
        self.dict_target("SETITEM")[k] = v

    def op_setitems(self):
        items = self.pop_mark()
        if len(items) % 2:
            raise UnpicklingError("SETITEMS with an odd number of items")
        target = self.dict_target("SETITEMS")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def dict_target(self, opcode):
        if type(self.stack[-1]) not in (dict, collections.OrderedDict, collections.Counter):
            raise UnpicklingError(f"Can only {opcode} for dict, collections.OrderedDict, collections.Counter, "
                                  f"but got {type(self.stack[-1]).__name__}")
        return self.stack[-1]

    def op_mark(self):
        self.metastack.append(self.stack)
        self.stack = []

    def op_tuple(self):
        items = tuple(self.pop_mark())  # before naming self.stack: pop_mark replaces it
        self.stack.append(items)

    def op_tuple_n(self, n):
        if len(self.stack) < n:
            raise UnpicklingError("TUPLE of an empty stack")
        items = tuple(self.stack[len(self.stack) - n:])
        del self.stack[len(self.stack) - n:]
        self.stack.append(items)

    def op_persid(self):
        pid = self.stack.pop()
        if type(pid) is not tuple or not pid or type(pid[0]) not in (str, bytes) \
                or pid[0] not in ("storage", b"storage"):
            raise UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid!r:.80}")
        self.stack.append(self.persistent_load(pid))

    def op_get(self, fmt, size):
        idx = struct.unpack(fmt, self.read(size))[0]
        if idx not in self.memo:
            raise UnpicklingError(f"memo entry {idx} is read before it is written")
        self.stack.append(self.memo[idx])

    def op_put(self, fmt, size):
        self.memo[struct.unpack(fmt, self.read(size))[0]] = self.stack[-1]

    def op_unicode(self):
        n = struct.unpack("<I", self.read(4))[0]
        self.stack.append(str(self.read(n), "utf-8", "surrogatepass"))

    def op_short_binstring(self):
        self.stack.append(str(self.read(self.read(1)[0]), "utf-8"))  # torch.load's default encoding

    def op_long1(self):
        self.stack.append(pickle.decode_long(bytes(self.read(self.read(1)[0]))))

    def op_proto(self):
        self.read(1)

    def push_unpacked(self, fmt, size):
        self.stack.append(struct.unpack(fmt, self.read(size))[0])


_HANDLERS = {
    _op(pickle.GLOBAL): RestrictedUnpickler.op_global,
    _op(pickle.NEWOBJ): RestrictedUnpickler.op_newobj,
    _op(pickle.REDUCE): RestrictedUnpickler.op_reduce,
    _op(pickle.BUILD): RestrictedUnpickler.op_build,
    _op(pickle.APPEND): RestrictedUnpickler.op_append,
    _op(pickle.APPENDS): RestrictedUnpickler.op_appends,
    _op(pickle.SETITEM): RestrictedUnpickler.op_setitem,
    _op(pickle.SETITEMS): RestrictedUnpickler.op_setitems,
    _op(pickle.MARK): RestrictedUnpickler.op_mark,
    _op(pickle.TUPLE): RestrictedUnpickler.op_tuple,
    _op(pickle.TUPLE1): lambda u: u.op_tuple_n(1),
    _op(pickle.TUPLE2): lambda u: u.op_tuple_n(2),
    _op(pickle.TUPLE3): lambda u: u.op_tuple_n(3),
    _op(pickle.NONE): lambda u: u.stack.append(None),
    _op(pickle.NEWFALSE): lambda u: u.stack.append(False),
    _op(pickle.NEWTRUE): lambda u: u.stack.append(True),
    _op(pickle.EMPTY_TUPLE): lambda u: u.stack.append(()),
    _op(pickle.EMPTY_LIST): lambda u: u.stack.append([]),
    _op(pickle.EMPTY_DICT): lambda u: u.stack.append({}),
    _op(pickle.EMPTY_SET): lambda u: u.stack.append(set()),
    _op(pickle.BININT): lambda u: u.push_unpacked("<i", 4),
    _op(pickle.BININT1): lambda u: u.push_unpacked("<B", 1),
    _op(pickle.BININT2): lambda u: u.push_unpacked("<H", 2),
    _op(pickle.BINFLOAT): lambda u: u.push_unpacked(">d", 8),
    _op(pickle.BINUNICODE): RestrictedUnpickler.op_unicode,
    _op(pickle.SHORT_BINSTRING): RestrictedUnpickler.op_short_binstring,
    _op(pickle.BINPERSID): RestrictedUnpickler.op_persid,
    _op(pickle.BINGET): lambda u: u.op_get("<B", 1),
    _op(pickle.LONG_BINGET): lambda u: u.op_get("<I", 4),
    _op(pickle.BINPUT): lambda u: u.op_put("<B", 1),
    _op(pickle.LONG_BINPUT): lambda u: u.op_put("<I", 4),
    _op(pickle.LONG1): RestrictedUnpickler.op_long1,
    _op(pickle.PROTO): RestrictedUnpickler.op_proto,
}
