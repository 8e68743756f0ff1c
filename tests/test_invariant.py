import pytest

from insight.clean.run import BatchCounts
from insight.errors import InvariantError


def test_counts_that_reconcile_pass():
    BatchCounts(rows_in=10, written=6, quarantined=3, duplicates=1).check("clean events, b0")


@pytest.mark.parametrize("written", [5, 7])  # a row lost, or a row counted twice
def test_counts_that_do_not_reconcile_fail_the_batch_naming_the_figures(written):
    counts = BatchCounts(rows_in=10, written=written, quarantined=3, duplicates=1)
    message = rf"clean events, b0: 10 rows in but {written} written"
    with pytest.raises(InvariantError, match=message):
        counts.check("clean events, b0")
