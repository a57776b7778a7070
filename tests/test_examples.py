"""Smoke tests: every example runs a few training steps end to end (data, model, optimizer,
metric, plots) on the CPU and prints its final metric line. Full runs, with their quality
targets, are in each example's docstring and the issue notes; these only prove the scripts work.
``--max-steps`` also caps the evaluation work, which keeps each example to a few seconds."""
import importlib
import os
import re

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

QUICK = {
    "mlp_fashion": ["--epochs", "1", "--max-steps", "3"],
    "mlp_from_scratch": ["--epochs", "3"],
    "lenet": ["--epochs", "1", "--max-steps", "3"],
    "resnet_small": ["--epochs", "1", "--max-steps", "2"],
    "autoencoder": ["--epochs", "1", "--max-steps", "2"],
    "vae": ["--epochs", "1", "--max-steps", "2"],
    "dcgan": ["--epochs", "1", "--max-steps", "2"],
    "wgan_gp": ["--epochs", "1", "--max-steps", "2"],
    "char_lstm": ["--epochs", "1", "--max-steps", "2", "--train-chars", "20000", "--hidden", "32"],
    "seq2seq_attention": ["--max-steps", "3"],
    "transformer_lm": ["--max-steps", "3", "--train-chars", "20000", "--dim", "32"],
    "gcn_karate": ["--epochs", "5"],
    "adversarial": ["--epochs", "1", "--max-steps", "2", "--weights", "missing.pt"],
}

# the last line each example prints: its final metric
FINAL_LINE = {
    "mlp_fashion": r"^\w+: test accuracy \d+\.\d+% after 1 epochs in",
    "mlp_from_scratch": r"^\w+: test accuracy \d+\.\d+% after 3 iterations in",
    "lenet": r"^LeNet-5 \(61,706 parameters\) on \w+: test accuracy \d+\.\d+% in",
    "resnet_small": r"^ResNet-small \([\d,]+ parameters\) on \w+: test accuracy \d+\.\d+% in",
    "autoencoder": r"^conv autoencoder on \w+: test reconstruction MSE \d\.\d{4} per pixel in",
    "vae": r"^VAE \(latent 2\) on \w+: test ELBO -\d+\.\d+ nats per image "
           r"\(reconstruction log-likelihood -\d+\.\d+, KL \d+\.\d+\) in",
    "dcgan": r"^DCGAN on \w+: 1 epochs in .*final losses D \d+\.\d+, G \d+\.\d+$",
    "wgan_gp": r"^WGAN-GP on \w+: 1 epochs in .*final Wasserstein estimate -?\d+\.\d+, gradient penalty",
    "char_lstm": r"^char-LSTM: validation perplexity \d+\.\d+ \(unigram baseline \d+\.\d+\) in",
    "seq2seq_attention": r"^seq2seq \(general attention\): exact match \d+\.\d% greedy \(32 strings\), "
                         r"\d+\.\d% beam search \(4 strings\) in",
    "transformer_lm": r"^transformer LM: validation perplexity \d+\.\d+ \(unigram baseline \d+\.\d+\) in",
    "gcn_karate": r"^gcn on the karate club: accuracy \d+\.\d% of 34 members from 2 labels in",
    "adversarial": r"^LeNet-5 on \w+: clean accuracy \d+\.\d%, FGSM eps=0\.1 \d+\.\d%, iterative \d+\.\d%$",
}


@pytest.mark.parametrize("name", sorted(QUICK))
def test_example_runs(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(f"ember.examples.{name}")
    out = tmp_path / "out"
    metric = module.main(QUICK[name] + ["--device", "cpu", "--out", str(out)])
    assert isinstance(metric, float)
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.search(FINAL_LINE[name], lines[-1]), f"{name} ended with {lines[-1]!r}"
    pngs = [f for f in os.listdir(out) if f.endswith(".png")]
    assert pngs, f"{name} saved no plot"


VARIANTS = [
    pytest.param("gcn_karate", ["--epochs", "3", "--conv", "dense"], r"^dense on the karate club: accuracy",
                 id="gcn-dense"),
    pytest.param("gcn_karate", ["--epochs", "3", "--conv", "gat"], r"^gat on the karate club: accuracy",
                 id="gcn-gat"),
    pytest.param("seq2seq_attention", ["--max-steps", "2", "--attention", "dot"],
                 r"^seq2seq \(dot attention\): exact match", id="seq2seq-dot"),
    pytest.param("seq2seq_attention", ["--max-steps", "2", "--attention", "additive"],
                 r"^seq2seq \(additive attention\): exact match", id="seq2seq-additive"),
    pytest.param("autoencoder", ["--epochs", "1", "--max-steps", "2", "--kind", "dense", "--noise", "0.3"],
                 r"^dense autoencoder on \w+: test reconstruction MSE", id="autoencoder-dense-denoising"),
    pytest.param("mlp_fashion", ["--epochs", "1", "--max-steps", "2", "--dropout", "0.2"],
                 r"^\w+: test accuracy", id="mlp-dropout"),
]


@pytest.mark.parametrize("name, argv, final", VARIANTS)
def test_example_variants(name, argv, final, tmp_path, capsys):
    """The notes' variants: dense/GAT graph layers, dot/additive attention, a denoising dense
    autoencoder, the dropout MLP."""
    module = importlib.import_module(f"ember.examples.{name}")
    module.main(argv + ["--device", "cpu", "--out", str(tmp_path)])
    assert re.search(final, capsys.readouterr().out.strip().splitlines()[-1])
    assert any(f.endswith(".png") for f in os.listdir(tmp_path))


def test_image_data_falls_back_to_digits(tmp_path, monkeypatch, capsys):
    """Without Fashion-MNIST's files (offline, no Debian package), the image examples train on
    scikit-learn's digits upsampled to 28x28, so the same 784-input models run unchanged."""
    from ember.examples._common import image_classification_data
    from ember.vision import datasets, transforms

    class MissingFashionMNIST:
        classes = datasets.FashionMNIST.classes

        def __init__(self, root, train=True, transform=None):
            raise RuntimeError(f"Dataset not found in {root}\nput the four IDX files there")

    monkeypatch.setattr(datasets, "FashionMNIST", MissingFashionMNIST)
    data = image_classification_data(str(tmp_path), "fashion",
                                      transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
    assert "FashionMNIST not found offline (Dataset not found in" in capsys.readouterr().out
    assert data.name == "Digits"
    assert data.classes == list(datasets.MNIST.classes)
    assert len(data.train) + len(data.test) == 1797  # scikit-learn's digits, split about 80/20
    assert 0.18 < len(data.test) / 1797 < 0.22
    image, label = data.train[0]
    assert tuple(image.shape) == (1, 28, 28)
    assert float(image.min()) >= -1.0 and float(image.max()) <= 1.0  # the transform was applied
    assert 0 <= int(label) < 10


def test_image_data_uses_fashion_mnist_when_present(tmp_path, monkeypatch):
    """The real dataset wins when its constructor succeeds; the transform reaches both splits."""
    from ember.examples._common import image_classification_data
    from ember.vision import datasets

    made = []

    class FakeFashionMNIST:
        classes = datasets.FashionMNIST.classes

        def __init__(self, root, train=True, transform=None):
            made.append((root, train, transform))

    monkeypatch.setattr(datasets, "FashionMNIST", FakeFashionMNIST)
    marker = object()
    data = image_classification_data(str(tmp_path), "fashion", marker)
    assert data.name == "FakeFashionMNIST"
    assert made == [(str(tmp_path), True, marker), (str(tmp_path), False, marker)]
    assert data.classes == list(datasets.FashionMNIST.classes)
