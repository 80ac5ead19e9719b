"""Random numbers (PyTorch's `torch.random`): generators, seeding, and the draws every random
function is built from.

Each device has a default generator, the backend's own (`default_generator` is the CPU's);
`Generator(device)` makes independent ones, and every random function takes one as
`generator=`. A generator hands its backend's generator object to the backend's few raw draws
(`rng_random`, `rng_normal`, `rng_integers`, `rng_permutation`, `rng_poisson`, see
backends/base.py); the distributions are built here from them, on the device, without loops.

The same seed gives the same numbers on every run, per backend. They are not torch's numbers:
torch's Mersenne Twister / Philox streams are not reproduced (NumPy draws with PCG64, CuPy with
cuRAND's Philox), so only the distributions, shapes, dtypes and devices match torch's.
"""
from __future__ import annotations

import contextlib
import json
import math
import numbers
import secrets

from backends import dtypes as _dt

#: torch's seed for a new `Generator()`
DEFAULT_SEED = 67280421310721

# the seed of the last manual_seed (at import: a random one, as torch seeds itself), and per backend
# the seed its default generator was last given (a backend loaded later is seeded on first use)
_state = {"seed": secrets.randbits(63), "seeded": {}}


def _check_seed(seed, name="manual_seed"):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"{name}: seed must be an int, got {type(seed).__name__}") from None
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise RuntimeError(f"{name}: Overflow when unpacking long: seed {seed} is outside "
                           f"[-2**63, 2**64)")
    return seed % 2 ** 64            # as torch: a negative seed counts from 2**64


def _backend(device):
    import backends
    be = backends.get(device)
    if not be.is_available():
        raise RuntimeError(f"Generator: device '{device}' is not available: {be.unavailable_reason()}")
    return be


class Generator:
    """A random number generator of one device (PyTorch's `torch.Generator`): seed it, save and
    restore its state, and pass it as `generator=` to any random function, whose draws then come
    from it alone (two generators seeded alike give the same draws, whatever the global seed)."""

    def __init__(self, device="cpu"):
        self._be = _backend(device)
        self._rng = self._be.rng_new(DEFAULT_SEED)
        self._seed = DEFAULT_SEED

    @property
    def device(self):
        return _dt.device(self._be.device_type, getattr(self._be, "index", None)
                          if self._be.device_type != "cpu" else None)

    def manual_seed(self, seed):
        """Seed this generator; returns it (torch's chaining: `Generator().manual_seed(0)`)."""
        seed = _check_seed(seed, "Generator.manual_seed")
        self._rng = self._be.rng_new(seed)
        self._seed = seed
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the seed."""
        s = secrets.randbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a CPU uint8 tensor (for set_state; its length is not torch's 5056 bytes)."""
        data = json.dumps({"backend": self._be.name, "state": self._be.rng_get_state(self._rng)},
                          sort_keys=True).encode()
        from .factories import tensor
        return tensor(list(data), dtype=_dt.uint8, device="cpu")

    def set_state(self, new_state):
        self._be.rng_set_state(self._rng, _decode_state(new_state, self._be))
        return self

    def __repr__(self):
        return f"<autograd.Generator device='{self.device}' initial_seed={self.initial_seed()}>"


