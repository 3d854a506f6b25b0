"""The library calls that replaced hand-written code give the same answers: OpenCV's FLANN for
the baseline index's nearest entry (it replaced an inverted file that was exact at these sizes),
and OpenCV's PCA for the verified index's descriptor projection (it replaced a numpy eigh)."""

from __future__ import annotations

import numpy as np
import pytest

from smartlens.methods.retrieval.baseline import NearestEntry, normalise
from smartlens.methods.retrieval.verified import fit_pca


def _exact(vectors: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The old exact scan: the most similar unit vector and its L2 distance."""
    sims = queries @ vectors.T
    best = sims.argmax(axis=1)
    return best, np.sqrt(np.maximum(0.0, 2.0 - 2.0 * sims[np.arange(len(best)), best]))


def test_nearest_entry_is_exact_on_guide_sized_indexes():
    rng = np.random.default_rng(0)
    vectors = normalise(rng.normal(size=(900, 64)).astype(np.float32))  # ~100 artworks' entries
    queries = normalise(rng.normal(size=(300, 64)).astype(np.float32))
    ids, dist = NearestEntry(vectors).search(queries)
    want_ids, want_dist = _exact(vectors, queries)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(dist, want_dist, atol=1e-5)


def test_nearest_entry_forest_finds_the_true_neighbour_on_large_indexes():
    rng = np.random.default_rng(1)
    centres = normalise(rng.normal(size=(400, 32)).astype(np.float32))
    vectors = normalise(
        np.repeat(centres, 12, axis=0) + 0.05 * rng.normal(size=(4800, 32)).astype(np.float32)
    )
    queries = normalise(
        centres[rng.integers(0, 400, 200)] + 0.05 * rng.normal(size=(200, 32)).astype(np.float32)
    )
    index = NearestEntry(vectors, exact_below=2048)
    ids, dist = index.search(queries)
    want_ids, want_dist = _exact(vectors, queries)
    assert np.mean(ids == want_ids) >= 0.95
    # whatever it returns, the distance is that entry's true distance
    np.testing.assert_allclose(dist, np.linalg.norm(vectors[ids] - queries, axis=1), atol=1e-5)
    assert np.all(dist >= want_dist - 1e-5)


def test_empty_index_finds_nothing():
    ids, dist = NearestEntry(np.zeros((0, 8), np.float32)).search(np.ones((2, 8), np.float32))
    assert ids.tolist() == [-1, -1] and np.isinf(dist).all()


def _numpy_pca(desc: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The old fit: covariance eigenvectors by numpy, largest first."""
    x = desc.astype(np.float64)
    mean = x.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(x - mean, rowvar=False))
    return mean, vectors[:, np.argsort(values)[::-1][:dims]]


def test_pca_matches_numpy_up_to_sign_and_keeps_distances():
    rng = np.random.default_rng(2)
    # RootSIFT-like: non-negative, unit length, correlated dimensions
    mix = rng.gamma(1.0, 1.0, size=(128, 128))
    desc = np.sqrt(normalise(np.abs(rng.normal(size=(6000, 128)) @ mix)).astype(np.float32) ** 2)
    mean, basis = fit_pca(desc, 64)
    want_mean, want_basis = _numpy_pca(desc, 64)
    np.testing.assert_allclose(mean, want_mean, atol=1e-5)
    cos = np.abs(np.sum(basis * want_basis, axis=0))
    assert cos.min() > 0.999, cos.min()  # the same directions (an eigenvector's sign is arbitrary)
    a = (desc[:200] - mean) @ basis
    b = (desc[:200] - want_mean) @ want_basis
    da = np.linalg.norm(a[:, None] - a[None], axis=2)
    db = np.linalg.norm(b[:, None] - b[None], axis=2)
    np.testing.assert_allclose(da, db, atol=1e-4)  # so matching sees the same distances


def test_normalise_makes_even_weak_features_unit_length():
    weak = np.random.default_rng(3).normal(size=(5, 16)).astype(np.float32) * 1e-10  # an untrained network's
    np.testing.assert_allclose(np.linalg.norm(normalise(weak), axis=1), 1.0, atol=1e-5)
    assert not np.isnan(normalise(np.zeros((1, 4), np.float32))).any()


def test_spread_caps_each_cell_and_keeps_the_strongest():
    from smartlens.methods.retrieval.local_features import spread

    rng = np.random.default_rng(0)
    # a busy corner (a gilded frame: 900 strong keypoints) and the artwork (100 weaker ones)
    busy = rng.uniform(0, 20, (900, 2))
    art = rng.uniform(40, 100, (100, 2))
    points = np.r_[busy, art].astype(np.float32)
    response = np.r_[rng.uniform(0.5, 1.0, 900), rng.uniform(0.1, 0.4, 100)].astype(np.float32)
    keep = spread(points, response, (100, 100), 200, (5, 5), 2.5)
    assert len(set(keep.tolist())) == len(keep)
    # the busy cell gives at most 2.5 times its even share (20), even if the budget is not spent
    assert int((keep < 900).sum()) == 20
    assert int((keep >= 900).sum()) == 100  # the strongest-anywhere rule would have kept none of them
    assert np.all(np.diff(response[keep]) <= 0)  # strongest first
    # within the busy corner's cell, the ones kept are its strongest
    cell0 = keep[keep < 900]
    assert response[cell0].min() >= np.sort(response[:900])[::-1][len(cell0) - 1]


@pytest.mark.parametrize("patches", [False, True])
def test_sharp_descriptors_match_plain_sift_at_the_same_points(patches):
    """Keypoints found at half size and described at full size without SIFT's doubling are the
    same keypoints, with descriptors plain SIFT matches (the index is built with plain SIFT),
    whether OpenCV or the patch describer describes them."""
    import cv2

    from smartlens.methods.retrieval.local_features import SharpSiftExtractor, SiftExtractor
    from smartlens.synth.pictures import harbour

    image = harbour(3).image
    sharp = SharpSiftExtractor(800, 640, patches=patches).extract(image)
    plain = SiftExtractor(1500, 640, patches=patches).extract(image)
    assert len(sharp) > 300
    pairs = cv2.BFMatcher().knnMatch(sharp.descriptors, plain.descriptors, k=2)
    good = [a for a, b in pairs if a.distance < 0.8 * b.distance]
    assert len(good) > 0.4 * len(sharp)
    moved = np.array([np.linalg.norm(sharp.points[m.queryIdx] - plain.points[m.trainIdx]) for m in good])
    assert np.mean(moved < 2.0) > 0.9  # in the image's own pixels, like plain SIFT's
