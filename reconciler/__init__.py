"""reconciler: declarative plans and applies for voice-AI agents and call campaigns."""

__version__ = "0.1.0"
