"""Batch-1 inference time of dasl's networks on PyTorch in fp32 and under bf16 autocast, one thread: whether
bf16 inference pays on this CPU (it needs AVX-512 BF16 / AMX kernels; without them it is emulated).

    python scripts/bf16_inference.py
"""

import time

import torch

from dasl.landmarkers.dasl_net import SHIPPED_FILE
from dasl.morphable.model import load_bfm
from dasl.nets.fold import fold_batchnorm
from dasl.nets.landmark_net import load_landmark_net
from dasl.paths import WEIGHTS_DIR, SharedData
from dasl.regressors.dasl_model import DaslRegressor
from dasl.train.precision import cpu_has_bf16


def per_call_ms(model: torch.nn.Module, x: torch.Tensor, bf16: bool, runs: int = 30) -> float:
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for _ in range(5):
            model(x)
        started = time.perf_counter()
        for _ in range(runs):
            model(x)
    return (time.perf_counter() - started) / runs * 1000


def main() -> None:
    torch.set_num_threads(1)
    detector, _ = load_landmark_net(SHIPPED_FILE)
    fold_batchnorm(detector)
    light = DaslRegressor(WEIGHTS_DIR / "dasl_light.safetensors", load_bfm(SharedData.find(None))).net
    print(f"CPU bf16 kernels: {cpu_has_bf16()}")
    for name, net, channels in (("dasl-landmarks", detector, 3), ("dasl-light", light, 4)):
        x = torch.randn(1, channels, 120, 120)
        fp32, bf16 = per_call_ms(net, x, False), per_call_ms(net, x, True)
        print(f"{name}: fp32 {fp32:.1f} ms, bf16 autocast {bf16:.1f} ms")


if __name__ == "__main__":
    main()
