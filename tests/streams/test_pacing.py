import pytest

from streams.core.pacing import Pacing


def test_a_short_run_keeps_the_interval():
    p = Pacing(interval_s=15, max_share=0.25)
    assert p.due(0.0)
    assert p.ran(0.0, 2.0) == 15.0  # 2 s is less than a quarter of 15 s
    assert p.due(14.0)  # the timer fires a little early: still due
    assert not p.due(13.0)


def test_a_long_run_puts_the_next_off_to_keep_its_share():
    p = Pacing(interval_s=15, max_share=0.25)
    assert p.ran(100.0, 10.0) == 140.0  # 10 s is a quarter of 40 s
    assert not p.due(115.0) and not p.due(130.0)
    assert p.due(139.0)
    assert p.ran(139.0, 1.0) == 154.0  # back to the interval once runs are short again
    assert not p.due(139.5) and p.due(154.0)


@pytest.mark.parametrize("interval, share", [(0, 0.5), (15, 0), (15, 1.5)])
def test_nonsense_is_refused(interval, share):
    with pytest.raises(ValueError):
        Pacing(interval, share)
