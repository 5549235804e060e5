"""``Parameter``: a tensor that a Module registers as learnable."""

from ..creation import empty
from ..tensor import Tensor, make_tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered when set as a Module attribute."""

    _is_param = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        p._data = data._data
        p._device = data._device
        if data._version_counter is None:
            data._version_counter = [0]
        p._version_counter = data._version_counter
        if requires_grad:
            p.requires_grad = True
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (make_tensor(self._host().copy()), self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(make_tensor(self._data.copy(), self._device), self._requires_grad)
        if self._grad is not None:
            result._grad = make_tensor(self._grad._data.copy(), self._device)
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
