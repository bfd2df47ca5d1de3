"""User datasets for measured accuracy: an image-caption CSV (retrieval, fine-tuning) and an ImageFolder (zero-shot)."""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ConfigError, DataError

__all__ = [
    "IMAGE_EXTENSIONS",
    "DEFAULT_TEMPLATES",
    "RetrievalData",
    "ZeroShotData",
    "load_retrieval_csv",
    "load_image_folder",
    "write_synthetic_data",
]

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")
DEFAULT_TEMPLATES: tuple[str, ...] = ("a photo of a {}.",)


@dataclass(frozen=True)
class RetrievalData:
    """Image-caption pairs: unique `images` (absolute paths), `captions`, and each caption's image index.

    Several captions may share an image (MSCOCO has five): image->text counts a hit if any of the
    image's captions is in the top k; text->image if the caption's own image is.
    """

    source: str
    images: tuple[str, ...]
    captions: tuple[str, ...]
    caption_image: tuple[int, ...]
    digest: str

    def __len__(self) -> int:
        return len(self.captions)

    def describe(self) -> str:
        return f"{self.source} ({len(self.images)} images, {len(self.captions)} captions)"


@dataclass(frozen=True)
class ZeroShotData:
    """Labelled images of an ImageFolder tree, the class names and the prompt templates ('{}' = class name)."""

    source: str
    classnames: tuple[str, ...]
    templates: tuple[str, ...]
    images: tuple[str, ...]
    labels: tuple[int, ...]
    digest: str

    def __len__(self) -> int:
        return len(self.images)

    def describe(self) -> str:
        return f"{self.source} ({len(self.images)} images, {len(self.classnames)} classes, {len(self.templates)} templates)"


def _files_digest(h: "hashlib._Hash", root: Path, files: Sequence[str]) -> None:
    # Relative path and size, not bytes: hashing ImageNet's 6.4 GB at every start would take a minute.
    for f in files:
        try:
            rel = os.path.relpath(f, root)
        except ValueError:  # another drive (Windows)
            rel = f
        h.update(f"{rel}\0{os.path.getsize(f)}\n".encode())


def _sniff_sep(first_line: str) -> str:
    return "\t" if "\t" in first_line else ","


