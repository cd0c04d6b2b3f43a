//! Mapping a spiking network onto MTJ crossbar hardware, and running it circuit-in-the-loop.
//!
//! - [`network`]: the network description the mapper consumes (layers = weight matrix
//!   `[out][in]` + what follows it) and its behavioural forward pass with a pluggable
//!   matrix–vector product, so the same code runs on ideal integers or on simulated tiles.
//! - [`quantize`]: weights → integer levels → cell states (binary, multi-cell, bit-sliced
//!   differential schemes).
//! - [`tile`]: cutting a layer into `tile × tile` crossbars and writing each one as an
//!   ordinary, editable netlist of 1T1MTJ cells (`N` + NMOS elements) with wire R/C.
//! - [`circuit`]: simulating those netlists (IR drop, sneak currents through the wires,
//!   device variation, thermal noise) and digitising the sensed column currents.
//! - [`neuron`]: the intrinsic-plasticity neuron, behaviourally and as `N` elements in a
//!   transient (heating, firing, reset energies).
//! - [`pipeline`]: circuit-in-the-loop inference over samples and time steps.
//! - [`trained`]: a trained frontier IPNet checkpoint on the hardware (IP layer simulated,
//!   backbone digital).

pub mod circuit;
pub mod network;
pub mod neuron;
pub mod pipeline;
pub mod quantize;
#[cfg(test)]
pub(crate) mod tests;
pub mod tile;
pub mod trained;
