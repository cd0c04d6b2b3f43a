//! mtjsim: a circuit simulator for spintronic neuromorphic hardware.
//!
//! Pipeline: netlist text → [`netlist`] (parse, elaborate) → [`circuit::Circuit`] →
//! [`analysis`] (op, dc, tran over MNA with [`linalg`]) → [`results::Plot`] → [`output`].
//! See ARCHITECTURE.md for the map.

pub mod analysis;
pub mod circuit;
pub mod cli;
pub mod devices;
pub mod diag;
pub mod energy;
pub mod generate;
pub mod linalg;
pub mod mapping;
pub mod meas;
pub mod netlist;
pub mod network;
pub mod output;
pub mod report;
pub mod results;
pub mod spin_pair;
pub mod sweep;
#[doc(hidden)]
pub mod testing;
