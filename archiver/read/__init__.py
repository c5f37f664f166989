"""Reading: sources become articles (source -> article), the first stage of the data flow.

Owns files, folders, stdin and URLs read into an ``Article`` (``articles``), decoding bytes to text
(``decode``), the article's metadata (``metadata``), and the lists a daemon polls for new articles:
feeds, sitemaps, URL lists and folders (``discover`` dispatching to ``feeds``, ``sitemaps``, ``lists``,
with their shared types in ``discovered``). May import the base modules (``errors``, ``models``,
``config``, ``clock``) and ``fetch`` (the one HTTP client, for articles read from a URL); nothing above.
"""
