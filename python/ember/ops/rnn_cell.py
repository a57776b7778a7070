"""One time step of the recurrent cells (LSTM, GRU, Elman RNN) on the rnn_cell kernels."""
from __future__ import annotations

__all__ = ['lstm_cell', 'gru_cell', 'rnn_tanh_cell', 'rnn_relu_cell']


def lstm_cell(input, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None):
    raise NotImplementedError('in progress')


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    raise NotImplementedError('in progress')


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    raise NotImplementedError('in progress')


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    raise NotImplementedError('in progress')
