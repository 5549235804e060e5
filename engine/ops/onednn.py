"""oneDNN, the kernel library PyTorch itself runs on CPUs, reached through its C API with ctypes.

The library comes from PyPI's ``onednn-cpu-gomp`` (oneDNN 3.x built for CPUs with GNU OpenMP), which installs
``libdnnl.so.3`` under the environment's ``lib`` folder; nothing is compiled here. When the library is missing
or does not load, ``available()`` is False and the engine's own kernels run instead.

A ``Convolution`` is made once per geometry (shapes, stride, padding, dilation) and keeps its three primitives
(forward, backward data, backward weights), created with the layouts oneDNN prefers for them (its blocked ones);
plain NCHW / OIHW arrays are reordered to those at the edges of each call. Each call wraps the NumPy buffers in
oneDNN memory objects (no copy) and runs on the one stream in order, synchronously, one call at a time; the
OpenMP team is sized to ``engine.threads.get_num_threads()`` before each call. ``sgemm`` is the library's float32
matrix product (``dnnl_sgemm``, no primitive). The OpenMP runtime is the process's ``libgomp.so.1``, which numba's
threading layer uses too.
"""

import ctypes
import os
import sys
import threading
from collections import OrderedDict

import numpy as np

from ..threads import get_num_threads
from . import signal_stack

_F32, ANY, _PLAIN_1D, _PLAIN_4D = 3, 1, 2, 5  # dnnl_f32, dnnl_format_tag_any, dnnl_a, dnnl_abcd
_FORWARD_TRAINING, _DIRECT = 64, 1  # dnnl_forward_training, dnnl_convolution_direct
_CPU, _IN_ORDER = 1, 1  # dnnl_cpu, dnnl_stream_in_order
_SCRATCHPAD_USER, _QUERY_SCRATCHPAD_MD = 1, 136  # dnnl_scratchpad_mode_user, dnnl_query_scratchpad_md
# dnnl_query_{src,diff_src,weights,diff_weights,dst,diff_dst}_md
_QUERY_SRC_MD, _QUERY_DIFF_SRC_MD, _QUERY_WEIGHTS_MD, _QUERY_DIFF_WEIGHTS_MD, _QUERY_DST_MD, _QUERY_DIFF_DST_MD = (
    129, 130, 131, 132, 133, 134)
QUERY_ARG_MD = 255  # dnnl_query_exec_arg_md: the memory desc of the execution argument given as the index
SCRATCHPAD = 80
SRC, DST, WEIGHTS, BIAS = 1, 17, 33, 41  # DNNL_ARG_*
DIFF_SRC, DIFF_DST, DIFF_WEIGHTS, DIFF_BIAS = 129, 145, 161, 169
_Dims = ctypes.c_int64 * 12  # dnnl_dims_t


class _Arg(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_int), ("memory", ctypes.c_void_p)]


class OneDNNError(RuntimeError):
    """A oneDNN call that returned an error status."""


def _library_paths():
    """Where ``libdnnl.so.3`` may be: the environment's ``lib`` folder (where the wheel puts it), then the
    loader's own search."""
    names = ("libdnnl.so.3", "libdnnl.3.dylib", "dnnl.dll")
    folders = [os.path.join(sys.prefix, "lib"), os.path.join(sys.prefix, "Library", "bin")]
    return [os.path.join(folder, name) for folder in folders for name in names] + list(names)


