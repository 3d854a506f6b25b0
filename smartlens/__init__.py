"""SmartLens: a phone as a smart lens for museums (the library both apps use)."""

__version__ = "0.1.0"
