"""twinecon: a multi-agent economy simulator over registered digital-twin worlds."""

from twinecon.errors import TwineconError

__version__ = "0.1.0"
__all__ = ["TwineconError", "__version__"]
