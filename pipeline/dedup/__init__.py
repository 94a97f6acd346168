"""Near-duplicate detection: shingles, MinHash signatures, LSH bands and exact verification."""