def load_retrieval_csv(
    path: str | os.PathLike[str],
    *,
    image_key: str = "filepath",
    caption_key: str = "title",
    sep: str | None = None,
    image_root: str | os.PathLike[str] | None = None,
    max_rows: int | None = None,
) -> RetrievalData:
    """Read OpenCLIP's CSV format: one (image path, caption) pair per row, tab- or comma-separated.

    `sep=None` takes a tab if the header line has one, else a comma. Relative image paths are
    resolved against `image_root` (default: the CSV's folder). `max_rows` keeps the first rows.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"captions CSV {str(p)!r}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"captions CSV {str(p)!r}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    lines = text.splitlines()
    if not lines:
        raise DataError(f"captions CSV {str(p)!r}: is empty; needs a header with {image_key!r} and {caption_key!r}")
    delimiter = sep if sep is not None else _sniff_sep(lines[0])
    reader = csv.DictReader(lines, delimiter=delimiter)
    columns = reader.fieldnames or []
    for role, key in (("image_key", image_key), ("caption_key", caption_key)):
        if key not in columns:
            raise DataError(
                f"captions CSV {str(p)!r}: no column {key!r} ({role}); columns: {', '.join(map(repr, columns)) or '(none)'}"
            )
    if max_rows is not None and max_rows < 1:
        raise ConfigError(f"max_rows: {max_rows} is not allowed; allowed: a positive whole number or None")
    root = Path(image_root) if image_root is not None else p.parent
    index: dict[str, int] = {}
    images: list[str] = []
    captions: list[str] = []
    caption_image: list[int] = []
    for row_no, row in enumerate(reader, start=2):
        if max_rows is not None and len(captions) >= max_rows:
            break
        rel, cap = row.get(image_key), row.get(caption_key)
        if not rel or cap is None:
            raise DataError(f"captions CSV {str(p)!r} line {row_no}: empty {image_key!r} or {caption_key!r}")
        img = str((root / rel).resolve()) if not os.path.isabs(rel) else rel
        if img not in index:
            if not os.path.isfile(img):
                raise DataError(f"captions CSV {str(p)!r} line {row_no}: image file {img!r} does not exist")
            index[img] = len(images)
            images.append(img)
        captions.append(cap)
        caption_image.append(index[img])
    if not captions:
        raise DataError(f"captions CSV {str(p)!r}: has a header but no rows")
    h = hashlib.sha256(b"retrieval-v1\n")
    h.update(repr(captions).encode())
    h.update(np.asarray(caption_image, dtype=np.int64).tobytes())
    _files_digest(h, root, images)
    return RetrievalData(str(p), tuple(images), tuple(captions), tuple(caption_image), h.hexdigest())


def _read_lines(path: Path, what: str) -> list[str]:
    try:
        return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError as exc:
        raise DataError(f"{what} file {str(path)!r}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} file {str(path)!r}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None


def _classnames(spec: str | os.PathLike[str] | Sequence[str] | None, folders: list[str]) -> list[str]:
    if spec is None:
        return [f.replace("_", " ") for f in folders]
    if isinstance(spec, str) and spec == "imagenet":
        from open_clip import IMAGENET_CLASSNAMES

        return list(IMAGENET_CLASSNAMES)
    if isinstance(spec, (str, os.PathLike)):
        return _read_lines(Path(spec), "class names")
    return [str(c) for c in spec]


def _templates(spec: str | os.PathLike[str] | Sequence[str] | None) -> list[str]:
    if spec is None:
        out = list(DEFAULT_TEMPLATES)
    elif isinstance(spec, str) and spec in ("openai", "simple"):
        from open_clip import OPENAI_IMAGENET_TEMPLATES, SIMPLE_IMAGENET_TEMPLATES

        src = OPENAI_IMAGENET_TEMPLATES if spec == "openai" else SIMPLE_IMAGENET_TEMPLATES
        out = [t("{}") for t in src]  # each is `lambda c: f"...{c}..."`: called with "{}" it is a format string
    elif isinstance(spec, (str, os.PathLike)):
        out = _read_lines(Path(spec), "templates")
    else:
        out = [str(t) for t in spec]
    out = [t.replace("{c}", "{}") for t in out]
    if not out:
        raise ConfigError("templates: empty list; allowed: one or more strings with '{}' for the class name")
    for t in out:
        if "{}" not in t:
            raise ConfigError(f"templates: {t!r} has no '{{}}' placeholder for the class name")
    return out


def load_image_folder(
    root: str | os.PathLike[str],
    *,
    classnames: str | os.PathLike[str] | Sequence[str] | None = None,
    templates: str | os.PathLike[str] | Sequence[str] | None = None,
    max_per_class: int | None = None,
) -> ZeroShotData:
    """An ImageFolder tree `root/<class folder>/<image>`: class folders in sorted order are labels 0..C-1.

    `classnames`: None (folder names, '_' -> ' '), 'imagenet' (OpenCLIP's 1,000 ImageNet names, for
    folders named by WordNet id), a list, or a text file with one name per line in folder order.
    `templates`: None ('a photo of a {}.'), 'openai' (OpenCLIP's 80), 'simple', a list or a file.
    """
    r = Path(root)
    if not r.is_dir():
        raise DataError(f"image folder {str(r)!r}: does not exist or is not a folder")
    folders = sorted(d.name for d in r.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not folders:
        raise DataError(f"image folder {str(r)!r}: has no class folders; expected root/<class>/<image>")
    names = _classnames(classnames, folders)
    if not names:
        raise DataError("classnames: empty class list; allowed: one name per class folder")
    if len(names) != len(folders):
        raise DataError(f"classnames: {len(names)} names for {len(folders)} class folders in {str(r)!r}; allowed: one per folder")
    tmpl = _templates(templates)
    if max_per_class is not None and max_per_class < 1:
        raise ConfigError(f"max_per_class: {max_per_class} is not allowed; allowed: a positive whole number or None")
    images: list[str] = []
    labels: list[int] = []
    for label, folder in enumerate(folders):
        files = sorted(
            str(f) for f in (r / folder).iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not files:
            logger.warning("image folder %s: class folder %r has no images", r, folder)
        files = files[:max_per_class] if max_per_class else files
        images += files
        labels += [label] * len(files)
    if not images:
        raise DataError(f"image folder {str(r)!r}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in its class folders")
    h = hashlib.sha256(b"zeroshot-v1\n")
    h.update(repr((names, tmpl, labels)).encode())
    _files_digest(h, r, images)
    return ZeroShotData(str(r), tuple(names), tuple(tmpl), tuple(images), tuple(labels), h.hexdigest())


def write_synthetic_data(
    root: str | os.PathLike[str],
    *,
    classes: Sequence[str] = ("red", "green", "blue", "yellow"),
    per_class: int = 4,
    image_size: int = 32,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write a tiny ImageFolder (`root/folder/<class>/*.png`) and a captions CSV (`root/captions.csv`); returns both.

    Images are noisy solid colours; captions name the colour. For tests, smoke runs and timing only.
    """
    from PIL import Image

    colours = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220), "yellow": (230, 220, 30),
               "black": (10, 10, 10), "white": (245, 245, 245), "purple": (140, 30, 160), "orange": (240, 140, 20)}
    rng = np.random.default_rng(seed)
    base = Path(root)
    folder = base / "folder"
    rows = []
    for i, name in enumerate(classes):
        rgb = np.array(colours.get(name, tuple(int(x) for x in rng.integers(0, 256, 3))), dtype=np.float64)
        (folder / name).mkdir(parents=True, exist_ok=True)
        for j in range(per_class):
            px = np.clip(rgb + rng.normal(0, 25, (image_size, image_size, 3)), 0, 255).astype(np.uint8)
            f = folder / name / f"{j:03d}.png"
            Image.fromarray(px).save(f)
            rows.append((f.relative_to(base).as_posix(), f"a photo of something {name}, number {j}"))
    csv_path = base / "captions.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["filepath", "title"])
        w.writerows(rows)
    return csv_path, folder
