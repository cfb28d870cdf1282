"""Trend statistics of a logged series: smoothing, robust slopes and plateau tests, noise,
per-eval-interval summaries and the forecast of the final mIoU."""
