"""Backend-neutral dtypes and devices.

A `DType` is the name a user writes (`autograd.float32`); each backend maps it to its
native dtype object. Promotion follows PyTorch's categories (bool < integer < floating)
rather than NumPy's value-based rules, so it lives here once instead of in every backend.
"""
from __future__ import annotations


class DType:
    __slots__ = ("name", "itemsize", "is_floating_point", "is_signed", "_rank", "min", "max")

    def __init__(self, name, itemsize, kind, rank):
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = kind == "f"
        self.is_signed = kind in "fi"
        self._rank = rank
        #: the finite range (torch.iinfo / torch.finfo's min and max)
        bits = 8 * itemsize
        if kind == "f":
            self.max = {2: 65504.0, 4: 3.4028234663852886e38, 8: 1.7976931348623157e308}[itemsize]
            self.min = -self.max
        elif kind == "i":
            self.min, self.max = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        else:
            self.min, self.max = 0, (1 if kind == "b" else (1 << bits) - 1)

    @property
    def category(self):
        return 2 if self.is_floating_point else (0 if self.name == "bool" else 1)

    def __repr__(self):
        return f"autograd.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


bool_ = DType("bool", 1, "b", 0)
uint8 = DType("uint8", 1, "u", 1)
int8 = DType("int8", 1, "i", 2)
int16 = DType("int16", 2, "i", 3)
int32 = DType("int32", 4, "i", 4)
int64 = DType("int64", 8, "i", 5)
float16 = DType("float16", 2, "f", 6)
float32 = DType("float32", 4, "f", 7)
float64 = DType("float64", 8, "f", 8)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
BY_NAME = {d.name: d for d in ALL}
BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64, "int": int32})


def wrap_int(x: int, dt: DType) -> int:
    """The Python int x as a value of integer dtype dt, wrapped around as a C++ cast does (what
    PyTorch gives for `uint8 + 300`: 44)."""
    bits = dt.itemsize * 8
    x &= (1 << bits) - 1
    if dt.is_signed and x >= 1 << (bits - 1):
        x -= 1 << bits
    return x


def _by_name(name):
    return BY_NAME[name]


def promote_types(a: DType, b: DType) -> DType:
    """Smallest dtype that holds both (PyTorch's table for the types we support)."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if {a, b} == {uint8, int8}:
        return int16
    return a if a._rank > b._rank else b


class device:
    """A device: its type names a registered backend ('cpu', 'cuda', ...), index the unit."""
    __slots__ = ("type", "index")

    def __init__(self, spec, index=None):
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        spec = str(spec)
        if ":" in spec:
            spec, _, idx = spec.partition(":")
            if not idx.isdigit():
                raise ValueError(f"invalid device string {spec}:{idx!r}")
            index = int(idx)
        self.type = spec
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"
