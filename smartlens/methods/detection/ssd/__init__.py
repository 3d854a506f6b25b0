"""A single-shot detector (SSDLite-like) on MobileNetV3, in separate pieces.

- :mod:`.anchors`: the anchor grid of each feature map;
- :mod:`.encoding`: box encoding with variances, IoU and anchor matching;
- :mod:`.model`: MobileNetV3 feature maps plus depthwise-separable heads;
- :mod:`.loss`: Huber localisation plus focal classification;
- :mod:`.nms`: per-class non-maximum suppression;
- :mod:`.metrics`: average precision and per-class thresholds from held-out views.

Boxes inside this package are normalised to the square network input: corners
``(x0, y0, x1, y1)`` in 0..1, or centres ``(cx, cy, w, h)`` for anchors and encoding.
"""
