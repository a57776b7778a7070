"""End-to-end training benchmark: ``python -m benchmarks.train --device cpu|cuda
[--only mlp,lenet,resnet,lstm,gpt] [--steps N] [--repeats R] [--json out.json] [--profile]``.

Times full training steps -- forward, loss, backward, (gradient clipping), optimizer step,
zero_grad -- of five models taken from ``ember.examples``, and, when PyTorch is importable, of
the same models in PyTorch: each example's own model code run with ``torch`` in place of Ember
(``torch_twin``), with the same hyper-parameters and initial weights (copied from the Ember model
through ``state_dict``):

* ``mlp``: mlp_fashion.NeuralNetwork, batch 64, SGD(lr=0.05, momentum=0.9);
* ``lenet``: lenet.LeNet5 on 32x32 inputs, batch 64, Adam(lr=2e-3), NLL loss on its LogSoftmax;
* ``resnet``: resnet_small.ResNetSmall, batch 128, SGD(lr=0.1, momentum=0.9, weight_decay=5e-4,
  nesterov=True);
* ``lstm``: char_lstm.CharLSTM (vocabulary 90, T=64, B=32, hidden 256, 2 layers), Adam(lr=3e-3),
  clip_grad_norm_(1.0);
* ``gpt``: transformer_lm.TinyGPT (context 64, batch 32, dim 128, 4 heads, 4 blocks),
  AdamW(lr=2e-3, weight_decay=0.1, betas=(0.9, 0.95)), clip_grad_norm_(1.0).

The step is the examples' own training step; the one change is ``dropout=0`` in the LSTM (the
other models have none at these settings), so that both libraries compute the same function and
their losses can be compared: the first warm-up steps run from identical weights on identical
batches, and the largest relative difference of their losses is printed as a sanity check
(float32 summation order alone gives ~1e-6). Data loading is not timed: each step reuses
batches prepared on the device beforehand.

Timing: ``--warmup`` steps first (not timed), then ``--repeats`` measurements of ``--steps``
consecutive steps each, Ember's and PyTorch's interleaved (alternating which goes first) so that
both see the same machine load; the median is reported. On CUDA each measurement ends with a
device synchronisation. Both libraries use the same number of CPU threads: Ember's OpenMP
thread count (``--threads`` sets it for both). ``ratio`` = Ember steps/s / PyTorch steps/s from
the medians (> 1: Ember is faster); ``best`` is the same ratio from each library's fastest
sample, the one least disturbed by other processes. On a shared machine ``--threads 1 --clock
cpu`` measures the process's CPU time with all work on one thread, which competing processes
inflate much less than wall time. ``--profile`` prints Ember's per-op profile of each
configuration (``ember.profiler``); ``--trace-dir`` also writes Chrome traces.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import re
import statistics
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Callable

CONFIG_NAMES = ("mlp", "lenet", "resnet", "lstm", "gpt")
VOCAB = 90  # the char models' vocabulary (the examples' pydoc corpus has ~90 characters)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--only", default="", help=f"comma-separated configurations among {','.join(CONFIG_NAMES)}")
    p.add_argument("--steps", type=int, default=5, help="timed steps per measurement (default 5)")
    p.add_argument("--repeats", type=int, default=5, help="measurements per library; the median is reported")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first; their losses are compared")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for Ember's OpenMP and PyTorch (default: Ember's OpenMP default)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall: elapsed time (default); cpu: the process's CPU time, which other processes "
                        "do not inflate (with --threads 1 it is the step's work; with more threads it "
                        "also counts OpenMP threads spinning)")
    p.add_argument("--json", default="", help="also write the results to this file")
    p.add_argument("--profile", action="store_true", help="print Ember's per-op profile of each configuration")
    p.add_argument("--profile-rows", type=int, default=20, help="rows of each profile table (default 20)")
    p.add_argument("--trace-dir", default="", help="with --profile: write <dir>/<config>.json Chrome traces")
    p.add_argument("--no-torch", action="store_true", help="time Ember only, even if PyTorch is importable")
    args = p.parse_args(argv)
    args.only = [c.strip() for c in args.only.split(",") if c.strip()] or list(CONFIG_NAMES)
    unknown = [c for c in args.only if c not in CONFIG_NAMES]
    if unknown:
        p.error(f"unknown configuration(s) {unknown}; choose among {list(CONFIG_NAMES)}")
    for name in ("steps", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    if args.warmup < 1:
        p.error("--warmup must be >= 1 (the first step's losses are compared)")
    return args


# ---- the PyTorch twins of the example models ---------------------------------------------------

# The examples import Ember under PyTorch's names; these lines, and only these, change for the twin.
_TORCH_IMPORTS = {"import ember as torch": "import torch",
                  "import ember.nn.functional as F": "import torch.nn.functional as F",
                  "from ember import nn": "from torch import nn"}


def torch_twin(example):
    """The example module's own source run again with PyTorch bound to the names ``torch``,
    ``nn`` and ``F`` that it imports Ember under: its model classes, line for line, in PyTorch.
    (Its other imports, helpers for data and plots, still load Ember; the models do not use them.)"""
    import inspect
    import types

    source = inspect.getsource(example)
    for ember_line, torch_line in _TORCH_IMPORTS.items():
        source = re.sub(rf"^{re.escape(ember_line)}$", torch_line, source, flags=re.MULTILINE)
    twin = types.ModuleType(f"{example.__name__}_torch_twin")
    twin.__file__ = example.__file__
    exec(compile(source, example.__file__, "exec"), twin.__dict__)  # noqa: S102  (the example's own source)
    return twin


# ---- the configurations --------------------------------------------------------------------------

@dataclass
class Config:
    name: str
    title: str
    batch: int
    example: str  # the ember.examples module defining the model
    model: str  # the model class's name in it
    model_args: tuple  # constructor arguments, the same for the PyTorch twin
    make_optimizer: Callable  # (fw, params) -> optimizer, fw being ember or torch
    make_batch: Callable  # numpy Generator -> (inputs, targets) as NumPy arrays
    loss: Callable  # (fw, model output, targets) -> scalar loss
    clip: float | None = None  # clip_grad_norm_ max norm


def _images(shape):
    def make(rng):
        return rng.random(shape, dtype="float32"), rng.integers(0, 10, shape[0])
    return make


def _classify(fw, out, y):
    return fw.nn.functional.cross_entropy(out, y)


def _next_token(fw, out, y):
    logits = out[0] if isinstance(out, tuple) else out  # CharLSTM returns (logits, state)
    return fw.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))


def configurations() -> dict[str, Config]:
    def lstm_batch(rng):  # (T, B) ids and the next rows flattened, as ember.text.get_batch gives them
        ids = rng.integers(0, VOCAB, (65, 32))
        return ids[:-1], ids[1:].reshape(-1)

    def gpt_batch(rng):  # (B, T) windows of a token stream and their next-token targets
        chunk = rng.integers(0, VOCAB, (32, 65))
        return chunk[:, :-1], chunk[:, 1:]

    return {c.name: c for c in [
        Config("mlp", "MLP 784-512-512-10", 64, "mlp_fashion", "NeuralNetwork", (),
               lambda fw, p: fw.optim.SGD(p, lr=0.05, momentum=0.9), _images((64, 1, 28, 28)),
               _classify),
        Config("lenet", "LeNet-5", 64, "lenet", "LeNet5", (),
               lambda fw, p: fw.optim.Adam(p, lr=2e-3), _images((64, 1, 32, 32)),
               lambda fw, out, y: fw.nn.functional.nll_loss(out, y)),
        Config("resnet", "ResNet-small", 128, "resnet_small", "ResNetSmall", (),
               lambda fw, p: fw.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True),
               _images((128, 1, 28, 28)), _classify),
        Config("lstm", "char-LSTM T=64 H=256", 32, "char_lstm", "CharLSTM", (VOCAB, 64, 256, 2, 0.0),
               lambda fw, p: fw.optim.Adam(p, lr=3e-3), lstm_batch,
               _next_token, clip=1.0),
        Config("gpt", "TinyGPT ctx=64 d=128", 32, "transformer_lm", "TinyGPT", (VOCAB, 64, 128, 4, 4, 0.0),
               lambda fw, p: fw.optim.AdamW(p, lr=2e-3, weight_decay=0.1, betas=(0.9, 0.95)), gpt_batch,
               _next_token, clip=1.0),
    ]}


# ---- running one library -------------------------------------------------------------------------

@dataclass
class Runner:
    """One library's model, optimizer and device-resident batch; ``step`` is one training step."""

    label: str
    fw: object  # ember or torch
    model: object
    optimizer: object
    inputs: object
    targets: object
    config: Config
    synchronize: Callable[[], None]

    def step(self):
        loss = self.config.loss(self.fw, self.model(self.inputs), self.targets)
        loss.backward()
        if self.config.clip is not None:
            self.fw.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def build_runners(config: Config, device: str, torch, seed: int = 0) -> list[Runner]:
    import ember
    import numpy as np

    ember.manual_seed(seed)
    example = importlib.import_module(f"ember.examples.{config.example}")
    model = getattr(example, config.model)(*config.model_args).to(device)
    model.train()
    x, y = config.make_batch(np.random.default_rng(seed))
    runners = [Runner("ember", ember, model, config.make_optimizer(ember, model.parameters()),
                      ember.tensor(x).to(device), ember.tensor(y).to(device), config,
                      ember.cuda.synchronize if device == "cuda" else (lambda: None))]
    if torch is not None:
        twin = getattr(torch_twin(example), config.model)(*config.model_args)
        if not isinstance(twin, torch.nn.Module):
            raise RuntimeError(f"{config.example}.{config.model} did not build from PyTorch's nn")
        state = {k: torch.from_numpy(np.array(v.detach().cpu().numpy())) for k, v in model.state_dict().items()}
        twin.load_state_dict(state, strict=True)  # the same parameters, names and shapes, or an error
        twin.to(device).train()
        runners.append(Runner("torch", torch, twin, config.make_optimizer(torch, twin.parameters()),
                              torch.from_numpy(x).to(device), torch.from_numpy(y).to(device), config,
                              torch.cuda.synchronize if device == "cuda" else (lambda: None)))
    return runners


