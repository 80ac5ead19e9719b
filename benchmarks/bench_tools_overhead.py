"""What the tools cost when off: time a small-op MLP step (many tiny nodes, so per-node overhead
shows) here and in another checkout given as argv[1], interleaved, and print medians and ratio.

    PYTHONPATH=. python benchmarks/bench_tools_overhead.py /path/to/other/checkout
"""
import os
import statistics
import subprocess
import sys

STEP = r'''
import time, autograd as ag
ag.manual_seed(0)
x = ag.randn(8, 16); Ws = [ag.randn(16, 16, requires_grad=True) for _ in range(20)]
def step():
    h = x
    for W in Ws:
        h = (h @ W * 0.1 + 0.01).tanh()
    h.sum().backward()
for _ in range(20): step()
ts = []
for _ in range(30):
    t = time.perf_counter()
    for _ in range(10): step()
    ts.append((time.perf_counter() - t) / 10)
ts.sort(); print(ts[len(ts) // 2])
'''


def run(root):
    env = dict(os.environ, PYTHONPATH=root)
    return float(subprocess.check_output([sys.executable, "-c", STEP], env=env, cwd=root).decode())


def main():
    here, other = os.getcwd(), sys.argv[1]
    a, b = [], []
    for _ in range(5):
        a.append(run(here))
        b.append(run(other))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"this checkout: {ma * 1e3:.3f} ms/step   other: {mb * 1e3:.3f} ms/step   ratio {ma / mb:.3f}")


if __name__ == "__main__":
    main()
