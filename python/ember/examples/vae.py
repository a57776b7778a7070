"""A variational autoencoder (MLP encoder/decoder, 2-D latent space by default) with the
reparameterisation trick and the closed-form Gaussian KL term. Reports the test ELBO (in nats per
image, higher is better), and saves samples from the prior and the test set's latent means
coloured by class."""
from __future__ import annotations

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.examples._common import (Timer, epoch_bar, image_classification_data, limited, parse_args, plt, save_curves,
                                    save_image_grid)
from ember.utils.data import DataLoader


class VAE(nn.Module):
    def __init__(self, latent: int = 2, hidden: int = 400):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 784))

    def encode(self, x):
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def reparameterize(self, mu, logvar):
        # z = mu + sigma * eps keeps the sample differentiable in mu and sigma
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decoder(self.reparameterize(mu, logvar)), mu, logvar


def elbo_terms(logits, x, mu, logvar):
    """(reconstruction, KL), each summed over the batch: the Bernoulli negative log-likelihood of
    ``x`` under the decoder's logits, and KL(q(z|x) || N(0, I)) in closed form. The negative ELBO
    is their sum."""
    recon = F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return recon, kl


def main(argv=None) -> float:
    args = parse_args("vae", __doc__.splitlines()[0], epochs=None, argv=argv,
                      extra=lambda p: p.add_argument("--latent", type=int, default=2))
    data = image_classification_data(args.data, "fashion")
    epochs = args.epochs or (10 if data.name != "Digits" else 60)
    train_loader = DataLoader(data.train, batch_size=128, shuffle=True)
    test_loader = DataLoader(data.test, batch_size=256)
    model = VAE(args.latent).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    with Timer() as timer:
        for epoch in range(epochs):
            for X, _ in epoch_bar(train_loader, args.max_steps, epoch, epochs):
                X = X.to(args.device)
                logits, mu, logvar = model(X)
                recon, kl = elbo_terms(logits, X, mu, logvar)
                loss = (recon + kl) / len(X)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(-loss.item())
    model.eval()
    total_recon, total_kl, n, means, labels = 0.0, 0.0, 0, [], []
    with torch.no_grad():
        for X, y in limited(test_loader, args.max_steps):
            X = X.to(args.device)
            logits, mu, logvar = model(X)
            recon, kl = elbo_terms(logits, X, mu, logvar)
            total_recon += recon.item()
            total_kl += kl.item()
            n += len(X)
            means.append(mu.cpu())
            labels.append(y)
        samples = torch.sigmoid(model.decoder(torch.randn(64, args.latent, device=args.device)))
        save_image_grid(f"{args.out}/samples.png", samples.reshape(-1, 1, 28, 28), nrow=8,
                        title="decoded samples z ~ N(0, I) (Bernoulli means)")
        if args.latent == 2:  # the decoder's view of the latent plane, within 2 prior std devs
            side = 12
            ticks = torch.linspace(-2, 2, side)
            z = torch.stack([ticks.repeat(side), ticks.flip(0).repeat_interleave(side)], dim=1)
            manifold = torch.sigmoid(model.decoder(z.to(args.device))).reshape(-1, 1, 28, 28)
            save_image_grid(f"{args.out}/manifold.png", manifold, nrow=side,
                            title="decoder outputs on a grid over the latent plane, z in [-2, 2]^2")
    save_curves(f"{args.out}/elbo.png", {"training ELBO per image": losses}, "batch", f"VAE on {data.name}",
                "ELBO (nats per image)", smooth=50)
    means, labels = torch.cat(means).numpy(), torch.cat(labels).numpy()
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(7, 5.5))
    cmap = pyplot.get_cmap("tab10")
    for k, name in enumerate(data.classes):
        members = labels == k
        ax.scatter(means[members, 0], means[members, 1], s=3, color=cmap(k), label=name, alpha=0.6)
    ax.set_xlabel("latent mean, dimension 1")
    ax.set_ylabel("latent mean, dimension 2")
    ax.set_title(f"{data.name} test images in the VAE's latent space" +
                 ("" if args.latent == 2 else f" (first 2 of {args.latent} dimensions)"))
    ax.legend(markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(f"{args.out}/latent.png", dpi=120)
    pyplot.close(fig)
    elbo = -(total_recon + total_kl) / n
    print(f"VAE (latent {args.latent}) on {data.name}: test ELBO {elbo:.2f} nats per image "
          f"(reconstruction log-likelihood {-total_recon / n:.2f}, KL {total_kl / n:.2f}) "
          f"in {timer.seconds:.1f}s on {args.device}")
    return elbo


if __name__ == "__main__":
    main()