class _Library:
    """The loaded library, its CPU engine and stream, and OpenMP's thread setting."""

    def __init__(self):
        self.dnnl = self.engine = self.stream = None
        self.running = threading.Lock()  # one stream: calls from two threads (training, a prediction) take turns
        self._scratchpad = np.empty(0, np.uint8)
        self._set_threads = None
        for path in _library_paths():
            try:
                self.dnnl = ctypes.CDLL(path)
                break
            except OSError:
                continue
        if self.dnnl is None:
            return
        d = self.dnnl
        d.dnnl_primitive_desc_query_md.restype = ctypes.c_void_p
        d.dnnl_primitive_desc_query_md.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        d.dnnl_memory_desc_get_size.restype = ctypes.c_size_t
        d.dnnl_memory_desc_get_size.argtypes = [ctypes.c_void_p]
        d.dnnl_memory_desc_equal.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        dim, pointer = ctypes.c_int64, ctypes.c_void_p
        d.dnnl_sgemm.argtypes = [ctypes.c_char, ctypes.c_char, dim, dim, dim, ctypes.c_float, pointer, dim, pointer,
                                 dim, ctypes.c_float, pointer, dim]
        engine, stream, attr = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        try:
            self.check(d.dnnl_engine_create(ctypes.byref(engine), _CPU, ctypes.c_size_t(0)), "create a CPU engine")
            self.check(d.dnnl_stream_create(ctypes.byref(stream), engine, ctypes.c_uint(_IN_ORDER)),
                       "create a stream")
            self.check(d.dnnl_primitive_attr_create(ctypes.byref(attr)), "create primitive attributes")
            self.check(d.dnnl_primitive_attr_set_scratchpad_mode(attr, _SCRATCHPAD_USER), "set the scratchpad mode")
        except OneDNNError:
            self.dnnl = None
            return
        # Calls pass the scratchpad: with the library's own, a primitive keeps using the scratchpad of the thread
        # that created it, which is freed when that thread ends (a model imported in a worker thread, then run in
        # another, crashed).
        self.engine, self.stream, self.attr = engine, stream, attr
        try:
            omp = ctypes.CDLL("libgomp.so.1")
            self._set_threads = omp.omp_set_num_threads
        except (OSError, AttributeError):
            self._set_threads = None

    @classmethod
    def unloaded(cls):
        library = cls.__new__(cls)
        library.dnnl = None
        return library

    def prepare_thread(self, threads=None):
        """Ready the calling thread for a oneDNN call: size OpenMP's team to ``threads`` or the engine's thread
        count (oneDNN reads it when it makes a primitive, and again when it runs one), and give the thread an
        alternate signal stack (``signal_stack``: the library's GEMM kernels must not have a signal frame written at
        their stack pointer)."""
        signal_stack.ensure()
        if self._set_threads is not None:
            self._set_threads(threads or get_num_threads())

    @staticmethod
    def check(status, what):
        if status != 0:
            raise OneDNNError(f"oneDNN could not {what} (status {status})")

    def memory_desc(self, shape, tag):
        md = ctypes.c_void_p()
        self.check(self.dnnl.dnnl_memory_desc_create_with_tag(ctypes.byref(md), len(shape), _Dims(*shape), _F32,
                                                              tag), "describe an array")
        return md

    def strided_desc(self, shape, strides):
        """A float32 memory desc of ``shape`` with ``strides`` in elements (a layout that no format tag names)."""
        md = ctypes.c_void_p()
        self.check(self.dnnl.dnnl_memory_desc_create_with_strides(ctypes.byref(md), len(shape), _Dims(*shape), _F32,
                                                                  _Dims(*strides)), "describe a strided array")
        return md

    def queried(self, pd, query, index=0):
        """A copy (the caller's to free) of the memory desc that primitive descriptor ``pd`` gives for ``query``."""
        md = ctypes.c_void_p()
        self.check(self.dnnl.dnnl_memory_desc_clone(ctypes.byref(md), ctypes.c_void_p(
            self.dnnl.dnnl_primitive_desc_query_md(pd, query, index))), "describe a primitive's layout")
        return md

    def reorder(self, src_md, dst_md):
        """A reorder primitive (as ``primitive`` gives it) from layout ``src_md`` to ``dst_md``."""
        pd = ctypes.c_void_p()
        self.check(self.dnnl.dnnl_reorder_primitive_desc_create(ctypes.byref(pd), src_md, self.engine, dst_md,
                                                                 self.engine, self.attr), "set up a reorder")
        try:
            return self.primitive(pd)
        finally:
            self.dnnl.dnnl_primitive_desc_destroy(pd)

    def reordered(self, reorder, source_md, array, target_md, shape):
        """A new float32 array of ``shape``: ``array`` (in layout ``source_md``) copied by primitive ``reorder``
        into layout ``target_md``."""
        out = np.empty(shape, np.float32)
        self.execute(reorder, {SRC: (source_md, array), DST: (target_md, out)})
        return out

    def destroy(self, primitives, mds):
        """Free ``primitives`` (as ``primitive`` gives them) and memory descs ``mds``."""
        for primitive, scratchpad, _size, _threads in primitives:
            self.dnnl.dnnl_primitive_destroy(primitive)
            self.dnnl.dnnl_memory_desc_destroy(scratchpad)
        for md in mds:
            self.dnnl.dnnl_memory_desc_destroy(md)

    def primitive(self, pd):
        """``(primitive, its scratchpad's memory desc, its size in bytes, the thread count it was made for)`` of a
        primitive descriptor. It runs on that many threads: oneDNN sizes a primitive's work and scratchpad for the
        team it sees when it makes it (a graph's node may keep one past ``set_num_threads``)."""
        primitive = ctypes.c_void_p()
        self.check(self.dnnl.dnnl_primitive_create(ctypes.byref(primitive), pd), "create a primitive")
        try:
            scratchpad = self.queried(pd, _QUERY_SCRATCHPAD_MD)
        except OneDNNError:
            self.dnnl.dnnl_primitive_destroy(primitive)
            raise
        return primitive, scratchpad, self.dnnl.dnnl_memory_desc_get_size(scratchpad), get_num_threads()

    def execute(self, primitive, arrays):
        """Run ``primitive`` (as ``primitive`` gives it) on ``arrays`` ({argument: (memory desc, C-contiguous
        float32 array)}). Calls take turns, so they share one scratchpad buffer, grown to the largest asked for."""
        d = self.dnnl
        primitive, scratchpad, size, threads = primitive
        memories = []
        try:
            with self.running:
                if size > self._scratchpad.size:
                    self._scratchpad = np.empty(size, np.uint8)
                for md, array in (*arrays.values(), *([(scratchpad, self._scratchpad)] if size else [])):
                    memory = ctypes.c_void_p()
                    self.check(d.dnnl_memory_create(ctypes.byref(memory), md, self.engine,
                                                    ctypes.c_void_p(array.ctypes.data)), "wrap an array")
                    memories.append(memory)
                keys = (*arrays, *([SCRATCHPAD] if size else []))
                args = (_Arg * len(memories))(*(_Arg(key, m) for key, m in zip(keys, memories)))
                self.prepare_thread(threads)
                self.check(d.dnnl_primitive_execute(primitive, self.stream, len(memories), args),
                           "run a primitive")
                self.check(d.dnnl_stream_wait(self.stream), "finish a primitive")
        finally:
            for memory in memories:
                d.dnnl_memory_destroy(memory)


