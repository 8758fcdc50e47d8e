"""Distribution, a stage after the build: bundles for recipients and their verification.
It reads only what a build wrote and its manifest (and the project's config, to know whether
the output is current); it never rebuilds silently and never re-reads notes for content.

    bundle   output/bundles/<audience>-<edition>.zip: an audience's files, SHA256SUMS,
             manifest.json and a README.txt for recipients; reproducible
    verify   a PDF, a folder or a bundle checked against SHA256SUMS / manifest.json
    clean    removes what briefgen wrote, and only that
"""
