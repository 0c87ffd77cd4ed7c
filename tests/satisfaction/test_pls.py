"""PLS path modelling and the ACSI model (crmcore.satisfaction._pls).

References used here:

- the ``plspm`` package (0.5.7, the Python port of G. Sanchez's R plspm) fitted side by side on
  the same simulated data: outer weights, loadings, scores, path coefficients, R² and GoF for
  every scheme and mode, standardised and centred-only indicators;
- two closed forms for two blocks (Tenenhaus et al. 2004, the two-block special cases of PLS
  path modelling; Wold 1982): with mode B for both blocks the latent variables are the first
  pair of canonical variates (Hotelling 1936), with mode A and the centroid scheme the weights
  are the first pair of singular vectors of :math:`X_1^\\top X_2` (Tucker's inter-battery
  analysis, Tucker 1958);
- published output: the first canonical correlation of Linnerud's fitness club data
  (SAS/STAT User's Guide, CANCORR procedure example; the data ship with scikit-learn),
  reproduced by two mode B blocks;
- the known structure the data were simulated from.

The ECSI mobile phone example of Tenenhaus et al. (2004) is not reproduced: no installed
package ships its data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crmcore import (
    ConvergenceError,
    InvalidValueError,
    SerializationError,
    UnknownIndicatorError,
)
from crmcore.satisfaction import (
    ACSI_PATHS,
    PLSPathResult,
    acsi_index,
    acsi_model,
    pls_path_model,
)

BLOCKS = {"image": ["i1", "i2", "i3"], "quality": ["q1", "q2", "q3"],
          "loyal": ["l1", "l2", "l3"]}
PATHS = {"quality": ["image"], "loyal": ["image", "quality"]}
SCHEMES = ("centroid", "factorial", "path")


def _simulate(n: int = 300, seed: int = 0, *, loadings: Sequence[float] = (0.9, 0.8, 0.7)
              ) -> dict[str, np.ndarray]:
    """Indicators of three latent variables: image -> quality (0.5), image (0.4) and quality
    (0.4) -> loyal; every indicator on its own location and scale."""
    rng = np.random.default_rng(seed)
    image = rng.normal(size=n)
    quality = 0.5 * image + np.sqrt(0.75) * rng.normal(size=n)
    loyal = 0.4 * image + 0.4 * quality + 0.7 * rng.normal(size=n)
    data: dict[str, np.ndarray] = {}
    for lv, xi in (("image", image), ("quality", quality), ("loyal", loyal)):
        for k, lam in enumerate(loadings):
            noise = rng.normal(size=n)
            data[f"{lv[0]}{k + 1}"] = 3.0 + (k + 1) * (lam * xi + np.sqrt(1 - lam**2) * noise)
    return data


DATA = _simulate()


def _matrix(paths: Mapping[str, Sequence[str]], latent: Sequence[str]) -> np.ndarray:
    p = np.zeros((len(latent), len(latent)), dtype=np.int64)
    for dst, srcs in paths.items():
        for src in srcs:
            p[list(latent).index(dst), list(latent).index(src)] = 1
    return p


def _plspm(data: Mapping[str, np.ndarray], blocks: Mapping[str, Sequence[str]],
           paths: Mapping[str, Sequence[str]], *, mode: str | Mapping[str, str], scheme: str,
           scaled: bool) -> Any:
    """The reference fit with plspm 0.5.7."""
    pd = pytest.importorskip("pandas")
    plspm = pytest.importorskip("plspm.plspm")
    config = pytest.importorskip("plspm.config")
    modes = pytest.importorskip("plspm.mode")
    schemes = pytest.importorskip("plspm.scheme")
    if not hasattr(pd.DataFrame, "map"):  # the minimum-versions run has pandas 2.0
        pytest.skip("plspm 0.5.7 calls DataFrame.map, which pandas added in 2.1")

    class _Loc:
        # plspm 0.5.7 reads a row as ``path.loc[name,]``, which pandas 3 rejects; unwrap the
        # one-element tuple and let pandas do the rest
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getitem__(self, key: Any) -> Any:
            return self._inner[key[0] if isinstance(key, tuple) and len(key) == 1 else key]

    def _constructor(self: Any) -> Any:
        return path_frame

    def _loc(self: Any) -> Any:
        return _Loc(pd.DataFrame.loc.fget(self))

    path_frame: Any = type("_PathFrame", (pd.DataFrame,),
                           {"_constructor": property(_constructor), "loc": property(_loc)})

    frame = pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in data.items()})
    if scaled:
        # plspm 0.5.7's ``scaled=True`` divides every column by one common standard
        # deviation; PLS path modelling (Tenenhaus et al. 2004, R plspm) standardises each
        # indicator, so standardise here and let plspm only centre
        frame = (frame - frame.mean()) / frame.std(ddof=0)
    latent = list(blocks)
    path = path_frame(_matrix(paths, latent), index=latent, columns=latent)
    cfg = config.Config(path, scaled=False)
    for lv in latent:
        lv_mode = mode if isinstance(mode, str) else mode[lv]
        cfg.add_lv(lv, getattr(modes.Mode, lv_mode), *[config.MV(i) for i in blocks[lv]])
    return plspm.Plspm(frame, cfg, getattr(schemes.Scheme, scheme.upper()), iterations=1000,
                       tolerance=1e-14)


def _compare(fit: PLSPathResult, ref: Any, *, flipped: Sequence[str] = ()) -> None:
    """Agreement with a plspm fit. plspm stops when the squared weight changes sum to less
    than 1e-14, so its weights are within about 1e-7 of the fixed point (crmcore ran to 1e-12).

    ``flipped`` names latent variables whose plspm scores come out negated: plspm 0.5.7 votes
    on the orientation with the signs of *all* indicator correlations, the other blocks' ones
    multiplied by 0 but still signed (-0.0), so a one-indicator block correlated negatively
    with the rest is turned against its own indicator (its loading becomes -1); it negates the
    scores but not the weights. crmcore orients each latent variable by its own indicators.
    """
    outer = ref.outer_model()
    latent = list(fit.latent)
    indicators = list(fit.indicators)
    sign = np.array([-1.0 if lv in flipped else 1.0 for lv in latent])
    member = np.array([latent.index(lv) for lv in latent for _ in fit.blocks[lv]])
    np.testing.assert_allclose(fit.weights, outer.loc[indicators, "weight"].to_numpy(),
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.loadings,
                               sign[member] * outer.loc[indicators, "loading"].to_numpy(),
                               rtol=0, atol=1e-7)
    np.testing.assert_allclose(fit.scores, sign * ref.scores()[latent].to_numpy(), rtol=0,
                               atol=1e-6)
    np.testing.assert_allclose(
        fit.path_coefficients,
        np.outer(sign, sign) * ref.path_coefficients().loc[latent, latent].to_numpy(),
        rtol=0, atol=1e-7)
    r2 = ref.inner_summary()["r_squared"]
    for lv, value in fit.r_squared.items():
        assert value == pytest.approx(float(r2[lv]), abs=1e-7)
    assert fit.goodness_of_fit == pytest.approx(float(ref.goodness_of_fit()), abs=1e-7)


# -- against plspm ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("mode", ["A", "B"])
def test_matches_plspm_standardised(scheme: str, mode: str) -> None:
    fit = pls_path_model(DATA, PATHS, BLOCKS, modes=mode, scheme=scheme,  # type: ignore[arg-type]
                         tol=1e-12)
    assert fit.converged
    assert fit.iterations < 50
    _compare(fit, _plspm(DATA, BLOCKS, PATHS, mode=mode, scheme=scheme, scaled=True))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_matches_plspm_centred_only(scheme: str) -> None:
    fit = pls_path_model(DATA, PATHS, BLOCKS, scheme=scheme, scaled=False,  # type: ignore[arg-type]
                         tol=1e-12)
    _compare(fit, _plspm(DATA, BLOCKS, PATHS, mode="A", scheme=scheme, scaled=False))
    # centred only, the larger-variance indicators (k + 1 times the noise) weigh more
    np.testing.assert_allclose(fit.scales, 1.0)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_matches_plspm_mixed_modes(scheme: str) -> None:
    modes = {"image": "B", "quality": "A", "loyal": "B"}
    fit = pls_path_model(DATA, PATHS, BLOCKS, modes=modes, scheme=scheme,  # type: ignore[arg-type]
                         tol=1e-12)
    assert fit.modes == modes
    _compare(fit, _plspm(DATA, BLOCKS, PATHS, mode=modes, scheme=scheme, scaled=True))


def test_default_tolerance_is_close_to_the_fixed_point() -> None:
    loose = pls_path_model(DATA, PATHS, BLOCKS)
    tight = pls_path_model(DATA, PATHS, BLOCKS, tol=1e-13)
    assert loose.criterion < 1e-6
    np.testing.assert_allclose(loose.weights, tight.weights, atol=1e-5)


# -- closed forms for two blocks ----------------------------------------------------------------


def _two_blocks(seed: int = 3, n: int = 250) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    x1 = np.column_stack([f + rng.normal(scale=s, size=n) for s in (0.5, 0.8, 1.2)])
    x2 = np.column_stack([0.7 * f + rng.normal(scale=s, size=n) for s in (0.6, 1.0)])
    return x1, x2


def _standardise(x: np.ndarray) -> np.ndarray:
    c = x - x.mean(axis=0)
    return np.asarray(c / c.std(axis=0), dtype=np.float64)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_two_blocks_mode_b_is_canonical_correlation(scheme: str) -> None:
    x1, x2 = _two_blocks()
    fit = pls_path_model(np.hstack([x1, x2]), [[0, 0], [1, 0]], {"x": [0, 1, 2], "y": [3, 4]},
                         modes="B", scheme=scheme, tol=1e-13)  # type: ignore[arg-type]
    q1, _ = np.linalg.qr(x1 - x1.mean(axis=0))
    q2, _ = np.linalg.qr(x2 - x2.mean(axis=0))
    first_canonical = np.linalg.svd(q1.T @ q2, compute_uv=False)[0]
    r = float(np.asarray(np.corrcoef(fit.scores.T))[0, 1])
    assert abs(r) == pytest.approx(first_canonical, abs=1e-9)
    assert fit.path_coefficients[1, 0] == pytest.approx(r, abs=1e-12)
    assert fit.r_squared["y"] == pytest.approx(r**2, abs=1e-12)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_linnerud_fitness_club_first_canonical_correlation(scheme: str) -> None:
    """Published output: SAS/STAT User's Guide, The CANCORR Procedure, example "Canonical
    Correlation Analysis of Fitness Club Data" (Linnerud's 20 middle-aged men: weight, waist,
    pulse against chin-ups, sit-ups, jumps). Its output "Correlations among the Original
    Variables" prints Weight-Waist 0.8702, Waist-Situps -0.6456, Chins-Situps 0.6957 and
    Situps-Jumps 0.6692, which identify the data scikit-learn ships as ``load_linnerud``;
    its "Canonical Correlations" table gives the first canonical correlation 0.795608. Two
    mode B blocks in PLS path modelling are that canonical pair."""
    datasets = pytest.importorskip("sklearn.datasets")
    frame = datasets.load_linnerud(as_frame=True).frame
    corr = frame.corr()
    for a, b, printed in (("Weight", "Waist", 0.8702), ("Waist", "Situps", -0.6456),
                          ("Chins", "Situps", 0.6957), ("Situps", "Jumps", 0.6692)):
        assert corr.loc[a, b] == pytest.approx(printed, abs=5e-5)
    fit = pls_path_model(frame, {"exercise": ["physiology"]},
                         {"physiology": ["Weight", "Waist", "Pulse"],
                          "exercise": ["Chins", "Situps", "Jumps"]},
                         modes="B", scheme=scheme, tol=1e-12)  # type: ignore[arg-type]
    # physical size goes with fewer exercises: the pair is negatively correlated
    assert fit.path_coefficients[1, 0] == pytest.approx(-0.795608, abs=5e-7)
    assert fit.r_squared["exercise"] == pytest.approx(0.795608**2, abs=1e-6)


def test_two_blocks_mode_a_centroid_is_inter_battery() -> None:
    x1, x2 = _two_blocks()
    fit = pls_path_model(np.hstack([x1, x2]), {"y": ["x"]}, {"x": [0, 1, 2], "y": [3, 4]},
                         tol=1e-14)
    u, _, vt = np.linalg.svd(_standardise(x1).T @ _standardise(x2))
    for got, want in ((fit.weights[:3], u[:, 0]), (fit.weights[3:], vt[0])):
        cosine = abs(got @ want) / np.linalg.norm(got)
        assert cosine == pytest.approx(1.0, abs=1e-10)


# -- the simulated structure ----------------------------------------------------------------------


def test_recovers_the_simulated_structure() -> None:
    data = _simulate(n=4000, seed=11, loadings=(0.9, 0.9, 0.9))
    fit = pls_path_model(data, PATHS, BLOCKS)
    # composites of three indicators loading 0.9 have reliability about 0.94, so PLS paths are
    # slightly attenuated; the true values are 0.5, 0.4 and 0.4
    assert fit.path_coefficients[1, 0] == pytest.approx(0.5, abs=0.05)
    assert fit.path_coefficients[2, 0] == pytest.approx(0.4, abs=0.05)
    assert fit.path_coefficients[2, 1] == pytest.approx(0.4, abs=0.05)
    np.testing.assert_allclose(fit.loadings, 0.9, atol=0.05)
    assert np.all(fit.weights > 0)


def test_scores_are_standardised_and_weighted_sums() -> None:
    fit = pls_path_model(DATA, PATHS, BLOCKS)
    np.testing.assert_allclose(fit.scores.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(fit.scores.std(axis=0), 1.0, atol=1e-12)
    x = np.column_stack([DATA[i] for i in fit.indicators])
    z = (x - fit.means) / fit.scales
    np.testing.assert_allclose(z[:, :3] @ fit.weights[:3], fit.score("image"), atol=1e-12)
    raw = fit.unstandardised_weights("quality")
    centred = x[:, 3:6] - fit.means[3:6]
    np.testing.assert_allclose(centred @ np.array(list(raw.values())), fit.score("quality"),
                               atol=1e-10)
    assert list(fit.outer_weights("loyal")) == ["l1", "l2", "l3"]
    assert fit.block_loadings("loyal")["l1"] == pytest.approx(fit.loadings[6])
    np.testing.assert_allclose(fit.communality, fit.loadings**2)


def test_input_shapes_agree() -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    reference = pls_path_model(DATA, PATHS, BLOCKS)
    names = list(DATA)
    x = np.column_stack([DATA[k] for k in names])
    positions = {lv: [names.index(i) for i in items] for lv, items in BLOCKS.items()}
    for fit in (
        pls_path_model(pd.DataFrame(DATA), PATHS, BLOCKS),
        pls_path_model(pd.DataFrame({"id": [f"c{i}" for i in range(300)], **DATA}), PATHS,
                       BLOCKS),
        pls_path_model(pl.DataFrame(DATA), PATHS, BLOCKS),
        pls_path_model(x, PATHS, BLOCKS, columns=names),
        pls_path_model(x, PATHS, positions),
        pls_path_model(DATA, _matrix(PATHS, list(BLOCKS)), BLOCKS),
        pls_path_model(DATA, [("image", "quality"), ("image", "loyal"), ("quality", "loyal")],
                       BLOCKS),
    ):
        np.testing.assert_allclose(fit.weights, reference.weights, atol=1e-12)
        np.testing.assert_allclose(fit.path_coefficients, reference.path_coefficients,
                                   atol=1e-12)


def test_sign_follows_the_majority_of_indicators() -> None:
    flipped = {k: (-v if k.startswith("q") else v) for k, v in DATA.items()}
    fit = pls_path_model(DATA, PATHS, BLOCKS)
    other = pls_path_model(flipped, PATHS, BLOCKS)
    np.testing.assert_allclose(other.loadings, fit.loadings, atol=1e-10)
    np.testing.assert_allclose(other.score("quality"), -fit.score("quality"), atol=1e-10)
    assert other.path_coefficients[1, 0] == pytest.approx(-fit.path_coefficients[1, 0])


def test_transform_scores_new_respondents_on_the_fitted_scale() -> None:
    fit = pls_path_model(DATA, PATHS, BLOCKS)
    np.testing.assert_allclose(fit.transform(DATA), fit.scores, atol=1e-12)
    wave = _simulate(n=50, seed=99)
    x = np.column_stack([wave[i] for i in fit.indicators])
    by_hand = ((x - fit.means) / fit.scales)[:, 3:6] @ fit.weights[3:6]
    np.testing.assert_allclose(fit.transform(wave)[:, 1], by_hand, atol=1e-12)
    with pytest.raises(UnknownIndicatorError, match="unknown indicator 'l3'"):
        fit.transform({k: v for k, v in wave.items() if k != "l3"})
    with pytest.raises(InvalidValueError, match="'i2' is missing .*row 4"):
        fit.transform({**wave, "i2": np.where(np.arange(50) == 4, np.nan, wave["i2"])})


@given(seed=st.integers(0, 1000), scheme=st.sampled_from(SCHEMES),
       mode=st.sampled_from(["A", "B"]), scaled=st.booleans())
def test_json_round_trip(seed: int, scheme: str, mode: str, scaled: bool) -> None:
    data = _simulate(n=60, seed=seed)
    fit = pls_path_model(data, PATHS, BLOCKS, scheme=scheme, modes=mode,  # type: ignore[arg-type]
                         scaled=scaled)
    back = PLSPathResult.from_json(fit.to_json())
    for field in ("latent", "indicators", "blocks", "modes", "scheme", "scaled", "r_squared",
                  "iterations", "converged", "criterion"):
        assert getattr(back, field) == getattr(fit, field)
    for field in ("paths", "weights", "loadings", "cross_loadings", "scores",
                  "path_coefficients", "means", "scales"):
        np.testing.assert_array_equal(getattr(back, field), getattr(fit, field))
    np.testing.assert_array_equal(back.transform(data), fit.transform(data))


def test_json_errors() -> None:
    text = pls_path_model(DATA, PATHS, BLOCKS).to_json()
    with pytest.raises(SerializationError, match="expected a saved PLSPathResult"):
        PLSPathResult.from_json(text.replace('"PLSPathResult"', '"IndicatorTree"'))
    with pytest.raises(SerializationError, match="schema version 2"):
        PLSPathResult.from_json(text.replace('"schema_version": 1', '"schema_version": 2'))
    with pytest.raises(SerializationError, match=r"missing \['means'\]"):
        PLSPathResult.from_json(text.replace('"means"', '"meanz"'))
    with pytest.raises(SerializationError, match="malformed"):
        PLSPathResult.from_json(text.replace('"scheme": "centroid",\n  "scaled": true,\n  '
                                             '"paths": [', '"scheme": "centroid",\n  '
                                             '"scaled": true,\n  "paths": [[0], '))


# -- convergence and bad input ---------------------------------------------------------------------


def test_no_convergence_raises_with_diagnostics() -> None:
    with pytest.raises(ConvergenceError, match="did not converge in 2 iterations") as info:
        pls_path_model(DATA, PATHS, BLOCKS, tol=1e-15, max_iter=2, modes="B")
    diagnostics = info.value.diagnostics
    assert diagnostics["iterations"] == 2
    assert diagnostics["criterion"] > 1e-15
    assert diagnostics["indicator"] in DATA
    assert set(diagnostics["weights"]) == set(DATA)


@pytest.mark.parametrize("scheme", ["centroid", "factorial"])
def test_uncorrelated_blocks_collapse_with_a_named_error(scheme: str) -> None:
    # orthogonal contrasts: the two composites are exactly uncorrelated, so the inner estimate
    # of each is zero and there is nothing to estimate the weights from
    h1, h2, h3 = [1.0, 1, -1, -1], [1.0, -1, 1, -1], [1.0, -1, -1, 1]
    data = {"a1": h1, "a2": h2, "b1": h3, "b2": [2 * v for v in h3]}
    with pytest.raises(ConvergenceError, match="outer estimate of a, b collapsed") as info:
        pls_path_model(data, {"b": ["a"]}, {"a": ["a1", "a2"], "b": ["b1", "b2"]},
                       scheme=scheme)  # type: ignore[arg-type]
    assert info.value.diagnostics["blocks"] == ["a", "b"]


def test_bad_input_is_named() -> None:
    bad_blocks = {**BLOCKS, "loyal": ["l1", "l2", "nope"]}
    with pytest.raises(UnknownIndicatorError, match=r"blocks\['loyal'\]: unknown indicator "
                       "'nope'"):
        pls_path_model(DATA, PATHS, bad_blocks)
    with pytest.raises(UnknownIndicatorError, match="unknown latent variable 'price'"):
        pls_path_model(DATA, {"quality": ["price"]}, BLOCKS)
    upper = _matrix(PATHS, list(BLOCKS)).T
    with pytest.raises(InvalidValueError, match=r"lower triangular.*\['image', 'quality'\]"):
        pls_path_model(DATA, upper, BLOCKS)
    with pytest.raises(InvalidValueError, match="cycle .*quality -> loyal -> .*quality"):
        pls_path_model(DATA, {"quality": ["image", "loyal"], "loyal": ["quality"]}, BLOCKS)
    with pytest.raises(InvalidValueError, match="cannot explain itself"):
        pls_path_model(DATA, {"quality": ["quality", "image"], "loyal": ["image"]}, BLOCKS)
    with pytest.raises(InvalidValueError, match="entries must be 0 or 1"):
        pls_path_model(DATA, 0.5 * _matrix(PATHS, list(BLOCKS)), BLOCKS)
    with pytest.raises(InvalidValueError, match=r"expected a 3 x 3 matrix"):
        pls_path_model(DATA, np.zeros((2, 2)), BLOCKS)
    with pytest.raises(InvalidValueError, match="'loyal' is connected to no other"):
        pls_path_model(DATA, {"quality": ["image"]}, BLOCKS)
    missing = {**DATA, "q2": np.where(np.arange(300) == 7, np.nan, DATA["q2"])}
    with pytest.raises(InvalidValueError, match="'q2' is missing .*row 7") as nan_info:
        pls_path_model(missing, PATHS, BLOCKS)
    assert nan_info.value.rows == (7,)
    constant = {**DATA, "i3": np.full(300, 4.0)}
    with pytest.raises(InvalidValueError, match="'i3' is constant"):
        pls_path_model(constant, PATHS, BLOCKS)
    with pytest.raises(InvalidValueError, match="'q1' is in both 'quality' and 'loyal'"):
        pls_path_model(DATA, PATHS, {**BLOCKS, "loyal": ["l1", "q1"]})
    with pytest.raises(InvalidValueError, match=r"blocks\['loyal'\]: expected a non-empty"):
        pls_path_model(DATA, PATHS, {**BLOCKS, "loyal": []})
    with pytest.raises(InvalidValueError, match="unknown inner weighting scheme 'max'"):
        pls_path_model(DATA, PATHS, BLOCKS, scheme="max")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="block 'image' has mode 'C'"):
        pls_path_model(DATA, PATHS, BLOCKS, modes={"image": "C"})  # type: ignore[dict-item]
    with pytest.raises(UnknownIndicatorError, match="modes: unknown latent variable 'x'"):
        pls_path_model(DATA, PATHS, BLOCKS, modes={"x": "A"})
    with pytest.raises(InvalidValueError, match="tol must be a positive number"):
        pls_path_model(DATA, PATHS, BLOCKS, tol=0)
    with pytest.raises(InvalidValueError, match="at least two latent variables"):
        pls_path_model(DATA, {}, {"image": ["i1", "i2"]})
    with pytest.raises(InvalidValueError, match="at least 3 respondents"):
        pls_path_model({k: v[:2] for k, v in DATA.items()}, PATHS, BLOCKS)
    with pytest.raises(InvalidValueError, match="columns: 2 names for 9 columns"):
        pls_path_model(np.column_stack(list(DATA.values())), PATHS, BLOCKS, columns=["a", "b"])
    with pytest.raises(InvalidValueError, match=r"data\['q1'\]: values must be numbers"):
        pls_path_model({**DATA, "q1": ["x"] * 300}, PATHS, BLOCKS)
    with pytest.raises(InvalidValueError, match="columns have different lengths"):
        pls_path_model({**DATA, "q1": DATA["q1"][:10]}, PATHS, BLOCKS)
    collinear = {**DATA, "i3": DATA["i1"] + DATA["i2"]}
    with pytest.raises(InvalidValueError, match="block 'image': mode B .* not collinear"):
        pls_path_model(collinear, PATHS, BLOCKS, modes="B")
    with pytest.raises(UnknownIndicatorError, match="unknown latent variable 'price'"):
        pls_path_model(DATA, PATHS, BLOCKS).outer_weights("price")


# -- properties ------------------------------------------------------------------------------------


@given(
    factors=st.lists(st.floats(0.01, 100.0), min_size=9, max_size=9),
    shifts=st.lists(st.floats(-50.0, 50.0), min_size=9, max_size=9),
    scheme=st.sampled_from(SCHEMES),
)
def test_standardised_fit_is_invariant_to_indicator_units(
    factors: list[float], shifts: list[float], scheme: str
) -> None:
    base = pls_path_model(DATA, PATHS, BLOCKS, scheme=scheme, tol=1e-12)  # type: ignore[arg-type]
    moved = {k: a * v + b for (k, v), a, b in zip(DATA.items(), factors, shifts, strict=True)}
    fit = pls_path_model(moved, PATHS, BLOCKS, scheme=scheme, tol=1e-12)  # type: ignore[arg-type]
    np.testing.assert_allclose(fit.weights, base.weights, atol=1e-7)
    np.testing.assert_allclose(fit.scores, base.scores, atol=1e-7)
    np.testing.assert_allclose(fit.path_coefficients, base.path_coefficients, atol=1e-8)
    a = dict(zip(DATA, factors, strict=True))
    for lv in BLOCKS:
        for item, w in fit.unstandardised_weights(lv).items():
            assert w * a[item] == pytest.approx(base.unstandardised_weights(lv)[item],
                                                rel=1e-6, abs=1e-9)


def _likert(seed: int, n: int, loading: float) -> dict[str, np.ndarray]:
    raw = _simulate(n, seed, loadings=(loading, loading, loading))
    return {k: np.clip(np.round(5.5 + 1.8 * (v - v.mean()) / v.std()), 1, 10)
            for k, v in raw.items()}


@given(seed=st.integers(0, 10_000), n=st.integers(30, 300), loading=st.floats(0.6, 0.95),
       scheme=st.sampled_from(SCHEMES))
def test_r_squared_and_index_within_bounds(seed: int, n: int, loading: float,
                                           scheme: str) -> None:
    data = _likert(seed, n, loading)
    assume(all(np.ptp(v) > 0 for v in data.values()))
    fit = pls_path_model(data, PATHS, BLOCKS, scheme=scheme)  # type: ignore[arg-type]
    for value in fit.r_squared.values():
        assert 0.0 <= value <= 1.0
    assert 0.0 <= fit.goodness_of_fit <= 1.0
    assert np.all(np.abs(fit.loadings) <= 1.0 + 1e-12)
    # one explanatory variable: the path coefficient is the correlation, R² its square
    assert fit.r_squared["quality"] == pytest.approx(fit.path_coefficients[1, 0] ** 2)
    for lv in BLOCKS:
        raw = fit.unstandardised_weights(lv)
        assume(all(w > 0 for w in raw.values()))
        index = fit.index(data, lv, (1, 10))
        assert np.all((index >= 0.0) & (index <= 100.0))


# -- the ACSI model --------------------------------------------------------------------------------

ACSI_BLOCKS = {
    "expectations": ["ce1", "ce2", "ce3"],
    "quality": ["pq1", "pq2", "pq3"],
    "value": ["pv1", "pv2"],
    "satisfaction": ["overall", "confirm", "ideal"],
    "complaints": ["complained"],
    "loyalty": ["repurchase", "price_tolerance"],
}


def _acsi_answers(n: int = 400, seed: int = 5) -> dict[str, np.ndarray]:
    """1-10 answers from the ACSI structure (Fornell et al. 1996, figure 1); complaints 0/1."""
    rng = np.random.default_rng(seed)

    def noise(scale: float = 1.0) -> np.ndarray:
        return np.asarray(rng.normal(scale=scale, size=n), dtype=np.float64)

    ce = noise()
    pq = 0.6 * ce + noise(0.8)
    pv = 0.2 * ce + 0.6 * pq + noise(0.7)
    sat = 0.1 * ce + 0.5 * pq + 0.3 * pv + noise(0.6)
    cc = -0.5 * sat + noise(0.9)
    cl = 0.6 * sat - 0.2 * cc + noise(0.7)
    latent = {"expectations": ce, "quality": pq, "value": pv, "satisfaction": sat,
              "loyalty": cl}
    answers: dict[str, np.ndarray] = {}
    for construct, items in ACSI_BLOCKS.items():
        if construct == "complaints":
            answers["complained"] = (cc > 0.8).astype(np.float64)
            continue
        xi = latent[construct] / latent[construct].std()
        for k, item in enumerate(items):
            value = 7.5 + 1.2 * (0.85 * xi + 0.5 * noise()) + 0.3 * k
            answers[item] = np.clip(np.round(value), 1, 10)
    return answers


def test_acsi_model_matches_plspm_and_the_index_formula() -> None:
    answers = _acsi_answers()
    result = acsi_model(answers, ACSI_BLOCKS, scales={"complaints": (0, 1)}, tol=1e-12)
    fit = result.model
    assert fit.latent == tuple(ACSI_BLOCKS)
    paths = {k: list(v) for k, v in ACSI_PATHS.items()}
    ref = _plspm(answers, ACSI_BLOCKS, paths, mode="A", scheme="centroid", scaled=True)
    _compare(fit, ref, flipped=["complaints"])
    assert fit.block_loadings("complaints") == {"complained": pytest.approx(1.0)}
    # the ACSI from the reference's weights, by hand (Fornell et al. 1996): weights of the
    # standardised answers over the answers' standard deviations, normalised, applied to the
    # mean answers and rescaled from 1-10 to 0-100
    items = ACSI_BLOCKS["satisfaction"]
    w = ref.outer_model().loc[items, "weight"].to_numpy()
    sd = np.array([answers[i].std() for i in items])
    w_hat = (w / sd) / (w / sd).sum()
    mean = np.array([answers[i].mean() for i in items])
    assert result.index == pytest.approx(100 * (w_hat @ mean - 1) / 9, abs=1e-8)
    np.testing.assert_allclose(
        result.satisfaction,
        acsi_index(np.column_stack([answers[i] for i in items]), w_hat), atol=1e-8)
    assert result.indices["satisfaction"] == pytest.approx(result.index)
    # a single 0/1 item: its index is the percentage who complained
    assert result.indices["complaints"] == pytest.approx(100 * answers["complained"].mean())
    assert set(result.indices) == set(ACSI_BLOCKS)
    assert result.skipped == {}
    # without its 0/1 scale, complaints get no index, and the result says why
    plain = acsi_model(answers, ACSI_BLOCKS)
    assert "complaints" not in plain.indices
    assert "outside the scale [1, 10]" in plain.skipped["complaints"]
    assert plain.index == pytest.approx(result.index, abs=1e-6)
    assert fit.path_coefficients[4, 3] < 0 < fit.path_coefficients[3, 1]


def test_acsi_model_with_a_subset_of_constructs() -> None:
    answers = _acsi_answers()
    blocks = {k: ACSI_BLOCKS[k] for k in ("quality", "satisfaction", "loyalty")}
    result = acsi_model(answers, blocks)
    assert result.model.latent == ("quality", "satisfaction", "loyalty")
    np.testing.assert_array_equal(result.model.paths, [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    assert 0 <= result.index <= 100


def test_acsi_model_errors() -> None:
    answers = _acsi_answers()
    with pytest.raises(UnknownIndicatorError, match="unknown ACSI construct 'trust'"):
        acsi_model(answers, {**ACSI_BLOCKS, "trust": ["ce1"]})
    with pytest.raises(InvalidValueError, match="needs a 'satisfaction' block"):
        acsi_model(answers, {"quality": ["pq1"], "value": ["pv1"]})
    with pytest.raises(UnknownIndicatorError, match="scales: unknown construct 'image'"):
        acsi_model(answers, ACSI_BLOCKS, scales={"image": (0, 1)})
    with pytest.raises(InvalidValueError, match="outside the scale"):
        acsi_model(answers, ACSI_BLOCKS, scale=(1, 5))
    reversed_item = {**answers, "ideal": 11 - answers["ideal"]}
    blocks = {**ACSI_BLOCKS, "satisfaction": ["overall", "confirm", "ideal"]}
    with pytest.raises(InvalidValueError, match="negative outer weights for ideal"):
        acsi_model(reversed_item, blocks, scales={"complaints": (0, 1)})
