// Python binding of the pooling and upsampling family, written once for both backends (see
// bind/gemm.h). Arrays are C-contiguous NCHW; the output size comes from the output array's
// shape and is checked against PyTorch's rules for the operation.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "bind/array_view.h"
#include "common/window2d.h"

namespace ember::bind {

// The shapes of a pooling-like operation: `planes` = N*C planes of (H, W) in, (OH, OW) out.
struct PlaneShapes {
  int64_t planes, H, W, OH, OW;
};

// Checks an input-side array (N, C, H, W) with H, W >= 1 and an output-side array
// (N, C, OH, OW): both 4-D, C-contiguous, of one floating dtype. `written` must be writable.
inline PlaneShapes plane_shapes(const ArrayView& input, const ArrayView& output,
                                const ArrayView& written) {
  for (const ArrayView* a : {&input, &output}) {
    require_ndim(*a, 4);
    require_contiguous(*a);
  }
  require_float(input);
  require_same_dtype(input, output);
  require_writable(written);
  require(input.shape[2] >= 1 && input.shape[3] >= 1,
          "argument '" + input.name + "' must have non-empty spatial dimensions, got shape " +
              shape_str(input.shape));
  require(output.shape[0] == input.shape[0] && output.shape[1] == input.shape[1],
          "argument '" + output.name + "' must have the batch and channel sizes of '" +
              input.name + "' " + shape_str(input.shape) + ", got shape " +
              shape_str(output.shape));
  return {input.shape[0] * input.shape[1], input.shape[2], input.shape[3], output.shape[2],
          output.shape[3]};
}

// An int64 index array with the shape of `like`.
inline void require_indices(const ArrayView& indices, const ArrayView& like) {
  require_dtype(indices, DType::i64);
  require_contiguous(indices);
  require_shape(indices, like.shape);
}

// PyTorch's pooling output size. In ceil mode the last window must still start inside the input
// or the left padding.
inline int64_t pool_output_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d,
                                bool ceil_mode) {
  const int64_t span = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  if (span < 0) return 0;
  int64_t out = span / s + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

// Checks a pooling window and that the output size (OH, OW) is the floor-mode or the ceil-mode
// size for an (H, W) input; with every_window_nonempty, also that each window (dilated, clipped
// to the input) holds at least one input element, as max pooling needs.
inline void check_pool_window(const Window2d& w, const PlaneShapes& s, const ArrayView& output,
                              bool every_window_nonempty) {
  require(w.kh > 0 && w.kw > 0, "arguments 'kh' and 'kw' must be positive, got " +
                                    std::to_string(w.kh) + ", " + std::to_string(w.kw));
  require(w.sh > 0 && w.sw > 0, "arguments 'sh' and 'sw' must be positive, got " +
                                    std::to_string(w.sh) + ", " + std::to_string(w.sw));
  require(w.dh > 0 && w.dw > 0, "arguments 'dh' and 'dw' must be positive, got " +
                                    std::to_string(w.dh) + ", " + std::to_string(w.dw));
  require(w.ph >= 0 && w.pw >= 0 && w.ph <= ((w.kh - 1) * w.dh + 1) / 2 &&
              w.pw <= ((w.kw - 1) * w.dw + 1) / 2,
          "arguments 'ph' and 'pw' must be non-negative and at most half of the (dilated) kernel "
          "size, got " + std::to_string(w.ph) + ", " + std::to_string(w.pw));
  const int64_t floor_h = pool_output_size(s.H, w.kh, w.sh, w.ph, w.dh, false);
  const int64_t floor_w = pool_output_size(s.W, w.kw, w.sw, w.pw, w.dw, false);
  const int64_t ceil_h = pool_output_size(s.H, w.kh, w.sh, w.ph, w.dh, true);
  const int64_t ceil_w = pool_output_size(s.W, w.kw, w.sw, w.pw, w.dw, true);
  require(s.OH >= 1 && s.OW >= 1 && (s.OH == floor_h || s.OH == ceil_h) &&
              (s.OW == floor_w || s.OW == ceil_w),
          "argument '" + output.name + "' must have spatial size (" + std::to_string(floor_h) +
              ", " + std::to_string(floor_w) + "), or (" + std::to_string(ceil_h) + ", " +
              std::to_string(ceil_w) + ") with ceil_mode, for an input of size (" +
              std::to_string(s.H) + ", " + std::to_string(s.W) + "), got shape " +
              shape_str(output.shape));
  if (!every_window_nonempty) return;
  // Only windows starting in the top/left padding can miss the input (the rest start inside it).
  auto axis_ok = [](int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d) {
    for (int64_t o = 0; o < out && o * s < p; ++o) {
      const int64_t start = o * s - p;
      const int64_t first = start + (-start + d - 1) / d * d;
      if (first >= in || first > start + (k - 1) * d) return false;
    }
    return true;
  };
  require(axis_ok(s.H, s.OH, w.kh, w.sh, w.ph, w.dh) && axis_ok(s.W, s.OW, w.kw, w.sw, w.pw, w.dw),
          "max pooling: a window lies entirely in the padding (input too small for this padding "
          "and dilation)");
}

// Adaptive pooling and upsampling take any output size >= 1.
inline void require_nonempty_output(const PlaneShapes& s, const ArrayView& output) {
  require(s.OH >= 1 && s.OW >= 1, "argument '" + output.name +
                                      "' must have non-empty spatial dimensions, got shape " +
                                      shape_str(output.shape));
}

template <class Backend>
void bind_pool(py::module_& m) {
  m.def(
      "max_pool2d_forward",
      [](py::handle x_obj, py::handle out_obj, py::handle indices_obj, int64_t kh, int64_t kw,
         int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
        ArrayView x = Backend::view(x_obj, "x"), out = Backend::view(out_obj, "out"),
                  indices = Backend::view(indices_obj, "indices");
        const PlaneShapes s = plane_shapes(x, out, out);
        require_indices(indices, out);
        require_writable(indices);
        const Window2d win{kh, kw, sh, sw, ph, pw, dh, dw};
        check_pool_window(win, s, out, /*every_window_nonempty=*/true);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          max_pool2d_forward(ctx, x.template ptr<const T>(), out.template ptr<T>(),
                             indices.template ptr<int64_t>(), s.planes, s.H, s.W, s.OH, s.OW, win);
        });
      },
      py::arg("x"), py::arg("out"), py::arg("indices"), py::arg("kh"), py::arg("kw"), py::arg("sh"),
      py::arg("sw"), py::arg("ph") = 0, py::arg("pw") = 0, py::arg("dh") = 1, py::arg("dw") = 1,
      "Max pooling of x (N,C,H,W) into out (N,C,OH,OW) (floor or ceil-mode size) and int64 "
      "indices (N,C,OH,OW) = ih*W + iw of each maximum.");

  m.def(
      "max_pool2d_backward",
      [](py::handle grad_out_obj, py::handle indices_obj, py::handle grad_x_obj) {
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  indices = Backend::view(indices_obj, "indices"),
                  grad_x = Backend::view(grad_x_obj, "grad_x");
        const PlaneShapes s = plane_shapes(grad_x, grad_out, grad_x);
        require_indices(indices, grad_out);
        auto ctx = Backend::context();
        require(indices_in_range(ctx, indices.template ptr<const int64_t>(), indices.numel(),
                                 s.H * s.W),
                "argument 'indices' holds positions outside [0, H*W) = [0, " +
                    std::to_string(s.H * s.W) + ") of 'grad_x'");
        dispatch_float(grad_x, [&](auto tag) {
          using T = decltype(tag);
          max_pool2d_backward(ctx, grad_out.template ptr<const T>(),
                              indices.template ptr<const int64_t>(), grad_x.template ptr<T>(),
                              s.planes, s.H, s.W, s.OH, s.OW);
        });
      },
      py::arg("grad_out"), py::arg("indices"), py::arg("grad_x"),
      "grad_x (N,C,H,W) = grad_out (N,C,OH,OW) scattered (summed) to the positions in indices; "
      "the backward of max_pool2d and adaptive_max_pool2d.");

  auto avg_pool = [](bool backward) {
    return [backward](py::handle in_obj, py::handle out_obj, int64_t kh, int64_t kw, int64_t sh,
                      int64_t sw, int64_t ph, int64_t pw, bool count_include_pad,
                      int64_t divisor_override) {
      // forward: (x, out); backward: (grad_out, grad_x), the input side being grad_x.
      ArrayView a = Backend::view(in_obj, backward ? "grad_out" : "x"),
                b = Backend::view(out_obj, backward ? "grad_x" : "out");
      const ArrayView& input = backward ? b : a;
      const ArrayView& output = backward ? a : b;
      const PlaneShapes s = plane_shapes(input, output, b);
      const Window2d win{kh, kw, sh, sw, ph, pw, 1, 1};
      check_pool_window(win, s, output, /*every_window_nonempty=*/false);
      require(divisor_override >= 0, "argument 'divisor_override' must be >= 0 (0 = none), got " +
                                         std::to_string(divisor_override));
      auto ctx = Backend::context();
      dispatch_float(a, [&](auto tag) {
        using T = decltype(tag);
        if (backward)
          avg_pool2d_backward(ctx, a.template ptr<const T>(), b.template ptr<T>(), s.planes, s.H,
                              s.W, s.OH, s.OW, win, count_include_pad, divisor_override);
        else
          avg_pool2d_forward(ctx, a.template ptr<const T>(), b.template ptr<T>(), s.planes, s.H,
                             s.W, s.OH, s.OW, win, count_include_pad, divisor_override);
      });
    };
  };
  m.def("avg_pool2d_forward", avg_pool(false), py::arg("x"), py::arg("out"), py::arg("kh"),
        py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("ph") = 0, py::arg("pw") = 0,
        py::arg("count_include_pad") = true, py::arg("divisor_override") = 0,
        "Average pooling of x (N,C,H,W) into out (N,C,OH,OW) (floor or ceil-mode size), with "
        "PyTorch's divisor rules; divisor_override 0 means none.");
  m.def("avg_pool2d_backward", avg_pool(true), py::arg("grad_out"), py::arg("grad_x"),
        py::arg("kh"), py::arg("kw"), py::arg("sh"), py::arg("sw"), py::arg("ph") = 0,
        py::arg("pw") = 0, py::arg("count_include_pad") = true, py::arg("divisor_override") = 0,
        "grad_x (N,C,H,W) = gradient of avg_pool2d given grad_out (N,C,OH,OW).");

  m.def(
      "adaptive_avg_pool2d_forward",
      [](py::handle x_obj, py::handle out_obj) {
        ArrayView x = Backend::view(x_obj, "x"), out = Backend::view(out_obj, "out");
        const PlaneShapes s = plane_shapes(x, out, out);
        require_nonempty_output(s, out);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          adaptive_avg_pool2d_forward(ctx, x.template ptr<const T>(), out.template ptr<T>(),
                                      s.planes, s.H, s.W, s.OH, s.OW);
        });
      },
      py::arg("x"), py::arg("out"),
      "Adaptive average pooling of x (N,C,H,W) into out (N,C,OH,OW).");

  m.def(
      "adaptive_avg_pool2d_backward",
      [](py::handle grad_out_obj, py::handle grad_x_obj) {
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  grad_x = Backend::view(grad_x_obj, "grad_x");
        const PlaneShapes s = plane_shapes(grad_x, grad_out, grad_x);
        require_nonempty_output(s, grad_out);
        auto ctx = Backend::context();
        dispatch_float(grad_x, [&](auto tag) {
          using T = decltype(tag);
          adaptive_avg_pool2d_backward(ctx, grad_out.template ptr<const T>(),
                                       grad_x.template ptr<T>(), s.planes, s.H, s.W, s.OH, s.OW);
        });
      },
      py::arg("grad_out"), py::arg("grad_x"),
      "grad_x (N,C,H,W) = gradient of adaptive_avg_pool2d given grad_out (N,C,OH,OW).");

  m.def(
      "adaptive_max_pool2d_forward",
      [](py::handle x_obj, py::handle out_obj, py::handle indices_obj) {
        ArrayView x = Backend::view(x_obj, "x"), out = Backend::view(out_obj, "out"),
                  indices = Backend::view(indices_obj, "indices");
        const PlaneShapes s = plane_shapes(x, out, out);
        require_nonempty_output(s, out);
        require_indices(indices, out);
        require_writable(indices);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          adaptive_max_pool2d_forward(ctx, x.template ptr<const T>(), out.template ptr<T>(),
                                      indices.template ptr<int64_t>(), s.planes, s.H, s.W, s.OH,
                                      s.OW);
        });
      },
      py::arg("x"), py::arg("out"), py::arg("indices"),
      "Adaptive max pooling of x (N,C,H,W) into out (N,C,OH,OW) and int64 indices; the "
      "backward is max_pool2d_backward.");

  // max_unpool2d forward: (x, indices, out); backward: (grad_out, indices, grad_x). The unpooled
  // array (out, grad_out) is the large side, the one plane_shapes calls the input.
  auto max_unpool = [](bool backward) {
    return [backward](py::handle a_obj, py::handle indices_obj, py::handle b_obj) {
      ArrayView a = Backend::view(a_obj, backward ? "grad_out" : "x"),
                indices = Backend::view(indices_obj, "indices"),
                b = Backend::view(b_obj, backward ? "grad_x" : "out");
      const ArrayView& pooled = backward ? b : a;
      const ArrayView& unpooled = backward ? a : b;
      const PlaneShapes s = plane_shapes(unpooled, pooled, b);
      const int64_t H = s.OH, W = s.OW, OH = s.H, OW = s.W;
      require_indices(indices, pooled);
      auto ctx = Backend::context();
      require(indices_in_range(ctx, indices.template ptr<const int64_t>(), indices.numel(),
                               OH * OW),
              "argument 'indices' holds positions outside [0, OH*OW) = [0, " +
                  std::to_string(OH * OW) + ") of '" + unpooled.name + "'");
      dispatch_float(pooled, [&](auto tag) {
        using T = decltype(tag);
        const T* src = a.template ptr<const T>();
        const int64_t* idx = indices.template ptr<const int64_t>();
        T* dst = b.template ptr<T>();
        if (backward)
          max_unpool2d_backward(ctx, src, idx, dst, s.planes, H, W, OH, OW);
        else
          max_unpool2d_forward(ctx, src, idx, dst, s.planes, H, W, OH, OW);
      });
    };
  };
  m.def("max_unpool2d_forward", max_unpool(false), py::arg("x"), py::arg("indices"),
        py::arg("out"),
        "out (N,C,OH,OW) = zeros with x (N,C,H,W) stored at the int64 indices (N,C,H,W) "
        "(flat positions in an OH*OW plane).");
  m.def("max_unpool2d_backward", max_unpool(true), py::arg("grad_out"), py::arg("indices"),
        py::arg("grad_x"),
        "grad_x (N,C,H,W) = grad_out (N,C,OH,OW) gathered at the int64 indices (N,C,H,W).");

  auto upsample = [](bool backward, bool bilinear) {
    return [backward, bilinear](py::handle a_obj, py::handle b_obj, bool align_corners) {
      // forward: (x, out); backward: (grad_out, grad_x), the input side being grad_x.
      ArrayView a = Backend::view(a_obj, backward ? "grad_out" : "x"),
                b = Backend::view(b_obj, backward ? "grad_x" : "out");
      const PlaneShapes s = backward ? plane_shapes(b, a, b) : plane_shapes(a, b, b);
      require_nonempty_output(s, backward ? a : b);
      auto ctx = Backend::context();
      dispatch_float(a, [&](auto tag) {
        using T = decltype(tag);
        const T* src = a.template ptr<const T>();
        T* dst = b.template ptr<T>();
        if (bilinear && backward)
          upsample_bilinear2d_backward(ctx, src, dst, s.planes, s.H, s.W, s.OH, s.OW,
                                       align_corners);
        else if (bilinear)
          upsample_bilinear2d_forward(ctx, src, dst, s.planes, s.H, s.W, s.OH, s.OW, align_corners);
        else if (backward)
          upsample_nearest2d_backward(ctx, src, dst, s.planes, s.H, s.W, s.OH, s.OW);
        else
          upsample_nearest2d_forward(ctx, src, dst, s.planes, s.H, s.W, s.OH, s.OW);
      });
    };
  };
  auto nearest = [upsample](bool backward) {
    return [f = upsample(backward, false)](py::handle a, py::handle b) { f(a, b, false); };
  };
  m.def("upsample_nearest2d_forward", nearest(false), py::arg("x"), py::arg("out"),
        "Nearest upsampling of x (N,C,H,W) to out (N,C,OH,OW): src = floor(dst * in / out).");
  m.def("upsample_nearest2d_backward", nearest(true), py::arg("grad_out"), py::arg("grad_x"),
        "grad_x (N,C,H,W) = gradient of upsample_nearest2d given grad_out (N,C,OH,OW).");
  m.def("upsample_bilinear2d_forward", upsample(false, true), py::arg("x"), py::arg("out"),
        py::arg("align_corners") = false,
        "Bilinear upsampling of x (N,C,H,W) to out (N,C,OH,OW), PyTorch's source coordinates.");
  m.def("upsample_bilinear2d_backward", upsample(true, true), py::arg("grad_out"),
        py::arg("grad_x"), py::arg("align_corners") = false,
        "grad_x (N,C,H,W) = gradient of upsample_bilinear2d given grad_out (N,C,OH,OW).");
}

}  // namespace ember::bind
