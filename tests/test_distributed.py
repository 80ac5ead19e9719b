"""autograd.distributed, DistributedDataParallel and DistributedSampler (issue 15).

The multi-process checks run tests/distributed/worker.py on 2 MPI ranks (loopback) through the launcher
`python -m autograd.distributed.run`, on the backend under test; the worker compares every collective
with NumPy on known inputs and DDP training with single-process training on the union of the ranks'
batches, and reports problems per scenario. Skipped, with the reason, where MPI is not installed."""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import autograd as ag
import autograd.distributed as dist
import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "distributed", "worker.py")
SCENARIOS = ["collectives", "ddp_sgd", "ddp_adam", "no_sync", "unused", "overlap", "syncbn"]


def _mpi_missing():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install \".[distributed]\")"
    if not (shutil.which("mpiexec") or os.path.exists(os.path.join(os.path.dirname(sys.executable), "mpiexec"))):
        return "mpiexec not found (the MPICH wheel provides it: pip install mpich)"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def _launch(device, scenarios, tmp_path, timeout_s=240, env_extra=None, launcher=True):
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env = dict(env, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TAPEGRAD_DEVICE=device, TAPEGRAD_DIST_OUT=str(out), **(env_extra or {}))
    if launcher:
        cmd = [sys.executable, "-m", "autograd.distributed.run", "--nproc-per-node", "2", WORKER, *scenarios]
    else:
        mpiexec = shutil.which("mpiexec") or os.path.join(os.path.dirname(sys.executable), "mpiexec")
        cmd = [mpiexec, "-n", "2", sys.executable, WORKER, *scenarios]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s, cwd=ROOT)
    return proc, (json.loads(out.read_text()) if out.exists() else None), time.monotonic() - t0


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory, request):
    device = request.config._tapegrad_device
    if device == "cuda":
        pytest.skip("the MPI scenarios run on CPU backends; NCCL needs 2 GPUs (unverified here)")
    proc, res, _ = _launch(device, SCENARIOS, tmp_path_factory.mktemp("dist"))
    assert proc.returncode == 0 and res is not None, f"2-rank run failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}"
    return res


@needs_mpi
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_two_ranks(two_ranks, scenario):
    assert scenario in two_ranks, f"scenario {scenario} did not report"
    assert two_ranks[scenario] == [], "\n".join(two_ranks[scenario])


@needs_mpi
def test_a_rank_raising_ends_the_job_with_its_error(tmp_path, device):
    proc, res, took = _launch(device, ["crash"], tmp_path, timeout_s=120, launcher=False)
    assert proc.returncode != 0 and res is None
    assert "[rank 1] uncaught ValueError: deliberate failure on rank 1 at step 3: aborting the distributed job" \
        in proc.stderr
    assert took < 60, f"the job took {took:.0f} s to end after a rank raised"


@needs_mpi
def test_a_hanging_rank_times_the_others_out(tmp_path, device):
    proc, res, took = _launch(device, ["hang"], tmp_path, timeout_s=120, env_extra={"TAPEGRAD_DIST_TIMEOUT": "3"},
                              launcher=False)
    assert proc.returncode != 0 and res is None
    assert "distributed.all_reduce: rank 0 of 2 waited 3 s for its peers (timeout)" in proc.stderr
    assert took < 60, f"the job took {took:.0f} s to end after a timeout of 3 s"


# --- single process ------------------------------------------------------------------------------

def test_collectives_need_a_process_group():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        dist.all_reduce(ag.ones(2))
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        dist.get_rank()
    assert dist.is_main_process()
    with pytest.raises(ValueError, match="unknown backend 'tcp'"):
        dist.Backend("tcp")
    assert dist.Backend("MPI") == "mpi" and dist.ReduceOp.SUM is not dist.ReduceOp.AVG


def test_post_accumulate_grad_hook_runs_once_the_gradient_is_complete(device):
    """The hook of the last layer's weight runs before backward reaches the first layer (what DDP's
    overlap relies on), sees the accumulated .grad (both uses of a tied weight summed), runs once."""
    w1 = ag.randn(3, 3, dtype=ag.float64, device=device, requires_grad=True)
    w2 = ag.randn(3, 3, dtype=ag.float64, device=device, requires_grad=True)
    log = []

    class Spy(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            log.append("middle")
            return g

    w1.register_post_accumulate_grad_hook(lambda p: log.append(("w1", p.grad.clone())))
    h2 = w2.register_post_accumulate_grad_hook(lambda p: log.append(("w2", p.grad.clone())))
    x = ag.randn(2, 3, dtype=ag.float64, device=device)
    h = Spy.apply((x @ w1).tanh())
    ((h @ w2).sum() + (h @ w2 * 2).sum()).backward()
    assert [e if isinstance(e, str) else e[0] for e in log] == ["w2", "middle", "w1"]
    np.testing.assert_allclose(log[0][1].cpu().numpy(), w2.grad.cpu().numpy())
    np.testing.assert_allclose(log[2][1].cpu().numpy(), w1.grad.cpu().numpy())
    # the sum of both uses of w2: d/dw2 of 3 * sum(h @ w2)
    np.testing.assert_allclose(w2.grad.cpu().numpy(), 3 * np.repeat(h.detach().cpu().numpy().sum(0)[:, None], 3, 1))
    h2.remove()
    log.clear()
    w1.grad = w2.grad = None
    (Spy.apply(x @ w1) @ w2).sum().backward()
    assert [e if isinstance(e, str) else e[0] for e in log] == ["middle", "w1"]
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w1 * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ag.ones(2).register_post_accumulate_grad_hook(lambda p: None)


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 2, False), (11, 2, False), (11, 2, True), (5, 4, False),
                                                  (3, 4, False), (13, 4, True), (1, 3, False)])
