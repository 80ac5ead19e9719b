"""Modelled on the torchaudio speech-commands tutorial's M5 network: Conv1d with a wide first kernel and
stride, BatchNorm1d, max_pool1d, F.avg_pool1d over the remaining length, permute, log_softmax +
F.nll_loss, Adam(weight_decay=1e-4) and StepLR. Waveforms are 1x800 synthetic tones of 4 pitches."""
import numpy as np


def imports(lib):
    if lib == "torch":
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
    else:
        import autograd as torch
        import nn
        import nn.functional as F
        import nn.optim as optim
    return torch, nn, F, optim


def program(lib, H, steps=10):
    torch, nn, F, optim = imports(lib)

    class M5(nn.Module):
        def __init__(self, n_input=1, n_output=4, stride=8, n_channel=8):
            super().__init__()
            self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=40, stride=stride)
            self.bn1 = nn.BatchNorm1d(n_channel)
            self.pool1 = nn.MaxPool1d(4)
            self.conv2 = nn.Conv1d(n_channel, n_channel, kernel_size=3)
            self.bn2 = nn.BatchNorm1d(n_channel)
            self.pool2 = nn.MaxPool1d(4)
            self.conv3 = nn.Conv1d(n_channel, 2 * n_channel, kernel_size=3)
            self.bn3 = nn.BatchNorm1d(2 * n_channel)
            self.fc1 = nn.Linear(2 * n_channel, n_output)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(self.bn1(x))
            x = self.pool1(x)
            x = self.conv2(x)
            x = F.relu(self.bn2(x))
            x = self.pool2(x)
            x = self.conv3(x)
            x = F.relu(self.bn3(x))
            x = F.avg_pool1d(x, x.shape[-1])
            x = x.permute(0, 2, 1)
            x = self.fc1(x)
            return F.log_softmax(x, dim=2)

    model = H.init(M5())
    optimizer = optim.Adam(model.parameters(), lr=0.01, weight_decay=0.0001)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.1)
    rng = np.random.default_rng(11)
    t = np.arange(800) / 8000.0
    losses = []
    model.train()
    for step in range(steps):
        y = rng.integers(0, 4, 16)
        wave = np.sin(2 * np.pi * (200 + 150 * y)[:, None] * t) + 0.1 * rng.standard_normal((16, 800))
        data = torch.tensor(wave[:, None, :].astype("float32"))
        target = torch.tensor(y)
        output = model(data)
        loss = F.nll_loss(output.squeeze(), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 5 == 4:
            scheduler.step()
    pred = output.argmax(dim=-1).squeeze()
    assert tuple(pred.shape) == (16,)
    return losses, model
