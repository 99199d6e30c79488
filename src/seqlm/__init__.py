"""seqlm: the shared code of *Sequence Models, from n-grams to ELMo*."""

__version__ = "0.1.0"
