"""Batch-norm settings shared by the layers.

PyTorch's defaults (the paper's framework): running statistics updated with
weight 0.1 per step (Keras momentum 0.9) and epsilon 1e-5. Keras' own 0.99
lets the running statistics lag far behind the weights on short runs, which
shows up as a gap between training-mode and inference-mode accuracy.
"""

BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5
