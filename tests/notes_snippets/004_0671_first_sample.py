# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 671-677 (2.6.1 Datasets).
# Runs after: 004_0647_fashion_mnist.py
# OCR fix: the notes put the expected output ("torch.size([1, 28, 28])", "9") on the print lines;
# it is kept here as comments (PyTorch prints torch.Size, Ember prints ember.Size).

img, label = training_data[0]
print(img.shape)      # torch.Size([1, 28, 28])
print(label)          # 9
