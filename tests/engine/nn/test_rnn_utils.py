"""``engine.nn.utils.rnn`` against ``torch.nn.utils.rnn``: padding, packing and unpacking give the same tensors,
batch sizes, indices and lengths, gradients flow back through them, and the errors are PyTorch's."""

import numpy as np
import pytest

import engine
from engine.nn.utils import rnn as eru

torch = pytest.importorskip("torch")
tru = torch.nn.utils.rnn

LENGTHS = (2, 5, 1, 3)


def _seqs(m, lengths=LENGTHS, tail=(3,)):
    rng = np.random.default_rng(0)
    return [m.tensor(rng.standard_normal((n, *tail)), requires_grad=True) for n in lengths]


def _utils(m):
    return eru if m is engine else tru


def _both(fn, lengths=LENGTHS, tail=(3,)):
    """``fn(m, utils, seqs)`` in both frameworks: the tensors it returns and the sequences' gradients of a fixed
    weighted sum of them compared; the returned non-tensor values compared as lists."""
    results = []
    for m in (engine, torch):
        seqs = _seqs(m, lengths, tail)
        outs = fn(m, _utils(m), seqs)
        tensors = [o for o in outs if o is not None and o.is_floating_point()]
        sum((t * m.tensor(np.cos(np.arange(t.numel())).reshape(tuple(t.shape)))).sum() for t in tensors).backward()
        results.append(([o.detach().numpy() if o is not None else None for o in outs], [s.grad.numpy() for s in seqs]))
    (ours, our_grads), (theirs, their_grads) = results
    for a, b in zip(ours, theirs, strict=True):
        if a is None or b is None:
            assert a is None and b is None
        else:
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(our_grads, their_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _packed_fields(p):
    return [p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    _both(lambda m, u, s: [u.pad_sequence(s, batch_first=batch_first, padding_value=-1.5, padding_side=side)])


def test_pad_sequence_trailing_dims_and_generator():
    _both(lambda m, u, s: [u.pad_sequence(iter(s))], tail=(2, 2))
    _both(lambda m, u, s: [u.pad_sequence(s)], tail=())


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence(enforce_sorted):
    lengths = (5, 3, 3, 1) if enforce_sorted else LENGTHS
    _both(lambda m, u, s: _packed_fields(u.pack_sequence(s, enforce_sorted=enforce_sorted)), lengths)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths_as", ["list", "tensor"])
def test_pack_padded_and_back(batch_first, lengths_as):
    def fn(m, u, seqs):
        padded = u.pad_sequence(seqs, batch_first=batch_first)
        lengths = list(LENGTHS) if lengths_as == "list" else m.tensor(LENGTHS)
        packed = u.pack_padded_sequence(padded, lengths, batch_first=batch_first, enforce_sorted=False)
        back, out_lengths = u.pad_packed_sequence(packed, batch_first=batch_first, padding_value=7.0, total_length=6)
        return [*_packed_fields(packed), back, out_lengths]
    _both(fn)


def test_pad_packed_without_indices():
    def fn(m, u, seqs):
        back, lengths = u.pad_packed_sequence(u.pack_sequence(seqs))
        return [back, lengths]
    _both(fn, (4, 4, 2))


def test_unpack_and_unpad_sequence():
    def fn(m, u, seqs):
        unpacked = u.unpack_sequence(u.pack_sequence(seqs, enforce_sorted=False))
        padded = u.pad_sequence(seqs)
        unpadded = u.unpad_sequence(padded.clone(), m.tensor(LENGTHS))
        return [*unpacked, *unpadded]
    _both(fn)


def test_invert_permutation():
    for m in (engine, torch):
        assert _utils(m).invert_permutation(m.tensor([2, 0, 3, 1])).tolist() == [1, 3, 0, 2]
        assert _utils(m).invert_permutation(None) is None


def test_packed_sequence_object():
    data = engine.arange(6.0).reshape(3, 2)
    sizes = engine.tensor([2, 1])
    p = eru.PackedSequence(data, sizes, engine.tensor([1, 0]))
    assert p.unsorted_indices.tolist() == [1, 0]
    q = eru.PackedSequence((data, sizes))
    assert q.batch_sizes is sizes and q.sorted_indices is None
    assert isinstance(p, tuple) and p[0] is data
    assert p.to(engine.float32) is p
    assert p.double().data.dtype == engine.float64
    assert p.double().sorted_indices is p.sorted_indices
    assert not p.is_cuda
    t = tru.PackedSequence(torch.arange(6.0).reshape(3, 2), torch.tensor([2, 1]), torch.tensor([1, 0]))
    assert repr(p) == repr(t)


def _raises(call, exc):
    messages = []
    for m in (torch, engine):
        with pytest.raises(exc) as info:
            call(m, _utils(m))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("call, exc", [
    (lambda m, u: u.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 3]), RuntimeError),
    (lambda m, u: u.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2]), RuntimeError),
    (lambda m, u: u.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 0]), RuntimeError),
    (lambda m, u: u.pad_sequence([m.zeros(2), m.zeros(3)], padding_side="middle"), RuntimeError),
    (lambda m, u: u.pad_sequence([]), RuntimeError),
    (lambda m, u: u.pad_sequence(5), RuntimeError),
    (lambda m, u: u.pad_packed_sequence(u.pack_sequence([m.zeros(4), m.zeros(2)]), total_length=3), ValueError),
    (lambda m, u: u.PackedSequence(m.zeros(3)), AssertionError),
], ids=["unsorted", "lengths count", "zero length", "padding side", "empty", "not iterable", "total_length",
        "no batch sizes"])
def test_errors(call, exc):
    _raises(call, exc)