def time_interleaved(runners: list[Runner], steps: int, repeats: int, clock: Callable[[], float] = time.perf_counter,
                     settle: float = 0.2) -> dict[str, list]:
    """Seconds per step of each runner, ``repeats`` samples each. The runners take turns (in
    alternating order) so that a change of machine load hits all of them alike; the pause before
    each sample lets the other library's spinning OpenMP threads go idle."""
    samples: dict[str, list] = {r.label: [] for r in runners}
    for i in range(repeats):
        for r in runners if i % 2 == 0 else runners[::-1]:
            time.sleep(settle)
            start = clock()
            for _ in range(steps):
                r.step()
            r.synchronize()
            samples[r.label].append((clock() - start) / steps)
    return samples


def run_config(config: Config, args, torch) -> dict:
    import ember

    runners = build_runners(config, args.device, torch)
    result = {"config": config.name, "title": config.title, "batch": config.batch,
              "parameters": runners[0].n_parameters()}
    if len(runners) > 1 and runners[1].n_parameters() != result["parameters"]:
        raise RuntimeError(f"{config.name}: Ember has {result['parameters']} parameters, PyTorch "
                           f"{runners[1].n_parameters()}")
    losses = {r.label: [float(r.step().item()) for _ in range(args.warmup)] for r in runners}
    result["warmup_losses"] = losses
    if "torch" in losses:
        rel = [abs(a - b) / max(abs(b), 1e-12) for a, b in zip(losses["ember"], losses["torch"])]
        result["loss_rel_diff_first"] = rel[0]
        result["loss_rel_diff_max"] = max(rel)
    samples = time_interleaved(runners, args.steps, args.repeats,
                               time.process_time if args.clock == "cpu" else time.perf_counter)
    for label, s in samples.items():
        med = statistics.median(s)
        result[label] = {"ms_per_step": 1e3 * med, "steps_per_s": 1 / med,
                         "samples_ms": [1e3 * v for v in s]}
    if "torch" in result:
        result["ratio"] = result["ember"]["steps_per_s"] / result["torch"]["steps_per_s"]
        # the fastest samples: the least disturbed by other processes on a shared machine
        result["ratio_best"] = min(samples["torch"]) / min(samples["ember"])
    if args.profile:
        ember_runner = runners[0]
        with ember.profiler.profile() as prof:
            for _ in range(args.steps):
                with ember.profiler.record_function("train_step"):
                    ember_runner.step()
            ember_runner.synchronize()
        result["profile_table"] = prof.key_averages().table(sort_by="self_cpu_time_total",
                                                            row_limit=args.profile_rows)
        if args.trace_dir:
            os.makedirs(args.trace_dir, exist_ok=True)
            prof.export_chrome_trace(os.path.join(args.trace_dir, f"{config.name}.json"))
    return result


