"""Modelled on pytorch/examples vae/main.py: encoder fc1 -> (fc21, fc22), reparameterisation with
exp(0.5 * logvar), decoder fc3 -> sigmoid(fc4), BCE with reduction="sum" plus the KL term, Adam.
Images are 8x8 synthetic strokes in [0, 1] (the MNIST shapes scaled down: 64 pixels, 32 hidden, 8 latent)."""
import numpy as np


def imports(lib):
    if lib == "torch":
        import torch
        from torch import nn, optim
        from torch.nn import functional as F
        from torch.utils.data import DataLoader, TensorDataset
    else:
        import autograd as torch
        import nn
        from nn import optim
        from nn import functional as F
        from nn.data import DataLoader, TensorDataset
    return torch, nn, optim, F, DataLoader, TensorDataset


def program(lib, H, steps=12):
    torch, nn, optim, F, DataLoader, TensorDataset = imports(lib)
    rng = np.random.default_rng(2)
    data = (rng.random((256, 1, 8, 8)) < np.linspace(0.1, 0.9, 64).reshape(1, 1, 8, 8)).astype("float32")

    class VAE(nn.Module):
        def __init__(self):
            super(VAE, self).__init__()
            self.fc1 = nn.Linear(64, 32)
            self.fc21 = nn.Linear(32, 8)
            self.fc22 = nn.Linear(32, 8)
            self.fc3 = nn.Linear(8, 32)
            self.fc4 = nn.Linear(32, 64)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = H.noise(std)                  # torch.randn_like(std): a shared stream for the comparison
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 64))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    model = H.init(VAE())
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction='sum')
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    train_loader = DataLoader(TensorDataset(torch.tensor(data)), batch_size=32)
    model.train()
    losses = []
    while len(losses) < steps:
        for batch_idx, (data_b,) in enumerate(train_loader):
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data_b)
            loss = loss_function(recon_batch, data_b, mu, logvar)
            loss.backward()
            losses.append(loss.item())
            optimizer.step()
            if len(losses) == steps:
                break
    model.eval()
    with torch.no_grad():
        sample = model.decode(H.noise(torch.zeros(4, 8)))
        assert tuple(sample.shape) == (4, 64)
    return losses, model
