"""Segmentation masks: mIoU from confusion matrices, image-output MSE/PSNR, and the checks of
a folder of predictions or labels (``segwatch eval`` / ``segwatch labels``)."""