_library = None
_loading = threading.Lock()
_cache_lock = threading.Lock()
_forked = False  # a forked child: GNU OpenMP hangs there if the parent had started it (oneDNN or numba's pool
# may have, without this module knowing), so no fork takes the chance


def _after_fork_in_child():
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def library():
    """The loaded library (loaded at the first call), or None where oneDNN is not installed, cannot be loaded,
    or this process is a forked child (``_forked``)."""
    global _library
    if _forked:
        return None
    if _library is None:
        with _loading:
            if _library is None:
                try:
                    _library = _Library()
                except (AttributeError, OSError):  # a libdnnl without the functions this binding calls
                    _library = _Library.unloaded()
    return _library if _library.dnnl is not None else None


def available():
    return library() is not None


def sgemm(a, b):
    """``a @ b`` for float32 matrices by oneDNN's sgemm, on the OpenMP team sized to the engine's threads; a
    transposed (Fortran-ordered) operand passes as it is. None where oneDNN does not run or is switched off, and for
    matrices that do not chain."""
    lib = library() if enabled else None
    if lib is None or a.shape[1] != b.shape[0]:  # (NumPy's product then raises its error)
        return None
    (m, k), n = a.shape, b.shape[1]
    a_order, lda = _gemm_operand(a)
    b_order, ldb = _gemm_operand(b)
    if a_order is None or b_order is None:
        return sgemm(*(x if order else np.ascontiguousarray(x) for x, order in ((a, a_order), (b, b_order))))
    out = np.empty((m, n), np.float32)
    lib.prepare_thread()
    lib.check(lib.dnnl.dnnl_sgemm(a_order, b_order, m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, 0.0,
                                  out.ctypes.data, n), "multiply two matrices")
    return out


