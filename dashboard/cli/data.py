"""``segwatch eval`` and ``segwatch labels``: check the data behind a stalled run.

Thin: parse the arguments, call ``metrics.masks.folder_eval`` / ``metrics.masks.label_audit``,
print a table or JSON. Exit codes: 0 clean, 1 when files had problems or flags were raised, 2 on
a usage error (a ``MetricsError``: missing folder, no images, bad class-names file) — never a
traceback.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from dashboard.cli.common import EXIT_FLAGGED, EXIT_OK, EXIT_USAGE, strict_json
from metrics.errors import MetricsError

if TYPE_CHECKING:  # the library is imported when a check of the data runs, not for --help
    from metrics.masks.folder_eval import (
        FileProblem,
        ImageEvaluation,
        SegEvaluation,
    )
    from metrics.masks.label_audit import LabelAudit

PROGRESS_MIN_FILES = 20  # below this a progress bar is noise
_SHOWN_PROBLEMS = 20

Handler = Callable[[argparse.Namespace], int]


def add_data_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``eval`` and ``labels`` subcommands (each sets ``func`` to its handler)."""
    ev = sub.add_parser("eval", help="score a folder of predictions against ground truth")
    ev.add_argument("pred_dir", help="folder of predicted masks (or output images)")
    ev.add_argument("gt_dir", help="folder of ground-truth masks (or target images)")
    ev.add_argument("--task", choices=("seg", "image"), default="seg", help="default: seg")
    ev.add_argument("--data-range", type=float, default=None, help="image task: peak value")
    _common(ev, num_classes_required=False)
    ev.set_defaults(func=_guard(_eval))
    lb = sub.add_parser("labels", help="audit a folder of label masks for common mistakes")
    lb.add_argument("gt_dir", help="folder of label masks")
    lb.add_argument("--images", default=None, help="folder of the images, to compare sizes")
    _common(lb, num_classes_required=True)
    lb.set_defaults(func=_guard(_labels))


def _common(p: argparse.ArgumentParser, num_classes_required: bool) -> None:
    p.add_argument("--num-classes", type=_class_count, required=num_classes_required)
    p.add_argument(
        "--ignore-index",
        type=_ignore_index,
        default=255,
        help="label value left out of the counts (default 255; 'none' for no ignore index)",
    )
    p.add_argument("--class-names", default=None, help="text file, one class name per line")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--save",
        metavar="DIR",
        default=None,
        help="also write the result as JSON into DIR (the run's folder: the dashboard's Data "
        "page shows it)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"progress bar on stderr (default: when it is a terminal and there are "
        f"≥{PROGRESS_MIN_FILES} files)",
    )
    p.add_argument("--workers", type=_positive_int, default=None, help="decoding threads")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _class_count(text: str) -> int:
    """``--num-classes``: 1 … ``MAX_CLASSES`` (a usage error beyond, not a memory error)."""
    from metrics.masks.miou import MAX_CLASSES

    value = _positive_int(text)
    if value > MAX_CLASSES:
        raise argparse.ArgumentTypeError(
            f"expected at most {MAX_CLASSES} classes (the confusion matrix holds "
            f"num_classes² counts), got {value}"
        )
    return value


