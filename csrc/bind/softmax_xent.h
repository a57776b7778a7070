// Python binding of the softmax / cross-entropy family, written once for both backends; see
// csrc/bind/gemm.h for the Backend pattern and csrc/common/softmax_xent_contract.h for the kernels.
// Softmax takes any C-contiguous array and an axis `dim` (negative counts from the end, as in
// PyTorch); the binding views it as (outer, dim, inner) so no transpose is needed.
#pragma once
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>

#include "bind/array_view.h"
#include "bind/kernel_args.h"

namespace ember::bind {
namespace kernel_args {

// x viewed as (outer, size of axis `dim`, inner). A 0-d array is one element along its axis.
struct AxisShape {
  int64_t outer, dim, inner;
};
inline AxisShape axis_shape(const ArrayView& x, int64_t dim) {
  const int64_t nd = std::max<int64_t>(x.ndim(), 1);
  require(dim >= -nd && dim < nd, "argument 'dim' is out of range for an array of shape " +
                                      shape_str(x.shape) + ": got " + std::to_string(dim));
  if (x.ndim() == 0) return {1, 1, 1};
  const size_t d = size_t(dim < 0 ? dim + nd : dim);
  return {shape_product(x.shape, 0, d), x.shape[d], shape_product(x.shape, d + 1, x.shape.size())};
}

// Raises the ValueError a failed target check of the cross-entropy kernels stands for.
template <class Check>
void raise_bad_target(const Check& check, int64_t C, int64_t ignore_index) {
  if (check.index < 0) return;
  throw py::value_error("argument 'target' has value " + std::to_string(check.value) +
                        " at index " + std::to_string(check.index) +
                        ": class indices must be in [0, " + std::to_string(C) +
                        ") or equal ignore_index (" + std::to_string(ignore_index) + ")");
}

// Arguments shared by the cross-entropy forward and backward: logits (M, C), target (M,) int64,
// weight (C,) or None, label_smoothing in [0, 1].
struct CrossEntropyArgs {
  ArrayView logits, target;
  OptionalArray weight;
  int64_t M, C;
};
template <class Backend>
CrossEntropyArgs cross_entropy_args(py::handle logits_obj, py::handle target_obj,
                                    py::handle weight_obj, double label_smoothing) {
  CrossEntropyArgs a;
  a.logits = float_input<Backend>(logits_obj, "logits");
  require_ndim(a.logits, 2);
  a.M = a.logits.shape[0];
  a.C = a.logits.shape[1];
  require(a.C > 0 || a.M == 0, "argument 'logits' must have at least one class, got shape " +
                                   shape_str(a.logits.shape));
  a.target = Backend::view(target_obj, "target");
  require_dtype(a.target, DType::i64);
  require_shape(a.target, {a.M});
  require_contiguous(a.target);
  a.weight = optional_array<Backend>(weight_obj, "weight", a.logits, {a.C});
  require(label_smoothing >= 0.0 && label_smoothing <= 1.0,
          "argument 'label_smoothing' must be in [0, 1], got " + std::to_string(label_smoothing));
  return a;
}

// Arguments shared by the binary cross-entropy forward and backward: logits of any shape,
// viewed as (M, C) with C its last dim; target and weight (or None) like logits, pos_weight (C,)
// or None.
struct BinaryCrossEntropyArgs {
  ArrayView logits, target;
  OptionalArray weight, pos_weight;
  int64_t M, C;
};
template <class Backend>
BinaryCrossEntropyArgs bce_args(py::handle logits_obj, py::handle target_obj,
                                py::handle weight_obj, py::handle pos_weight_obj) {
  BinaryCrossEntropyArgs a;
  a.logits = float_input<Backend>(logits_obj, "logits");
  a.C = a.logits.ndim() ? a.logits.shape.back() : 1;
  a.M = a.C ? a.logits.numel() / a.C : 0;
  a.target = input_array<Backend>(target_obj, "target", a.logits, a.logits.shape);
  a.weight = optional_array<Backend>(weight_obj, "weight", a.logits, a.logits.shape);
  a.pos_weight = optional_array<Backend>(pos_weight_obj, "pos_weight", a.logits, {a.C});
  return a;
}

}  // namespace kernel_args

template <class Backend>
void bind_softmax_xent(py::module_& m) {
  using namespace kernel_args;
  m.def(
      "softmax_forward",
      [](py::handle x_obj, py::handle out_obj, int64_t dim, bool log) {
        ArrayView x = float_input<Backend>(x_obj, "x"),
                  out = output_array<Backend>(out_obj, "out", x, x.shape);
        const AxisShape s = axis_shape(x, dim);
        run_float<Backend>(x, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          softmax_forward(ctx, s.outer, s.dim, s.inner, in_ptr<T>(x), out_ptr<T>(out), log);
        });
      },
      py::arg("x"), py::arg("out"), py::arg("dim"), py::arg("log") = false,
      "out = softmax(x, dim) or log_softmax(x, dim) (log=True). x, out: same shape, C-contiguous; "
      "out may be x.");

