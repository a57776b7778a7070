# Source: /work/shared/seeds/000_6b516b0555ca16ad.txt, lines 792-798 and 823 (word embeddings).
# The notes give these calls inline in the prose; they are assembled here into the smallest
# program that uses them. The notes look embeddings up in torchtext's pre-trained GloVe
# vectors (glove.vectors), which need a download; a small random table stands in for them.
import ember as torch
from ember import nn

vectors = torch.randn(100, 50)  # stands in for glove.vectors: 100 words, 50 dimensions
embedding = nn.Embedding.from_pretrained(vectors)
a, b = embedding(torch.tensor([3, 7]))

print(torch.norm(a - b))
print(torch.cosine_similarity(a.unsqueeze(0), b.unsqueeze(0)))
