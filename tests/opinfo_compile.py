"""autograd.compile is a function transform, not an op (tests/test_compile.py tests it)."""
ENTRIES = []
NON_OPS = {"compile"}
