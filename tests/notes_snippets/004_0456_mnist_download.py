# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 456-465 (2.5 Neural Net from Scratch).
# Offline: the test writes small fake MNIST IDX files under ./data/MNIST/raw, so download=True
# finds them and fetches nothing; the fake sets hold 600 training and 100 test images instead of
# 60000 and 10000, so the length assert uses those sizes.
import numpy as np
import ember.vision.datasets as datasets

train_set = datasets.MNIST('./data', train=True, download=True)
test_set = datasets.MNIST('./data', train=False, download=True)

# Check the lengths of train sets and test sets
assert len(train_set) == 600 and len(test_set) == 100
