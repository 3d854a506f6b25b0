"""SmartLens: a phone as a smart lens for museums (the library both apps use)."""
import os

# TensorFlow's C++ start-up chatter hides the messages people need; users can still raise it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
