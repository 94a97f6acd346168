from pathlib import Path

from helpers import REPO, read_dataset


def test_sample_data_publishes_every_page(run_pipeline, tmp_path: Path) -> None:
    result = run_pipeline(REPO / "raw")
    assert result.records_read == 5
    assert result.records_published + result.records_rejected == 5
    assert read_dataset(result.dataset).num_rows == result.records_published
