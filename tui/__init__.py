"""warroom: the terminal cockpit for whoever is on call for an LLM inference platform."""

__version__ = "0.1.0"
