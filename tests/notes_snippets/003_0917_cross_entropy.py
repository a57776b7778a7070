# Source: /work/shared/seeds/003_1d586132f02853ff.txt, lines 917-933 and 1050-1052
# ("CE – nn.CrossEntropyLoss()", "marginRankingloss").
# The notes describe these losses inline; they are assembled here into the smallest program
# that uses what they describe: class-index targets, the `weight` argument, inputs of size
# (minibatch, C, d1, ..., dK), and nn.MarginRankingLoss.
import ember as torch
from ember import nn

x = torch.randn(4, 5)              # logits: a minibatch of 4, 5 classes
target = torch.tensor([1, 0, 4, 2])
loss = nn.CrossEntropyLoss()(x, target)

weight = torch.rand(5) + 0.5
weighted_loss = nn.CrossEntropyLoss(weight=weight)(x, target)

images = torch.randn(2, 5, 3, 4)   # (minibatch, C, d1, d2): a class score per pixel
pixel_targets = torch.randint(0, 5, (2, 3, 4))
pixel_loss = nn.CrossEntropyLoss()(images, pixel_targets)

correct, runner_up = torch.randn(6), torch.randn(6)
margin_loss = nn.MarginRankingLoss(margin=0.5)(correct, runner_up, torch.ones(6))
print(loss.item(), weighted_loss.item(), pixel_loss.item(), margin_loss.item())
