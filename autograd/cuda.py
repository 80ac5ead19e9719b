"""`autograd.cuda`: is a CUDA device usable here (CuPy installed and a GPU present), and its random
number generator (PyTorch's torch.cuda seeding and state functions).

The seeding functions act on the CUDA device's default generator only (the CPU's is untouched, as in
torch). Without CUDA they do what torch's do on a machine without CUDA: seeding and setting a state
are accepted and do nothing (torch queues them for a CUDA initialisation that never comes), while
`initial_seed` and `get_rng_state`, which must return something, raise.
"""
from __future__ import annotations

import secrets


def _backend():
    import backends
    try:
        return backends.get("cuda")
    except Exception:                                  # noqa: BLE001 - unavailable for any reason
        return None


def is_available() -> bool:
    be = _backend()
    return be is not None and be.is_available()


def unavailable_reason() -> str:
    be = _backend()
    if be is None:
        return "no CUDA backend could be loaded"
    return be.unavailable_reason()


def device_count() -> int:
    be = _backend()
    return be.device_count() if be is not None and be.is_available() else 0


def synchronize():
    be = _backend()
    if be is not None and be.is_available():
        be.synchronize()


# --- the CUDA device's default generator (torch.cuda.random) -------------------------------------

def _generator(device="cuda", name="", required=False):
    """The default generator of the CUDA device `device` (int, str or device); None without CUDA
    (an error when `required`)."""
    from backends.dtypes import device as _device
    dev = _device("cuda", device) if isinstance(device, int) and not isinstance(device, bool) else _device(device)
    if dev.type != "cuda":
        raise ValueError(f"autograd.cuda.{name}: expected a CUDA device, got '{dev}'")
    be = _backend()
    if be is None or not be.is_available():
        if required:
            raise RuntimeError(f"autograd.cuda.{name}: CUDA is not available ({unavailable_reason()})")
        return None
    if dev.index is not None and hasattr(be, "for_index"):
        be = be.for_index(dev.index)                 # cuda:1 and beyond: a clear error (one GPU per process)
    from .random import default_generator_for
    return default_generator_for(be)


def manual_seed(seed) -> None:
    """Seed the CUDA device's default generator (torch.cuda.manual_seed); nothing without CUDA."""
    seed = int(seed)                                 # torch's one eager check
    g = _generator(name="manual_seed")
    if g is not None:
        g.manual_seed(seed)


def manual_seed_all(seed) -> None:
    """Seed every CUDA device's default generator (here: the one device a process uses)."""
    seed = int(seed)
    g = _generator(name="manual_seed_all")
    if g is not None:
        g.manual_seed(seed)


def seed() -> None:
    """Seed the CUDA device's default generator from the operating system's entropy (returns None,
    as torch.cuda.seed; `initial_seed()` tells the seed)."""
    g = _generator(name="seed")
    if g is not None:
        g.manual_seed(secrets.randbits(63))


def seed_all() -> None:
    """seed(), for every CUDA device (here: the one)."""
    g = _generator(name="seed_all")
    if g is not None:
        g.manual_seed(secrets.randbits(63))


def initial_seed() -> int:
    """The seed the CUDA device's default generator was last given; raises without CUDA (as torch)."""
    return _generator(name="initial_seed", required=True).initial_seed()


def get_rng_state(device="cuda"):
    """The CUDA default generator's state, a CPU uint8 tensor (not torch's bytes: CuPy's generator is not
    torch's Philox); raises without CUDA (as torch)."""
    return _generator(device, "get_rng_state", required=True).get_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Restore a state from get_rng_state(); nothing without CUDA (as torch)."""
    g = _generator(device, "set_rng_state")
    if g is not None:
        g.set_state(new_state)


def get_rng_state_all():
    """One state per CUDA device: a list, empty without CUDA (as torch)."""
    g = _generator(name="get_rng_state_all")
    return [] if g is None else [g.get_state()]


def set_rng_state_all(new_states) -> None:
    """Restore each device's state from get_rng_state_all(); nothing without CUDA."""
    for i, st in enumerate(new_states):
        set_rng_state(st, i)


def __getattr__(name):
    if name == "default_generators":                 # torch.cuda.default_generators: one per device
        g = _generator(name=name)
        return () if g is None else (g,)
    raise AttributeError(f"module 'autograd.cuda' has no attribute {name!r}")
