"""Parameter count and forward FLOPs per segment of each preset (XLA's cost analysis under JAX).

    KERAS_BACKEND=jax python scripts/model_stats.py [--preset ts_resformer ...]
"""

import argparse
import os

os.environ["KERAS_BACKEND"] = "jax"

from keras_tsr.models import ARCHITECTURES, build_classifier  # noqa: E402
from keras_tsr.studies.flops import forward_flops  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", nargs="*", default=list(ARCHITECTURES))
    args = parser.parse_args()
    print(f"{'preset':30s} {'params':>12s} {'GFLOPs/segment':>15s}")
    for name in args.preset:
        model = build_classifier(name, 8, compile=False)
        print(f"{name:30s} {model.count_params():12,d} {forward_flops(model) / 1e9:15.3f}")


if __name__ == "__main__":
    main()
