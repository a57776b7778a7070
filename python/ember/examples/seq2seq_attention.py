"""Sequence-to-sequence with attention: a GRU encoder and a GRU decoder that attends over the
encoder states (Luong's ``dot`` and ``general`` scores, or Bahdanau's ``additive``), trained with
teacher forcing to reverse digit strings of varying length. Decodes greedily and with
length-normalised beam search, reports exact-match accuracy, and draws an attention heat map."""
from __future__ import annotations

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.examples._common import Timer, parse_args, plt, progress, save_curves, train_step

PAD, BOS, EOS = 0, 1, 2
VOCAB = 13  # PAD, BOS, EOS, digits 0-9 as ids 3..12


def make_batch(n: int, min_len: int, max_len: int, generator=None):
    """Random digit strings (ids 3..12) padded with PAD, and their reversals followed by EOS."""
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=generator)
    src = torch.full((n, max_len), PAD, dtype=torch.long)
    tgt = torch.full((n, max_len + 1), PAD, dtype=torch.long)
    digits = torch.randint(3, VOCAB, (n, max_len), generator=generator)
    for i, length in enumerate(lengths.tolist()):
        src[i, :length] = digits[i, :length]
        tgt[i, :length] = digits[i, :length].flip(0)
        tgt[i, length] = EOS
    return src, tgt


class Attention(nn.Module):
    def __init__(self, kind: str, hidden: int):
        super().__init__()
        self.kind = kind
        if kind == "general":
            self.W = nn.Linear(hidden, hidden, bias=False)
        elif kind == "additive":
            self.W_q, self.W_k = nn.Linear(hidden, hidden, bias=False), nn.Linear(hidden, hidden, bias=False)
            self.v = nn.Linear(hidden, 1, bias=False)

    def forward(self, query, keys, pad_mask):
        """query (B, H), keys (B, S, H), pad_mask (B, S) True at padding -> weights (B, S)."""
        if self.kind == "dot":
            scores = (keys @ query.unsqueeze(2)).squeeze(2)
        elif self.kind == "general":
            scores = (keys @ self.W(query).unsqueeze(2)).squeeze(2)
        else:
            scores = self.v(torch.tanh(self.W_q(query).unsqueeze(1) + self.W_k(keys))).squeeze(2)
        return F.softmax(scores.masked_fill(pad_mask, float("-inf")), dim=1)


class Seq2Seq(nn.Module):
    def __init__(self, hidden: int = 128, attention: str = "general"):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, hidden, padding_idx=PAD)
        self.encoder = nn.GRU(hidden, hidden, batch_first=True)
        self.decoder = nn.GRUCell(hidden, hidden)
        self.attention = Attention(attention, hidden)
        self.combine = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, VOCAB)

    def encode(self, src):
        keys, h = self.encoder(self.embed(src))
        return keys, h[0], src == PAD

    def step(self, token, h, keys, pad_mask):
        """One decoder step: next-token log-probabilities, new state, attention weights."""
        h = self.decoder(self.embed(token), h)
        weights = self.attention(h, keys, pad_mask)
        context = (weights.unsqueeze(1) @ keys).squeeze(1)
        logits = self.out(torch.tanh(self.combine(torch.cat([h, context], dim=1))))
        return F.log_softmax(logits, dim=1), h, weights

    def forward(self, src, tgt):
        """Teacher forcing: the decoder reads the true previous token at every step."""
        keys, h, pad_mask = self.encode(src)
        token = torch.full((len(src),), BOS, dtype=torch.long, device=src.device)
        outputs = []
        for t in range(tgt.shape[1]):
            log_probs, h, _ = self.step(token, h, keys, pad_mask)
            outputs.append(log_probs)
            token = tgt[:, t]
        return torch.stack(outputs, dim=1)

    @torch.no_grad()
    def greedy(self, src, max_len: int):
        keys, h, pad_mask = self.encode(src)
        token = torch.full((len(src),), BOS, dtype=torch.long, device=src.device)
        out, maps = [], []
        for _ in range(max_len):
            log_probs, h, weights = self.step(token, h, keys, pad_mask)
            token = log_probs.argmax(1)
            out.append(token)
            maps.append(weights)
        return torch.stack(out, 1), torch.stack(maps, 1)

    @torch.no_grad()
    def beam_search(self, src, max_len: int, beam: int = 4, alpha: float = 0.7):
        """Best hypothesis for one source (1, S) by total log-probability / length**alpha."""
        keys, h, pad_mask = self.encode(src)
        beams = [([], 0.0, h)]
        finished = []
        for _ in range(max_len):
            candidates = []
            for tokens, score, state in beams:
                prev = torch.tensor([tokens[-1] if tokens else BOS], device=src.device)
                log_probs, new_state, _ = self.step(prev, state, keys, pad_mask)
                top = log_probs[0].topk(beam)
                for lp, tok in zip(top.values.tolist(), top.indices.tolist()):
                    candidates.append((tokens + [tok], score + lp, new_state))
            candidates.sort(key=lambda c: c[1] / len(c[0]) ** alpha, reverse=True)
            beams = []
            for c in candidates[:beam]:
                (finished if c[0][-1] == EOS else beams).append(c)
            if not beams:
                break
        best = max(finished or beams, key=lambda c: c[1] / len(c[0]) ** alpha)
        return best[0]


