"""Seeding: `manual_seed(s)` makes every random factory and nn.init reproducible, per backend."""
from __future__ import annotations

_state = {"seed": None, "seeded": set()}


def manual_seed(seed: int):
    """Seed the generators of every backend (those loaded later are seeded on first use)."""
    seed = int(seed)
    _state["seed"] = seed
    _state["seeded"] = set()
    import backends
    for name in list(backends._registry):
        be = backends._registry[name]
        if be.is_available():
            _ensure_seeded(be)
    return seed


def seed():
    import secrets
    return manual_seed(secrets.randbits(63))


def initial_seed():
    return _state["seed"]


def _ensure_seeded(be):
    s = _state["seed"]
    if s is not None and id(be) not in _state["seeded"]:
        _state["seeded"].add(id(be))
        be.manual_seed(s)
