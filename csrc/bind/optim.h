// Python binding of the optimizer family (fused in-place SGD, Adam/AdamW, RMSprop, Adagrad steps),
// written once for both backends; see csrc/bind/gemm.h for the Backend pattern and
// csrc/common/optim_contract.h for the update rules. The parameter, its gradient and every state
// buffer are C-contiguous arrays of the same shape and dtype; hyper-parameters are checked as
// PyTorch's optimizer constructors check them.
#pragma once
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <utility>

#include "bind/array_view.h"
#include "bind/kernel_args.h"

namespace ember::bind {
namespace kernel_args {

// The parameter (written) and its gradient.
template <class Backend>
std::pair<ArrayView, ArrayView> param_and_grad(py::handle param_obj, py::handle grad_obj) {
  ArrayView param = float_input<Backend>(param_obj, "param");
  require_writable(param);
  return {param, input_array<Backend>(grad_obj, "grad", param, param.shape)};
}

// A state buffer shaped like the parameter, updated in place.
template <class Backend>
ArrayView state(py::handle obj, const char* name, const ArrayView& param) {
  return output_array<Backend>(obj, name, param, param.shape);
}

// A state buffer that an option needs (None otherwise).
template <class Backend>
OptionalArray state_if(bool needed, py::handle obj, const char* name, const ArrayView& param,
                       const char* because) {
  require(!needed || !obj.is_none(),
          std::string("argument '") + name + "' must be an array when " + because);
  return needed ? optional_output<Backend>(obj, name, param, param.shape) : OptionalArray{};
}

inline void require_beta(double beta, const char* name) {
  require(beta >= 0.0 && beta < 1.0,
          std::string("argument '") + name + "' must be in [0, 1), got " + std::to_string(beta));
}

// The step count after incrementing.
inline void require_step(int64_t step) {
  require(step >= 1, "argument 'step' must be >= 1 (the count after incrementing), got " +
                         std::to_string(step));
}

}  // namespace kernel_args

template <class Backend>
void bind_optim(py::module_& m) {
  using namespace kernel_args;
  m.def(
      "sgd_step",
      [](py::handle param_obj, py::handle grad_obj, py::handle momentum_buffer_obj, double lr,
         double momentum, double dampening, double weight_decay, bool nesterov, bool maximize,
         bool first_step) {
        auto [param, grad] = param_and_grad<Backend>(param_obj, grad_obj);
        require_finite_at_least(lr, 0.0, "lr");
        require_finite_at_least(momentum, 0.0, "momentum");
        require_finite_at_least(weight_decay, 0.0, "weight_decay");
        require(std::isfinite(dampening), "argument 'dampening' must be finite");
        require(!nesterov || (momentum > 0 && dampening == 0),
                "nesterov momentum requires a momentum and zero dampening");
        auto buf = state_if<Backend>(momentum != 0, momentum_buffer_obj, "momentum_buffer", param,
                                     "momentum != 0");
        run_float<Backend>(param, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          sgd_step(ctx, param.numel(), out_ptr<T>(param), in_ptr<T>(grad), out_ptr<T>(buf), lr,
                   momentum, dampening, weight_decay, nesterov, maximize, first_step);
        });
      },
      py::arg("param"), py::arg("grad"), py::arg("momentum_buffer"), py::arg("lr"),
      py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
      py::arg("maximize"), py::arg("first_step"),
      "One in-place SGD step (torch.optim.SGD). momentum_buffer is required when momentum != 0; "
      "first_step=True initialises it to the gradient as PyTorch does.");

