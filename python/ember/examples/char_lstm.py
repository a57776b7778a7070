"""A character-level language model: embedding -> 2-layer LSTM -> linear, trained with truncated
backpropagation through time (the hidden state carries over between batches but is detached),
gradient-norm clipping and Adam, on Python's own bundled documentation text (real English that
needs no download). Reports validation perplexity next to the unigram baseline and prints text
sampled at a few temperatures."""
from __future__ import annotations

import math

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.examples._common import Timer, parse_args, progress, save_curves, train_step
from ember.text import Vocab, batchify, corpus, get_batch


class CharLSTM(nn.Module):
    def __init__(self, vocab_size: int, embed: int = 64, hidden: int = 256, layers: int = 2,
                 dropout: float = 0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, dropout=dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        """x: (T, B) character ids -> logits (T, B, V) and the final (h, c)."""
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def encode(vocab: Vocab, text: str):
    return torch.tensor(vocab(list(text)), dtype=torch.long)


def add_train_chars_flag(parser) -> None:
    """--train-chars: the text examples' option to train on a prefix of the text (quick runs)."""
    parser.add_argument("--train-chars", type=int, default=None,
                        help="use only this much of the training text (default: all of it)")


def pydoc_characters(train_chars: int | None):
    """Python's bundled documentation as characters: the vocabulary of the training text (its first
    ``train_chars`` characters when given), that text, and the training and validation id streams."""
    text = corpus("pydoc")
    train_text = text.train[:train_chars]
    vocab = Vocab.build(train_text, specials=["<unk>"])
    return vocab, train_text, encode(vocab, train_text), encode(vocab, text.valid)


def evaluate(model, data, bptt: int, max_batches: int | None = None) -> float:
    """Mean cross-entropy (nats per character) over a batchified stream (its first
    ``max_batches`` windows when given)."""
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for i in list(range(0, data.shape[0] - 1, bptt))[:max_batches]:
            x, y = get_batch(data, i, bptt)
            logits, state = model(x, state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y, reduction="sum").item()
            count += y.numel()
    model.train()
    return total / count


def unigram_cross_entropy(train_ids, valid_ids, vocab_size: int) -> float:
    """Cross-entropy of predicting every character from its training frequency (add-one smoothed)."""
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + 1
    log_p = (counts / counts.sum()).log()
    return -log_p[valid_ids].mean().item()


def sample(model, vocab: Vocab, prompt: str, length: int, temperature: float, device) -> str:
    model.eval()
    ids = encode(vocab, prompt).to(device).reshape(-1, 1)
    out, state = list(prompt), None
    with torch.no_grad():
        logits, state = model(ids, state)
        for _ in range(length):
            probs = F.softmax(logits[-1, 0] / temperature, dim=-1)
            nxt = torch.multinomial(probs.cpu(), 1).item()
            out.append(vocab.itos[nxt])
            logits, state = model(torch.tensor([[nxt]], device=device), state)
    model.train()
    return "".join(out)


def main(argv=None) -> float:
    args = parse_args("char_lstm", __doc__.splitlines()[0], epochs=4, argv=argv, extra=lambda p: (
        p.add_argument("--bptt", type=int, default=64),
        p.add_argument("--batch-size", type=int, default=32),
        p.add_argument("--hidden", type=int, default=256),
        add_train_chars_flag(p)))
    vocab, train_text, train_ids, valid_ids = pydoc_characters(args.train_chars)
    train = batchify(train_ids, args.batch_size).to(args.device)
    valid = batchify(valid_ids, 16).to(args.device)
    model = CharLSTM(len(vocab), hidden=args.hidden).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    print(f"{len(train_text):,} training characters, vocabulary of {len(vocab)}; "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")

    losses, val_curve = [], []
    with Timer() as timer:
        for epoch in range(args.epochs):
            state = None
            starts = list(range(0, train.shape[0] - 1, args.bptt))[: args.max_steps]
            for i in progress(starts, f"epoch {epoch + 1}/{args.epochs}"):
                x, y = get_batch(train, i, args.bptt)
                if state is not None:  # truncated BPTT: keep the state, cut the graph
                    state = tuple(s.detach() for s in state)
                logits, state = model(x, state)
                loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y)
                losses.append(train_step(optimizer, loss, clip=1.0))
            val_curve.append(evaluate(model, valid, args.bptt, args.max_steps))
            print(f"epoch {epoch + 1}: validation perplexity {math.exp(val_curve[-1]):.2f}")
    baseline = math.exp(unigram_cross_entropy(train_ids, valid_ids, len(vocab)))
    perplexity = math.exp(val_curve[-1])
    save_curves(f"{args.out}/loss.png", {"training cross-entropy per batch": losses}, "batch",
                f"char-LSTM (validation perplexity {perplexity:.2f}, unigram {baseline:.2f})", "nats per character",
                smooth=10)
    for temperature in (0.5, 0.8, 1.0):
        print(f"--- sample at temperature {temperature} ---")
        print(sample(model, vocab, "The ", 200 if args.max_steps is None else 10, temperature, args.device))
    print(f"char-LSTM: validation perplexity {perplexity:.2f} (unigram baseline {baseline:.2f}) "
          f"in {timer.seconds:.1f}s on {args.device}")
    return perplexity


if __name__ == "__main__":
    main()
