"""What every recognition method shares at inference, whatever the method.

- :mod:`.result`: :class:`Recognition`, :class:`DetailHit` and :class:`Pose`, what a recogniser returns;
- :mod:`.open_set`: the open-set gate of the learned methods (pretrained features vs training views).

The methods themselves, their registry and ``load_recognizer`` are in :mod:`smartlens.methods`.
"""