def _decode_state(new_state, be):
    from .tensor import Tensor
    if not isinstance(new_state, Tensor) or new_state.dtype is not _dt.uint8:
        raise TypeError(f"set_state: expected a uint8 tensor from get_state(), got "
                        f"{new_state.dtype.name if isinstance(new_state, Tensor) else type(new_state).__name__}")
    try:
        obj = json.loads(bytes(new_state.cpu().tolist()).decode())
        name, st = obj["backend"], obj["state"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise RuntimeError("set_state: the tensor is not a generator state from get_state()") from None
    if name != be.name:
        raise RuntimeError(f"set_state: a state of a {name} generator cannot be set on a {be.name} one")
    return st


class _DeviceDefault(Generator):
    """A device's default generator: the backend's own, which `manual_seed` seeds for every device."""

    def __init__(self, be):
        self._be = be

    @property
    def _rng(self):
        _ensure_seeded(self._be)
        return self._be.rng_default()

    def manual_seed(self, seed):
        seed = _check_seed(seed, "Generator.manual_seed")
        self._be.manual_seed(seed)
        _state["seeded"][self._be] = seed
        return self

    def initial_seed(self):
        _ensure_seeded(self._be)
        return _state["seeded"][self._be]

    def set_state(self, new_state):
        _ensure_seeded(self._be)         # else a first use would reseed over the state set here
        return super().set_state(new_state)


_defaults = {}          # id(backend) -> its _DeviceDefault


def default_generator_for(be):
    g = _defaults.get(id(be))
    if g is None:
        g = _defaults[id(be)] = _DeviceDefault(be)
    return g


def _cpu():
    import backends
    return backends.get("cpu")


#: the CPU's default generator (torch.default_generator)
default_generator = default_generator_for(_cpu())


def _loaded_backends():
    import backends
    return [be for be in list(backends._registry.values()) if be.is_available()]


def manual_seed(seed):
    """Seed every device's default generator (backends loaded later: on first use); returns
    `default_generator`, as torch."""
    seed = _check_seed(seed)
    _state["seed"] = seed
    _state["seeded"] = {}
    for be in _loaded_backends():
        _ensure_seeded(be)
    return default_generator


def seed():
    """Seed every device from the operating system's entropy; returns the seed."""
    s = secrets.randbits(63)
    manual_seed(s)
    return s


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """The CPU default generator's state, a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Run the block, then put every device's default generator back where it was (torch's
    `torch.random.fork_rng`; `devices` is accepted: there is one device per type here)."""
    if not enabled:
        yield
        return
    saved = [(g, g.get_state()) for g in (default_generator_for(be) for be in _loaded_backends())]
    try:
        yield
    finally:
        for g, st in saved:
            g.set_state(st)


def _ensure_seeded(be):
    """Give a backend's default generator the current seed before its first draw (hot path: every
    factory call asks)."""
    if be not in _state["seeded"]:          # keyed by the backend itself: a dead one's id is never reused
        _state["seeded"][be] = _state["seed"]
        be.manual_seed(_state["seed"])


# ------------------------------------------------------------------------------------------------
# draws on backend arrays, for the random functions (factories.py, ops/random_ops.py, Tensor.*_)

def generator_rng(generator, be, name):
    """The backend generator object to draw from: generator's, or be's default."""
    if generator is None:
        _ensure_seeded(be)
        return be.rng_default()
    if not isinstance(generator, Generator):
        raise TypeError(f"{name}: generator must be an autograd.Generator, got {type(generator).__name__}")
    if generator._be is not be:
        raise RuntimeError(f"{name}: Expected a '{be.device_type}' device type for generator but found "
                           f"'{generator._be.device_type}'")
    return generator._rng


_DIGITS = {2: 11, 4: 24, 8: 53}        # significand bits of float16/32/64 (std::numeric_limits::digits)


def uniform01(be, rng, shape, dt):
    """Uniform on [0, 1) for float dtype dt (float64 for any other), on dt's grid (multiples of
    2**-digits, as torch), so that the cast to dt never rounds up to 1: float32 and float64 are
    drawn as such, float16 as float32 floored to multiples of 2**-11."""
    if not dt.is_floating_point or dt.itemsize == 8:
        return be.rng_random(rng, shape)
    u = be.rng_random(rng, shape, single=True)
    if dt.itemsize == 2:
        u = be.xp.floor(u * 2048.0) / 2048.0         # exact in float32
    return u


def std_normal(be, rng, shape):
    return be.rng_normal(rng, shape)


def integers(be, rng, low, high_incl, shape):
    return be.rng_integers(rng, int(low), int(high_incl), shape)


def cast(be, arr, dt):
    quiet = be.enter_quiet()               # float16 may overflow to inf, silently as torch
    try:
        return be.xp.astype(arr, be.native_dtype(dt), copy=False)
    finally:
        be.exit_quiet(quiet)


def float_result(dt, name):
    if not dt.is_floating_point:
        raise NotImplementedError(f"{name}: not implemented for {dt.name} (it draws floating point "
                                  f"numbers)")


def int_bounds(dt, low, high_incl, name):
    """torch's checks of an integer range [low, high_incl] against dtype dt."""
    if dt.is_floating_point:
        lim = 2 ** _DIGITS[dt.itemsize]
        lo, hi = -lim, lim
    else:
        lo, hi = dt.min, dt.max
    if low < lo:
        raise RuntimeError(f"{name}: from={low} is out of bounds for {dt.name}")
    if high_incl > hi:
        raise RuntimeError(f"{name}: to - 1 = {high_incl} is out of bounds for {dt.name}")


def log1p_neg(be, u):
    """log(1 - u) for u on [0, 1): finite (1 - u is in (0, 1])."""
    return be.xp.log1p(-u)


def finite_float(v, name, what):
    v = float(v)
    if math.isnan(v):
        raise RuntimeError(f"{name}: {what} is nan")
    return v
