"""Adversarial examples against LeNet-5: the fast gradient sign method (one step of size epsilon
along sign(grad_x loss)) and its iterative version (small steps, projected back into the
epsilon-ball), with an accuracy-versus-epsilon plot; plus a saliency map (|grad_x| of the class
score) and Grad-CAM on c3, the last convolution whose output still has a spatial extent
(activations and gradients captured with a forward hook and a tensor hook). Attacks the weights
the lenet example saved (runs/lenet/lenet.pt) when present, otherwise trains LeNet first."""
from __future__ import annotations

import os

import ember as torch
import ember.nn.functional as F
from ember.examples._common import parse_args, plt
from ember.examples.lenet import LeNet5, lenet_data, train_lenet
from ember.utils.data import DataLoader


def fgsm(model, x, y, epsilon: float):
    x = x.clone().requires_grad_(True)
    loss = F.nll_loss(model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return (x + epsilon * grad.sign()).clamp(0, 1).detach()


def iterative_fgsm(model, x, y, epsilon: float, steps: int = 10):
    step = epsilon / 4
    adv = x.clone()
    for _ in range(steps):
        adv = fgsm(model, adv, y, step)
        adv = torch.min(torch.max(adv, x - epsilon), x + epsilon)  # stay within the epsilon-ball
    return adv


def accuracy(model, x, y) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def grad_cam(model, x, target):
    """Grad-CAM on c3's 16 feature maps (10x10, after relu3), normalised to [0, 1]."""
    store = {}

    def keep(module, inputs, output):
        store["act"] = output
        output.register_hook(lambda g: store.__setitem__("grad", g))

    handle = model.convnet.relu3.register_forward_hook(keep)
    score = model(x)[0, target]
    model.zero_grad()
    score.backward()
    handle.remove()
    weights = store["grad"].mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * store["act"]).sum(1))[0]
    return (cam / (cam.max() + 1e-8)).detach()


def main(argv=None) -> float:
    args = parse_args("adversarial", __doc__.splitlines()[0], epochs=None, argv=argv,
                      extra=lambda p: p.add_argument(
                          "--weights", default=None,
                          help="LeNet-5 state dict (default: lenet/lenet.pt next to --out, where the lenet "
                               "example saves it, e.g. runs/lenet/lenet.pt)"))
    if args.weights is None:
        args.weights = os.path.join(os.path.dirname(os.path.abspath(args.out)), "lenet", "lenet.pt")
    data = lenet_data(args.data)
    if os.path.exists(args.weights):
        model = LeNet5().to(args.device)
        model.load_state_dict(torch.load(args.weights, map_location=args.device))
        print(f"loaded {args.weights}")
    else:
        print(f"{args.weights} not found: training LeNet-5 first")
        model, _, _ = train_lenet(args, data)
    model.eval()
    loader = DataLoader(data.test, batch_size=500 if args.max_steps is None else 32)
    x, y = next(iter(loader))  # the first test images
    x, y = x.to(args.device), y.to(args.device)
    epsilons = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]
    one_step = [accuracy(model, fgsm(model, x, y, e) if e else x, y) for e in epsilons]
    iterative = [accuracy(model, iterative_fgsm(model, x, y, e) if e else x, y) for e in epsilons]
    for e, a, b in zip(epsilons, one_step, iterative):
        print(f"epsilon {e:.2f}: accuracy FGSM {100 * a:5.1f}%   iterative FGSM {100 * b:5.1f}%")
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6, 4))
    ax.plot(epsilons, one_step, "o-", label="FGSM")
    ax.plot(epsilons, iterative, "s-", label="iterative FGSM (10 steps)")
    ax.set_xlabel("epsilon (max change per pixel, pixels in [0, 1])")
    ax.set_ylabel("accuracy on attacked test images")
    ax.set_title(f"LeNet-5 on {data.name} under attack ({len(y)} test images)")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(f"{args.out}/accuracy_vs_epsilon.png", dpi=120)
    pyplot.close(fig)

    image = x[:1].clone().requires_grad_(True)
    target = int(y[0])
    model(image)[0, target].backward()
    saliency = image.grad.abs()[0, 0]
    cam = grad_cam(model, x[:1], target)
    adv = fgsm(model, x[:1], y[:1], 0.1)
    fig, axes = pyplot.subplots(1, 4, figsize=(10, 3))
    panels = [(x[0, 0], f"input: {data.classes[target]}", "gray"),
              (saliency, "saliency |d score / d x|", "hot"),
              (cam, "Grad-CAM on c3's maps", "jet"),
              (adv[0, 0], f"FGSM eps=0.1: {data.classes[int(model(adv).argmax())]}", "gray")]
    for ax, (img, title, cmap) in zip(axes, panels):
        ax.imshow(img.detach().cpu().numpy(), cmap=cmap)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(f"{args.out}/explanations.png", dpi=120)
    pyplot.close(fig)
    print(f"LeNet-5 on {data.name}: clean accuracy {100 * one_step[0]:.1f}%, FGSM eps=0.1 "
          f"{100 * one_step[epsilons.index(0.1)]:.1f}%, iterative {100 * iterative[epsilons.index(0.1)]:.1f}%")
    return one_step[epsilons.index(0.1)]


if __name__ == "__main__":
    main()
