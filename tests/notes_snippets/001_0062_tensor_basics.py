# Source: /work/shared/seeds/001_c56490fc77ac6654.txt, lines 62-67 ("Pytorch guide").
# The notes name these operations inline (the broadcasting rules, torch.mm and torch.bmm);
# they are assembled here into the smallest program that uses them.
import ember as torch

a = torch.randn(5, 1, 4)
b = torch.randn(3, 1)  # trailing dimensions: 4 vs 1, 1 vs 3, 5 vs (missing)
print((a + b).shape)

m = torch.randn(2, 3)
n = torch.randn(3, 4)
print(torch.mm(m, n).shape)

batch1 = torch.randn(6, 2, 3)
batch2 = torch.randn(6, 3, 4)
print(torch.bmm(batch1, batch2).shape)
