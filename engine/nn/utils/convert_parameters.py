"""Flatten parameters into one vector and back."""

from ...autograd.grad_mode import no_grad
from ...ops.shape import cat


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, in order (differentiable, like PyTorch's)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into the parameters."""
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[offset:offset + n].view_as(p))
            offset += n
    if offset != vec.numel():
        raise RuntimeError(f"vector has {vec.numel()} elements but the parameters hold {offset}")
