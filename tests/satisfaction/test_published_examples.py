"""Entropy weights against published worked examples (the shares form).

The shares form of the entropy method (``normalisation="sum"``: p_ij = x_ij / sum_i x_ij of the
raw values, e_j = -sum_i p_ij ln p_ij / ln m, w_j = (1 - e_j) / sum_k (1 - e_k); Zeleny 1982,
Hwang & Yoon 1981) is checked against the weight vectors printed in two published examples:

* Xu, X. (2004). A note on the subjective and objective integrated approach to determine
  attribute weights. *European Journal of Operational Research* 156(2), 530-532,
  doi:10.1016/S0377-2217(03)00146-2. The decision matrix is the four-alternative,
  four-attribute example of Ma, Fan & Huang (1999, EJOR 112(2), 397-404); Xu's entropy weights
  are w = (0.4630, 0.3992, 0.1378, 0.0000).
* Zavadskas, E. K. & Podvezko, V. (2016). Integrated determination of objective criteria
  weights in MCDM. *International Journal of Information Technology & Decision Making* 15(2),
  267-283 (RePEc:wsi:ijitdm:v:15:y:2016:i:02:n:s0219622016500036). Four alternatives, four
  criteria (the first and third are minimised); entropy weights
  w = (0.1146, 0.1981, 0.4185, 0.2689).

Both papers print four decimals, so the weights are compared with an absolute tolerance of
half a unit in the fourth decimal (5e-5).

Provenance, stated plainly: neither paper's own pages were readable from here. The matrices
and printed weights above are as transcribed, with the citations, in the test suite of the MCDA
library crispyn (A. Bączkiewicz, github.com/energyinpython/crispyn,
tests/test_weighting_methods.py, ``Test_Entropy.test_Entropy`` and ``test_Entropy2``); the
same transcription appears in the test suites of pyrepo-mcda and objective-weights-mcda.
crispyn's entropy weighting takes the shares of the raw matrix, so these are examples of
``normalisation="sum"``.

Zavadskas & Podvezko's example has two minimised criteria, yet their entropy weights come from
the shares of the raw values with no reversal: the entropy of shares does not depend on an
indicator's direction, which is why crmcore's ``"sum"`` form refuses a ``cost`` argument
rather than silently ignoring it (tested in test_weights.py).

Not covered by a published example (searched for and not found with printed inputs and
outputs): the min-max form of the entropy method (``normalisation="min-max"``), and the fuzzy
composition operators other than M(min, max) (``"product-max"``, ``"min-bounded-sum"``,
``"weighted-average"``), which remain checked by hand arithmetic in test_fuzzy.py, where
``"product-max"`` (and ``"min-max"``) are also compared with scikit-fuzzy's compositions.
"""

from __future__ import annotations

import numpy as np
import pytest

from crmcore.satisfaction import entropy_weights

PRINTED_4DP = 5e-5  # half a unit in the fourth printed decimal


def test_entropy_weights_xu_2004() -> None:
    # Ma, Fan & Huang (1999) decision matrix, as used by Xu (2004): rows are alternatives.
    x = np.array([[30, 30, 38, 29],
                  [19, 54, 86, 29],
                  [19, 15, 85, 28.9],
                  [68, 70, 60, 29]])
    result = entropy_weights(x, normalisation="sum")
    np.testing.assert_allclose(result.weights, [0.4630, 0.3992, 0.1378, 0.0000],
                               rtol=0, atol=PRINTED_4DP)
    assert result.weights.sum() == pytest.approx(1.0)
    # The fourth attribute barely varies (29, 29, 28.9, 29): its entropy is all but 1 and its
    # printed weight 0.0000, yet it is not exactly constant, so its weight is positive.
    assert 0 < result.weights[3] < PRINTED_4DP
    assert result.entropy[3] == pytest.approx(1.0, abs=1e-5)
    # The ranking of the attributes matches the paper's: 1 > 2 > 3 > 4.
    assert list(np.argsort(-result.weights)) == [0, 1, 2, 3]


def test_entropy_weights_zavadskas_podvezko_2016() -> None:
    # Criteria 1 and 3 are minimised in the paper; the entropy of shares ignores direction.
    x = np.array([[3.0, 100, 10, 7],
                  [2.5, 80, 8, 5],
                  [1.8, 50, 20, 11],
                  [2.2, 70, 12, 9]])
    result = entropy_weights(x, normalisation="sum")
    np.testing.assert_allclose(result.weights, [0.1146, 0.1981, 0.4185, 0.2689],
                               rtol=0, atol=PRINTED_4DP)
    assert list(np.argsort(-result.weights)) == [2, 3, 1, 0]


def test_published_weights_are_not_the_min_max_form() -> None:
    # Guard against a silent change of the default: the published shares-form weights are not
    # what the min-max form gives on the same data (for Xu's matrix it gives about
    # 0.469, 0.207, 0.176, 0.148, because min-max normalisation stretches the nearly constant
    # fourth attribute to the full [0, 1] range).
    x = np.array([[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]])
    min_max = entropy_weights(x).weights
    assert np.max(np.abs(min_max - [0.4630, 0.3992, 0.1378, 0.0000])) > 0.1
    assert min_max[3] > 0.1
