"""What every example shares: command-line flags, the dataset fallback, progress bars and plots."""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import ember


def parse_args(name: str, description: str, epochs: int | None, extra=None,
               argv=None) -> argparse.Namespace:
    """--device, --epochs, --seed, --out, --data, --max-steps (smoke tests) plus the flags that
    ``extra(parser)`` adds. ``epochs=None`` lets the example choose per dataset. Seeds Ember's
    generator and creates ``--out``."""
    p = argparse.ArgumentParser(prog=f"python -m ember.examples.{name}", description=description)
    p.add_argument("--device", default="cuda" if ember.cuda.is_available() else "cpu",
                   choices=["cpu", "cuda"], help="where to train (default: cuda when available)")
    p.add_argument("--epochs", type=int, default=epochs,
                   help=f"training epochs (default {epochs if epochs else 'chosen per dataset'})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default=os.path.join("runs", name), help="folder for plots (default runs/<name>)")
    p.add_argument("--data", default="data", help="folder searched for dataset files (default ./data)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop each epoch after this many batches and evaluate on as few "
                        "(quick smoke runs)")
    if extra is not None:
        extra(p)
    args = p.parse_args(argv)
    ember.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    return args


def progress(iterable, desc: str, total: int | None = None):
    """A tqdm progress bar (plain iteration if tqdm is not installed)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def limited(loader, max_steps: int | None):
    """Iterate at most ``max_steps`` batches of ``loader`` (all of them when None)."""
    for i, batch in enumerate(loader):
        if max_steps is not None and i >= max_steps:
            return
        yield batch


def steps_per_epoch(loader, max_steps: int | None) -> int:
    """Batches one epoch really runs: ``len(loader)``, capped by ``--max-steps``."""
    return len(loader) if max_steps is None else min(len(loader), max_steps)


def epoch_bar(loader, max_steps: int | None, epoch: int, epochs: int):
    """The batches of one epoch (capped by ``--max-steps``) under an 'epoch i/n' progress bar."""
    return progress(limited(loader, max_steps), f"epoch {epoch + 1}/{epochs}",
                    total=steps_per_epoch(loader, max_steps))


def train_step(optimizer, loss, clip: float | None = None, scheduler=None) -> float:
    """One optimizer step on ``loss``: zero_grad, backward, clip the gradients' total norm to
    ``clip`` (when given), step, advance ``scheduler`` (when given). Returns the loss as a float."""
    optimizer.zero_grad()
    loss.backward()
    if clip is not None:
        ember.nn.utils.clip_grad_norm_([p for group in optimizer.param_groups for p in group["params"]], clip)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.item()


@dataclass
class ImageData:
    train: object
    test: object
    name: str
    classes: list


def image_classification_data(root: str, prefer: str = "fashion", transform=None) -> ImageData:
    """Fashion-MNIST (or MNIST) from ``root`` or the system's dataset folders; when those files
    are absent (no network), scikit-learn's bundled digits upsampled to 28x28, so that the same
    784-input models run unchanged."""
    from ember.vision import datasets, transforms

    tf = transform or transforms.ToTensor()
    cls = {"fashion": datasets.FashionMNIST, "mnist": datasets.MNIST}[prefer]
    try:
        train = cls(root, train=True, transform=tf)
        test = cls(root, train=False, transform=tf)
        return ImageData(train, test, cls.__name__, list(train.classes))
    except RuntimeError as exc:
        print(f"[{cls.__name__} not found offline ({str(exc).splitlines()[0]}); "
              "using scikit-learn's digits at 28x28 instead]")
    train = datasets.Digits(train=True, transform=tf, image_size=28)
    test = datasets.Digits(train=False, transform=tf, image_size=28)
    return ImageData(train, test, "Digits", list(train.classes))


def evaluate_classifier(model, loader, device, max_batches: int | None = None) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` over ``loader`` (its first ``max_batches``
    batches when given, as in smoke runs). The model's outputs are read as logits; log-softmax
    outputs give the same accuracy and loss because log-softmax is idempotent."""
    import ember.nn.functional as F

    was_training = model.training
    model.eval()
    correct, total, loss = 0, 0, 0.0
    with ember.no_grad():
        for x, y in limited(loader, max_batches):
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            total += len(y)
    model.train(was_training)
    return correct / max(total, 1), loss / max(total, 1)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def plt():
    """matplotlib.pyplot on the non-interactive Agg backend (works headless)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def moving_average(values, window: int):
    """Means of ``window`` consecutive values (len(values) - window + 1 of them)."""
    import numpy as np

    return np.convolve(np.asarray(values, dtype=np.float64), np.ones(window) / window, mode="valid")


def save_curves(path: str, curves: dict, xlabel: str = "step", title: str = "", ylabel: str = "",
                smooth: int = 0, log_y: bool = False) -> None:
    """One line per named series (e.g. {'train loss': [...], 'test loss': [...]}), x from 1.

    ``smooth`` > 1 draws each noisy per-batch series faintly and its moving average on top, so
    the trend stays readable over thousands of points. Short series (per epoch) get markers and
    whole-number ticks."""
    from matplotlib.ticker import MaxNLocator

    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6.4, 4))
    for label, values in curves.items():
        x = list(range(1, len(values) + 1))
        if smooth > 1 and len(values) > 2 * smooth:
            (raw,) = ax.plot(x, values, alpha=0.25, lw=0.7)
            ax.plot(x[smooth - 1:], moving_average(values, smooth), color=raw.get_color(), lw=1.6,
                    label=f"{label} (mean of {smooth})")
        else:
            ax.plot(x, values, marker="o" if len(values) <= 30 else None, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot.close(fig)


def save_image_grid(path: str, images, nrow: int = 8, title: str = "", cmap: str = "gray",
                    captions=None, caption_colors=None, row_labels=None) -> None:
    """Save (N, C, H, W) or (N, H, W) images in [0, 1] as one grid.

    ``captions`` (one short string per image, optionally coloured by ``caption_colors``) go
    above the images; ``row_labels`` (one per grid row) to the left of each row."""
    import numpy as np

    pyplot = plt()
    arr = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    if arr.ndim == 4:
        arr = arr.transpose(0, 2, 3, 1)
        if arr.shape[-1] == 1:
            arr = arr[..., 0]
    n = arr.shape[0]
    ncol = min(nrow, n)
    nrows = (n + ncol - 1) // ncol
    cell = 1.25 if captions is not None else 1.1
    left = 1.0 if row_labels is not None else 0.0
    fig, axes = pyplot.subplots(nrows, ncol, squeeze=False,
                                figsize=(ncol * 1.1 + left, nrows * cell + (0.5 if title else 0)))
    for i, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if i < n:
            ax.imshow(np.clip(arr[i], 0, 1), cmap=cmap if arr.ndim == 3 else None, vmin=0, vmax=1)
            if captions is not None:
                ax.set_title(captions[i], fontsize=7, pad=2,
                             color=caption_colors[i] if caption_colors is not None else "black")
    if row_labels is not None:
        for ax, label in zip(axes[:, 0], row_labels):
            ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot.close(fig)
