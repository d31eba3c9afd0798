"""Chart helpers: labels wrapped, not cut; a log scale only when counts span orders of magnitude;
a legend whenever colour means severity."""
import matplotlib.pyplot as plt
import pytest

import charts

ARN = "arn:aws:sts::111122223333:assumed-role/image-resizer-lambda-role/image-resizer-lambda / acme-prod-reports"


def test_long_labels_are_wrapped_whole():
    label = charts.wrapped_label(ARN, 40)
    assert label.replace("\n", "") == ARN and all(len(line) <= 40 for line in label.splitlines())
    assert "~" not in label and "..." not in label


def test_wrapped_labels_stay_inert_and_bounded():
    assert charts.wrapped_label("$x$ \x1b[31m", 40) == "\\$x\\$ \\x1b[31m"
    assert charts.wrapped_label("", 40) == "(none)"
    assert charts.wrapped_label("x" * 500, 40, lines=3).count("\n") == 2


@pytest.fixture
def drawn(monkeypatch):
    """The axes of the last bar chart drawn (kept open for inspection)."""
    seen = {}
    monkeypatch.setattr(charts, "_save", lambda figure, path: seen.setdefault("axis", figure.axes[0]) and path)
    yield seen
    plt.close("all")


@pytest.mark.parametrize("values, scale", [([11538, 37], "log"), ([250, 30], "linear"), ([1, 1, 1], "linear")])
def test_log_scale_only_when_counts_span_two_orders_of_magnitude(tmp_path, drawn, values, scale):
    charts.bar_chart([str(v) for v in values], values, "t", "events", tmp_path / "c.png")
    assert drawn["axis"].get_xscale() == scale
    assert ("log scale" in drawn["axis"].get_xlabel()) == (scale == "log")


def test_severity_colours_get_a_legend(tmp_path, drawn):
    colours = [charts.SEVERITY_COLOURS["high"], charts.SEVERITY_COLOURS["low"]]
    charts.bar_chart(["tcp 22", "tcp 443"], [1, 1], "ports", "calls", tmp_path / "c.png", colours=colours)
    legend = drawn["axis"].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["high", "low"]
