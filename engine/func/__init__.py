"""``engine.func``: composable function transforms, as ``torch.func``: ``grad``, ``grad_and_value``,
``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap`` and ``functional_call``."""

from .forward_mode import jacfwd, jvp
from .functional_call import functional_call
from .transforms import grad, grad_and_value, hessian, jacrev, vjp
from .vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp", "vmap"]
