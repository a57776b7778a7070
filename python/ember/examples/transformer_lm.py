"""A small GPT-style character language model: token + learned positional embeddings, pre-norm
decoder blocks (causal scaled dot-product attention, GELU MLP), AdamW with linear warm-up and
cosine decay, trained on the same text as char_lstm so the two can be compared. Reports
validation perplexity, prints a sample, and saves an attention map of the first block."""
from __future__ import annotations

import math

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.examples._common import Timer, parse_args, plt, progress, save_curves, train_step
from ember.examples.char_lstm import add_train_chars_flag, encode, pydoc_characters, unigram_cross_entropy


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), nn.Dropout(dropout))
        self.dropout = dropout

    def qkv_heads(self, x):
        """x (B, T, C) -> q, k, v, each (B, heads, T, C // heads)."""
        B, T, C = x.shape
        return self.qkv(x).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)

    def attention(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv_heads(x)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(B, T, C))

    def attention_weights(self, x):
        """The (B, heads, T, T) causal softmax weights that ``attention`` applies, written out
        explicitly (the fused SDPA never forms them); for plotting."""
        q, k, _ = self.qkv_heads(x)
        T = x.shape[1]
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        return scores.masked_fill(~mask, float("-inf")).softmax(-1)

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab_size: int, context: int, dim: int = 128, heads: int = 4, layers: int = 4,
                 dropout: float = 0.0):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.zeros(context, dim))
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, dropout) for _ in range(layers)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab_size)

    def forward(self, idx):
        """idx (B, T) character ids, T <= context -> next-character logits (B, T, vocab)."""
        x = self.tok(idx) + self.pos[: idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))

    def attention_weights(self, idx, layer: int):
        """The attention weights (B, heads, T, T) of block ``layer`` on ``idx``."""
        x = self.tok(idx) + self.pos[: idx.shape[1]]
        for block in self.blocks[:layer]:
            x = block(x)
        block = self.blocks[layer]
        return block.attention_weights(block.ln1(x))


def windows(ids, context: int, batch: int, generator=None):
    """A random batch of (input, next-character target) windows from a 1-D id stream."""
    starts = torch.randint(0, len(ids) - context - 1, (batch,), generator=generator)
    offsets = torch.arange(context + 1)
    chunk = ids[starts.reshape(-1, 1) + offsets]
    return chunk[:, :-1], chunk[:, 1:]


def evaluate(model, ids, context: int, device, max_batches: int | None = None, batch: int = 64) -> float:
    """Mean cross-entropy (nats per character) of a 1-D id stream, read through windows of
    ``context`` characters that advance by half a window. Each window scores only its second
    half (the first window all of it), so every character is predicted from at least
    ``context // 2`` characters of history, closer to how the LSTM reads the text with its
    carried state than disjoint windows would be."""
    stride = context // 2
    starts = torch.arange(0, len(ids) - context, stride)
    offsets = torch.arange(context)
    first_scored = torch.where(starts == 0, 0, context - stride).reshape(-1, 1)
    total, count = 0.0, 0
    for b, i in enumerate(range(0, len(starts), batch)):
        if max_batches is not None and b >= max_batches:
            break
        window = starts[i:i + batch].reshape(-1, 1) + offsets
        logits = model(ids[window].to(device))
        losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[window + 1].to(device).reshape(-1),
                                 reduction="none").reshape(window.shape)
        scored = (offsets >= first_scored[i:i + batch]).to(device)
        total += (losses * scored).sum().item()
        count += int(scored.sum().item())
    return total / count


def plot_attention(path: str, weights, chars, layer: int) -> None:
    """One heat map per head: row = query character, column = the characters it attends to."""
    import numpy as np

    labels = [{" ": "␣", "\n": "⏎", "\t": "⇥"}.get(c, c) for c in chars]
    T = len(labels)
    hidden = np.triu(np.ones((T, T), dtype=bool), k=1)  # the causal mask: future positions
    pyplot = plt()
    heads = weights.shape[0]
    cols = min(heads, 2)
    rows = (heads + cols - 1) // cols
    fig, axes = pyplot.subplots(rows, cols, figsize=(5.2 * cols, 5 * rows), squeeze=False)
    for h, ax in enumerate(axes.ravel()):
        if h >= heads:
            ax.axis("off")
            continue
        image = ax.imshow(np.ma.masked_array(weights[h], hidden), cmap="viridis", vmin=0)
        ax.set_xticks(range(T), labels, fontsize=7, family="monospace")
        ax.set_yticks(range(T), labels, fontsize=7, family="monospace")
        ax.set_xlabel("attended-to character (key)")
        ax.set_ylabel("current character (query)")
        ax.set_title(f"head {h + 1}")
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(f"block {layer + 1} causal self-attention on the first {T} validation characters "
                 "(blank: masked future)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot.close(fig)


def main(argv=None) -> float:
    args = parse_args("transformer_lm", __doc__.splitlines()[0], epochs=1, argv=argv, extra=lambda p: (
        p.add_argument("--steps", type=int, default=1300, help="optimizer steps per epoch"),
        p.add_argument("--context", type=int, default=64),
        p.add_argument("--batch-size", type=int, default=32),
        p.add_argument("--dim", type=int, default=128),
        add_train_chars_flag(p)))
    vocab, _, train_ids, valid_ids = pydoc_characters(args.train_chars)
    model = TinyGPT(len(vocab), args.context, dim=args.dim).to(args.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.1, betas=(0.9, 0.95))
    steps = args.epochs * (args.steps if args.max_steps is None else min(args.steps, args.max_steps))
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (
        1 + math.cos(math.pi * min(s, steps) / steps)))
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters, {steps} steps")
    losses = []
    with Timer() as timer:
        for _ in progress(range(steps), "training"):
            x, y = windows(train_ids, args.context, args.batch_size)
            logits = model(x.to(args.device))
            loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y.to(args.device).reshape(-1))
            losses.append(train_step(optimizer, loss, clip=1.0, scheduler=schedule))
    model.eval()
    with torch.no_grad():
        valid_loss = evaluate(model, valid_ids, args.context, args.device, args.max_steps)
        idx = encode(vocab, "The ").reshape(1, -1).to(args.device)
        for _ in range(200 if args.max_steps is None else 10):
            probs = F.softmax(model(idx[:, -args.context:])[0, -1] / 0.8, dim=-1)
            idx = torch.cat([idx, torch.multinomial(probs.cpu(), 1).reshape(1, 1).to(args.device)], dim=1)
        print("--- sample at temperature 0.8 ---\n" + "".join(vocab.itos[i] for i in idx[0].tolist()))
        window = valid_ids[:32].reshape(1, -1).to(args.device)
        layer = len(model.blocks) - 1
        weights = model.attention_weights(window, layer)[0].cpu().numpy()
    plot_attention(f"{args.out}/attention.png", weights, [vocab.itos[i] for i in window[0].tolist()], layer)
    perplexity = math.exp(valid_loss)
    baseline = math.exp(unigram_cross_entropy(train_ids, valid_ids, len(vocab)))
    save_curves(f"{args.out}/loss.png", {"training cross-entropy per batch": losses}, "step",
                f"TinyGPT (validation perplexity {perplexity:.2f}, unigram {baseline:.2f})", "nats per character",
                smooth=20)
    print(f"transformer LM: validation perplexity {perplexity:.2f} (unigram baseline {baseline:.2f}) "
          f"in {timer.seconds:.1f}s on {args.device}")
    return perplexity


if __name__ == "__main__":
    main()
