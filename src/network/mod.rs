//! IPNet: MTJ neurons whose Joule heating is a working memory (intrinsic plasticity),
//! trained on event-camera gestures, with RNN/LSTM/2+1D-CNN/memory-less baselines that
//! share the backbone. See docs/ipnet.md.
//!
//! Modules: [`calib`] (device calibration tables from `devices::mtj`), [`ip`] (the IP
//! layer: behavioural step + autograd ops), [`events`] (event streams, time reversal,
//! binning), [`gestures`] (synthetic DVS gesture generator), [`aedat`] (AEDAT 3.1 / 4
//! readers), [`model`] (backbone, placements, baselines), [`train`] (training, evaluation,
//! checkpoints).
//!
//! # Trained-weights format (stable; read by the crossbar/circuit mapping of issue 7)
//! A model `NAME` is two files in `weights/`:
//! * `NAME.safetensors`: f32 tensors, names and shapes (C1, C2, C3, H = `arch` fields,
//!   K = `ip_channels`, S = `size`, N = `classes`):
//!   - `ip_in.w [K,2,1,1]`, `ip_in.b [K]` — frontier only: 1×1 conv from the two event
//!     polarities to the IP neurons' drive (units of Ic0);
//!   - `conv1.w [C1,Cin,2,2]`, `conv1.b [C1]` (Cin = K for frontier, 1 for sum, else 2), stride 2, no
//!     padding (non-overlapping 2×2 patches);
//!   - `conv2.w [C2,C1,2,2]`, `conv2.b [C2]`, `conv3.w [C3,C2,2,2]`, `conv3.b [C3]`, same;
//!   - `fc1.w [H, (S/8)²·C3]`, `fc1.b [H]`; its input is the conv3 output flattened
//!     channels-last, index `(y·(S/8) + x)·C3 + c`;
//!   - temporal module: `rnn.wx [H,H]`, `rnn.wh [H,H]`, `rnn.b [H]`; `lstm.wx [4H,H]`,
//!     `lstm.wh [4H,H]`, `lstm.b [4H]` (gate order i, f, g, o); `tconv.w [H,H,3]`,
//!     `tconv.b [H]` (2+1D: temporal conv, pad 1); none for ipnet and sum;
//!   - `head.w [N,H]`, `head.b [N]`.
//!
//!   Linear layers compute `y = W x + b` (W is [out, in]); convs are cross-correlations
//!   with PyTorch's kernel layout `[out, in, kh, kw]`; activations are kept channels-last
//!   (`[N, H, W, C]`) inside the model, and IP-layer neurons are numbered in that order.
//! * `NAME.json`: [`model::Arch`] — model kind, placement (`frontier`|`middle`|`end`),
//!   sizes, the calibration table path and its IP-layer constants (decay, grids), plus the
//!   training record (seed, epochs, dataset, accuracy).
//!
//! Per time step t (frames `[T,2,S,S]` of event counts, input = min(count,15)/4):
//! `conv1→relu→conv2→relu→conv3→relu→fc1→relu` gives a feature `f_t ∈ R^H`; the temporal
//! module maps `f_1..f_T` to `g_1..g_T`; logits = `head(mean_t g_t)`. The IP layer replaces
//! the activation it sits on: frontier = on `ip_in(frame)`, middle = on conv1's
//! pre-activation, end = on fc1's pre-activation; its spikes (0/1) are the layer's output.
//! [`model::Network::ip_trace`] returns, per time step, each IP neuron's drive, its
//! temperature rise and its spike — the behavioural reference for spike-for-spike
//! comparison with circuit simulation.

pub mod aedat;
pub mod calib;
pub mod events;
pub mod gestures;
pub mod ip;
pub mod memory;
pub mod model;
pub mod train;
