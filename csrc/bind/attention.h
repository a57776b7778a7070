// Python binding of the attention family (fused scaled dot-product attention), written once for
// both backends; see csrc/bind/gemm.h for the Backend pattern and csrc/common/attention_contract.h
// for the kernels. q (B, Tq, D), k (B, Tk, D), v (B, Tk, Dv) with B = batch * heads, C-contiguous;
// mask: None or an additive float mask (B or 1, Tq, Tk) (-inf hides a key); scale: None means 1 /
// sqrt(D) as in PyTorch.
#pragma once
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>

#include "bind/array_view.h"
#include "bind/kernel_args.h"

namespace ember::bind {
namespace kernel_args {

struct AttentionArgs {
  ArrayView q, k, v;
  OptionalArray mask;
  int64_t B, Tq, Tk, D, Dv, mask_stride;
  double scale;
};

template <class Backend>
AttentionArgs attention_args(py::handle q_obj, py::handle k_obj, py::handle v_obj,
                             py::handle mask_obj, py::handle scale_obj) {
  AttentionArgs a;
  a.q = float_input<Backend>(q_obj, "q");
  require_ndim(a.q, 3);
  a.B = a.q.shape[0];
  a.Tq = a.q.shape[1];
  a.D = a.q.shape[2];
  a.k = Backend::view(k_obj, "k");
  require_ndim(a.k, 3);
  a.Tk = a.k.shape[1];
  require_array(a.k, a.q, {a.B, a.Tk, a.D});
  a.v = Backend::view(v_obj, "v");
  require_ndim(a.v, 3);
  a.Dv = a.v.shape[2];
  require_array(a.v, a.q, {a.B, a.Tk, a.Dv});
  a.mask.view.name = "mask";
  a.mask_stride = 0;
  if (!mask_obj.is_none()) {
    ArrayView mask = Backend::view(mask_obj, "mask");
    require_ndim(mask, 3);
    require(mask.shape[0] == a.B || mask.shape[0] == 1,
            "argument 'mask' must have batch " + std::to_string(a.B) + " or 1, got shape " +
                shape_str(mask.shape));
    a.mask = optional_array<Backend>(mask_obj, "mask", a.q, {mask.shape[0], a.Tq, a.Tk});
    a.mask_stride = mask.shape[0] == 1 ? 0 : a.Tq * a.Tk;
  }
  a.scale = scale_obj.is_none() ? (a.D > 0 ? 1.0 / std::sqrt(double(a.D)) : 1.0)
                                : scale_obj.cast<double>();
  require(std::isfinite(a.scale), "argument 'scale' must be finite");
  return a;
}

}  // namespace kernel_args

template <class Backend>
void bind_attention(py::module_& m) {
  using namespace kernel_args;
  m.def(
      "scaled_dot_product_attention_forward",
      [](py::handle q_obj, py::handle k_obj, py::handle v_obj, py::handle mask_obj, bool is_causal,
         py::handle scale_obj, py::handle out_obj, py::handle lse_obj) {
        const AttentionArgs a =
            attention_args<Backend>(q_obj, k_obj, v_obj, mask_obj, scale_obj);
        ArrayView out = output_array<Backend>(out_obj, "out", a.q, {a.B, a.Tq, a.Dv}),
                  lse = output_array<Backend>(lse_obj, "lse", a.q, {a.B, a.Tq});
        run_float<Backend>(a.q, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          scaled_dot_product_attention_forward(
              ctx, a.B, a.Tq, a.Tk, a.D, a.Dv, in_ptr<T>(a.q), in_ptr<T>(a.k), in_ptr<T>(a.v),
              in_ptr<T>(a.mask), a.mask_stride, is_causal, a.scale, out_ptr<T>(out),
              out_ptr<T>(lse));
        });
      },
      py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask"), py::arg("is_causal"),
      py::arg("scale"), py::arg("out"), py::arg("lse"),
      "Fused attention softmax(scale * q k^T + mask [+ causal]) v: writes out (B, Tq, Dv) and "
      "lse (B, Tq). A query that sees no key gets out = 0 and lse = -inf.");

  m.def(
      "scaled_dot_product_attention_backward",
      [](py::handle grad_out_obj, py::handle q_obj, py::handle k_obj, py::handle v_obj,
         py::handle mask_obj, bool is_causal, py::handle scale_obj, py::handle out_obj,
         py::handle lse_obj, py::handle grad_q_obj, py::handle grad_k_obj, py::handle grad_v_obj) {
        const AttentionArgs a =
            attention_args<Backend>(q_obj, k_obj, v_obj, mask_obj, scale_obj);
        ArrayView grad_out = input_array<Backend>(grad_out_obj, "grad_out", a.q, {a.B, a.Tq, a.Dv}),
                  out = input_array<Backend>(out_obj, "out", a.q, {a.B, a.Tq, a.Dv}),
                  lse = input_array<Backend>(lse_obj, "lse", a.q, {a.B, a.Tq}),
                  grad_q = output_array<Backend>(grad_q_obj, "grad_q", a.q, a.q.shape),
                  grad_k = output_array<Backend>(grad_k_obj, "grad_k", a.q, a.k.shape),
                  grad_v = output_array<Backend>(grad_v_obj, "grad_v", a.q, a.v.shape);
        run_float<Backend>(a.q, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          scaled_dot_product_attention_backward(
              ctx, a.B, a.Tq, a.Tk, a.D, a.Dv, in_ptr<T>(grad_out), in_ptr<T>(a.q),
              in_ptr<T>(a.k), in_ptr<T>(a.v), in_ptr<T>(a.mask), a.mask_stride, is_causal,
              a.scale, in_ptr<T>(out), in_ptr<T>(lse), out_ptr<T>(grad_q), out_ptr<T>(grad_k),
              out_ptr<T>(grad_v));
        });
      },
      py::arg("grad_out"), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask"),
      py::arg("is_causal"), py::arg("scale"), py::arg("out"), py::arg("lse"), py::arg("grad_q"),
      py::arg("grad_k"), py::arg("grad_v"),
      "Backward of scaled_dot_product_attention_forward from its out and lse (probabilities are "
      "recomputed, not stored): writes grad_q, grad_k, grad_v. The mask receives no gradient.");
}

}  // namespace ember::bind
