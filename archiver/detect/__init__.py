"""Detection: an article's embedded posts found (article -> embeds).

Owns the scan (``scan``): one multi-pattern scan of the page's bytes for every platform's signature
hints, one lxml parse when a hint occurs, the signatures' XPaths, markup hidden in textareas,
attributes and script JSON, windows of pages nested past libxml2's limit; and de-duplication of
sightings of one post (``dedupe``).
Platform knowledge (signatures, URL shapes) stays in ``platforms``. May import the base modules,
``fetch``, ``read`` and ``platforms``; never the store or anything above it.
"""
