# Source: /work/shared/seeds/003_1d586132f02853ff.txt, lines 872-901 ("Nomenclature and PyTorch").
# The notes write these calls inline in the formulas; they are assembled here into the smallest
# program that uses them: the "actual softmax" 1/b * torch.logsumexp(b * E) (PyTorch's
# logsumexp needs the dim, here the last one), its minimum counterpart -actual_softmax(-E),
# torch.softmax (the soft argmax) and the nn.Softmax() / nn.LogSoftmax() modules (written, as
# in the notes, without dim: PyTorch then picks dim 1 for 2-D input and warns).
import ember as torch
from ember import nn

E = torch.randn(4, 6)
b = 5.0


def actual_softmax(E):
    return 1 / b * torch.logsumexp(b * E, dim=-1)


soft_max = actual_softmax(E)
soft_min = -actual_softmax(-E)
soft_argmax = torch.softmax(E, dim=-1)
print(soft_max, soft_min)
print(soft_argmax.sum(dim=-1))
print(nn.Softmax()(E).shape, nn.LogSoftmax()(E).shape)