def test_distributed_sampler_splits_as_torch(n, replicas, drop_last):
    ds = nn.data.TensorDataset(ag.arange(n))
    ours = [list(nn.data.DistributedSampler(ds, replicas, r, shuffle=False, drop_last=drop_last))
            for r in range(replicas)]
    torch = pytest.importorskip("torch", reason="torch is the oracle")
    from torch.utils.data.distributed import DistributedSampler as TS
    theirs = [list(TS(list(range(n)), replicas, r, shuffle=False, drop_last=drop_last)) for r in range(replicas)]
    assert ours == theirs
    assert [len(nn.data.DistributedSampler(ds, replicas, r, drop_last=drop_last)) for r in range(replicas)] == \
        [len(TS(list(range(n)), replicas, r, drop_last=drop_last)) for r in range(replicas)]
    del torch


def test_distributed_sampler_shuffles_the_same_on_every_rank():
    ds = nn.data.TensorDataset(ag.arange(23))
    parts = []
    for r in range(3):
        s = nn.data.DistributedSampler(ds, 3, r, shuffle=True, seed=5)
        s.set_epoch(2)
        parts.append(list(s))
    flat = sorted(i for p in parts for i in p)
    assert len(flat) == 24 and set(flat) == set(range(23))           # padded by one repeat
    s = nn.data.DistributedSampler(ds, 3, 0, shuffle=True, seed=5)
    s.set_epoch(2)
    assert list(s) == parts[0]
    s.set_epoch(3)
    assert list(s) != parts[0]
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        nn.data.DistributedSampler(ds, 3, 3)
    with pytest.raises(RuntimeError, match="process group is not initialized"):
        nn.data.DistributedSampler(ds)


def test_dataloader_sampler_options_follow_torch():
    ds = nn.data.TensorDataset(ag.arange(10))
    sampler = nn.data.DistributedSampler(ds, 2, 1, shuffle=False)
    got = [b[0].tolist() for b in nn.data.DataLoader(ds, batch_size=2, sampler=sampler)]
    assert got == [[1, 3], [5, 7], [9]]
    bs = nn.data.BatchSampler(nn.data.SequentialSampler(ds), 4, drop_last=True)
    assert [b[0].tolist() for b in nn.data.DataLoader(ds, batch_sampler=bs)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(nn.data.DataLoader(ds, batch_size=3)) == 4 and len(nn.data.DataLoader(ds, batch_size=3, drop_last=True)) == 3
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        nn.data.DataLoader(ds, sampler=sampler, shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        nn.data.DataLoader(ds, batch_size=2, batch_sampler=bs)
    one = list(nn.data.DataLoader(ds, batch_size=None))
    assert len(one) == 10 and one[3][0].shape == ()


@needs_mpi
def test_digits_ddp_example_trains_on_two_processes(tmp_path, device):
    if device != "cpu":
        pytest.skip("the example runs on the default CPU backend; the 2-rank scenarios above cover the others")
    pytest.importorskip("sklearn", reason="the example's data set is scikit-learn's bundled digits")
    cmd = [sys.executable, "-m", "autograd.distributed.run", "--timeout", "240", "--nproc-per-node", "2",
           os.path.join(ROOT, "examples", "digits_ddp.py"), "--epochs", "3", "--out", str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.path.join(ROOT, "examples"))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("epoch ")]
    assert len(lines) == 3 and "(2 processes" in lines[-1], proc.stdout    # rank 0 alone prints
    acc = float(lines[-1].split("test accuracy ")[1].split()[0])
    assert acc > 0.9, lines[-1]


def test_sync_batchnorm_without_a_process_group_is_batchnorm(device):
    """convert_sync_batchnorm swaps every BatchNorm*d for a SyncBatchNorm sharing its parameters and
    buffers; outside a process group it normalises like BatchNorm (the 2-rank case is scenario syncbn)."""
    import numpy as np
    ag.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.BatchNorm1d(12))
    ref = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.BatchNorm1d(12))
    ref.load_state_dict(model.state_dict())
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert [type(m).__name__ for m in conv] == ["Conv2d", "SyncBatchNorm", "ReLU", "Flatten", "SyncBatchNorm"]
    assert conv[1].weight is ref[1].weight or conv[1].weight is model[1].weight
    conv.to(device), ref.to(device)
    x = ag.tensor(np.random.default_rng(0).standard_normal((4, 2, 4, 4)).astype("float32"), device=device)
    for train in (True, False):
        conv.train(train), ref.train(train)
        np.testing.assert_allclose(conv(x).detach().cpu().numpy(), ref(x).detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    assert list(conv.state_dict()) == list(ref.state_dict())
