"""Pandera schemas of the published data (installed as `pipeline.schemas`)."""
