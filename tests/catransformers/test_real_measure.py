"""Measured accuracy on user data: CSV / ImageFolder loading and errors, metrics, fine-tuning, devices."""

import numpy as np
import pytest

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

from catransformers import ConfigError, DataError  # noqa: E402
from catransformers.real import (  # noqa: E402
    Evaluator,
    FinetuneSettings,
    finetune,
    finetune_epochs,
    load_image_folder,
    load_retrieval_csv,
    measure_retrieval,
    measure_zero_shot,
    prune_model,
    resolve_device,
    retrieval_metrics,
    tiny_clip,
    write_synthetic_data,
    zero_shot_metrics,
)
from catransformers.workloads import count_macs  # noqa: E402

pytestmark = [pytest.mark.clip, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    csv_path, folder = write_synthetic_data(root, per_class=3)
    return root, csv_path, folder


@pytest.fixture(scope="module")
def clip():
    return tiny_clip()


def test_retrieval_csv_layout_and_separators(data, tmp_path):
    root, csv_path, _ = data
    d = load_retrieval_csv(csv_path)
    assert len(d) == 12 and len(d.images) == 12 and d.caption_image[:3] == (0, 1, 2)
    # comma-separated, custom column names, two captions per image, images relative to image_root
    rows = ["image,caption"] + [f"{p},cap {i}" for i, p in enumerate(["folder/red/000.png", "folder/red/000.png", "folder/blue/001.png"])]
    f = tmp_path / "pairs.csv"
    f.write_text("\n".join(rows) + "\n")
    d2 = load_retrieval_csv(f, image_key="image", caption_key="caption", image_root=root)
    assert d2.images == (str(root / "folder/red/000.png"), str(root / "folder/blue/001.png"))
    assert d2.caption_image == (0, 0, 1) and d2.captions[1] == "cap 1"
    assert load_retrieval_csv(f, image_key="image", caption_key="caption", image_root=root, max_rows=1).captions == ("cap 0",)


def test_bad_csv_inputs_are_one_line_data_errors(data, tmp_path):
    _, csv_path, _ = data
    with pytest.raises(DataError, match=r"no column 'path' \(image_key\); columns: 'filepath', 'title'"):
        load_retrieval_csv(csv_path, image_key="path")
    bad = tmp_path / "missing.csv"
    bad.write_text("filepath\ttitle\nnope.png\ta caption\n")
    with pytest.raises(DataError) as e:
        load_retrieval_csv(bad)
    assert "line 2: image file" in str(e.value) and "nope.png" in str(e.value) and "\n" not in str(e.value)
    empty = tmp_path / "empty.csv"
    empty.write_text("filepath\ttitle\n")
    with pytest.raises(DataError, match="no rows"):
        load_retrieval_csv(empty)
    with pytest.raises(DataError, match="cannot read"):
        load_retrieval_csv(tmp_path / "absent.csv")


def test_image_folder_classes_templates_and_errors(data, tmp_path):
    _, _, folder = data
    z = load_image_folder(folder, templates=["a {} thing.", "{c} colour"])
    assert z.classnames == ("blue", "green", "red", "yellow")  # sorted folder names
    assert z.templates == ("a {} thing.", "{} colour") and len(z) == 12 and z.labels[:4] == (0, 0, 0, 1)
    assert len(load_image_folder(folder, templates="openai").templates) == 80
    named = load_image_folder(folder, classnames=["navy", "lime", "crimson", "gold"], max_per_class=1)
    assert named.classnames[0] == "navy" and len(named) == 4
    with pytest.raises(DataError, match="empty class list"):
        load_image_folder(folder, classnames=[])
    with pytest.raises(DataError, match="3 names for 4 class folders"):
        load_image_folder(folder, classnames=["a", "b", "c"])
    with pytest.raises(ConfigError, match="no '{}' placeholder"):
        load_image_folder(folder, templates=["a photo"])
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DataError, match="no class folders"):
        load_image_folder(tmp_path / "nothing")
    (tmp_path / "nothing" / "cls").mkdir()
    with pytest.raises(DataError, match="no image files"):
        load_image_folder(tmp_path / "nothing")


def test_missing_image_after_loading_is_a_data_error(data, tmp_path, clip):
    _, _, folder = data
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    z = load_image_folder(copy)
    (copy / "red" / "000.png").unlink()
    with pytest.raises(DataError, match=r"image file .*000\.png' does not exist"):
        measure_zero_shot(clip, z, device="cpu")


