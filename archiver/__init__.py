"""archiver: preserve social posts embedded in news articles, with provenance."""

__version__ = "0.1.0"
