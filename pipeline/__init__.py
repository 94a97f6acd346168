"""pipeline: raw text in, a validated Hugging Face Parquet dataset with a dataset card out."""

__version__ = "0.2.0"
