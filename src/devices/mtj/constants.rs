//! Physical constants (CODATA 2018 values, as listed in PHYSICS.md). SI units.

/// Electron gyromagnetic ratio, magnitude (rad s⁻¹ T⁻¹).
pub const GAMMA: f64 = 1.760_859e11;
/// Vacuum permeability (T m A⁻¹).
pub const MU0: f64 = 1.256_637_062_12e-6;
/// γ μ0 (m A⁻¹ s⁻¹): converts a field in A/m into an angular frequency.
pub const GAMMA_MU0: f64 = GAMMA * MU0;
/// Elementary charge (C).
pub const E_CHARGE: f64 = 1.602_176_634e-19;
/// Reduced Planck constant (J s).
pub const HBAR: f64 = 1.054_571_817e-34;
/// Boltzmann constant (J K⁻¹).
pub const K_B: f64 = 1.380_649e-23;
