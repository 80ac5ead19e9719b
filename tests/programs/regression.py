"""Modelled on pytorch/examples regression/main.py: fit a degree-4 polynomial with one nn.Linear,
features built with cat of powers, smooth_l1_loss, a hand-written SGD step through `param.data.add_`,
and the learned function printed with "{:+.2f}".format(tensor)."""
import numpy as np

POLY_DEGREE = 4


def imports(lib):
    if lib == "torch":
        import torch
        import torch.nn.functional as F
    else:
        import autograd as torch
        import nn.functional as F
    return torch, F


def program(lib, H, steps=20):
    torch, F = imports(lib)
    rng = np.random.default_rng(1)
    W_target = torch.tensor(rng.standard_normal((POLY_DEGREE, 1)).astype("float32")) * 5
    b_target = torch.tensor(rng.standard_normal(1).astype("float32")) * 5

    def make_features(x):
        """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
        x = x.unsqueeze(1)
        return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)

    def f(x):
        return x.mm(W_target) + b_target.item()

    def poly_desc(W, b):
        result = 'y = '
        for i, w in enumerate(W):
            result += '{:+.2f} x^{} '.format(w, i + 1)
        result += '{:+.2f}'.format(b[0])
        return result

    def get_batch(batch_size=32):
        random = torch.tensor(rng.standard_normal(batch_size).astype("float32"))
        x = make_features(random)
        y = f(x)
        return x, y

    fc = H.init(torch.nn.Linear(W_target.size(0), 1))
    losses = []
    for batch_idx in range(1, steps + 1):
        batch_x, batch_y = get_batch()
        fc.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)
        losses.append(loss)
    desc = poly_desc(fc.weight.view(-1), fc.bias)
    assert desc.startswith("y = ") and desc.count("x^") == POLY_DEGREE, desc
    return losses, fc
