"""What leaves the build: reading the manifest a build wrote, and removing what it wrote.

Distribution reads only what a build wrote and the manifest; it never rebuilds silently
and never re-reads `sources/` for content.
"""
