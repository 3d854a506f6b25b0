"""The network: MobileNetV3 feature maps (strides 16 and 32) plus extra stride-2 blocks, each
with SSDLite heads (depthwise 3x3 then pointwise 1x1) for box offsets and class scores.

Output: one tensor (batch, anchors, 4 + classes + 1): the box offsets of each anchor (see
:mod:`.encoding`), then its class logits with background first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ....backbone import WeightsInfo, build_mobilenet, freeze_batch_norm
from .anchors import DEFAULT_LEVELS, AnchorLevel, grid_size

#: Probability of "some object" each anchor starts with (RetinaNet's pi).
OBJECT_PRIOR = 0.01


def backbone_features(size: str, input_size: int, weights: WeightsInfo) -> Any:
    """MobileNetV3 (with the resolved weights) as a model giving its stride-16 and stride-32 maps.

    The stride-16 map is the last layer of that resolution (the expansion of the first
    stride-32 block, as SSDLite takes it); the stride-32 map is the backbone's last one.
    Layers are found by their output size, not their names (Keras numbers those per session).
    """
    import keras

    base = build_mobilenet(size, input_size, weights)
    if weights.pretrained:
        # pretrained statistics stay fixed (small batches; folded TFLite weights have none to learn)
        freeze_batch_norm(base)
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9  # see build_classifier: short runs need statistics that move
    maps = [layer for layer in base.layers if len(layer.output.shape) == 4]
    s16 = grid_size(input_size, 16)
    f16 = [layer for layer in maps if layer.output.shape[1] == s16][-1].output
    f32 = maps[-1].output
    return keras.Model(base.input, [f16, f32], name="backbone")


def _head(x: Any, filters: int, name: str) -> Any:
    import keras
    from keras import layers

    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_relu")(x)
    # small outputs at first: offsets near 0 (the anchors themselves), classes near the prior
    init = keras.initializers.RandomNormal(stddev=0.01)
    return layers.Conv2D(filters, 1, name=f"{name}_pw", kernel_initializer=init)(x)


def _extra(x: Any, filters: int, name: str) -> Any:
    """An SSDLite extra block: 1x1 squeeze, depthwise 3x3 stride 2, 1x1 expand."""
    from keras import layers

    x = layers.Conv2D(filters // 2, 1, use_bias=False, name=f"{name}_sq")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_sq_bn")(x)
    x = layers.ReLU(6.0)(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(6.0)(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_ex")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_ex_bn")(x)
    return layers.ReLU(6.0)(x)


def build_heads(
    n_classes: int, feature_shapes: list[tuple[int, ...]], levels: tuple[AnchorLevel, ...] = DEFAULT_LEVELS
) -> Any:
    """Everything after the backbone: the extra blocks and the heads, from its two feature maps
    to the detections (a model of its own, so it can also be trained on frozen features)."""
    import keras
    from keras import layers

    if [lv.stride for lv in levels[:2]] != [16, 32] or any(
        b.stride != 2 * a.stride for a, b in zip(levels, levels[1:])
    ):
        raise ValueError("anchor levels must have strides 16, 32, then each twice the one before")
    inputs = [keras.Input(shape, name=f"stride{s}") for shape, s in zip(feature_shapes, (16, 32))]
    maps = list(inputs)
    for i in range(2, len(levels)):
        maps.append(_extra(maps[-1], 256 if i == 2 else 128, f"extra{i}"))
    locs, logits = [], []
    for i, (level, fmap) in enumerate(zip(levels, maps)):
        k = level.per_cell
        loc = _head(fmap, k * 4, f"loc{i}")
        cls = _head(fmap, k * (n_classes + 1), f"cls{i}")
        locs.append(layers.Reshape((-1, 4), name=f"loc{i}_flat")(loc))
        logits.append(layers.Reshape((-1, n_classes + 1), name=f"cls{i}_flat")(cls))
    out = layers.Concatenate(axis=-1, name="detections")(
        [layers.Concatenate(axis=1)(locs), layers.Concatenate(axis=1)(logits)]
    )
    heads = keras.Model(inputs, out, name="heads")
    for i, level in enumerate(levels):
        # RetinaNet's prior: every anchor starts as background with probability 1 - OBJECT_PRIOR,
        # so the first steps are not spent unlearning thousands of confident false boxes
        bias = np.zeros((level.per_cell, n_classes + 1), np.float32)
        bias[:, 0] = np.log((1 - OBJECT_PRIOR) * n_classes / OBJECT_PRIOR)
        heads.get_layer(f"cls{i}_pw").bias.assign(bias.reshape(-1))
    return heads


def build_detector(
    n_classes: int,
    input_size: int,
    weights: WeightsInfo,
    size: str = "small",
    levels: tuple[AnchorLevel, ...] = DEFAULT_LEVELS,
) -> Any:
    """The detector for ``n_classes`` object classes (background is added), input RGB 0..255:
    sub-models ``backbone`` and ``heads``."""
    import keras

    backbone = backbone_features(size, input_size, weights)
    heads = build_heads(n_classes, [tuple(t.shape[1:]) for t in backbone.outputs], levels)
    inputs = keras.Input((input_size, input_size, 3), name="frame")
    return keras.Model(inputs, heads(backbone(inputs)), name="smartlens_detector")
