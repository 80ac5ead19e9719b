"""Modelled on pytorch/examples dcgan/main.py: a Generator of ConvTranspose2d + BatchNorm2d + ReLU ending in
Tanh, a Discriminator of Conv2d + BatchNorm2d + LeakyReLU(0.2, inplace=True) ending in Sigmoid, weights_init
through .apply (normal_ on conv and batchnorm weights, zeros on biases), BCELoss, two Adam optimizers with
betas=(0.5, 0.999), fake.detach() for the discriminator step, real/fake label tensors filled with fill_.
Images are 1x16x16 (the 64x64 architecture with one stage fewer)."""
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


def program(lib, H, steps=10):
    torch, nn, optim = imports(lib)
    nz, ngf, ndf, nc = 8, 8, 8, 1

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)

    class Generator(nn.Module):
        def __init__(self):
            super(Generator, self).__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
                nn.Tanh()
            )

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self):
            super(Discriminator, self).__init__()
            self.main = nn.Sequential(
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
                nn.Sigmoid()
            )

        def forward(self, input):
            output = self.main(input)
            return output.view(-1, 1).squeeze(1)

    netG = Generator()
    netG.apply(weights_init)
    netD = Discriminator()
    netD.apply(weights_init)

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.G, self.D = netG, netD

    both = H.init(Both())
    criterion = nn.BCELoss()
    real_label, fake_label = 1., 0.
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(6)
    yy, xx = np.mgrid[0:16, 0:16]
    losses = []
    for i in range(steps):
        r = rng.uniform(3, 6, (16, 1, 1, 1))
        real_cpu = torch.tensor(np.tanh(r - np.hypot(yy - 8, xx - 8)).astype("float32"))
        netD.zero_grad()
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        noise = H.noise(torch.zeros(batch_size, nz, 1, 1))      # torch.randn(batch_size, nz, 1, 1)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        optimizerD.step()
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        losses.append(errD.item() + errG.item())
    return losses, both
