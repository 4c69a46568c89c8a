"""Readers for OSM data and planners' files: the only code that touches input files."""
