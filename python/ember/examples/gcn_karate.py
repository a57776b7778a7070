"""A two-layer graph convolutional network on Zachary's karate club, as in the notes: the layer
H = sigma(D^-1/2 (A + I) D^-1/2 X W), with weights [34, 4] then [4, 2] giving a 2-D graph
embedding, and logistic regression on that embedding; trained semi-supervised from the two
leaders' labels only. ``--conv dense`` writes the layer with the normalised adjacency matrix (the
notes' first version), ``gcn`` uses ember.graph.GCNConv on the edge list, ``gat`` a graph
attention layer. Prints the accuracy on all 34 members and plots the 2-D node embeddings."""
from __future__ import annotations

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.examples._common import Timer, parse_args, plt, progress, save_curves
from ember.graph import GATConv, GCNConv, KarateClub, karate_club, to_dense_adj

FACTION_NAMES = KarateClub.classes


class DenseGCNLayer(nn.Module):
    """The notes' dense layer: normalise A + I once, then H = A_hat X W."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x, a_hat):
        return torch.mm(a_hat, self.linear(x))


def normalized_adjacency(edge_index, num_nodes):
    A = to_dense_adj(edge_index, max_num_nodes=num_nodes)[0] + torch.eye(num_nodes)
    d_inv_sqrt = torch.diag(torch.sum(A, dim=0) ** -0.5)
    return d_inv_sqrt @ A @ d_inv_sqrt


class KarateGNN(nn.Module):
    def __init__(self, conv: str, num_nodes: int = 34):
        super().__init__()
        self.conv = conv
        make = {"dense": DenseGCNLayer, "gcn": GCNConv, "gat": lambda i, o: GATConv(i, o, heads=1)}[conv]
        self.layer1, self.layer2 = make(num_nodes, 4), make(4, 2)
        self.classifier = nn.Linear(2, len(FACTION_NAMES))  # logistic regression on the embedding

    def embed(self, x, graph):
        """(N, 2) node embeddings."""
        h = torch.tanh(self.layer1(x, graph))
        return torch.tanh(self.layer2(h, graph))

    def forward(self, x, graph):
        """(N, 2) faction logits."""
        return self.classifier(self.embed(x, graph))


def plot_embedding(path, emb, labels, pred, edge_index, labelled, title) -> None:
    """Nodes at their 2-D embedding, coloured by true faction, friendships as grey lines; the two
    labelled leaders drawn as stars, misclassified members ringed in black."""
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6.4, 5.4))
    for i, j in edge_index.T:
        if i < j:
            ax.plot(emb[[i, j], 0], emb[[i, j], 1], color="0.8", lw=0.6, zorder=0)
    colours = ["tab:blue", "tab:orange"]
    for k, name in enumerate(FACTION_NAMES):
        members = (labels == k) & ~labelled
        ax.scatter(emb[members, 0], emb[members, 1], s=60, color=colours[k], edgecolors="white",
                   label=f"{name}'s faction", zorder=2)
        leader = (labels == k) & labelled
        ax.scatter(emb[leader, 0], emb[leader, 1], s=260, marker="*", color=colours[k], edgecolors="k",
                   label=f"{name} (labelled)", zorder=3)
    wrong = pred != labels
    if wrong.any():
        ax.scatter(emb[wrong, 0], emb[wrong, 1], s=160, facecolors="none", edgecolors="k", lw=1.5,
                   label="misclassified", zorder=4)
    ax.set_xlabel("embedding dimension 1")
    ax.set_ylabel("embedding dimension 2")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot.close(fig)


def main(argv=None) -> float:
    args = parse_args("gcn_karate", __doc__.splitlines()[0], epochs=300, argv=argv,
                      extra=lambda p: p.add_argument("--conv", choices=["dense", "gcn", "gat"], default="gcn"))
    data = karate_club()
    graph = normalized_adjacency(data.edge_index, data.num_nodes) if args.conv == "dense" else data.edge_index
    x, y, mask = data.x.to(args.device), data.y.to(args.device), data.train_mask.to(args.device)
    graph = graph.to(args.device)
    model = KarateGNN(args.conv).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    epochs = args.epochs if args.max_steps is None else min(args.epochs, args.max_steps)
    with Timer() as timer:
        for _ in progress(range(epochs), "training"):
            out = model(x, graph)
            loss = F.cross_entropy(out[mask], y[mask])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        pred = model(x, graph).argmax(1)
        emb = model.embed(x, graph)
    accuracy = (pred == y).float().mean().item()
    plot_embedding(f"{args.out}/embedding_{args.conv}.png", emb.cpu().numpy(), y.cpu().numpy(),
                   pred.cpu().numpy(), data.edge_index.numpy(), mask.cpu().numpy(),
                   f"{args.conv.upper()} embedding of the karate club ({100 * accuracy:.0f}% correct)")
    save_curves(f"{args.out}/loss_{args.conv}.png", {"cross-entropy on the two labelled leaders": losses},
                "epoch", f"{args.conv.upper()} on the karate club", "loss", log_y=True)
    print(f"{args.conv} on the karate club: accuracy {100 * accuracy:.1f}% of 34 members from 2 labels "
          f"in {timer.seconds:.1f}s on {args.device}")
    return accuracy


if __name__ == "__main__":
    main()
