"""A first look: fit a tiny two-layer network with raw autograd ops, and watch the tape.

Run: python examples/demo.py
"""
import autograd as ag


def main():
    ag.manual_seed(0)
    # y = sin(3x) on [-1, 1]
    x = ag.linspace(-1, 1, 64).reshape(-1, 1)
    y = ag.sin(3 * x)
    w1 = (ag.randn(1, 32) * 1.0).requires_grad_()
    b1 = ag.zeros(32, requires_grad=True)
    w2 = (ag.randn(32, 1) * 0.2).requires_grad_()
    b2 = ag.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    pred = ag.tanh(x @ w1 + b1) @ w2 + b2
    loss = ((pred - y) ** 2).mean()
    print("the tape behind one loss value (newest node first):")
    node, seen = loss.grad_fn, 0
    while node is not None and seen < 8:
        print(f"  {node!r:<22} saved {len(node.saved)} tensor(s)")
        nxt = [e[0] for e in node.next if type(e) is tuple]
        node, seen = (nxt[0] if nxt else None), seen + 1

    lr = 0.1
    for step in range(301):
        pred = ag.tanh(x @ w1 + b1) @ w2 + b2
        loss = ((pred - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ag.no_grad():
            for p in params:
                p -= lr * p.grad
        if step % 100 == 0:
            print(f"step {step:3d}  loss {loss.item():.5f}")
    with ag.no_grad():
        final = ((ag.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()
    print(f"final loss {final.item():.5f} (under no_grad: requires_grad={final.requires_grad}, "
          f"grad_fn={final.grad_fn})")


if __name__ == "__main__":
    main()
