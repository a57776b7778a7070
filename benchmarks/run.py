"""Kernel benchmark runner: ``python -m benchmarks.run --device cpu|cuda [--only gemm,conv]
[--json out.json] [--repeats N] [--threads N]``.

Discovers every ``benchmarks/bench_*.py``, builds its cases for the device, times Ember and the
references side by side and prints one table. Ratio = reference time / Ember time (> 1: Ember is
faster). ``%roof`` compares the achieved rate with the ceilings this runner measures at start-up:
memory copy bandwidth (a large array copy) and the BLAS GEMM peak (NumPy matmul 2048^3 on the
CPU, CuPy 4096^3 on CUDA), i.e. ``max(flops / peak, bytes / bandwidth) / time``.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

# Environment variables that change which OpenBLAS kernels NumPy runs (and so the reference).
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_VERBOSE")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--only", default="", help="comma-separated families (bench_<family>.py)")
    p.add_argument("--json", default="", help="also write the results to this file")
    p.add_argument("--repeats", type=int, default=15, help="timed repeats per measurement")
    p.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="CPU threads for Ember and every reference (default: all cores)",
    )
    return p.parse_args(argv)


# ---- environment ---------------------------------------------------------------------------------


def openblas_runtime_info() -> dict | None:
    """Core type, build configuration and thread count of the OpenBLAS that NumPy loaded, read
    from the library itself (threadpoolctl does the same; this avoids the dependency)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    paths = {line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower()}
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for prefix, suffix in [("scipy_", "64_"), ("", "64_"), ("", "")]:
            names = {
                key: f"{prefix}openblas_get_{key}{suffix}"
                for key in ("corename", "config", "num_threads")
            }
            if not all(hasattr(lib, n) for n in names.values()):
                continue
            getattr(lib, names["corename"]).restype = ctypes.c_char_p
            getattr(lib, names["config"]).restype = ctypes.c_char_p
            return {
                "library": path,
                "corename": getattr(lib, names["corename"])().decode(),
                "config": getattr(lib, names["config"])().decode(),
                "num_threads": int(getattr(lib, names["num_threads"])()),
            }
    return None


def blas_description(np) -> dict:
    """What NumPy's matmul runs on: threadpoolctl's view if installed, else OpenBLAS itself,
    else NumPy's build configuration."""
    try:
        from threadpoolctl import threadpool_info

        return {"source": "threadpoolctl", "libraries": threadpool_info()}
    except ImportError:
        pass
    info = openblas_runtime_info()
    if info is not None:
        return {"source": "openblas", **info}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"source": "numpy.show_config", **blas}
    except Exception:  # noqa: BLE001  (older NumPy without mode="dicts")
        return {"source": "unknown"}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ---- ceilings ------------------------------------------------------------------------------------


def copy_bandwidth(device: str, repeats: int) -> float:
    """Bytes per second of a large array copy (read + write counted)."""
    from benchmarks.common import array_module, time_call

    xp = array_module(device)
    n = 1 << 26 if device == "cpu" else 1 << 28  # 256 MiB / 1 GiB of float32: beyond any cache
    src = xp.ones(n, dtype=xp.float32)
    dst = xp.empty_like(src)
    return 2 * src.nbytes / time_call(device, lambda: xp.copyto(dst, src), repeats)


def gemm_peak(device: str, dtype: str, n: int, repeats: int) -> float:
    """Floating-point operations per second of the reference BLAS on an n^3 product."""
    from benchmarks.common import array_module, time_call

    xp = array_module(device)
    a = xp.ones((n, n), dtype=dtype)
    b = xp.ones((n, n), dtype=dtype)
    c = xp.empty((n, n), dtype=dtype)
    return 2 * n**3 / time_call(device, lambda: xp.matmul(a, b, out=c), repeats)


def measure_ceilings(device: str, repeats: int) -> dict:
    """Copy bandwidth (bytes/s) and GEMM peak (flop/s) per dtype, measured now."""
    repeats = max(3, repeats // 3)
    n = 2048 if device == "cpu" else 4096
    return {
        "copy_bytes_per_s": copy_bandwidth(device, repeats),
        "gemm_flops_per_s": {d: gemm_peak(device, d, n, repeats) for d in ("float32", "float64")},
        "gemm_size": n,
    }


# ---- cases ---------------------------------------------------------------------------------------


def discover(only: list[str]) -> list[str]:
    package_dir = Path(__file__).parent
    families = sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(package_dir)])
        if m.name.startswith("bench_")
    )
    unknown = sorted(set(only) - set(families))
    if unknown:
        sys.exit(f"unknown families {unknown}; available: {families}")
    return [f for f in families if not only or f in only]


