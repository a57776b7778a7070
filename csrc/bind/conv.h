// Python binding of the convolution family, written once for both backends (see bind/gemm.h).
// Every array is C-contiguous NCHW; the geometry (stride, padding, dilation, groups) is checked
// here and the kernel size is read from the weight's shape.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "bind/array_view.h"
#include "common/window2d.h"

namespace ember::bind {

// PyTorch's convolution output size; 0 when the padded input is shorter than the dilated kernel.
inline int64_t conv_output_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  const int64_t span = in + 2 * p - d * (k - 1) - 1;
  return span < 0 ? 0 : span / s + 1;
}

struct ConvProblem {
  int64_t N, C, H, W, O, OH, OW, groups;
  Window2d win;
};

// Checks the geometry and the shapes of the three arrays in the roles of input (N, C, H, W),
// weight (O, C/groups, kh, kw) and output (N, O, OH, OW), whatever their argument names. The
// output must have exactly the convolution's size, or with output_exact = false (the backward
// of the input, i.e. conv_transpose2d) at most that size: then the input is the larger side.
inline ConvProblem conv_problem(const ArrayView& input, const ArrayView& weight,
                                const ArrayView& output, int64_t stride_h, int64_t stride_w,
                                int64_t pad_h, int64_t pad_w, int64_t dil_h, int64_t dil_w,
                                int64_t groups, bool output_exact) {
  for (const ArrayView* a : {&input, &weight, &output}) {
    require_ndim(*a, 4);
    require_contiguous(*a);
  }
  require_float(input);
  require_same_dtype(input, weight);
  require_same_dtype(input, output);
  require(stride_h > 0 && stride_w > 0,
          "arguments 'stride_h' and 'stride_w' must be positive, got " +
              std::to_string(stride_h) + ", " + std::to_string(stride_w));
  require(pad_h >= 0 && pad_w >= 0, "arguments 'pad_h' and 'pad_w' must be non-negative, got " +
                                        std::to_string(pad_h) + ", " + std::to_string(pad_w));
  require(dil_h > 0 && dil_w > 0, "arguments 'dil_h' and 'dil_w' must be positive, got " +
                                      std::to_string(dil_h) + ", " + std::to_string(dil_w));
  require(groups > 0, "argument 'groups' must be positive, got " + std::to_string(groups));

  ConvProblem p;
  p.N = input.shape[0];
  p.C = input.shape[1];
  p.H = input.shape[2];
  p.W = input.shape[3];
  p.O = weight.shape[0];
  p.groups = groups;
  p.win = Window2d{weight.shape[2], weight.shape[3], stride_h, stride_w,
                   pad_h, pad_w, dil_h, dil_w};
  require(p.win.kh > 0 && p.win.kw > 0, "argument '" + weight.name +
                                            "' must have a positive kernel size, got shape " +
                                            shape_str(weight.shape));
  require(p.C > 0 && p.C % groups == 0,
          "argument '" + input.name + "' has " + std::to_string(p.C) +
              " channels, which must be positive and divisible by groups=" +
              std::to_string(groups));
  require(p.O > 0 && p.O % groups == 0,
          "argument '" + weight.name + "' has " + std::to_string(p.O) +
              " output channels, which must be positive and divisible by groups=" +
              std::to_string(groups));
  require(weight.shape[1] == p.C / groups,
          "argument '" + weight.name + "' must have C/groups = " + std::to_string(p.C / groups) +
              " input channels (dimension 1), got shape " + shape_str(weight.shape));

  const int64_t OH = conv_output_size(p.H, p.win.kh, stride_h, pad_h, dil_h);
  const int64_t OW = conv_output_size(p.W, p.win.kw, stride_w, pad_w, dil_w);
  require(OH > 0 && OW > 0, "argument '" + input.name + "' of shape " + shape_str(input.shape) +
                                " is smaller, with padding, than the dilated kernel of '" +
                                weight.name + "' " + shape_str(weight.shape));
  if (output_exact) {
    require_shape(output, {p.N, p.O, OH, OW});
  } else {
    require(output.shape[0] == p.N && output.shape[1] == p.O && output.shape[2] >= 1 &&
                output.shape[2] <= OH && output.shape[3] >= 1 && output.shape[3] <= OW,
            "argument '" + output.name + "' must have shape (" + std::to_string(p.N) + ", " +
                std::to_string(p.O) + ", OH, OW) with 1 <= OH <= " + std::to_string(OH) +
                " and 1 <= OW <= " + std::to_string(OW) + " for '" + input.name + "' of shape " +
                shape_str(input.shape) + ", got " + shape_str(output.shape));
  }
  p.OH = output.shape[2];
  p.OW = output.shape[3];
  return p;
}

