# Source: /work/shared/seeds/002_d67fcc9f8dff7582.txt, lines 256-276 (2D convolution example).
# The slide works a 3x3 kernel over a 5x5 image with
# output[i, j] = sum_{tau, gamma} filter[tau, gamma] * image[i + tau, j + gamma]; the OCR keeps the
# image, the kernel (as subscripts on the image's top-left 3x3 window) and the 3x3 result. The
# program below computes it with F.conv2d (the same cross-correlation).
import ember as torch
import ember.nn.functional as F

image = torch.tensor([[3., 3., 2., 1., 0.],
                      [0., 0., 1., 3., 1.],
                      [3., 1., 2., 2., 3.],
                      [2., 0., 0., 2., 2.],
                      [2., 0., 0., 0., 1.]]).view(1, 1, 5, 5)
kernel = torch.tensor([[0., 1., 2.],
                       [2., 2., 0.],
                       [0., 1., 2.]]).view(1, 1, 3, 3)
output = F.conv2d(image, kernel)
print(output)
