"""Recurrent cells: the fused elementwise part of an LSTM / GRU step against the NumPy (CuPy) a
user writes from the same GEMM outputs (split the gates, activations, cell update), and the same
expressions in torch when installed (torch's CPU LSTMCell/GRUCell run this unfused elementwise
part after their GEMMs).

Shape: batch 64, hidden 512, float32.
"""
from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none


def cases(device: str) -> list[Case]:
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
    rng = np.random.default_rng(0)
    B, H = 64, 512
    f32 = np.float32
    gates = xp.asarray(rng.standard_normal((B, 4 * H), f32))
    c_prev = xp.asarray(rng.standard_normal((B, H), f32))
    h, c, act = xp.empty((B, H), f32), xp.empty((B, H), f32), xp.empty((B, 4 * H), f32)
    gh = xp.asarray(rng.standard_normal((B, H), f32))
    gc = xp.asarray(rng.standard_normal((B, H), f32))
    g_gates, g_c_prev = xp.empty((B, 4 * H), f32), xp.empty((B, H), f32)
    C.lstm_cell_forward(gates, c_prev, h, c, act)

    def sigmoid(v):
        return 1 / (1 + xp.exp(-v))

    def lstm_fwd_ref():
        i, f, g, o = xp.split(gates, 4, axis=1)
        i, f, g, o = sigmoid(i), sigmoid(f), xp.tanh(g), sigmoid(o)
        c_new = f * c_prev + i * g
        return o * xp.tanh(c_new), c_new, xp.concatenate([i, f, g, o], axis=1)

    def lstm_bwd_ref():
        i, f, g, o = xp.split(act, 4, axis=1)
        tc = xp.tanh(c)
        dc = gc + gh * o * (1 - tc * tc)
        return xp.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                               dc * i * (1 - g * g), gh * tc * o * (1 - o)], axis=1), dc * f

    gi = xp.asarray(rng.standard_normal((B, 3 * H), f32))
    ghh = xp.asarray(rng.standard_normal((B, 3 * H), f32))
    h_prev = xp.asarray(rng.standard_normal((B, H), f32))
    h_out, saved = xp.empty((B, H), f32), xp.empty((B, 4 * H), f32)
    d_gi, d_gh, d_h = xp.empty((B, 3 * H), f32), xp.empty((B, 3 * H), f32), xp.empty((B, H), f32)

    def gru_fwd_ref():
        ir, iz, i_n = xp.split(gi, 3, axis=1)
        hr, hz, hn = xp.split(ghh, 3, axis=1)
        r, z = sigmoid(ir + hr), sigmoid(iz + hz)
        n = xp.tanh(i_n + r * hn)
        return (1 - z) * n + z * h_prev

    def gru_bwd_ref():
        r, z, nn, hn = xp.split(saved, 4, axis=1)
        dn = gh * (1 - z) * (1 - nn * nn)
        dr = dn * hn * r * (1 - r)
        dz = gh * (h_prev - nn) * z * (1 - z)
        return (xp.concatenate([dr, dz, dn], axis=1), xp.concatenate([dr, dz, dn * r], axis=1),
                gh * z)

    C.gru_cell_forward(gi, ghh, h_prev, h_out, saved)
    n = B * H
    name = xp.__name__
    refs = {"lstm fwd": {name: lstm_fwd_ref}, "lstm bwd": {name: lstm_bwd_ref},
            "gru fwd": {name: gru_fwd_ref}, "gru bwd": {name: gru_bwd_ref}}
    if torch is not None:
        arrays = {"gates": gates, "c_prev": c_prev, "act": act, "c": c, "gh": gh, "gc": gc,
                  "gi": gi, "ghh": ghh, "h_prev": h_prev, "saved": saved}
        T = {k: torch.as_tensor(a, device=device) for k, a in arrays.items()}

        def torch_lstm_fwd():
            i, f, g, o = T["gates"].chunk(4, 1)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c_new = f * T["c_prev"] + i * g
            return o * c_new.tanh(), c_new, torch.cat([i, f, g, o], 1)

        def torch_lstm_bwd():
            i, f, g, o = T["act"].chunk(4, 1)
            tc = T["c"].tanh()
            dc = T["gc"] + T["gh"] * o * (1 - tc * tc)
            return torch.cat([dc * g * i * (1 - i), dc * T["c_prev"] * f * (1 - f),
                              dc * i * (1 - g * g), T["gh"] * tc * o * (1 - o)], 1), dc * f

        def torch_gru_fwd():
            ir, iz, i_n = T["gi"].chunk(3, 1)
            hr, hz, hn = T["ghh"].chunk(3, 1)
            r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
            nn = (i_n + r * hn).tanh()
            return (1 - z) * nn + z * T["h_prev"]

        def torch_gru_bwd():
            r, z, nn, hn = T["saved"].chunk(4, 1)
            dn = T["gh"] * (1 - z) * (1 - nn * nn)
            dr = dn * hn * r * (1 - r)
            dz = T["gh"] * (T["h_prev"] - nn) * z * (1 - z)
            return torch.cat([dr, dz, dn], 1), torch.cat([dr, dz, dn * r], 1), T["gh"] * z

        for key, fn in [("lstm fwd", torch_lstm_fwd), ("lstm bwd", torch_lstm_bwd),
                        ("gru fwd", torch_gru_fwd), ("gru bwd", torch_gru_bwd)]:
            refs[key]["torch"] = fn
    return [
        Case("rnn_cell", "lstm_cell fwd B=64 H=512",
             ember=lambda: C.lstm_cell_forward(gates, c_prev, h, c, act),
             references=refs["lstm fwd"], flops=30 * n, bytes=4 * 11 * n),
        Case("rnn_cell", "lstm_cell bwd B=64 H=512",
             ember=lambda: C.lstm_cell_backward(gh, gc, act, c_prev, c, g_gates, g_c_prev),
             references=refs["lstm bwd"], flops=30 * n, bytes=4 * 13 * n),
        Case("rnn_cell", "gru_cell fwd B=64 H=512",
             ember=lambda: C.gru_cell_forward(gi, ghh, h_prev, h_out, saved),
             references=refs["gru fwd"], flops=25 * n, bytes=4 * 12 * n),
        Case("rnn_cell", "gru_cell bwd B=64 H=512",
             ember=lambda: C.gru_cell_backward(gh, saved, h_prev, d_gi, d_gh, d_h),
             references=refs["gru bwd"], flops=20 * n, bytes=4 * 14 * n),
    ]
