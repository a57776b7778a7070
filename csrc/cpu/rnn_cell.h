// Recurrent cells (CPU): the contract is csrc/common/rnn_cell_contract.h; rnn_cell.cpp has the
// implementation notes.
#pragma once
#include <cstdint>

#include "cpu/context.h"

namespace ember::cpu {
#include "common/rnn_cell_contract.h"
}  // namespace ember::cpu