def time_case(case, device: str, repeats: int, ceilings: dict) -> dict:
    from benchmarks.common import time_call

    row = {
        "family": case.family,
        "case": case.name,
        "dtype": case.dtype,
        "flops": case.flops,
        "bytes": case.bytes,
    }
    t = time_call(device, case.ember, repeats)
    row["ember_ms"] = t * 1e3
    row["references"] = {
        name: time_call(device, fn, repeats) * 1e3 for name, fn in case.references.items()
    }
    row["gflops"] = case.flops / t / 1e9 if case.flops else None
    row["gbps"] = case.bytes / t / 1e9 if case.bytes else None
    peak = ceilings["gemm_flops_per_s"].get(case.dtype, ceilings["gemm_flops_per_s"]["float32"])
    bound = max(case.flops / peak, case.bytes / ceilings["copy_bytes_per_s"])
    row["roofline_fraction"] = bound / t if bound else None
    return row


# ---- output --------------------------------------------------------------------------------------


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict], with_torch: bool) -> None:
    header = ["family", "case", "ember ms", "reference", "ref ms", "ratio"]
    if with_torch:
        header += ["torch ms", "ratio"]
    header += ["GFLOP/s", "GB/s", "%roof"]
    lines, errors = [], []
    for r in rows:
        if "error" in r:
            errors.append(f"{r['family']} {r['case']}: {r['error']}")
            continue
        refs = {k: v for k, v in r["references"].items() if not k.startswith("torch")}
        ref_name, ref_ms = next(iter(refs.items()), ("-", None))
        line = [
            r["family"],
            r["case"],
            fmt(r["ember_ms"], ".3f"),
            ref_name,
            fmt(ref_ms, ".3f"),
            fmt(ref_ms / r["ember_ms"] if ref_ms else None, ".2f"),
        ]
        if with_torch:
            torch_ms = r["references"].get("torch")
            line += [
                fmt(torch_ms, ".3f"),
                fmt(torch_ms / r["ember_ms"] if torch_ms else None, ".2f"),
            ]
        line += [
            fmt(r["gflops"], ".1f"),
            fmt(r["gbps"], ".1f"),
            fmt(100 * r["roofline_fraction"] if r["roofline_fraction"] else None, ".0f"),
        ]
        lines.append(line)
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
        for i, h in enumerate(header)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print(
            "  ".join(
                cell.ljust(w) if i < 2 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths))
            )
        )
    for error in errors:
        print("FAILED", error)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Thread counts must be fixed before NumPy loads its BLAS, hence the late imports below.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    from benchmarks.common import ember_module, torch_or_none

    only = [f.strip() for f in args.only.split(",") if f.strip()]
    families = discover(only)
    ember = ember_module(args.device)
    if args.device == "cpu":
        ember.set_num_threads(args.threads)
    torch = torch_or_none(args.device)
    if torch is not None and args.device == "cpu":
        torch.set_num_threads(args.threads)

    env = {
        "device": args.device,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": args.threads,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if args.device == "cpu":
        env["cpu"] = f"{cpu_name()} ({os.cpu_count()} logical cores)"
        env["blas"] = blas_description(np)
        env["openblas_env"] = {v: os.environ[v] for v in OPENBLAS_OVERRIDES if v in os.environ}
    else:
        import cupy

        env["gpu"] = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        env["cupy"] = cupy.__version__
    env["torch"] = torch.__version__ if torch is not None else None

    print(
        f"Ember kernel benchmarks on {args.device}: "
        f"{env.get('cpu') or env.get('gpu')}, {args.threads} threads, numpy {np.__version__}"
        + (f", torch {env['torch']}" if torch is not None else ", torch not installed")
    )
    if args.device == "cpu":
        print("BLAS used by NumPy:", json.dumps(env["blas"]))
        if env["openblas_env"]:
            print(
                f"WARNING: {env['openblas_env']} is set: OpenBLAS is not using the kernels it "
                "would pick for this CPU, so the NumPy reference may be slower than usual "
                f"(compare with: env {' '.join('-u ' + v for v in env['openblas_env'])} "
                "python -m benchmarks.run ...)."
            )
    ceilings = measure_ceilings(args.device, args.repeats)
    env["ceilings"] = ceilings
    peaks = ", ".join(f"{d} {v / 1e9:.0f} GFLOP/s" for d, v in ceilings["gemm_flops_per_s"].items())
    print(
        f"Ceilings measured now: copy {ceilings['copy_bytes_per_s'] / 1e9:.1f} GB/s; "
        f"GEMM {ceilings['gemm_size']}^3 {peaks}\n"
        "(what the reference libraries reach on this machine, not hardware peaks: %roof above "
        "100 means faster than them)\n"
    )

    rows = []
    for family in families:
        try:
            cases = importlib.import_module(f"benchmarks.bench_{family}").cases(args.device)
        except Exception as exc:  # noqa: BLE001  (one family's failure must not hide the others)
            traceback.print_exc()
            rows.append(
                {"family": family, "case": "(setup)", "error": f"{type(exc).__name__}: {exc}"}
            )
            continue
        for case in cases:
            try:
                rows.append(time_case(case, args.device, args.repeats, ceilings))
            except Exception as exc:  # noqa: BLE001  (report it in the table, go on)
                rows.append(
                    {"family": family, "case": case.name, "error": f"{type(exc).__name__}: {exc}"}
                )
    print_table(rows, with_torch=torch is not None)
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "results": rows}, indent=2))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