def test_retrieval_metrics_by_hand():
    eye = torch.eye(4)
    # images 0..2; captions 0,1 -> image 0, caption 2 -> image 1, caption 3 -> image 2
    img = eye[:3]
    txt = torch.stack([eye[3] + 0.1 * eye[0], eye[0], eye[1], eye[0] * 0.9 + eye[2] * 0.1])
    txt = torch.nn.functional.normalize(txt, dim=-1)
    m, loss = retrieval_metrics(img, txt, [0, 0, 1, 2])
    # image->text top-1: image 0 -> caption 1 (hit), image 1 -> caption 2 (hit), image 2 -> caption 3 (hit)
    assert m["retrieval_i2t_r1"] == 1.0
    # text->image top-1: caption 0 -> image 0 (hit), 1 hit, 2 hit, caption 3 -> image 0 (miss; its image is 2)
    assert m["retrieval_t2i_r1"] == 0.75 and m["retrieval_t2i_r5"] == 1.0
    assert m["retrieval_mean_r1"] == pytest.approx(0.875) and loss > 0


def test_zero_shot_metrics_by_hand():
    cls = torch.eye(6)
    img = torch.nn.functional.normalize(torch.tensor([[1.0, 0.5, 0, 0, 0, 0], [1.0, 0.9, 0.8, 0.7, 0.6, 0]]), dim=-1)
    m, _ = zero_shot_metrics(img, cls, [1, 5])
    assert m == {"zeroshot_top1": 0.0, "zeroshot_top5": 0.5}


def test_measurements_on_synthetic_data_are_fractions(data, clip):
    _, csv_path, folder = data
    r = measure_retrieval(clip, load_retrieval_csv(csv_path), device="cpu", batch_size=5)
    z = measure_zero_shot(clip, load_image_folder(folder), device="auto")
    assert set(r) >= {"retrieval_mean_r1", "retrieval_i2t_r5", "retrieval_t2i_r5"}
    assert all(0 <= r[k] <= 1 for k in r if k != "loss")
    assert 0 <= z["zeroshot_top1"] <= 1 and z["zeroshot_top5"] == 1.0  # four classes: top-5 is trivial
    assert r["retrieval_i2t_r5"] >= r["retrieval_i2t_r1"]


def test_evaluator_is_batch_size_independent(data, clip):
    _, csv_path, folder = data
    a = Evaluator(clip, load_retrieval_csv(csv_path), load_image_folder(folder), device="cpu", batch_size=3).evaluate(clip)
    b = Evaluator(clip, load_retrieval_csv(csv_path), load_image_folder(folder), device="cpu", batch_size=64, cache_mb=0).evaluate(clip)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], abs=1e-4)  # float16 image cache vs fresh decode


def test_finetune_epochs_follow_the_flops_ratio(clip):
    small = clip.base.with_dims(vision={"layers": 1}, text={"layers": 1, "width": 32})
    ratio = float(count_macs(clip.base)["total"][0] / count_macs(small)["total"][0])
    assert finetune_epochs(clip.base, small, cap=10) == pytest.approx(ratio)
    assert finetune_epochs(clip.base, small, cap=1.5) == 1.5
    assert finetune_epochs(clip.base, clip.base) == 1.0


def test_finetune_steps_changes_weights_and_is_seeded(data, clip):
    _, csv_path, _ = data
    d = load_retrieval_csv(csv_path)
    target = clip.base.with_dims(text={"heads": 1})
    settings = FinetuneSettings(batch_size=4, lr=1e-3)
    runs = []
    for _ in range(2):
        pruned = prune_model(clip, target)
        before = pruned.model.visual.proj.detach().clone()
        rep = finetune(pruned, d, epochs=0.5, settings=settings, device="cpu")
        assert rep.steps == 2  # round(0.5 x ceil(12 / 4))
        assert not torch.equal(before, pruned.model.visual.proj)
        assert not pruned.model.training
        runs.append(pruned.model.visual.proj.detach().clone())
    torch.testing.assert_close(runs[0], runs[1])
    with pytest.raises(ConfigError, match="batch_size"):
        FinetuneSettings(batch_size=1)


def test_device_argument():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="'bogus' is not allowed; allowed: auto, cpu"):
        resolve_device("bogus")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="not available"):
            resolve_device("cuda")


def test_amp_precision_runs_and_bad_precision_is_rejected(data, clip):
    _, csv_path, _ = data
    d = load_retrieval_csv(csv_path)
    fp32 = Evaluator(clip, d, device="cpu").evaluate(clip)
    amp = Evaluator(clip, d, device="cpu", precision="amp").evaluate(clip)
    assert amp.keys() == fp32.keys()
    assert amp["loss"] == pytest.approx(fp32["loss"], rel=0.05)  # bfloat16 autocast
    pruned = prune_model(clip, clip.base.with_dims(text={"heads": 1}))
    rep = finetune(pruned, d, epochs=0.25, settings=FinetuneSettings(batch_size=4), device="cpu", precision="amp")
    assert rep.steps == 1 and np.isfinite(rep.loss_last)
    with pytest.raises(ConfigError, match="precision: 'fp16' is not allowed; allowed: fp32, amp"):
        Evaluator(clip, d, precision="fp16")
