//! MTJ device
