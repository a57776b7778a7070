// Python binding of the normalisation family (batch, layer and group norm), written once for both
// backends; see csrc/bind/gemm.h for the Backend pattern and csrc/common/norm_contract.h for the
// kernels. All arrays are C-contiguous. Batch and group norm take x of shape (N, C, *spatial),
// viewed as (N, C, S); layer norm takes x of shape (M, D) (the Python layer flattens the normalised
// dims).
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bind/array_view.h"
#include "bind/kernel_args.h"

namespace ember::bind {
namespace kernel_args {

// The arrays a normalisation forward writes: out like x, save_mean and save_rstd of the
// statistics' shape.
struct NormSaved {
  ArrayView out, save_mean, save_rstd;
};
template <class Backend>
NormSaved norm_saved_outputs(const ArrayView& x, py::handle out_obj, py::handle save_mean_obj,
                             py::handle save_rstd_obj, const std::vector<int64_t>& stat_shape) {
  return {output_array<Backend>(out_obj, "out", x, x.shape),
          output_array<Backend>(save_mean_obj, "save_mean", x, stat_shape),
          output_array<Backend>(save_rstd_obj, "save_rstd", x, stat_shape)};
}

// The optional affine parameters of a normalisation forward, each (param_shape) or None.
struct NormAffine {
  OptionalArray weight, bias;
};
template <class Backend>
NormAffine norm_affine(const ArrayView& x, py::handle weight_obj, py::handle bias_obj,
                       const std::vector<int64_t>& param_shape) {
  return {optional_array<Backend>(weight_obj, "weight", x, param_shape),
          optional_array<Backend>(bias_obj, "bias", x, param_shape)};
}

// The arguments of a normalisation backward besides x: grad_out like x, the saved statistics,
// weight (param_shape) or None, and the gradients to write, each optional.
struct NormBackward {
  ArrayView grad_out, save_mean, save_rstd;
  OptionalArray weight, grad_x, grad_weight, grad_bias;
};
template <class Backend>
NormBackward norm_backward_args(const ArrayView& x, py::handle grad_out_obj, py::handle weight_obj,
                                py::handle save_mean_obj, py::handle save_rstd_obj,
                                py::handle grad_x_obj, py::handle grad_weight_obj,
                                py::handle grad_bias_obj, const std::vector<int64_t>& stat_shape,
                                const std::vector<int64_t>& param_shape) {
  NormBackward a;
  a.grad_out = input_array<Backend>(grad_out_obj, "grad_out", x, x.shape);
  a.save_mean = input_array<Backend>(save_mean_obj, "save_mean", x, stat_shape);
  a.save_rstd = input_array<Backend>(save_rstd_obj, "save_rstd", x, stat_shape);
  a.weight = optional_array<Backend>(weight_obj, "weight", x, param_shape);
  a.grad_x = optional_output<Backend>(grad_x_obj, "grad_x", x, x.shape);
  a.grad_weight = optional_output<Backend>(grad_weight_obj, "grad_weight", x, param_shape);
  a.grad_bias = optional_output<Backend>(grad_bias_obj, "grad_bias", x, param_shape);
  return a;
}

// Runs a normalisation backward kernel whose arguments after the sizes are, as for all three,
// (grad_out, x, weight, save_mean, save_rstd, grad_x, grad_weight, grad_bias); kernel(ctx, ...)
// prepends the sizes.
template <class Backend, class Kernel>
void run_norm_backward(const ArrayView& x, const NormBackward& a, Kernel&& kernel) {
  run_float<Backend>(x, [&](auto& ctx, auto tag) {
    using T = decltype(tag);
    kernel(ctx, in_ptr<T>(a.grad_out), in_ptr<T>(x), in_ptr<T>(a.weight), in_ptr<T>(a.save_mean),
           in_ptr<T>(a.save_rstd), out_ptr<T>(a.grad_x), out_ptr<T>(a.grad_weight),
           out_ptr<T>(a.grad_bias));
  });
}

using Shape = std::vector<int64_t>;

// Binds a backward with the Python arguments (grad_out, x, weight, save_mean, save_rstd, grad_x,
// grad_weight, grad_bias), as batch and layer norm have: layout(x) checks x and returns
// (sizes, statistics' shape, parameters' shape); kernel(ctx, sizes, arrays...) calls the kernel.
template <class Backend, class Layout, class Kernel>
void def_norm_backward(py::module_& m, const char* name, Layout layout, Kernel kernel,
                       const char* doc) {
  m.def(
      name,
      [layout, kernel](py::handle grad_out_obj, py::handle x_obj, py::handle weight_obj,
                       py::handle save_mean_obj, py::handle save_rstd_obj, py::handle grad_x_obj,
                       py::handle grad_weight_obj, py::handle grad_bias_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        const auto [sizes, stat_shape, param_shape] = layout(x);
        const NormBackward a = norm_backward_args<Backend>(
            x, grad_out_obj, weight_obj, save_mean_obj, save_rstd_obj, grad_x_obj,
            grad_weight_obj, grad_bias_obj, stat_shape, param_shape);
        run_norm_backward<Backend>(x, a, [&, &sizes = sizes](auto& ctx, auto... arrays) {
          kernel(ctx, sizes, arrays...);
        });
      },
      py::arg("grad_out"), py::arg("x"), py::arg("weight"), py::arg("save_mean"),
      py::arg("save_rstd"), py::arg("grad_x"), py::arg("grad_weight"), py::arg("grad_bias"), doc);
}

// (M, D) for layer norm.
inline std::pair<int64_t, int64_t> rows_shape(const ArrayView& x) {
  require_ndim(x, 2);
  return {x.shape[0], x.shape[1]};
}

inline void require_num_groups(int64_t num_groups, int64_t C) {
  require(num_groups > 0 && C % num_groups == 0,
          "argument 'num_groups' must be positive and divide the " + std::to_string(C) +
              " channels, got " + std::to_string(num_groups));
}

}  // namespace kernel_args

template <class Backend>
void bind_norm(py::module_& m) {
  using namespace kernel_args;
  m.def(
      "batch_norm_forward_train",
      [](py::handle x_obj, py::handle weight_obj, py::handle bias_obj, py::handle running_mean_obj,
         py::handle running_var_obj, double momentum, double eps, py::handle out_obj,
         py::handle save_mean_obj, py::handle save_rstd_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        const ChannelShape v = channel_shape(x);
        require(v.N * v.S != 1,
                "batch_norm: expected more than 1 value per channel when training, got input of "
                "shape " + shape_str(x.shape));
        const NormAffine p = norm_affine<Backend>(x, weight_obj, bias_obj, {v.C});
        auto running_mean = optional_output<Backend>(running_mean_obj, "running_mean", x, {v.C});
        auto running_var = optional_output<Backend>(running_var_obj, "running_var", x, {v.C});
        require_finite_at_least(momentum, 0.0, "momentum");
        require_finite_at_least(eps, 0.0, "eps");
        const NormSaved o =
            norm_saved_outputs<Backend>(x, out_obj, save_mean_obj, save_rstd_obj, {v.C});
        run_float<Backend>(x, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          batch_norm_forward_train(ctx, v.N, v.C, v.S, in_ptr<T>(x), in_ptr<T>(p.weight),
                                   in_ptr<T>(p.bias), out_ptr<T>(running_mean),
                                   out_ptr<T>(running_var), momentum, eps, out_ptr<T>(o.out),
                                   out_ptr<T>(o.save_mean), out_ptr<T>(o.save_rstd));
        });
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("running_mean"),
      py::arg("running_var"), py::arg("momentum"), py::arg("eps"), py::arg("out"),
      py::arg("save_mean"), py::arg("save_rstd"),
      "Batch norm, training mode: x (N, C, *spatial); writes out, save_mean (C,), save_rstd (C,) "
      "and updates running_mean/running_var (C,) in place (unbiased variance, PyTorch momentum). "
      "weight, bias, running_mean, running_var may be None.");

  m.def(
      "batch_norm_forward_eval",
      [](py::handle x_obj, py::handle weight_obj, py::handle bias_obj, py::handle running_mean_obj,
         py::handle running_var_obj, double eps, py::handle out_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        const ChannelShape v = channel_shape(x);
        const NormAffine p = norm_affine<Backend>(x, weight_obj, bias_obj, {v.C});
        ArrayView running_mean = input_array<Backend>(running_mean_obj, "running_mean", x, {v.C}),
                  running_var = input_array<Backend>(running_var_obj, "running_var", x, {v.C});
        require_finite_at_least(eps, 0.0, "eps");
        ArrayView out = output_array<Backend>(out_obj, "out", x, x.shape);
        run_float<Backend>(x, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          batch_norm_forward_eval(ctx, v.N, v.C, v.S, in_ptr<T>(x), in_ptr<T>(p.weight),
                                  in_ptr<T>(p.bias), in_ptr<T>(running_mean),
                                  in_ptr<T>(running_var), eps, out_ptr<T>(out));
        });
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("running_mean"),
      py::arg("running_var"), py::arg("eps"), py::arg("out"),
      "Batch norm, evaluation mode (running statistics): x (N, C, *spatial); writes out.");

  def_norm_backward<Backend>(
      m, "batch_norm_backward",
      [](const ArrayView& x) {
        const ChannelShape v = channel_shape(x);
        return std::make_tuple(v, Shape{v.C}, Shape{v.C});
      },
      [](auto& ctx, const ChannelShape& v, auto... arrays) {
        batch_norm_backward(ctx, v.N, v.C, v.S, arrays...);
      },
      "Batch norm backward (training mode). Writes grad_x (like x), grad_weight and grad_bias "
      "(C,); pass None for a gradient that is not needed.");

  m.def(
      "layer_norm_forward",
      [](py::handle x_obj, py::handle weight_obj, py::handle bias_obj, double eps,
         py::handle out_obj, py::handle save_mean_obj, py::handle save_rstd_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        const auto [M, D] = rows_shape(x);
        const NormAffine p = norm_affine<Backend>(x, weight_obj, bias_obj, {D});
        require_finite_at_least(eps, 0.0, "eps");
        const NormSaved o =
            norm_saved_outputs<Backend>(x, out_obj, save_mean_obj, save_rstd_obj, {M});
        run_float<Backend>(x, [&, M = M, D = D](auto& ctx, auto tag) {
          using T = decltype(tag);
          layer_norm_forward(ctx, M, D, in_ptr<T>(x), in_ptr<T>(p.weight), in_ptr<T>(p.bias), eps,
                             out_ptr<T>(o.out), out_ptr<T>(o.save_mean), out_ptr<T>(o.save_rstd));
        });
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("eps"), py::arg("out"),
      py::arg("save_mean"), py::arg("save_rstd"),
      "Layer norm over the last dim of x (M, D); weight, bias (D,) or None. Writes out (M, D), "
      "save_mean and save_rstd (M,).");

  def_norm_backward<Backend>(
      m, "layer_norm_backward",
      [](const ArrayView& x) {
        const auto [M, D] = rows_shape(x);
        return std::make_tuple(std::make_pair(M, D), Shape{M}, Shape{D});
      },
      [](auto& ctx, const std::pair<int64_t, int64_t>& md, auto... arrays) {
        layer_norm_backward(ctx, md.first, md.second, arrays...);
      },
      "Layer norm backward. Writes grad_x (M, D), grad_weight and grad_bias (D,); pass None for a "
      "gradient that is not needed.");

  m.def(
      "group_norm_forward",
      [](py::handle x_obj, int64_t num_groups, py::handle weight_obj, py::handle bias_obj,
         double eps, py::handle out_obj, py::handle save_mean_obj, py::handle save_rstd_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        const ChannelShape v = channel_shape(x);
        require_num_groups(num_groups, v.C);
        const NormAffine p = norm_affine<Backend>(x, weight_obj, bias_obj, {v.C});
        require_finite_at_least(eps, 0.0, "eps");
        const NormSaved o = norm_saved_outputs<Backend>(x, out_obj, save_mean_obj, save_rstd_obj,
                                                        {v.N, num_groups});
        run_float<Backend>(x, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          group_norm_forward(ctx, v.N, v.C, v.S, num_groups, in_ptr<T>(x), in_ptr<T>(p.weight),
                             in_ptr<T>(p.bias), eps, out_ptr<T>(o.out), out_ptr<T>(o.save_mean),
                             out_ptr<T>(o.save_rstd));
        });
      },
      py::arg("x"), py::arg("num_groups"), py::arg("weight"), py::arg("bias"), py::arg("eps"),
      py::arg("out"), py::arg("save_mean"), py::arg("save_rstd"),
      "Group norm: x (N, C, *spatial), statistics per (sample, group of C/num_groups channels); "
      "weight, bias (C,) or None. Writes out, save_mean and save_rstd (N, num_groups).");

  m.def(
      "group_norm_backward",
      [](py::handle grad_out_obj, py::handle x_obj, int64_t num_groups, py::handle weight_obj,
         py::handle save_mean_obj, py::handle save_rstd_obj, py::handle grad_x_obj,
         py::handle grad_weight_obj, py::handle grad_bias_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        const ChannelShape v = channel_shape(x);
        require_num_groups(num_groups, v.C);
        const NormBackward a = norm_backward_args<Backend>(
            x, grad_out_obj, weight_obj, save_mean_obj, save_rstd_obj, grad_x_obj,
            grad_weight_obj, grad_bias_obj, {v.N, num_groups}, {v.C});
        run_norm_backward<Backend>(x, a, [&](auto& ctx, auto... arrays) {
          group_norm_backward(ctx, v.N, v.C, v.S, num_groups, arrays...);
        });
      },
      py::arg("grad_out"), py::arg("x"), py::arg("num_groups"), py::arg("weight"),
      py::arg("save_mean"), py::arg("save_rstd"), py::arg("grad_x"), py::arg("grad_weight"),
      py::arg("grad_bias"),
      "Group norm backward. Writes grad_x (like x), grad_weight and grad_bias (C,); pass None for "
      "a gradient that is not needed.");
}

}  // namespace ember::bind
