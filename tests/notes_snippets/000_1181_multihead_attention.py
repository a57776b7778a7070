# Source: /work/shared/seeds/000_6b516b0555ca16ad.txt, lines 1181-1182 (transformers).
# The notes give these calls inline in the prose; they are assembled here into the smallest
# program that uses them: linear layers compute Q, K and V, and nn.MultiheadAttention is
# called with them.
import ember as torch
from ember import nn

hidden_size, num_heads = 32, 4
x = torch.randn(2, 6, hidden_size)  # a batch of 2 sequences of 6 token embeddings

query, key, value = (nn.Linear(hidden_size, hidden_size) for _ in range(3))
attention = nn.MultiheadAttention(hidden_size, num_heads, batch_first=True)
output, weights = attention(query(x), key(x), value(x))
print(output.shape, weights.shape)
