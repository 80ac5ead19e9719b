"""The op registry: every public op declares itself once, where it is defined.

`@op()` above a public function records it here; from that one declaration come its export as
`autograd.<name>`, its `Tensor.<name>` method (unless the Tensor class defines that method itself,
as it does for operators), and, with `inplace=True`, a recorded in-place `Tensor.<name>_`.
tests/test_registry.py checks every entry against the conformance registry in tests/opinfo.py.
"""
from __future__ import annotations

import types
from dataclasses import dataclass, field


@dataclass
class Decl:
    name: str
    fn: object
    family: str
    method: bool = True          # also Tensor.<name>
    inplace: bool = False        # also Tensor.<name>_ (recorded like any in-place write)
    export: bool = True          # also autograd.<name>
    aliases: tuple = field(default_factory=tuple)
    inplace_fns: dict = field(default_factory=dict)   # name_ -> the in-place function (made by install_methods)


#: public name -> its declaration, in declaration order
OPS: dict[str, Decl] = {}


def op(name=None, *, method=True, inplace=False, export=True, aliases=()):
    """Declare the decorated function a public op (see the module docstring)."""
    def deco(fn):
        n = name or fn.__name__
        if n in OPS:
            raise RuntimeError(f"op {n!r} is declared twice ({OPS[n].family} and {fn.__module__})")
        OPS[n] = Decl(n, fn, fn.__module__.rsplit(".", 1)[-1], method, inplace, export, tuple(aliases))
        return fn
    return deco


def exports(everything=False):
    """{name: function} for `autograd`'s namespace, aliases included (with `everything`, also the
    method-only ops, for the `ops` package's own namespace)."""
    out = {}
    for d in OPS.values():
        if d.export or everything:
            out[d.name] = d.fn
            for a in d.aliases:
                out[a] = d.fn
            out.update(d.inplace_fns)          # autograd.exp_(x), as torch.exp_
    return out


def bind(namespace, names, where, modules_giving_way=()):
    """Bind `names` ({name: function}, from `exports`) into `namespace` (a module's globals), refusing
    loudly, at import, a name already bound there to a different object: a public op named like an
    internal helper would otherwise replace it silently for every `ops.<name>` caller (it happened:
    the public `index_put` replaced the engine's, and `x[i] = v` broke). Family modules named in
    `modules_giving_way` may give their attribute to an op of their name (the module stays
    importable by its full name: `from .scatter import nonzero`)."""
    clashes = []
    for n, fn in names.items():
        old = namespace.get(n, fn)
        if old is not fn and not (n in modules_giving_way and isinstance(old, types.ModuleType)):
            clashes.append(f"{n!r} (the op from {getattr(fn, '__module__', '?')}) would replace {old!r}")
    if clashes:
        raise ImportError(f"public op names clash with names already bound in {where}: {'; '.join(clashes)}. "
                          f"Rename the internal name, import it under another name, or reach it through "
                          f"its module.")
    namespace.update(names)


def install_methods(tensor_cls, inplace_apply):
    """Give Tensor a method for every declared op it does not define itself."""
    for d in OPS.values():
        if not d.method:
            continue
        for n in (d.name,) + d.aliases:
            if n not in tensor_cls.__dict__:
                setattr(tensor_cls, n, d.fn)
        if d.inplace:
            for n in (d.name,) + d.aliases:
                if n + "_" not in tensor_cls.__dict__:
                    setattr(tensor_cls, n + "_", _inplace_method(d.fn, n + "_", inplace_apply))
                d.inplace_fns[n + "_"] = getattr(tensor_cls, n + "_")


def _inplace_method(fn, name, inplace_apply):
    def method(self, *args, **kwargs):
        return inplace_apply(self, lambda t: fn(t, *args, **kwargs), name, *args, *kwargs.values())
    method.__name__ = name
    method.__doc__ = f"In-place {fn.__name__}: writes the result into this tensor's storage."
    return method
