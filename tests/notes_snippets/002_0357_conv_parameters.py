# Source: /work/shared/seeds/002_d67fcc9f8dff7582.txt, lines 357-363 (convolution layer example).
# The slide's example layer (kernel size 3, stride 2, padding 1, 3 input channels, 2 output
# channels, (3x3x3 + 1) x 2 = 56 parameters) written as the nn.Conv2d it describes, applied to
# a 3x5x5 image.
import ember as torch
import ember.nn as nn

conv = nn.Conv2d(3, 2, kernel_size=3, stride=2, padding=1)
print(sum(p.numel() for p in conv.parameters()))
print(conv(torch.randn(1, 3, 5, 5)).shape)
