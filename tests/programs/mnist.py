"""Modelled on pytorch/examples mnist/main.py: two Conv2d, max_pool2d, Dropout, flatten, two Linear,
log_softmax + nll_loss, Adadelta(lr=1.0) with StepLR(step_size=1, gamma=0.7), a test pass under
no_grad with argmax(dim=1, keepdim=True) and eq(target.view_as(pred)). Images are 12x12 synthetic
class patterns (MNIST's 28x28 scaled down so the step runs in milliseconds)."""
import numpy as np


def imports(lib):
    if lib == "torch":
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
        from torch.optim.lr_scheduler import StepLR
        from torch.utils.data import DataLoader, TensorDataset
    else:
        import autograd as torch
        import nn
        import nn.functional as F
        import nn.optim as optim
        from nn.optim.lr_scheduler import StepLR
        from nn.data import DataLoader, TensorDataset
    return torch, nn, F, optim, StepLR, DataLoader, TensorDataset


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    protos = np.random.default_rng(99).random((10, 12, 12)) > 0.6
    x = (protos[y] + 0.3 * rng.standard_normal((n, 12, 12))).astype("float32")[:, None]
    return (x - 0.1307) / 0.3081, y.astype("int64")


def program(lib, H, steps=12, dropout=0.0):
    torch, nn, F, optim, StepLR, DataLoader, TensorDataset = imports(lib)

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, 1)
            self.conv2 = nn.Conv2d(8, 16, 3, 1)
            self.dropout1 = nn.Dropout(dropout)
            self.dropout2 = nn.Dropout(dropout * 2)
            self.fc1 = nn.Linear(16 * 4 * 4, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    xtr, ytr = make_data(96, 0)
    xte, yte = make_data(64, 1)
    train_loader = DataLoader(TensorDataset(torch.tensor(xtr), torch.tensor(ytr)), batch_size=16)
    test_loader = DataLoader(TensorDataset(torch.tensor(xte), torch.tensor(yte)), batch_size=32)
    model = H.init(Net())
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    losses = []
    epoch = 0
    while len(losses) < steps:
        epoch += 1
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
        model.eval()
        test_loss = 0
        correct = 0
        with torch.no_grad():
            for data, target in test_loader:
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction='sum').item()
                pred = output.argmax(dim=1, keepdim=True)
                correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        assert 0 <= correct <= len(test_loader.dataset)
        scheduler.step()
    return losses, model
