"""Modelled on pytorch/examples time_sequence_prediction/train.py: a Sequence of two LSTMCell and a Linear,
unrolled over time with torch.zeros states and torch.cat of per-step outputs (output.split(1, dim=1)),
future prediction feeding its own output back, float64 throughout (.double()), nn.MSELoss and
optim.LBFGS(lr=0.8) stepping with a closure; the losses compared are the closure's, one per evaluation
(train.py prints each one)."""
import numpy as np


def imports(lib):
    if lib == "torch":
        import torch
        import torch.nn as nn
        import torch.optim as optim
    else:
        import autograd as torch
        import nn
        import nn.optim as optim
    return torch, nn, optim


def program(lib, H, steps=2):
    torch, nn, optim = imports(lib)

    class Sequence(nn.Module):
        def __init__(self):
            super(Sequence, self).__init__()
            self.lstm1 = nn.LSTMCell(1, 16)
            self.lstm2 = nn.LSTMCell(16, 16)
            self.linear = nn.Linear(16, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t = torch.zeros(input.size(0), 16, dtype=torch.double)
            c_t = torch.zeros(input.size(0), 16, dtype=torch.double)
            h_t2 = torch.zeros(input.size(0), 16, dtype=torch.double)
            c_t2 = torch.zeros(input.size(0), 16, dtype=torch.double)
            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for i in range(future):
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            outputs = torch.cat(outputs, dim=1)
            return outputs

    T, L, N = 20, 40, 8
    rng = np.random.default_rng(8)
    x = np.empty((N, L), 'int64')
    x[:] = np.array(range(L)) + rng.integers(-4 * T, 4 * T, N).reshape(N, 1)
    data = np.sin(x / 1.0 / T).astype('float64')
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    seq = Sequence()
    seq.double()
    seq = H.init(seq)
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)
    losses = []
    for i in range(steps):
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            losses.append(loss.item())              # train.py prints 'loss:' here, every evaluation
            loss.backward()
            return loss
        optimizer.step(closure)
        with torch.no_grad():
            future = 10
            pred = seq(test_input, future=future)
            assert tuple(pred.shape) == (3, L - 1 + future)
            y = pred.detach().numpy()
            assert np.isfinite(y).all()
    return losses, seq
