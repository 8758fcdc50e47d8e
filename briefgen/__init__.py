"""briefgen: graded research notes to printable PDF briefing packs."""

__version__ = "0.1.0"
