"""Data shipped with circles: the demo extract (see README.md)."""
