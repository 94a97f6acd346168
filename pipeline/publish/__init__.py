"""Writing the published folder: Parquet shards in the Hugging Face layout and the dataset card."""
