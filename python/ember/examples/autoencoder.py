"""Autoencoders: a fully connected one (784-128-32) and a convolutional one whose decoder uses
ConvTranspose2d, optionally denoising (``--noise 0.3`` corrupts inputs, targets stay clean).
Saves a grid of originals/inputs/reconstructions and a latent interpolation between two test
images; prints the test reconstruction error (mean squared error per pixel)."""
from __future__ import annotations

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.examples._common import (Timer, epoch_bar, image_classification_data, limited, parse_args, save_curves,
                                    save_image_grid)
from ember.utils.data import DataLoader


class DenseAutoencoder(nn.Module):
    def __init__(self, latent: int = 32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid(),
                                     nn.Unflatten(1, (1, 28, 28)))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class ConvAutoencoder(nn.Module):
    def __init__(self, latent: int = 32):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),   # 14x14
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),  # 7x7
            nn.Flatten(), nn.Linear(32 * 7 * 7, latent))
        self.decoder = nn.Sequential(
            nn.Linear(latent, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())  # 28x28

    def forward(self, x):
        return self.decoder(self.encoder(x))


def main(argv=None) -> float:
    args = parse_args("autoencoder", __doc__.splitlines()[0], epochs=None, argv=argv, extra=lambda p: (
        p.add_argument("--kind", choices=["dense", "conv"], default="conv"),
        p.add_argument("--noise", type=float, default=0.0, help="std of Gaussian input noise (denoising)")))
    data = image_classification_data(args.data, "fashion")
    epochs = args.epochs or (5 if data.name != "Digits" else 40)
    train_loader = DataLoader(data.train, batch_size=64, shuffle=True)
    test_loader = DataLoader(data.test, batch_size=256)
    model = (ConvAutoencoder() if args.kind == "conv" else DenseAutoencoder()).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

    def corrupt(x):
        return (x + args.noise * torch.randn_like(x)).clamp(0, 1) if args.noise else x

    losses = []
    with Timer() as timer:
        for epoch in range(epochs):
            for X, _ in epoch_bar(train_loader, args.max_steps, epoch, epochs):
                X = X.to(args.device)
                loss = F.mse_loss(model(corrupt(X)), X)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for X, _ in limited(test_loader, args.max_steps):
            X = X.to(args.device)
            total += F.mse_loss(model(corrupt(X)), X, reduction="sum").item()
            count += X.numel()
        X = next(iter(test_loader))[0][:8].to(args.device)
        noisy = corrupt(X)
        rows = [X, noisy, model(noisy)] if args.noise else [X, model(X)]
        save_image_grid(f"{args.out}/reconstructions.png", torch.cat(rows), nrow=8,
                        row_labels=["original", "noisy input", "reconstruction"] if args.noise
                        else ["original", "reconstruction"],
                        title=f"{args.kind} autoencoder on {data.name} test images")
        z0, z1 = model.encoder(X[:1]), model.encoder(X[1:2])
        steps = torch.linspace(0, 1, 10, device=args.device).reshape(-1, 1)
        save_image_grid(f"{args.out}/interpolation.png", model.decoder(z0 + steps * (z1 - z0)), nrow=10,
                        captions=[f"t={t:.2f}" for t in steps.reshape(-1).tolist()],
                        title="decoding (1 - t) z_a + t z_b between two test images' codes")
    save_curves(f"{args.out}/loss.png", {"training MSE per batch": losses}, "batch",
                f"{args.kind} autoencoder on {data.name}", "mean squared error per pixel", smooth=50)
    mse = total / count
    print(f"{args.kind} autoencoder on {data.name}: test reconstruction MSE {mse:.4f} per pixel "
          f"in {timer.seconds:.1f}s on {args.device}")
    return mse


if __name__ == "__main__":
    main()
