// The CPU backend's context: every csrc/cpu kernel takes it first, so that binding code written
// once (csrc/bind/*.h) reaches the CPU or the CUDA overload of a kernel by argument-dependent lookup.
#pragma once

namespace ember::cpu {
struct Context {};
}  // namespace ember::cpu
