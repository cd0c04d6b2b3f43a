//! Netlist generators: write ordinary, readable netlists for large regular structures.

pub mod crossbar;
