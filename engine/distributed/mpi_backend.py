"""Collectives on MPI through mpi4py: contiguous host arrays, nonblocking calls (``MPI_Iallreduce`` and
friends) whose requests ``wait`` polls against a deadline, so that a rank that died or hung ends in an error
instead of a hang.

MPI starts when the first process group is made, not when the engine is imported. A process started by
``mpiexec`` (``python -m engine.distributed.run``) joins its ranks; one started alone is a world of one.
"""

import os
import time

from .errors import DistBackendError
from .launch_env import ERRORS_VARIABLE, peers_on_this_host
from .reduce_op import RedOpType

# How long a wait polls without pause (a collective of a training step, where ranks wait for each other's
# arrival, usually finishes within it; a sleeping poll would add its oversleep to each), and the pause between
# polls after that: short against any time-out.
_SPIN_SECONDS = 0.05
_PAUSE_SECONDS = 2e-4


class MPIBackend:
    name = "mpi"
    takes_device_arrays = False  # host arrays only: a GPU tensor is staged through the host
    averages = False  # no ReduceOp.AVG in MPI: a sum, then a division

    def __init__(self):
        from mpi4py import MPI  # initialises MPI: only here, when a process group asks for it

        self._mpi = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self._ops = {RedOpType.SUM: MPI.SUM, RedOpType.PRODUCT: MPI.PROD, RedOpType.MIN: MPI.MIN,
                     RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND, RedOpType.BOR: MPI.BOR,
                     RedOpType.BXOR: MPI.BXOR}
        # On booleans a sum or maximum is a logical or, a product or minimum a logical and (as in PyTorch).
        self._bool_ops = {RedOpType.SUM: MPI.LOR, RedOpType.MAX: MPI.LOR, RedOpType.BOR: MPI.LOR,
                          RedOpType.PRODUCT: MPI.LAND, RedOpType.MIN: MPI.LAND, RedOpType.BAND: MPI.LAND,
                          RedOpType.BXOR: MPI.LXOR}

    def _spec(self, array):
        """``[array, datatype]`` as mpi4py takes a buffer."""
        return [array, self._mpi.Datatype.fromcode(array.dtype.char)]

    def _op(self, array, op):
        table = self._bool_ops if array.dtype.kind == "b" else self._ops
        return table[op]

    def all_reduce(self, array, op):
        return self.comm.Iallreduce(self._mpi.IN_PLACE, self._spec(array), op=self._op(array, op))

    def broadcast(self, array, src):
        return self.comm.Ibcast(self._spec(array), root=src)

    def all_gather(self, out, array):
        """Every rank's ``array`` into ``out`` (``size`` times as long), in rank order."""
        return self.comm.Iallgather(self._spec(array), self._spec(out))

    def reduce_scatter(self, out, array, op):
        """The reduction of ``array`` (``size`` blocks) over the ranks; block ``rank`` into ``out``."""
        return self.comm.Ireduce_scatter_block(self._spec(array), self._spec(out), op=self._op(array, op))

    def barrier(self):
        return self.comm.Ibarrier()

    def test(self, request):
        return request.Test()

    def wait(self, request, deadline, what):
        """Wait for ``request``; past ``deadline`` (``time.monotonic``) raise, naming the collective and what
        can be seen of the other ranks."""
        if request.Test():
            return
        spin_until = time.monotonic() + _SPIN_SECONDS
        while not request.Test():
            now = time.monotonic()
            if now < spin_until:
                continue
            if now > deadline:
                raise DistBackendError(f"{what} on rank {self.rank} of {self.size} did not finish within the "
                                       f"process group's time-out: {self._peers()}. The process group cannot be "
                                       f"used after this.")
            time.sleep(_PAUSE_SECONDS)

    def _peers(self):
        folder = os.environ.get(ERRORS_VARIABLE)
        states = peers_on_this_host(folder, self.rank) if folder and os.path.isdir(folder) else []
        reason = "another rank died, hung, or called a different collective"
        return f"{reason} ({'; '.join(states)})" if states else reason

    def close(self):
        self.comm.Free()