def _gemm_operand(x):
    """(sgemm's transpose flag, leading dimension) of a row-major matrix ``x``, or (None, 0) for a layout it
    cannot read."""
    if x.flags.c_contiguous:
        return b"N", max(1, x.shape[1])
    if x.flags.f_contiguous:
        return b"T", max(1, x.shape[0])
    return None, 0


class Layout:
    """Where a primitive wants an argument in a layout of its own choosing (as ``query`` and ``index`` ask ``pd``):
    that layout's memory desc, the reorders to it from the plain array and back (None where the plain layout is
    the one it chose), and the one from the layout of another primitive of its owner that hands it a buffer, if
    any (``takes_from``). All are made with their owner, under the cache's lock: none is made lazily by two
    threads at once."""

    def __init__(self, lib, plain_md, pd, query, owned_mds, owned_primitives, index=0, into=True, back=True):
        """``into`` and ``back``: whether ``blocked`` and ``plain`` (with ``empty``) will be called. Some layouts
        have a reorder one way only (oneDNN packs an RNN's inference weights, and cannot unpack them)."""
        d = lib.dnnl
        self.lib, self.plain_md, self._owned = lib, plain_md, owned_primitives
        self.md = lib.queried(pd, query, index)
        owned_mds.append(self.md)
        self.size = d.dnnl_memory_desc_get_size(self.md) // 4
        self.same = bool(d.dnnl_memory_desc_equal(self.md, plain_md))
        self.to_blocked = self.to_plain = None
        if not self.same and into:
            self.to_blocked = lib.reorder(plain_md, self.md)
            owned_primitives.append(self.to_blocked)
        if not self.same and back:
            self.to_plain = lib.reorder(self.md, plain_md)
            owned_primitives.append(self.to_plain)
        self.source = self.from_source = None  # the layout that ``moved`` takes buffers from, and its reorder

    def takes_from(self, source):
        """Make the reorder that ``moved`` needs for buffers in ``source``'s layout (None where they match)."""
        self.source = source
        if not self.lib.dnnl.dnnl_memory_desc_equal(self.md, source.md):
            self.from_source = self.lib.reorder(source.md, self.md)
            self._owned.append(self.from_source)

    def blocked(self, array):
        """``array`` (plain, C-contiguous float32) as the primitive wants it (a reordered copy, or itself)."""
        assert self.same or self.to_blocked is not None, "a layout made without its reorder into it"
        return self._reordered(self.to_blocked, self.plain_md, array)

    def moved(self, buffer):
        """``buffer``, an array in the layout of ``takes_from``'s source, in this one: itself where the layouts match
        (two primitives of one convolution mostly want the same), else a reordered copy."""
        return self._reordered(self.from_source, self.source.md, buffer)

    def _reordered(self, reorder, source_md, array):
        if reorder is None:
            return array
        return self.lib.reordered(reorder, source_md, array, self.md, self.size)

    def empty(self, shape):
        """A buffer of ``shape``'s values for the primitive to write, in its layout (``plain`` turns it into the plain
        array)."""
        return np.empty(shape if self.same else self.size, np.float32)

    def plain(self, buffer, shape):
        if self.same:
            return buffer
        assert self.to_plain is not None, "a layout made without its reorder back"
        return self.lib.reordered(self.to_plain, self.md, buffer, self.plain_md, shape)


class Kept:
    """What a convolution's backward passes need of its forward: the input and weight in the forward primitive's
    layouts (reordered once, for all three passes)."""

    __slots__ = ("w_blocked", "x_blocked")

    def __init__(self, x_blocked, w_blocked):
        self.x_blocked, self.w_blocked = x_blocked, w_blocked


