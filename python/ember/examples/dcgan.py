"""DCGAN: a generator of ConvTranspose2d + BatchNorm layers against a LeakyReLU convolutional
discriminator, trained with binary cross-entropy and alternating updates (the generator's samples
are ``detach()``-ed for the discriminator step). Saves a sample grid after every epoch, from the
same fixed noise, and the two losses. The defaults (32/64 channels, batches of 32, 2 epochs) are
sized for a few CPU minutes and give recognisable but rough clothes; ``--width 64 --epochs 10``
sharpens them where compute allows."""
from __future__ import annotations

import ember as torch
from ember import nn
from ember.examples._common import Timer, epoch_bar, image_classification_data, parse_args, save_curves, save_image_grid
from ember.utils.data import DataLoader
from ember.vision import transforms

LATENT = 64


class Generator(nn.Module):
    """z (N, latent) -> images (N, 1, 28, 28) in [-1, 1]: a linear layer to 2*width maps of 7x7,
    then two stride-2 transposed convolutions (7 -> 14 -> 28)."""

    def __init__(self, latent: int = LATENT, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent, 2 * width * 7 * 7), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU(True),
            nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(True),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    """images (N, 1, 28, 28) -> one logit each (N,): two stride-2 convolutions (28 -> 14 -> 7) with
    LeakyReLU, then a linear layer. ``batch_norm=False`` for critics whose penalty is per sample."""

    def __init__(self, width: int = 32, batch_norm: bool = True):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=not batch_norm),
            nn.BatchNorm2d(2 * width) if batch_norm else nn.Identity(), nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


def gan_data(root):
    """Images scaled to [-1, 1] to match the generator's tanh."""
    return image_classification_data(root, "fashion", transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))


def main(argv=None) -> float:
    args = parse_args("dcgan", __doc__.splitlines()[0], epochs=None, argv=argv, extra=lambda p: (
        p.add_argument("--width", type=int, default=32, help="channels of the 14x14 feature maps (twice at 7x7)"),
        p.add_argument("--batch-size", type=int, default=32,
                       help="images per step (small batches: more updates for the same compute)")))
    data = gan_data(args.data)
    epochs = args.epochs or (2 if data.name != "Digits" else 40)
    loader = DataLoader(data.train, batch_size=args.batch_size, shuffle=True, drop_last=True)
    G, D = Generator(width=args.width).to(args.device), Discriminator(width=args.width).to(args.device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    criterion = nn.BCEWithLogitsLoss()
    fixed_noise = torch.randn(32, LATENT, device=args.device)
    d_losses, g_losses = [], []
    with Timer() as timer:
        for epoch in range(epochs):
            for real, _ in epoch_bar(loader, args.max_steps, epoch, epochs):
                real = real.to(args.device)
                ones = torch.ones(len(real), device=args.device)
                zeros = torch.zeros(len(real), device=args.device)
                fake = G(torch.randn(len(real), LATENT, device=args.device))
                # discriminator: real -> 1, fake -> 0 (no gradient into G)
                loss_d = criterion(D(real), ones) + criterion(D(fake.detach()), zeros)
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                # generator: make D call its samples real
                loss_g = criterion(D(fake), ones)
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
                d_losses.append(loss_d.item())
                g_losses.append(loss_g.item())
            G.eval()
            with torch.no_grad():
                samples = G(fixed_noise) * 0.5 + 0.5
            G.train()
            save_image_grid(f"{args.out}/samples_epoch{epoch + 1:03d}.png", samples, nrow=8,
                            title=f"DCGAN samples after epoch {epoch + 1}")
    save_curves(f"{args.out}/losses.png", {"discriminator loss": d_losses, "generator loss": g_losses}, "batch",
                f"DCGAN on {data.name}", "binary cross-entropy", smooth=50)
    print(f"DCGAN on {data.name}: {epochs} epochs in {timer.seconds:.1f}s on {args.device}; final losses "
          f"D {sum(d_losses[-20:]) / len(d_losses[-20:]):.3f}, G {sum(g_losses[-20:]) / len(g_losses[-20:]):.3f}")
    return d_losses[-1]


if __name__ == "__main__":
    main()
