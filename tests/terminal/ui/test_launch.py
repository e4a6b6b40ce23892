"""``stormcom-pos`` on a machine without a display says so and how to run it."""

from __future__ import annotations

import sys

import pytest

from stormcom_pos.ui import app


@pytest.mark.skipif(sys.platform in ("win32", "darwin"),
                    reason="Windows and macOS always have a display session")
def test_without_a_display_it_says_what_is_missing_and_how_to_run_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert app.run(["stormcom-pos", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "no display" in out and "xvfb-run stormcom-pos" in out
    assert not (tmp_path / "till.db").exists()  # nothing was opened
