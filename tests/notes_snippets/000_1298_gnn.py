# Source: /work/shared/seeds/000_6b516b0555ca16ad.txt, lines 1298-1323 (GNN implementation).
# The notes give these calls inline in the prose; they are assembled here into the smallest
# program that uses them on a 5-node graph. Where the prose disagrees with PyTorch Geometric,
# PyG wins: Data takes x, edge_index and y as keywords (its third positional argument is
# edge_attr), and a batch of graphs is a Batch (printed as DataBatch) from the graph DataLoader.
import ember as torch
from ember import nn
from ember.graph import Data, DataLoader, GATConv, GCNConv, global_add_pool

A = torch.tensor([[0., 1., 1., 0., 0.],
                  [1., 0., 1., 0., 0.],
                  [1., 1., 0., 1., 0.],
                  [0., 0., 1., 0., 1.],
                  [0., 0., 0., 1., 0.]])
X = torch.randn(5, 3)

# dense GCN layer: relu(D^-1/2 (A + I) D^-1/2 X W)
A_hat = A + torch.eye(5)
D = torch.diag(torch.sum(A_hat, dim=0))
D_inv_sqrt = torch.diag(torch.sum(A_hat, dim=0) ** -0.5)
W = nn.Linear(3, 4, bias=False)
H = torch.relu(W(torch.mm(torch.mm(torch.mm(D_inv_sqrt, A_hat), D_inv_sqrt), X)))
graph_embedding = torch.sum(H, dim=0)
print(D.diagonal(), H.shape, graph_embedding.shape)

# sparse: edge_index holds the edges as two rows of node indices
edge_index = A.nonzero().t()
data = Data(x=X, edge_index=edge_index, y=torch.tensor([1]))
gcn = GCNConv(3, 4)
gat = GATConv(3, 4)
print(torch.relu(gcn(data.x, data.edge_index)).shape, gat(data.x, data.edge_index).shape)

# batches of graphs: the batch vector maps each node to its graph
dataset = [data, Data(x=torch.randn(3, 3), edge_index=torch.tensor([[0, 1], [1, 2]]),
                      y=torch.tensor([0]))]
loader = DataLoader(dataset, batch_size=2, shuffle=True)
batch = next(iter(loader))
print(batch)
pooled = global_add_pool(gcn(batch.x, batch.edge_index), batch.batch)
print(pooled.shape)