class Convolution:
    """A 2-D convolution (groups 1) of one geometry: ``x_shape`` (N, C, H, W), ``w_shape`` (O, C, kh, kw),
    ``stride``, ``pads`` (top, bottom, left, right) and ``dilation`` as PyTorch gives them.

    The primitives choose their own (blocked) layouts: with plain NCHW/OIHW arrays oneDNN runs im2col and a GEMM,
    with its own layouts its direct kernels, 2-2.5x faster (bench/NOTES.md); the arrays are reordered to those
    layouts at the edges of each call. Forward keeps its reordered input and weight for backward, and backward
    reorders the output gradient once for both of its passes."""

    def __init__(self, x_shape, w_shape, out_hw, stride, pads, dilation):
        lib = self.lib = library()
        d = lib.dnnl
        self._primitives, self._mds = [], []
        self.x_shape, self.w_shape = tuple(x_shape), tuple(w_shape)
        self.y_shape = (x_shape[0], w_shape[0], *out_hw)
        self.x_md, self.w_md, self.y_md, self.b_md = plain = [
            lib.memory_desc(shape, tag) for shape, tag in ((self.x_shape, _PLAIN_4D), (self.w_shape, _PLAIN_4D),
                                                           (self.y_shape, _PLAIN_4D), ((w_shape[0],), _PLAIN_1D))]
        self._mds += plain
        x_any, w_any, y_any = chosen = [lib.memory_desc(shape, ANY) for shape in (self.x_shape, self.w_shape,
                                                                                   self.y_shape)]
        self._mds += chosen
        geometry = (_Dims(*stride), _Dims(dilation[0] - 1, dilation[1] - 1), _Dims(pads[0], pads[2]),
                    _Dims(pads[1], pads[3]))
        descriptors = []
        lib.prepare_thread()
        try:
            for create, args, what in (
                    (d.dnnl_convolution_forward_primitive_desc_create,
                     (_FORWARD_TRAINING, _DIRECT, x_any, w_any, self.b_md, y_any, *geometry),
                     "set up a convolution"),
                    (d.dnnl_convolution_backward_data_primitive_desc_create,
                     (_DIRECT, x_any, w_any, y_any, *geometry),
                     "set up a convolution's input gradient"),
                    (d.dnnl_convolution_backward_weights_primitive_desc_create,
                     (_DIRECT, x_any, w_any, self.b_md, y_any, *geometry),
                     "set up a convolution's weight gradient")):
                pd = ctypes.c_void_p()
                hint = (descriptors[0],) if descriptors else ()
                lib.check(create(ctypes.byref(pd), lib.engine, *args, *hint, lib.attr), what)
                descriptors.append(pd)
            forward, data, weights = descriptors
            layouts = (self._mds, self._primitives)
            given, written = {"back": False}, {"into": False}  # arguments only read, or only written, by a pass
            self.f_x, self.f_w, self.f_y = (Layout(lib, md, forward, q, *layouts, **ways) for md, q, ways in (
                (self.x_md, _QUERY_SRC_MD, {}), (self.w_md, _QUERY_WEIGHTS_MD, given),
                (self.y_md, _QUERY_DST_MD, written)))
            self.d_x, self.d_w, self.d_y = (Layout(lib, md, data, q, *layouts, **ways) for md, q, ways in (
                (self.x_md, _QUERY_DIFF_SRC_MD, written), (self.w_md, _QUERY_WEIGHTS_MD, given),
                (self.y_md, _QUERY_DIFF_DST_MD, given)))
            self.w_x, self.w_w, self.w_y = (Layout(lib, md, weights, q, *layouts, **ways) for md, q, ways in (
                (self.x_md, _QUERY_SRC_MD, given), (self.w_md, _QUERY_DIFF_WEIGHTS_MD, written),
                (self.y_md, _QUERY_DIFF_DST_MD, given)))
            self.d_w.takes_from(self.f_w)
            self.w_x.takes_from(self.f_x)
            self.w_y.takes_from(self.d_y)
            for pd in descriptors:
                self._primitives.append(lib.primitive(pd))
        finally:
            for pd in descriptors:
                d.dnnl_primitive_desc_destroy(pd)
        self._forward, self._backward_data, self._backward_weights = self._primitives[-3:]

    def __del__(self):
        self.lib.destroy(self._primitives, self._mds)

    def forward(self, x, w, b=None):
        """``(y, kept)``: the output, and the ``Kept`` that ``backward`` takes."""
        y = self.f_y.empty(self.y_shape)
        bias = b if b is not None else np.zeros(self.w_shape[0], np.float32)
        kept = Kept(self.f_x.blocked(x), self.f_w.blocked(w))
        self.lib.execute(self._forward, {SRC: (self.f_x.md, kept.x_blocked), WEIGHTS: (self.f_w.md, kept.w_blocked),
                                         BIAS: (self.b_md, bias), DST: (self.f_y.md, y)})
        return self.f_y.plain(y, self.y_shape), kept

    def input_of(self, kept):
        """The plain input that made ``kept``."""
        return self.f_x.plain(kept.x_blocked, self.x_shape)

    def backward(self, g, kept, need_x, need_w):
        """``(input gradient, weight gradient, bias gradient)`` from output gradient ``g`` (plain, C-contiguous),
        None where not needed (the bias gradient comes with the weight gradient)."""
        gx = gw = gb = g_data = None
        if need_x:
            gx, g_data = self._data_pass(g, self.d_w.moved(kept.w_blocked))
        if need_w:
            g_weights = self.w_y.blocked(g) if g_data is None else self.w_y.moved(g_data)
            gw, gb = self._weights_pass(self.w_x.moved(kept.x_blocked), g_weights)
        return gx, gw, gb

    def input_grad(self, g, w):
        """The input gradient for output gradient ``g`` with weight ``w`` (plain, C-contiguous): a transposed
        convolution's forward."""
        return self._data_pass(g, self.d_w.blocked(w))[0]

    def weight_grad(self, x, g):
        """The weight gradient for input ``x`` and output gradient ``g`` (plain, C-contiguous)."""
        return self._weights_pass(self.w_x.blocked(x), self.w_y.blocked(g))[0]

    def _data_pass(self, g, w_data):
        """(plain input gradient, ``g`` in the pass's layout) from plain ``g`` and the weight in its layout."""
        g_data, gx = self.d_y.blocked(g), self.d_x.empty(self.x_shape)
        self.lib.execute(self._backward_data, {DIFF_DST: (self.d_y.md, g_data), WEIGHTS: (self.d_w.md, w_data),
                                               DIFF_SRC: (self.d_x.md, gx)})
        return self.d_x.plain(gx, self.x_shape), g_data

    def _weights_pass(self, x_weights, g_weights):
        """(plain weight gradient, bias gradient) from the input and output gradient in the pass's layouts."""
        gw, gb = self.w_w.empty(self.w_shape), np.empty(self.w_shape[0], np.float32)
        self.lib.execute(self._backward_weights, {SRC: (self.w_x.md, x_weights), DIFF_DST: (self.w_y.md, g_weights),
                                                  DIFF_WEIGHTS: (self.w_w.md, gw), DIFF_BIAS: (self.b_md, gb)})
        return self.w_w.plain(gw, self.w_shape), gb