def _ignore_index(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'none', got {text!r}") from None


def _guard(handler: Handler) -> Handler:
    """Turn a ``MetricsError`` into one line on stderr and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except MetricsError as exc:
            print(f"segwatch: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _class_names(args: argparse.Namespace) -> tuple[str, ...] | None:
    from metrics.masks.folders import read_class_names

    if args.class_names is None:
        return None
    return read_class_names(args.class_names, args.num_classes)


def _eval(args: argparse.Namespace) -> int:
    from metrics.masks.data_report import save_eval
    from metrics.masks.folder_eval import evaluate_segmentation

    if args.task == "image":
        if args.save is not None:
            print(
                "segwatch: --save is for segmentation results (not --task image)", file=sys.stderr
            )
            return EXIT_USAGE
        return _eval_images(args)
    if args.num_classes is None:
        print("segwatch: eval needs --num-classes N (or --task image)", file=sys.stderr)
        return EXIT_USAGE
    names = _class_names(args)
    with _Progress(args.progress) as bar:
        res = evaluate_segmentation(
            args.pred_dir, args.gt_dir, args.num_classes, args.ignore_index,
            class_names=names, workers=args.workers, on_progress=bar,
        )  # fmt: skip
    _emit(args, res.to_dict(), lambda: _print_seg(res))
    if args.save is not None:
        _saved(save_eval(res, args.save, _command(args)))
    return EXIT_FLAGGED if res.problems else EXIT_OK


def _eval_images(args: argparse.Namespace) -> int:
    from metrics.masks.folder_eval import evaluate_images

    with _Progress(args.progress) as bar:
        res = evaluate_images(
            args.pred_dir, args.gt_dir, data_range=args.data_range,
            workers=args.workers, on_progress=bar,
        )  # fmt: skip
    _emit(args, res.to_dict(), lambda: _print_images(res))
    return EXIT_FLAGGED if res.problems else EXIT_OK


def _labels(args: argparse.Namespace) -> int:
    from metrics.masks.data_report import save_audit
    from metrics.masks.label_audit import audit_labels

    names = _class_names(args)
    with _Progress(args.progress) as bar:
        audit = audit_labels(
            args.gt_dir, args.num_classes, args.ignore_index, images_dir=args.images,
            class_names=names, workers=args.workers, on_progress=bar,
        )  # fmt: skip
    _emit(args, {**audit.to_dict(), "clean": audit.clean}, lambda: _print_audit(audit))
    if args.save is not None:
        _saved(save_audit(audit, args.save, _command(args)))
    return EXIT_OK if audit.clean else EXIT_FLAGGED


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this result from any folder (saved with it)."""
    folders = [args.pred_dir, args.gt_dir] if args.command == "eval" else [args.gt_dir]
    words = ["segwatch", args.command, *map(_absolute, folders)]
    words += ["--num-classes", str(args.num_classes)]
    words += ["--ignore-index", "none" if args.ignore_index is None else str(args.ignore_index)]
    for flag, value in (("--class-names", args.class_names), ("--images", _images(args))):
        if value is not None:
            words += [flag, _absolute(value)]
    return shlex.join(words)


def _images(args: argparse.Namespace) -> str | None:
    images: str | None = getattr(args, "images", None)
    return images


def _absolute(path: str) -> str:
    return path if "://" in path else os.path.abspath(path)


def _saved(path: str) -> None:
    print(f"segwatch: saved {path}", file=sys.stderr)


def _emit(args: argparse.Namespace, data: dict[str, Any], table: Callable[[], None]) -> None:
    if args.json:
        print(strict_json(data))
    else:
        table()


def _f(x: float | None, fmt: str = ".4f") -> str:
    return "—" if x is None or x != x else format(x, fmt)


def _print_seg(res: SegEvaluation) -> None:
    s = res.scores
    rows = [("class", "IoU", "Acc", "Dice", "gt pixels")]
    for c, name in enumerate(res.class_names):
        label = f"{c} {name}" if name != str(c) else name
        gt_px = f"{int(res.confusion[c].sum()):,}"
        rows.append((label, _f(s.iou[c]), _f(s.acc[c]), _f(s.dice[c]), gt_px))
    _table(rows)
    print(
        f"mIoU {_f(s.miou)}  aAcc {_f(s.aacc)}  mAcc {_f(s.macc)}  mDice {_f(s.mdice)}  "
        f"kappa {_f(s.kappa)}  ({res.images} images)"
    )
    _print_problems(res.problems)


def _print_images(res: ImageEvaluation) -> None:
    rows = [("file", "MSE", "PSNR dB")]
    rows += [(s.file, _f(s.mse, ".6g"), _f(s.psnr, ".2f")) for s in res.images]
    _table(rows)
    print(f"overall MSE {_f(res.mse, '.6g')}  mean PSNR {_f(res.psnr, '.2f')} dB  "
          f"({len(res.images)} images)")  # fmt: skip
    _print_problems(res.problems)


def _print_problems(problems: Sequence[FileProblem]) -> None:
    if not problems:
        return
    print(f"{len(problems)} files left out:")
    for p in problems[:_SHOWN_PROBLEMS]:
        print(f"  {p.file}: [{p.code}] {p.message}")
    if len(problems) > _SHOWN_PROBLEMS:
        print(f"  … and {len(problems) - _SHOWN_PROBLEMS} more (all of them with --json)")


def _print_audit(a: LabelAudit) -> None:
    modes = ", ".join(f"{m}: {n}" for m, n in a.modes.items())
    print(
        f"{a.files} masks in {a.root} ({modes}); {a.labelled_pixels:,} labelled pixels, "
        f"{a.ignored_pixels:,} ignored, {a.out_of_range_pixels:,} out of range"
    )
    rows = [("class", "pixels", "share", "images")]
    for c in a.classes:
        label = f"{c.id} {c.name}" if c.name != str(c.id) else c.name
        rows.append((label, f"{c.pixels:,}", _f(c.share, ".3%"), str(c.images)))
    _table(rows)
    if a.clean:
        print("no flags: the labels look clean")
    for flag in a.flags:
        print(f"[{flag.code}] {flag.message}")
        if flag.files:
            print(f"    files: {', '.join(flag.files)}")
        print(f"    fix: {flag.fix}")


def _table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        first = r[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        print("  ".join([first, *rest]))


class _Progress:
    """A one-line ``\\r`` progress bar on stderr; a no-op unless shown (see ``--progress``)."""

    def __init__(self, force: bool | None, stream: TextIO | None = None) -> None:
        self.force, self.stream = force, stream or sys.stderr
        self.shown, self.last = False, 0.0

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()

    def __call__(self, done: int, total: int) -> None:
        if self.force is False or (self.force is None and not self._auto(total)):
            return
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last, self.shown = now, True
        filled = 30 * done // max(total, 1)
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\rsegwatch: [{bar}] {done}/{total} files")
        self.stream.flush()

    def _auto(self, total: int) -> bool:
        return total >= PROGRESS_MIN_FILES and self.stream.isatty()
