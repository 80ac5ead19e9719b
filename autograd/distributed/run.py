"""Launch a training script on several processes (torchrun's role), through MPI's `mpiexec`:

    python -m autograd.distributed.run --nproc-per-node 2 train.py --epochs 3

Each process runs `train.py` with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE,
LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so scripts written for torchrun work; they call
`autograd.distributed.init_process_group()` as usual. `mpiexec -n 2 python train.py` works as well.
The job's exit status is the first failing rank's; an exception on any rank aborts all of them.
"""
from __future__ import annotations

import argparse
import os
import runpy
import shutil
import subprocess
import sys


def _mpiexec():
    found = shutil.which("mpiexec")
    if found:
        return found
    cand = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(cand):
        return cand
    raise SystemExit("autograd.distributed.run: mpiexec not found; install the 'distributed' extra "
                     "(pip install \".[distributed]\": mpi4py and the MPICH wheel, which brings mpiexec)")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m autograd.distributed.run",
                                 description="run a script on several processes over MPI (torchrun's role)")
    ap.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1, dest="nproc")
    ap.add_argument("--nnodes", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=None, help="seconds before the whole job is killed")
    ap.add_argument("-m", "--module", action="store_true", help="run the target as a module (python -m)")
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    ns = ap.parse_args(argv)
    if ns.nnodes != 1:
        raise SystemExit("autograd.distributed.run: one node only; for several nodes use mpiexec with a host file")
    if ns.nproc < 1:
        raise SystemExit(f"autograd.distributed.run: --nproc-per-node must be >= 1, got {ns.nproc}")
    cmd = [_mpiexec(), "-n", str(ns.nproc), sys.executable, "-m", "autograd.distributed.run", "--worker",
           "-m" if ns.module else "--script", ns.script, *ns.args]
    env = dict(os.environ)
    if ns.nproc > 1 and "OMP_NUM_THREADS" not in env:
        # as torchrun: one BLAS thread per process unless told otherwise (N processes x all-core BLAS
        # pools oversubscribe the cores: the digits CNN step ran 7x slower on 2 ranks of a 2-core machine)
        sys.stderr.write("autograd.distributed.run: setting OMP_NUM_THREADS=1 (and OPENBLAS/MKL) for each process "
                         "by default; set OMP_NUM_THREADS to choose\n")
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        return subprocess.run(cmd, timeout=ns.timeout, env=env).returncode
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"autograd.distributed.run: the job ran past --timeout {ns.timeout} s and was killed\n")
        return 124


def _worker(argv):
    """Inside mpiexec: torchrun's environment from MPI's (PMI_RANK, PMI_SIZE), then the script."""
    mode, target, *args = argv
    rank = os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
    size = os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    os.environ.update(RANK=rank, LOCAL_RANK=rank, WORLD_SIZE=size, LOCAL_WORLD_SIZE=size, GROUP_RANK="0")
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    sys.argv = [target, *args]
    if mode == "-m":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        runpy.run_path(target, run_name="__main__")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2:])
    else:
        sys.exit(main())