  m.def(
      "adam_step",
      [](py::handle param_obj, py::handle grad_obj, py::handle exp_avg_obj,
         py::handle exp_avg_sq_obj, py::handle max_exp_avg_sq_obj, int64_t step, double lr,
         double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
         bool decoupled_weight_decay) {
        auto [param, grad] = param_and_grad<Backend>(param_obj, grad_obj);
        ArrayView exp_avg = state<Backend>(exp_avg_obj, "exp_avg", param),
                  exp_avg_sq = state<Backend>(exp_avg_sq_obj, "exp_avg_sq", param);
        auto max_sq = state_if<Backend>(amsgrad, max_exp_avg_sq_obj, "max_exp_avg_sq", param,
                                        "amsgrad=True");
        require_step(step);
        require_finite_at_least(lr, 0.0, "lr");
        require_beta(beta1, "beta1");
        require_beta(beta2, "beta2");
        require_finite_at_least(eps, 0.0, "eps");
        require_finite_at_least(weight_decay, 0.0, "weight_decay");
        run_float<Backend>(param, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          adam_step(ctx, param.numel(), out_ptr<T>(param), in_ptr<T>(grad), out_ptr<T>(exp_avg),
                    out_ptr<T>(exp_avg_sq), out_ptr<T>(max_sq), step, lr, beta1, beta2, eps,
                    weight_decay, amsgrad, maximize, decoupled_weight_decay);
        });
      },
      py::arg("param"), py::arg("grad"), py::arg("exp_avg"), py::arg("exp_avg_sq"),
      py::arg("max_exp_avg_sq"), py::arg("step"), py::arg("lr"), py::arg("beta1"),
      py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"),
      py::arg("maximize"), py::arg("decoupled_weight_decay"),
      "One in-place Adam step (torch.optim.Adam; AdamW with decoupled_weight_decay=True). step is "
      "the step count after incrementing; max_exp_avg_sq is required when amsgrad=True.");

  m.def(
      "rmsprop_step",
      [](py::handle param_obj, py::handle grad_obj, py::handle square_avg_obj,
         py::handle grad_avg_obj, py::handle momentum_buffer_obj, double lr, double alpha,
         double eps, double weight_decay, double momentum, bool centered, bool maximize) {
        auto [param, grad] = param_and_grad<Backend>(param_obj, grad_obj);
        ArrayView square_avg = state<Backend>(square_avg_obj, "square_avg", param);
        auto grad_avg =
            state_if<Backend>(centered, grad_avg_obj, "grad_avg", param, "centered=True");
        auto buf = state_if<Backend>(momentum > 0, momentum_buffer_obj, "momentum_buffer", param,
                                     "momentum > 0");
        require_finite_at_least(lr, 0.0, "lr");
        require_finite_at_least(alpha, 0.0, "alpha");
        require_finite_at_least(eps, 0.0, "eps");
        require_finite_at_least(weight_decay, 0.0, "weight_decay");
        require_finite_at_least(momentum, 0.0, "momentum");
        run_float<Backend>(param, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          rmsprop_step(ctx, param.numel(), out_ptr<T>(param), in_ptr<T>(grad),
                       out_ptr<T>(square_avg), out_ptr<T>(grad_avg), out_ptr<T>(buf), lr, alpha,
                       eps, weight_decay, momentum, centered, maximize);
        });
      },
      py::arg("param"), py::arg("grad"), py::arg("square_avg"), py::arg("grad_avg"),
      py::arg("momentum_buffer"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
      py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
      "One in-place RMSprop step (torch.optim.RMSprop). grad_avg is required when centered=True, "
      "momentum_buffer when momentum > 0.");

  m.def(
      "adagrad_step",
      [](py::handle param_obj, py::handle grad_obj, py::handle state_sum_obj, int64_t step,
         double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
        auto [param, grad] = param_and_grad<Backend>(param_obj, grad_obj);
        ArrayView state_sum = state<Backend>(state_sum_obj, "state_sum", param);
        require_step(step);
        require_finite_at_least(lr, 0.0, "lr");
        require_finite_at_least(lr_decay, 0.0, "lr_decay");
        require_finite_at_least(weight_decay, 0.0, "weight_decay");
        require_finite_at_least(eps, 0.0, "eps");
        run_float<Backend>(param, [&](auto& ctx, auto tag) {
          using T = decltype(tag);
          adagrad_step(ctx, param.numel(), out_ptr<T>(param), in_ptr<T>(grad),
                       out_ptr<T>(state_sum), step, lr, lr_decay, weight_decay, eps, maximize);
        });
      },
      py::arg("param"), py::arg("grad"), py::arg("state_sum"), py::arg("step"), py::arg("lr"),
      py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"),
      "One in-place Adagrad step (torch.optim.Adagrad). step is the step count after "
      "incrementing.");
}

}  // namespace ember::bind
