"""A multinomial logistic regression on sentence embeddings, trained with numpy in well under a second.

Full-batch gradient descent from zero weights is deterministic, so every process that trains on the same
examples gets the same model. numpy is imported on first use only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy


@dataclass(frozen=True)
class RegressionSettings:
    """Training settings, chosen on the CLINC150 train split and the Rasa file (bench/intents.py)."""

    # Cosine-scale inputs: logits are scale * (x . w) + b, so a small weight change moves probabilities enough.
    scale: float = 20.0
    l2: float = 1e-3
    learning_rate: float = 0.5
    epochs: int = 100
    momentum: float = 0.9  # Nesterov momentum: a good fit in a quarter of the epochs plain descent needs
    balanced: bool = True  # weigh every label equally, however many examples it has


@dataclass(frozen=True)
class SoftmaxRegression:
    """Trained weights: probabilities over the labels for unit-length input rows."""

    weights: numpy.ndarray  # (dimension, labels)
    bias: numpy.ndarray  # (labels,)
    scale: float

    def probabilities(self, vectors: numpy.ndarray) -> numpy.ndarray:
        """Return one probability row per input row, shape (rows, labels)."""
        return _softmax(self.scale * (vectors @ self.weights) + self.bias)


def train_softmax_regression(vectors: numpy.ndarray, label_indices: numpy.ndarray, label_count: int,
                             settings: RegressionSettings = RegressionSettings()) -> SoftmaxRegression:
    """Fit the weights on labelled unit-length rows."""
    import numpy as np

    rows, dimension = vectors.shape
    inputs = vectors.astype(np.float32)
    targets = np.zeros((rows, label_count), dtype=np.float32)
    targets[np.arange(rows), label_indices] = 1.0
    counts = np.bincount(label_indices, minlength=label_count).astype(np.float32)
    # Balanced weights: a label with many examples does not drown out a small one.
    row_weights = (1.0 / np.maximum(counts, 1.0))[label_indices] if settings.balanced else np.ones(rows, dtype=np.float32)
    row_weights = (row_weights / row_weights.sum()).astype(np.float32)[:, None]
    weights = np.zeros((dimension, label_count), dtype=np.float32)
    bias = np.zeros(label_count, dtype=np.float32)
    weights_velocity = np.zeros_like(weights)
    bias_velocity = np.zeros_like(bias)
    for _ in range(settings.epochs):
        ahead_weights = weights + settings.momentum * weights_velocity
        ahead_bias = bias + settings.momentum * bias_velocity
        gradient = (_softmax(settings.scale * (inputs @ ahead_weights) + ahead_bias) - targets) * row_weights
        # The true gradient has a factor `scale`; it is folded into the learning rate.
        weights_velocity = settings.momentum * weights_velocity - settings.learning_rate * (inputs.T @ gradient + settings.l2 * ahead_weights)
        bias_velocity = settings.momentum * bias_velocity - settings.learning_rate * gradient.sum(axis=0)
        weights += weights_velocity
        bias += bias_velocity
    return SoftmaxRegression(weights=weights, bias=bias, scale=settings.scale)


def _softmax(logits: numpy.ndarray) -> numpy.ndarray:
    import numpy as np

    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    result: numpy.ndarray = exponentials / exponentials.sum(axis=1, keepdims=True)
    return result