  m.def(
      "softmax_backward",
      [](py::handle grad_out_obj, py::handle out_obj, py::handle grad_x_obj, int64_t dim,
         bool log) {
        ArrayView out = float_input<Backend>(out_obj, "out"),
                  grad_out = input_array<Backend>(grad_out_obj, "grad_out", out, out.shape),
                  grad_x = output_array<Backend>(grad_x_obj, "grad_x", out, out.shape);
        const AxisShape s = axis_shape(out, dim);
        run_float<Backend>(out, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          softmax_backward(ctx, s.outer, s.dim, s.inner, in_ptr<T>(grad_out), in_ptr<T>(out),
                           out_ptr<T>(grad_x), log);
        });
      },
      py::arg("grad_out"), py::arg("out"), py::arg("grad_x"), py::arg("dim"),
      py::arg("log") = false,
      "Gradient of softmax_forward (log_softmax with log=True) from its output `out`: writes "
      "grad_x (may be grad_out).");

  m.def(
      "cross_entropy_forward",
      [](py::handle logits_obj, py::handle target_obj, py::handle weight_obj, int64_t ignore_index,
         double label_smoothing, py::handle loss_obj, py::handle lse_obj) {
        const CrossEntropyArgs a =
            cross_entropy_args<Backend>(logits_obj, target_obj, weight_obj, label_smoothing);
        ArrayView loss = output_array<Backend>(loss_obj, "loss", a.logits, {a.M}),
                  lse = output_array<Backend>(lse_obj, "lse", a.logits, {a.M});
        run_float<Backend>(a.logits, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          raise_bad_target(cross_entropy_forward(ctx, a.M, a.C, in_ptr<T>(a.logits),
                                                 in_ptr<int64_t>(a.target), in_ptr<T>(a.weight),
                                                 ignore_index, label_smoothing, out_ptr<T>(loss),
                                                 out_ptr<T>(lse)),
                           a.C, ignore_index);
        });
      },
      py::arg("logits"), py::arg("target"), py::arg("weight"), py::arg("ignore_index"),
      py::arg("label_smoothing"), py::arg("loss"), py::arg("lse"),
      "Per-row cross-entropy (PyTorch CrossEntropyLoss, reduction='none'): logits (M, C), target "
      "(M,) int64, weight (C,) or None. Writes loss (M,) (0 where target == ignore_index) and "
      "lse (M,) = logsumexp of each row. ValueError for a target outside [0, C).");

  m.def(
      "cross_entropy_backward",
      [](py::handle logits_obj, py::handle target_obj, py::handle weight_obj, int64_t ignore_index,
         double label_smoothing, py::handle lse_obj, py::handle grad_loss_obj,
         py::handle grad_logits_obj) {
        const CrossEntropyArgs a =
            cross_entropy_args<Backend>(logits_obj, target_obj, weight_obj, label_smoothing);
        ArrayView lse = input_array<Backend>(lse_obj, "lse", a.logits, {a.M}),
                  grad_loss = input_array<Backend>(grad_loss_obj, "grad_loss", a.logits, {a.M}),
                  grad_logits = output_array<Backend>(grad_logits_obj, "grad_logits", a.logits,
                                                      a.logits.shape);
        run_float<Backend>(a.logits, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          raise_bad_target(cross_entropy_backward(ctx, a.M, a.C, in_ptr<T>(a.logits),
                                                  in_ptr<int64_t>(a.target), in_ptr<T>(a.weight),
                                                  ignore_index, label_smoothing, in_ptr<T>(lse),
                                                  in_ptr<T>(grad_loss), out_ptr<T>(grad_logits)),
                           a.C, ignore_index);
        });
      },
      py::arg("logits"), py::arg("target"), py::arg("weight"), py::arg("ignore_index"),
      py::arg("label_smoothing"), py::arg("lse"), py::arg("grad_loss"), py::arg("grad_logits"),
      "Gradient of cross_entropy_forward's per-row loss, scaled by grad_loss (M,): writes "
      "grad_logits (M, C) (zero rows where target == ignore_index).");

  m.def(
      "binary_cross_entropy_with_logits_forward",
      [](py::handle logits_obj, py::handle target_obj, py::handle weight_obj,
         py::handle pos_weight_obj, py::handle loss_obj) {
        const BinaryCrossEntropyArgs a =
            bce_args<Backend>(logits_obj, target_obj, weight_obj, pos_weight_obj);
        ArrayView loss = output_array<Backend>(loss_obj, "loss", a.logits, a.logits.shape);
        run_float<Backend>(a.logits, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          binary_cross_entropy_with_logits_forward(ctx, a.M, a.C, in_ptr<T>(a.logits),
                                                   in_ptr<T>(a.target), in_ptr<T>(a.weight),
                                                   in_ptr<T>(a.pos_weight), out_ptr<T>(loss));
        });
      },
      py::arg("logits"), py::arg("target"), py::arg("weight"), py::arg("pos_weight"),
      py::arg("loss"),
      "Elementwise binary cross-entropy with logits (reduction='none'): target, weight (or None) "
      "and loss shaped like logits; pos_weight (last dim of logits,) or None.");

  m.def(
      "binary_cross_entropy_with_logits_backward",
      [](py::handle grad_loss_obj, py::handle logits_obj, py::handle target_obj,
         py::handle weight_obj, py::handle pos_weight_obj, py::handle grad_logits_obj,
         py::handle grad_target_obj) {
        const BinaryCrossEntropyArgs a =
            bce_args<Backend>(logits_obj, target_obj, weight_obj, pos_weight_obj);
        const ArrayView& logits = a.logits;
        ArrayView grad_loss =
                      input_array<Backend>(grad_loss_obj, "grad_loss", logits, logits.shape),
                  grad_logits =
                      output_array<Backend>(grad_logits_obj, "grad_logits", logits, logits.shape);
        auto grad_target =
            optional_output<Backend>(grad_target_obj, "grad_target", logits, logits.shape);
        run_float<Backend>(logits, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          binary_cross_entropy_with_logits_backward(
              ctx, a.M, a.C, in_ptr<T>(grad_loss), in_ptr<T>(logits), in_ptr<T>(a.target),
              in_ptr<T>(a.weight), in_ptr<T>(a.pos_weight), out_ptr<T>(grad_logits),
              out_ptr<T>(grad_target));
        });
      },
      py::arg("grad_loss"), py::arg("logits"), py::arg("target"), py::arg("weight"),
      py::arg("pos_weight"), py::arg("grad_logits"), py::arg("grad_target"),
      "Gradient of binary_cross_entropy_with_logits_forward times grad_loss: writes grad_logits "
      "and, unless None, grad_target (both shaped like logits).");
}

}  // namespace ember::bind
