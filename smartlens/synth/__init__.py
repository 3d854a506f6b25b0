"""Synthetic material drawn by code: procedural pictures (:mod:`.pictures`) and a virtual phone
camera with exact ground truth (:mod:`.camera`). Augmentation, calibration and the benchmarks
all draw their views here."""
