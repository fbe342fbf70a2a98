"""defence-kg: a knowledge graph of the claims in a Canada–US defence cooperation fact sheet."""

__version__ = "0.1.0"
