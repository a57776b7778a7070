# Source: /work/shared/seeds/002_d67fcc9f8dff7582.txt, lines 18-22 (slide "Pytorch").
# OCR fix: the slide's line numbers ("- 1", "- 2", ...) and the underline markup are dropped.
import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.vision import datasets, transforms
