"""PaddleSeg's eval progress bar (``paddleseg.utils.progbar.Progbar``) as it reaches stderr."""

from __future__ import annotations

import numpy as np


def progbar_text(rng: np.random.Generator, target: int, step_time: float, verbose: int) -> str:
    """PaddleSeg's ``Progbar`` on stderr: verbose 1 redraws with \\b and \\r, 2 prints one line."""
    times = np.cumsum(rng.normal(step_time, step_time * 0.08, target).clip(step_time * 0.5))
    times[0] += step_time * 0.5  # the first batch also starts the workers
    costs = np.diff(np.r_[0.0, times])
    readers = rng.exponential(step_time * 0.02, target)
    readers[0] = step_time * 0.3

    def info_values(current: int) -> str:
        out = ""
        for name, arr in (("batch_cost", costs), ("reader cost", readers)):
            avg = float(np.mean(arr[:current]))
            out += f" - {name}:" + (f" {avg:.4f}" if abs(avg) > 1e-3 else f" {avg:.4e}")
        return out

    if verbose == 2:
        return f"{target}/{target} - {times[-1]:.0f}s" + info_values(target) + "\n"
    out, total_width, last_update = [], 0, 0.0
    digits = int(np.log10(target)) + 1
    for current in range(1, target + 1):
        now = float(times[current - 1])
        final = current >= target
        if now - last_update < 0.05 and not final:
            continue
        prev = total_width
        out.append("\b" * prev + "\r")
        prog_width = int(30 * current / target)
        bar = f"{current:{digits}d}/{target} ["
        if prog_width > 0:
            bar += "=" * (prog_width - 1) + ("=" if final else ">")
        bar += "." * (30 - prog_width) + "]"
        total_width = len(bar)
        per_unit = now / current
        if final:
            info = f" - {now:.0f}s" + (
                f" {per_unit * 1e3:.0f}ms/step" if per_unit < 1 else f" {per_unit:.0f}s/step"
            )
        else:
            info = f" - ETA: {per_unit * (target - current):.0f}s"
        info += info_values(current)
        total_width += len(info)
        if prev > total_width:
            info += " " * (prev - total_width)
        out.append(bar + info + ("\n" if final else ""))
        last_update = now
    return "".join(out)
