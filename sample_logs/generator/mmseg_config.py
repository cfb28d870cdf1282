"""The config and environment dumps an MMSegmentation run prints at start-up."""

from __future__ import annotations

from .datasets import Dataset

MM_CONFIG = """norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    pretrained='open-mmlab://resnet50_v1c',
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='{head}',
        in_channels=2048,
        in_index=3,
        channels=512,
        dropout_ratio=0.1,
        num_classes={num_classes},
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes={num_classes},
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
dataset_type = '{dataset_type}'
data_root = '{data_root}'
crop_size = (512, 512)
optimizer = dict(type='SGD', lr={lr}, momentum=0.9, weight_decay=0.0005)
lr_config = dict(policy='poly', power=0.9, min_lr={min_lr}, by_epoch=False)
runner = dict(type='IterBasedRunner', max_iters={max_iters})
checkpoint_config = dict(by_epoch=False, interval={interval})
evaluation = dict(interval={interval}, metric='mIoU', pre_eval=True)
log_config = dict(
    interval=50, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
work_dir = './work_dirs/{cfg}'
gpu_ids = [0]
auto_resume = False
"""

MM0_ENV = """sys.platform: linux
Python: 3.8.13 (default, Mar 28 2022, 11:38:47) [GCC 7.5.0]
CUDA available: True
GPU 0: NVIDIA GeForce RTX 3090
CUDA_HOME: /usr/local/cuda
NVCC: Cuda compilation tools, release 11.3, V11.3.109
GCC: gcc (Ubuntu 9.4.0-1ubuntu1~20.04.1) 9.4.0
PyTorch: 1.11.0+cu113
PyTorch compiling details: PyTorch built with:
  - GCC 7.3
  - C++ Version: 201402
  - CUDA Runtime 11.3
  - CuDNN 8.2

TorchVision: 0.12.0+cu113
OpenCV: 4.6.0
MMCV: 1.7.1
MMCV Compiler: GCC 9.3
MMCV CUDA Compiler: 11.3
MMSegmentation: 0.30.0+"""

MM1_ENV = """------------------------------------------------------------
System environment:
    sys.platform: linux
    Python: 3.10.13 (main, Sep 11 2023, 13:44:35) [GCC 11.2.0]
    CUDA available: True
    numpy_random_seed: 1372519606
    GPU 0,1,2,3: NVIDIA A100-SXM4-40GB
    CUDA_HOME: /usr/local/cuda
    NVCC: Cuda compilation tools, release 11.8, V11.8.89
    GCC: gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0
    PyTorch: 2.1.2
    PyTorch compiling details: PyTorch built with:
  - GCC 9.3
  - C++ Version: 201703
  - CUDA Runtime 11.8
  - CuDNN 8.7

    TorchVision: 0.16.2
    OpenCV: 4.9.0
    MMEngine: 0.10.3

Runtime environment:
    cudnn_benchmark: True
    mp_cfg: {'mp_start_method': 'fork', 'opencv_num_threads': 0}
    dist_cfg: {'backend': 'nccl'}
    seed: 1372519606
    Distributed launcher: pytorch
    Distributed training: True
    GPU number: 4
------------------------------------------------------------
"""


def mm0_config(run_cfg: str, head: str, ds: Dataset, dataset_type: str, data_root: str,
               lr: float, min_lr: float, max_iters: int, interval: int) -> str:  # fmt: skip
    return MM_CONFIG.format(
        head=head, num_classes=ds.n, dataset_type=dataset_type, data_root=data_root, lr=lr,
        min_lr=min_lr, max_iters=max_iters, interval=interval, cfg=run_cfg,
    )  # fmt: skip


def mm1_config(cfg: str, ds: Dataset, dataset_type: str, max_iters: int, val_interval: int,
               lr: float, sched: str) -> str:  # fmt: skip
    head = MM_CONFIG.split("dataset_type =")[0].format(
        head="ASPPHead", num_classes=ds.n, dataset_type="", data_root="", lr=lr, min_lr=0,
        max_iters=0, interval=0, cfg=cfg,
    )  # fmt: skip
    return (
        head
        + f"""dataset_type = '{dataset_type}'
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr={lr}, momentum=0.9, weight_decay=0.0005),
    clip_grad=None)
param_scheduler = [
{sched}
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={max_iters}, val_interval={val_interval})
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval={val_interval}),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
vis_backends = [dict(type='LocalVisBackend')]
work_dir = './work_dirs/{cfg}'
"""
    )