# ---- report --------------------------------------------------------------------------------------

def print_table(results: list[dict], with_torch: bool) -> None:
    def fmt(v, spec):
        return "-" if v is None else format(v, spec)

    header = ["config", "model", "batch", "params", "ember ms", "ember step/s"]
    if with_torch:
        header += ["torch ms", "torch step/s", "ratio", "best", "loss rel diff (1st / max)"]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["config"], "FAILED: " + r["error"].splitlines()[-1]] + [""] * (len(header) - 2))
            continue
        row = [r["config"], r["title"], str(r["batch"]), f"{r['parameters']:,}",
               fmt(r["ember"]["ms_per_step"], ".1f"), fmt(r["ember"]["steps_per_s"], ".2f")]
        if with_torch:
            t = r.get("torch")
            row += [fmt(t and t["ms_per_step"], ".1f"), fmt(t and t["steps_per_s"], ".2f"),
                    fmt(r.get("ratio"), ".2f"), fmt(r.get("ratio_best"), ".2f"),
                    f"{fmt(r.get('loss_rel_diff_first'), '.1e')} / {fmt(r.get('loss_rel_diff_max'), '.1e')}"]
        rows.append(row)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads is not None:  # before NumPy and the OpenMP runtimes start
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import ember
    import numpy as np

    from benchmarks.common import torch_or_none

    if args.device == "cuda" and not ember.cuda.is_available():
        print("CUDA is not available to Ember on this machine", file=sys.stderr)
        return 2
    if args.threads is not None:
        ember._C.set_num_threads(args.threads)
    threads = ember._C.num_threads()
    torch = None if args.no_torch else torch_or_none(args.device)
    if torch is not None:
        torch.set_num_threads(threads)
    env = {"device": args.device, "python": platform.python_version(), "numpy": np.__version__,
           "ember": ember.__version__, "torch": torch.__version__ if torch is not None else None,
           "threads": threads, "cores": os.cpu_count(), "steps": args.steps, "repeats": args.repeats,
           "warmup": args.warmup, "clock": args.clock, "time": time.strftime("%Y-%m-%d %H:%M:%S"),
           "load_average_start": os.getloadavg()}
    print(f"Ember training benchmark on {args.device}: {threads} CPU threads for Ember (OpenMP) and "
          f"{'PyTorch ' + torch.__version__ if torch is not None else 'no PyTorch (not importable)'}; "
          f"{args.warmup} warm-up steps, median of {args.repeats} x {args.steps} steps, "
          f"{'wall-clock' if args.clock == 'wall' else 'process CPU'} time")
    load = os.getloadavg()[0]
    if args.device == "cpu" and args.clock == "wall" and load > 0.5 * (os.cpu_count() or 1):
        print(f"WARNING: load average {load:.1f} on {os.cpu_count()} cores: other processes compete for "
              "the CPU; the interleaved timing keeps the ratios comparable, the absolute rates are low")

    configs = configurations()
    results = []
    for name in args.only:
        print(f"  running {name} ...", flush=True)
        try:
            results.append(run_config(configs[name], args, torch))
        except Exception:  # noqa: BLE001  (one configuration's failure must not hide the others)
            traceback.print_exc()
            results.append({"config": name, "error": traceback.format_exc()})
    env["load_average_end"] = os.getloadavg()
    print()
    print_table(results, torch is not None)
    if args.profile:
        for r in results:
            if "profile_table" in r:
                print(f"\n== Ember profile: {r['config']} ({r['title']}), {args.steps} steps ==")
                print(r["profile_table"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"env": env, "results": results}, f, indent=1)
        print(f"\nwrote {args.json}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
