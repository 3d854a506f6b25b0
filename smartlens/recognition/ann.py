"""Approximate nearest neighbours for L2-normalised feature vectors: an inverted file (IVF).

Vectors are grouped around k-means centroids; a query scans only the few groups nearest to
it, so the cost per query grows like the square root of the index instead of its size.
Small indexes (under ``exact_below`` vectors) are simply scanned.
"""
from __future__ import annotations

import cv2
import numpy as np


class IVFIndex:
    def __init__(self, vectors: np.ndarray, nprobe: int = 8, exact_below: int = 2048, seed: int = 0):
        self.vectors = np.ascontiguousarray(vectors, np.float32)
        n = len(self.vectors)
        self.nprobe = nprobe
        if n < exact_below:
            self.centroids = None
            return
        nlist = int(max(8, 4 * np.sqrt(n)))
        cv2.setRNGSeed(seed)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1e-3)
        sample = self.vectors[np.random.default_rng(seed).permutation(n)[: min(n, nlist * 40)]]
        _, _, centroids = cv2.kmeans(sample, nlist, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
        self.centroids = centroids / (np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-9)
        assign = np.argmax(self.vectors @ self.centroids.T, axis=1)
        order = np.argsort(assign, kind="stable")
        self._ids = order.astype(np.int64)
        self._starts = np.searchsorted(assign[order], np.arange(len(self.centroids) + 1))

    def search(self, queries: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest vector index and its L2 distance for each query (-1 / inf when none qualifies).

        ``mask`` (bool per vector) limits the search to some vectors (e.g. one artwork's).
        """
        queries = np.atleast_2d(queries).astype(np.float32)
        best = np.full(len(queries), -1, np.int64)
        dist = np.full(len(queries), np.inf, np.float32)
        for i, q in enumerate(queries):
            if self.centroids is None or mask is not None:
                ids = np.flatnonzero(mask) if mask is not None else None
            else:
                lists = np.argsort(-(self.centroids @ q))[: self.nprobe]
                ids = np.concatenate([self._ids[self._starts[c]:self._starts[c + 1]] for c in lists])
            cand = self.vectors if ids is None else self.vectors[ids]
            if len(cand) == 0:
                continue
            sims = cand @ q
            j = int(np.argmax(sims))
            best[i] = j if ids is None else ids[j]
            dist[i] = np.sqrt(max(0.0, 2.0 - 2.0 * float(sims[j])))
        return best, dist