template <class Backend>
void bind_conv(py::module_& m) {
  m.def(
      "conv2d_forward",
      [](py::handle x_obj, py::handle weight_obj, py::handle bias_obj, py::handle out_obj,
         int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dil_h,
         int64_t dil_w, int64_t groups) {
        ArrayView x = Backend::view(x_obj, "x"), weight = Backend::view(weight_obj, "weight"),
                  out = Backend::view(out_obj, "out");
        ArrayView bias = optional_view(Backend::view, bias_obj, "bias");
        const ConvProblem p = conv_problem(x, weight, out, stride_h, stride_w, pad_h, pad_w, dil_h,
                                           dil_w, groups, /*output_exact=*/true);
        require_writable(out);
        if (bias.data) {
          require_same_dtype(x, bias);
          require_contiguous(bias);
          require_shape(bias, {p.O});
        }
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          conv2d_forward(ctx, x.template ptr<const T>(), weight.template ptr<const T>(),
                         bias.template ptr<const T>(), out.template ptr<T>(), p.N, p.C, p.H, p.W,
                         p.O, p.OH, p.OW, p.groups, p.win);
        });
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("out"), py::arg("stride_h") = 1,
      py::arg("stride_w") = 1, py::arg("pad_h") = 0, py::arg("pad_w") = 0, py::arg("dil_h") = 1,
      py::arg("dil_w") = 1, py::arg("groups") = 1,
      "out (N,O,OH,OW) = conv2d(x (N,C,H,W), weight (O,C/groups,kh,kw)) + bias (O,) or None.");

  // The two backwards take (a, b, written) and the same geometry: conv2d_backward_input is
  // (grad_out, weight, grad_x), conv2d_backward_weight (x, grad_out, grad_weight).
  auto conv_backward = [](bool of_weight) {
    return [of_weight](py::handle a_obj, py::handle b_obj, py::handle written_obj,
                       int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                       int64_t dil_h, int64_t dil_w, int64_t groups) {
      ArrayView a = Backend::view(a_obj, of_weight ? "x" : "grad_out"),
                b = Backend::view(b_obj, of_weight ? "grad_out" : "weight"),
                written = Backend::view(written_obj, of_weight ? "grad_weight" : "grad_x");
      // Roles in conv_problem: (input, weight, output).
      const ConvProblem p =
          of_weight ? conv_problem(a, written, b, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w,
                                   groups, /*output_exact=*/true)
                    : conv_problem(written, b, a, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w,
                                   groups, /*output_exact=*/false);
      require_writable(written);
      auto ctx = Backend::context();
      dispatch_float(written, [&](auto tag) {
        using T = decltype(tag);
        const T* a_ptr = a.template ptr<const T>();
        const T* b_ptr = b.template ptr<const T>();
        T* written_ptr = written.template ptr<T>();
        if (of_weight)
          conv2d_backward_weight(ctx, a_ptr, b_ptr, written_ptr, p.N, p.C, p.H, p.W, p.O, p.OH,
                                 p.OW, p.groups, p.win);
        else
          conv2d_backward_input(ctx, a_ptr, b_ptr, written_ptr, p.N, p.C, p.H, p.W, p.O, p.OH,
                                p.OW, p.groups, p.win);
      });
    };
  };
  m.def("conv2d_backward_input", conv_backward(false), py::arg("grad_out"), py::arg("weight"),
        py::arg("grad_x"), py::arg("stride_h") = 1, py::arg("stride_w") = 1, py::arg("pad_h") = 0,
        py::arg("pad_w") = 0, py::arg("dil_h") = 1, py::arg("dil_w") = 1, py::arg("groups") = 1,
        "grad_x (N,C,H,W) = gradient of conv2d w.r.t. its input (also conv_transpose2d's "
        "forward); (H, W) may exceed what grad_out's size needs: unreached rows/columns get 0.");
  m.def("conv2d_backward_weight", conv_backward(true), py::arg("x"), py::arg("grad_out"),
        py::arg("grad_weight"), py::arg("stride_h") = 1, py::arg("stride_w") = 1,
        py::arg("pad_h") = 0, py::arg("pad_w") = 0, py::arg("dil_h") = 1, py::arg("dil_w") = 1,
        py::arg("groups") = 1,
        "grad_weight (O,C/groups,kh,kw) = gradient of conv2d w.r.t. its weight, summed over the "
        "batch.");

  m.def(
      "conv2d_backward_bias",
      [](py::handle grad_out_obj, py::handle grad_bias_obj) {
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  grad_bias = Backend::view(grad_bias_obj, "grad_bias");
        require_ndim(grad_out, 4);
        require_contiguous(grad_out);
        require_float(grad_out);
        require_same_dtype(grad_out, grad_bias);
        require_shape(grad_bias, {grad_out.shape[1]});
        require_contiguous(grad_bias);
        require_writable(grad_bias);
        auto ctx = Backend::context();
        dispatch_float(grad_out, [&](auto tag) {
          using T = decltype(tag);
          conv2d_backward_bias(ctx, grad_out.template ptr<const T>(), grad_bias.template ptr<T>(),
                               grad_out.shape[0], grad_out.shape[1],
                               grad_out.shape[2] * grad_out.shape[3]);
        });
      },
      py::arg("grad_out"), py::arg("grad_bias"),
      "grad_bias (O,) = grad_out (N,O,OH,OW) summed over N, OH and OW.");
}

}  // namespace ember::bind
