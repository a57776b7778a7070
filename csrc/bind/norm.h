// Python binding of the normalisation family (batch, layer and group norm), written once for
// both backends; see csrc/bind/gemm.h for the Backend pattern and csrc/cpu/norm.h for the kernels.
// All arrays are C-contiguous. Batch and group norm take x of shape (N, C, *spatial), viewed as
// (N, C, S); layer norm takes x of shape (M, D) (the Python layer flattens the normalised dims).
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "bind/array_view.h"
#include "bind/kernel_args.h"

namespace ember::bind {

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
        auto weight = optional_array<Backend>(weight_obj, "weight", x, {v.C});
        auto bias = optional_array<Backend>(bias_obj, "bias", x, {v.C});
        auto running_mean =
            optional_array<Backend>(running_mean_obj, "running_mean", x, {v.C}, true);
        auto running_var = optional_array<Backend>(running_var_obj, "running_var", x, {v.C}, true);
        require_finite_at_least(momentum, 0.0, "momentum");
        require_finite_at_least(eps, 0.0, "eps");
        ArrayView out = Backend::view(out_obj, "out"),
                  save_mean = Backend::view(save_mean_obj, "save_mean"),
                  save_rstd = Backend::view(save_rstd_obj, "save_rstd");
        require_output(out, x, x.shape);
        require_output(save_mean, x, {v.C});
        require_output(save_rstd, x, {v.C});
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          batch_norm_forward_train(ctx, v.N, v.C, v.S, x.template ptr<const T>(),
                                   weight.template ptr<const T>(), bias.template ptr<const T>(),
                                   running_mean.template ptr<T>(), running_var.template ptr<T>(),
                                   momentum, eps, out.template ptr<T>(),
                                   save_mean.template ptr<T>(), save_rstd.template ptr<T>());
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
        auto weight = optional_array<Backend>(weight_obj, "weight", x, {v.C});
        auto bias = optional_array<Backend>(bias_obj, "bias", x, {v.C});
        ArrayView running_mean = Backend::view(running_mean_obj, "running_mean"),
                  running_var = Backend::view(running_var_obj, "running_var"),
                  out = Backend::view(out_obj, "out");
        require_array(running_mean, x, {v.C});
        require_array(running_var, x, {v.C});
        require_finite_at_least(eps, 0.0, "eps");
        require_output(out, x, x.shape);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          batch_norm_forward_eval(ctx, v.N, v.C, v.S, x.template ptr<const T>(),
                                  weight.template ptr<const T>(), bias.template ptr<const T>(),
                                  running_mean.template ptr<const T>(),
                                  running_var.template ptr<const T>(), eps, out.template ptr<T>());
        });
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("running_mean"),
      py::arg("running_var"), py::arg("eps"), py::arg("out"),
      "Batch norm, evaluation mode (running statistics): x (N, C, *spatial); writes out.");

  m.def(
      "batch_norm_backward",
      [](py::handle grad_out_obj, py::handle x_obj, py::handle weight_obj, py::handle save_mean_obj,
         py::handle save_rstd_obj, py::handle grad_x_obj, py::handle grad_weight_obj,
         py::handle grad_bias_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        const ChannelShape v = channel_shape(x);
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  save_mean = Backend::view(save_mean_obj, "save_mean"),
                  save_rstd = Backend::view(save_rstd_obj, "save_rstd");
        require_array(grad_out, x, x.shape);
        require_array(save_mean, x, {v.C});
        require_array(save_rstd, x, {v.C});
        auto weight = optional_array<Backend>(weight_obj, "weight", x, {v.C});
        auto grad_x = optional_array<Backend>(grad_x_obj, "grad_x", x, x.shape, true);
        auto grad_weight = optional_array<Backend>(grad_weight_obj, "grad_weight", x, {v.C}, true);
        auto grad_bias = optional_array<Backend>(grad_bias_obj, "grad_bias", x, {v.C}, true);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          batch_norm_backward(ctx, v.N, v.C, v.S, grad_out.template ptr<const T>(),
                              x.template ptr<const T>(), weight.template ptr<const T>(),
                              save_mean.template ptr<const T>(), save_rstd.template ptr<const T>(),
                              grad_x.template ptr<T>(), grad_weight.template ptr<T>(),
                              grad_bias.template ptr<T>());
        });
      },
      py::arg("grad_out"), py::arg("x"), py::arg("weight"), py::arg("save_mean"),
      py::arg("save_rstd"), py::arg("grad_x"), py::arg("grad_weight"), py::arg("grad_bias"),
      "Batch norm backward (training mode). Writes grad_x (like x), grad_weight and grad_bias "
      "(C,); pass None for a gradient that is not needed.");

  m.def(
      "layer_norm_forward",
      [](py::handle x_obj, py::handle weight_obj, py::handle bias_obj, double eps,
         py::handle out_obj, py::handle save_mean_obj, py::handle save_rstd_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        require_ndim(x, 2);
        const int64_t M = x.shape[0], D = x.shape[1];
        auto weight = optional_array<Backend>(weight_obj, "weight", x, {D});
        auto bias = optional_array<Backend>(bias_obj, "bias", x, {D});
        require_finite_at_least(eps, 0.0, "eps");
        ArrayView out = Backend::view(out_obj, "out"),
                  save_mean = Backend::view(save_mean_obj, "save_mean"),
                  save_rstd = Backend::view(save_rstd_obj, "save_rstd");
        require_output(out, x, x.shape);
        require_output(save_mean, x, {M});
        require_output(save_rstd, x, {M});
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          layer_norm_forward(ctx, M, D, x.template ptr<const T>(), weight.template ptr<const T>(),
                             bias.template ptr<const T>(), eps, out.template ptr<T>(),
                             save_mean.template ptr<T>(), save_rstd.template ptr<T>());
        });
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("eps"), py::arg("out"),
      py::arg("save_mean"), py::arg("save_rstd"),
      "Layer norm over the last dim of x (M, D); weight, bias (D,) or None. Writes out (M, D), "
      "save_mean and save_rstd (M,).");

  m.def(
      "layer_norm_backward",
      [](py::handle grad_out_obj, py::handle x_obj, py::handle weight_obj, py::handle save_mean_obj,
         py::handle save_rstd_obj, py::handle grad_x_obj, py::handle grad_weight_obj,
         py::handle grad_bias_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        require_ndim(x, 2);
        const int64_t M = x.shape[0], D = x.shape[1];
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  save_mean = Backend::view(save_mean_obj, "save_mean"),
                  save_rstd = Backend::view(save_rstd_obj, "save_rstd");
        require_array(grad_out, x, x.shape);
        require_array(save_mean, x, {M});
        require_array(save_rstd, x, {M});
        auto weight = optional_array<Backend>(weight_obj, "weight", x, {D});
        auto grad_x = optional_array<Backend>(grad_x_obj, "grad_x", x, x.shape, true);
        auto grad_weight = optional_array<Backend>(grad_weight_obj, "grad_weight", x, {D}, true);
        auto grad_bias = optional_array<Backend>(grad_bias_obj, "grad_bias", x, {D}, true);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          layer_norm_backward(ctx, M, D, grad_out.template ptr<const T>(),
                              x.template ptr<const T>(), weight.template ptr<const T>(),
                              save_mean.template ptr<const T>(), save_rstd.template ptr<const T>(),
                              grad_x.template ptr<T>(), grad_weight.template ptr<T>(),
                              grad_bias.template ptr<T>());
        });
      },
      py::arg("grad_out"), py::arg("x"), py::arg("weight"), py::arg("save_mean"),
      py::arg("save_rstd"), py::arg("grad_x"), py::arg("grad_weight"), py::arg("grad_bias"),
      "Layer norm backward. Writes grad_x (M, D), grad_weight and grad_bias (D,); pass None for a "
      "gradient that is not needed.");

  m.def(
      "group_norm_forward",
      [](py::handle x_obj, int64_t num_groups, py::handle weight_obj, py::handle bias_obj,
         double eps, py::handle out_obj, py::handle save_mean_obj, py::handle save_rstd_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        const ChannelShape v = channel_shape(x);
        require(num_groups > 0 && v.C % num_groups == 0,
                "argument 'num_groups' must be positive and divide the " + std::to_string(v.C) +
                    " channels, got " + std::to_string(num_groups));
        auto weight = optional_array<Backend>(weight_obj, "weight", x, {v.C});
        auto bias = optional_array<Backend>(bias_obj, "bias", x, {v.C});
        require_finite_at_least(eps, 0.0, "eps");
        ArrayView out = Backend::view(out_obj, "out"),
                  save_mean = Backend::view(save_mean_obj, "save_mean"),
                  save_rstd = Backend::view(save_rstd_obj, "save_rstd");
        require_output(out, x, x.shape);
        require_output(save_mean, x, {v.N, num_groups});
        require_output(save_rstd, x, {v.N, num_groups});
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          group_norm_forward(ctx, v.N, v.C, v.S, num_groups, x.template ptr<const T>(),
                             weight.template ptr<const T>(), bias.template ptr<const T>(), eps,
                             out.template ptr<T>(), save_mean.template ptr<T>(),
                             save_rstd.template ptr<T>());
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
        require(num_groups > 0 && v.C % num_groups == 0,
                "argument 'num_groups' must be positive and divide the " + std::to_string(v.C) +
                    " channels, got " + std::to_string(num_groups));
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  save_mean = Backend::view(save_mean_obj, "save_mean"),
                  save_rstd = Backend::view(save_rstd_obj, "save_rstd");
        require_array(grad_out, x, x.shape);
        require_array(save_mean, x, {v.N, num_groups});
        require_array(save_rstd, x, {v.N, num_groups});
        auto weight = optional_array<Backend>(weight_obj, "weight", x, {v.C});
        auto grad_x = optional_array<Backend>(grad_x_obj, "grad_x", x, x.shape, true);
        auto grad_weight = optional_array<Backend>(grad_weight_obj, "grad_weight", x, {v.C}, true);
        auto grad_bias = optional_array<Backend>(grad_bias_obj, "grad_bias", x, {v.C}, true);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          group_norm_backward(ctx, v.N, v.C, v.S, num_groups, grad_out.template ptr<const T>(),
                              x.template ptr<const T>(), weight.template ptr<const T>(),
                              save_mean.template ptr<const T>(), save_rstd.template ptr<const T>(),
                              grad_x.template ptr<T>(), grad_weight.template ptr<T>(),
                              grad_bias.template ptr<T>());
        });
      },
      py::arg("grad_out"), py::arg("x"), py::arg("num_groups"), py::arg("weight"),
      py::arg("save_mean"), py::arg("save_rstd"), py::arg("grad_x"), py::arg("grad_weight"),
      py::arg("grad_bias"),
      "Group norm backward. Writes grad_x (like x), grad_weight and grad_bias (C,); pass None for "
      "a gradient that is not needed.");
}

}  // namespace ember::bind
