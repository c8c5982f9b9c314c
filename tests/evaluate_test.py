"""Metrics against scikit-learn and hand-made cases; track aggregation; the paper's Eq. 10."""

import numpy as np
import pytest
from sklearn import metrics as skm

from keras_tsr.evaluate import (
    average_accuracy,
    bootstrap_intervals,
    classification_metrics,
    summary_lines,
    track_probabilities,
)

pytestmark = pytest.mark.backend_independent


def test_hand_made_case():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    m = classification_metrics(y_true, y_pred, 3)
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    # precision: 2/2, 1/2, 1/2; recall: 2/3, 1/2, 1/1
    assert m["macro_precision"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert m["macro_recall"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert m["per_class_accuracy"] == pytest.approx([2 / 3, 0.5, 1.0])
    f1 = [2 * p * r / (p + r) for p, r in ((1, 2 / 3), (0.5, 0.5), (0.5, 1))]
    assert m["macro_f1"] == pytest.approx(np.mean(f1))


def test_agrees_with_scikit_learn_on_random_labels():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 8, 500), rng.integers(0, 8, 500)
    m = classification_metrics(y_true, y_pred, 8)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert m["macro_precision"] == pytest.approx(skm.precision_score(y_true, y_pred, average="macro"))


def test_absent_class_is_left_out_of_macro_averages():
    # class 2 never occurs in y_true: macro recall averages classes 0 and 1 only
    m = classification_metrics([0, 1], [0, 2], 3)
    assert m["macro_recall"] == pytest.approx(0.5)
    assert len(m["per_class_accuracy"]) == 3


@pytest.mark.parametrize("k", [2, 8, 16])
def test_average_accuracy_identity(k):
    """Eq. 10 read as Sokolova and Lapalme's average accuracy: 1 - 2 (1 - acc) / k for single-label predictions."""
    rng = np.random.default_rng(k)
    y_true = rng.integers(0, k, 400)
    y_pred = np.where(rng.random(400) < 0.6, y_true, rng.integers(0, k, 400))
    m = classification_metrics(y_true, y_pred, k)
    assert m["average_accuracy"] == pytest.approx(1 - 2 * (1 - m["accuracy"]) / k)
    # by hand from TP, TN, FP, FN of each class
    per_class = []
    for c in range(k):
        tp = np.sum((y_true == c) & (y_pred == c))
        tn = np.sum((y_true != c) & (y_pred != c))
        per_class.append((tp + tn) / len(y_true))
    assert average_accuracy(m["confusion_matrix"]) == pytest.approx(np.mean(per_class))


def test_paper_figure_is_60_9_percent_plain_accuracy():
    lines = summary_lines({lvl: {**classification_metrics([0, 1], [0, 1], 2)} for lvl in ("segment", "track")})
    assert "0.9023" in lines[-1] and "0.6092" in lines[-1]


def test_track_probabilities_average_segments():
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4]])
    ids = np.array([7, 3, 7, 3])
    labels = np.array([0, 1, 0, 1])
    tracks, tp, tl = track_probabilities(probs, ids, labels)
    assert tracks.tolist() == [3, 7]
    np.testing.assert_allclose(tp, [[0.45, 0.55], [0.55, 0.45]])
    assert tl.tolist() == [1, 0]


def test_bootstrap_interval_covers_the_estimate_and_narrows_with_more_tracks():
    rng = np.random.default_rng(1)

    def interval(n_tracks):
        ids = np.repeat(np.arange(n_tracks), 4)
        y = np.repeat(rng.integers(0, 4, n_tracks), 4)
        pred = np.where(rng.random(len(y)) < 0.7, y, (y + 1) % 4)
        ci = bootstrap_intervals(y, pred, ids, 4, n_boot=300)
        acc = np.mean(pred == y)
        assert ci["accuracy"][0] <= acc <= ci["accuracy"][1]
        assert ci["average_accuracy"][0] <= ci["average_accuracy"][1]
        return ci["accuracy"][1] - ci["accuracy"][0]

    assert interval(400) < interval(40)