def strip(tokens):
    out = []
    for t in tokens:
        if t == EOS:
            break
        out.append(t)
    return out


def main(argv=None) -> float:
    args = parse_args("seq2seq_attention", __doc__.splitlines()[0], epochs=1, argv=argv, extra=lambda p: (
        p.add_argument("--steps", type=int, default=1500, help="training batches of 64 strings per epoch"),
        p.add_argument("--attention", choices=["dot", "general", "additive"], default="general"),
        p.add_argument("--min-len", type=int, default=3),
        p.add_argument("--max-len", type=int, default=8)))
    model = Seq2Seq(attention=args.attention).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    steps = args.epochs * (args.steps if args.max_steps is None else min(args.steps, args.max_steps))
    # decaying the rate to zero removes the late loss spikes that a constant 3e-3 leaves
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    losses = []
    with Timer() as timer:
        for _ in progress(range(steps), "training"):
            src, tgt = make_batch(64, args.min_len, args.max_len)
            src, tgt = src.to(args.device), tgt.to(args.device)
            log_probs = model(src, tgt)
            loss = F.nll_loss(log_probs.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=PAD)
            losses.append(train_step(optimizer, loss, clip=1.0, scheduler=scheduler))
    n_greedy, n_beam = (500, 100) if args.max_steps is None else (32, 4)
    src, tgt = make_batch(n_greedy, args.min_len, args.max_len, generator=torch.Generator().manual_seed(1234))
    src, tgt = src.to(args.device), tgt.to(args.device)
    model.eval()
    pred, maps = model.greedy(src, args.max_len + 1)
    truth = [strip(t) for t in tgt.tolist()]
    correct = [strip(p) == t for p, t in zip(pred.tolist(), truth)]
    greedy_acc = sum(correct) / len(truth)
    beam_acc = sum(strip(model.beam_search(src[i:i + 1], args.max_len + 1)) == truth[i]
                   for i in range(n_beam)) / n_beam
    # heat map of the first longest test string (a correctly reversed one when there is one)
    lengths = (src != PAD).sum(1).tolist()
    longest = [i for i, n in enumerate(lengths) if n == max(lengths)]
    i = next((i for i in longest if correct[i]), longest[0])
    length = lengths[i]
    heat = maps[i, :length + 1, :length].cpu().numpy()
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(5.5, 5))
    image = ax.imshow(heat, cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="attention weight", shrink=0.8)
    ax.set_xticks(range(length), [str(t - 3) for t in src[i, :length].tolist()])
    ax.set_yticks(range(length + 1), [str(t - 3) if t >= 3 else "<eos>" for t in pred[i, :length + 1].tolist()])
    ax.set_xlabel("source digit")
    ax.set_ylabel("generated digit (greedy), top to bottom")
    ax.set_title(f"{args.attention} attention while reversing\n(test string {i + 1}, output "
                 f"{'correct' if correct[i] else 'wrong'})")
    fig.tight_layout()
    fig.savefig(f"{args.out}/attention.png", dpi=120)
    pyplot.close(fig)
    save_curves(f"{args.out}/loss.png", {"training NLL per token": losses}, "step",
                f"seq2seq with {args.attention} attention", "nats per token", smooth=20, log_y=True)
    print(f"seq2seq ({args.attention} attention): exact match {100 * greedy_acc:.1f}% greedy ({n_greedy} strings), "
          f"{100 * beam_acc:.1f}% beam search ({n_beam} strings) in {timer.seconds:.1f}s on {args.device}")
    return greedy_acc


if __name__ == "__main__":
    main()
