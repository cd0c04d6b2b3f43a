//! Netlist generators: write ordinary, readable netlists for large regular structures.

pub mod array;
pub mod crossbar;
pub mod metrics;
