"""prune/measure fail fast and in one line offline (no Hub retries) and without the clip extra."""

import sys
import time

import pytest

from catransformers.cli import main


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("argv", [["prune", "--prune", "text_layers=6", "--out", "p"], ["measure", "--data", "x.csv"]])
def test_without_the_clip_extra_one_line_names_it(capsys, monkeypatch, argv):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError, as without the extra
    monkeypatch.setitem(sys.modules, "open_clip", None)
    assert main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert "clip extra" in line and "pip install 'catransformers[clip]'" in line


def test_offline_pretrained_fails_fast_in_one_line(capsys, monkeypatch, tmp_path):
    pytest.importorskip("open_clip")
    import socket

    from catransformers.real import load

    monkeypatch.setattr(load, "hub_reachable", lambda timeout_s=load.HUB_PROBE_TIMEOUT_S: False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: the weights are not there
    tried = []

    def no_network(self, address):  # offline mode must not try the network at all (it retried for ~52 s)
        tried.append(address)
        raise OSError("network use in an offline test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    code = main(["prune", "--pretrained", "datacomp_xl_s13b_b90k", "--prune", "text_layers=6", "--out", str(tmp_path / "p")])
    assert code == 2
    line = _one_line(capsys.readouterr().err)
    assert "cannot be reached" in line and "--checkpoint" in line
    assert tried == []


def test_hub_probe_is_bounded(monkeypatch):
    from catransformers.real import load

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused at once
    t0 = time.perf_counter()
    assert load.hub_reachable(timeout_s=1.0) is False
    assert time.perf_counter() - t0 < 5
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert load.hub_reachable() is False
