# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 469-479 (2.5 Neural Net from Scratch).
# Runs after: 004_0456_mnist_download.py
# The shape assert uses the fake training set's 600 images instead of MNIST's 60000.

X_train = np.array([picture.numpy().reshape(-1) for picture in train_set.data]).T / 255.
Y_train = train_set.targets.numpy()
X_test = np.array([picture.numpy().reshape(-1) for picture in test_set.data]).T / 255.
Y_test = test_set.targets.numpy()

# Check shapes
assert X_train.shape == (784, 600) and Y_train.shape == (600, )
