//! Integration-style unit tests of the netlist front end.
