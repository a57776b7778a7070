# Source: /work/shared/seeds/000_6b516b0555ca16ad.txt, lines 469-475, 452, 587 and 708-709
# (CNNs, global average pooling, transposed convolutions).
# The notes give these calls inline in the prose; they are assembled here into the smallest
# program that checks what the prose says about them.
import ember as torch
from ember import nn

# "colour input image of 3x28x28 using kernels 5x3x8x8 has ... 5x3x8x8 + 5 trainable weights"
conv = nn.Conv2d(3, 5, 8)
print(sum(p.numel() for p in conv.parameters()))

# nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding): integers apply to both
# dimensions, tuples give one value per dimension; o = floor((i + 2p - k) / s) + 1
x = torch.randn(2, 3, 28, 28)
conv = nn.Conv2d(3, 16, 3, 2, 1)
print(conv(x).shape)
conv = nn.Conv2d(3, 16, kernel_size=(3, 5), stride=(1, 2), padding=(1, 0))
print(conv(x).shape)

# nn.MaxPool2d(kernel_size, stride); convolution, then activation, then pooling
pool = nn.MaxPool2d(2, 2)
features = pool(torch.relu(nn.Conv2d(3, 8, 5)(x)))
print(features.shape)

# global average pooling: nn.AdaptiveAvgPool2d(1) averages each whole feature map
gap = nn.AdaptiveAvgPool2d(1)
print(gap(features).shape)

# nn.ConvTranspose2d(in_channels, out_channels, kernel_size) undoes nn.Conv2d's shape change
down = nn.Conv2d(3, 8, 5)
up = nn.ConvTranspose2d(8, 3, 5)
print(up(down(x)).shape)
