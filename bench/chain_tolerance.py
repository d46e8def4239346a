"""The chain's judgement of an output element, for the benchmarks that measure
how far honest hardware drifts (bench/tf32.py, bench/sidecar.py --device cuda).

An element agrees within atol·(2 + ⌈rtol·|reference|/atol⌉) of the committee's
median (modules/attestation/src/digest.rs `tolerance`, quantized at atol), is
grey up to SLASH_MULTIPLE times that, and slashed beyond. Outputs longer than a
model's max_output_len are judged on projections on chain; the share is then
only indicative.
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RTOL = 1e-4  # inference params: min_rtol_nano = 100 000, the default rtol
SLASH_MULTIPLE = 8  # inference params: wrong_output_multiple
# Input scales the drift is measured at: the reference inputs, and x10, x100.
SCALES = (1, 10, 100)


def scaled(feeds, scale):
    """Float inputs times `scale` (integer inputs, token ids, are not scaled)."""
    return {k: (v * scale).astype(v.dtype) if v.dtype.kind == "f" else v for k, v in feeds.items()}


def spec_atol(model_path):
    """The shipped spec's absolute tolerance (models/specs/<stem>.json)."""
    stem = os.path.basename(model_path).removesuffix(".onnx")
    with open(os.path.join(ROOT, "models", "specs", stem + ".json")) as f:
        return float(json.load(f)["tolerance"])


def share_of_tolerance(got, ref, atol, rtol=RTOL):
    """The worst element's |got - ref| as a share of its tolerance: <= 1 agrees,
    up to SLASH_MULTIPLE grey, beyond slashed."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    allowed = atol * (2 + np.ceil(rtol * np.abs(ref) / atol))
    return float(np.max(np.abs(got - ref) / allowed))
