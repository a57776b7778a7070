# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 647-667 (2.6.1 Datasets).
# Offline: the test writes small fake FashionMNIST IDX files (256 training, 128 test images)
# under ./data/FashionMNIST/raw, so download=True finds them and fetches nothing.

import os
import ember as torch
from ember.vision import datasets
from ember.vision.transforms import ToTensor

training_data = datasets.FashionMNIST(
    root="data",                      # the folder where the data will be stored in
    train=True,                        # training or test dataset
    download=True,                     # downloads data if not available at root
    transform=ToTensor()               # specifies features/label transformations
)
test_data = datasets.FashionMNIST(
    root="data",
    train=False,
    download=True,
    transform=ToTensor()
)