enabled = True  # ``torch.backends.mkldnn.enabled``: False sends convolutions to the engine's own kernels
_convolutions = OrderedDict()  # most recently used last
CACHED = 64  # geometries kept in each cache (here, and onednn_rnn's): a network has a few dozen; a last, smaller
# batch adds its own


def cached(kept, key, make):
    """``make()``, kept in ``kept`` under ``key`` (with the engine's thread count, which oneDNN reads when it makes
    a primitive) while among its ``CACHED`` most recently used; None where oneDNN is unavailable or switched off
    (``enabled``), or where ``make`` raised ``OneDNNError`` (remembered too, so that the caller's own kernels
    take the call without asking again)."""
    if not enabled or library() is None:
        return None
    key = (*key, get_num_threads())
    with _cache_lock:
        if key in kept:
            kept.move_to_end(key)
            return kept[key]
        try:
            made = make()
        except OneDNNError:
            made = None
        kept[key] = made
        if len(kept) > CACHED:
            kept.popitem(last=False)
        return made


def convolution(x_shape, w_shape, out_hw, stride, pads, dilation):
    """The ``Convolution`` of this geometry, made at its first use and kept (``cached``), or None."""
    key = (tuple(x_shape), tuple(w_shape), tuple(out_hw), tuple(stride), tuple(pads), tuple(dilation))
    return cached(_convolutions, key, lambda: Convolution(x_shape, w_shape, out_hw, stride, pads, dilation))
