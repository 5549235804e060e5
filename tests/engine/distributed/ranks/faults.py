"""Rank 1 fails in the way ``faults.py MODE`` names while rank 0 waits for it in an all-reduce."""

import datetime
import os
import signal
import sys
import time

import engine
import engine.distributed as dist

mode = sys.argv[1]
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=3))
if dist.get_rank() == 1:
    if mode == "raise":
        raise ValueError("rank 1 gives up")
    if mode == "exit":
        sys.exit(3)
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "hang":
        time.sleep(120)
dist.all_reduce(engine.ones(4))
dist.destroy_process_group()
