"""Modelled on pytorch/examples siamese_network/main.py: one shared tower applied to both inputs,
features concatenated with torch.cat, a small head with sigmoid, nn.BCELoss on float targets,
Adadelta and StepLR; plus a triplet variant's TripletMarginLoss on the same tower (the idiom of
metric-learning ports). Inputs are 16-dim vectors; a pair is "same" when from one cluster."""
import numpy as np


def imports(lib):
    if lib == "torch":
        import torch
        import torch.nn as nn
        import torch.optim as optim
        from torch.optim.lr_scheduler import StepLR
    else:
        import autograd as torch
        import nn
        import nn.optim as optim
        from nn.optim.lr_scheduler import StepLR
    return torch, nn, optim, StepLR


def program(lib, H, steps=12):
    torch, nn, optim, StepLR = imports(lib)
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((4, 16)) * 2

    class SiameseNetwork(nn.Module):
        def __init__(self):
            super(SiameseNetwork, self).__init__()
            self.tower = nn.Sequential(nn.Linear(16, 32), nn.ReLU(inplace=True), nn.Linear(32, 8))
            self.fc = nn.Sequential(nn.Linear(8 * 2, 16), nn.ReLU(inplace=True), nn.Linear(16, 1))
            self.sigmoid = nn.Sigmoid()

        def forward_once(self, x):
            output = self.tower(x)
            output = output.view(output.size()[0], -1)
            return output

        def forward(self, input1, input2):
            output1 = self.forward_once(input1)
            output2 = self.forward_once(input2)
            output = torch.cat((output1, output2), 1)
            output = self.fc(output)
            output = self.sigmoid(output)
            return output

    model = H.init(SiameseNetwork())
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=4, gamma=0.7)
    criterion = nn.BCELoss()
    triplet = nn.TripletMarginLoss(margin=1.0, p=2)
    losses = []
    for step in range(steps):
        a = rng.integers(0, 4, 24)
        same = rng.random(24) < 0.5
        b = np.where(same, a, (a + rng.integers(1, 4, 24)) % 4)
        x1 = torch.tensor((centers[a] + rng.standard_normal((24, 16)) * 0.5).astype("float32"))
        x2 = torch.tensor((centers[b] + rng.standard_normal((24, 16)) * 0.5).astype("float32"))
        x3 = torch.tensor((centers[(a + 1) % 4] + rng.standard_normal((24, 16)) * 0.5).astype("float32"))
        targets = torch.tensor(same.astype("float32"))
        optimizer.zero_grad()
        outputs = model(x1, x2).squeeze()
        loss = criterion(outputs, targets)
        same_idx = torch.tensor(np.flatnonzero(same))
        loss = loss + 0.1 * triplet(model.forward_once(x1[same_idx]), model.forward_once(x2[same_idx]),
                                    model.forward_once(x3[same_idx]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        scheduler.step()
    return losses, model
