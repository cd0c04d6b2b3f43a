//! MTJ device physics: a single-domain (macrospin) free layer driven by spin-transfer
//! torque and thermal noise, a tunnel conductance with bias- and temperature-dependent TMR,
//! and a lumped thermal node heated by the device's own Joule power.
//!
//! Owns the physics of one device type, independent of circuits: parameters from a model
//! card ([`params`]), temperature laws ([`temperature`]), LLGS dynamics ([`llgs`]), the
//! conductance ([`transport`]), the thermal node ([`thermal`]), a one-device stepper
//! ([`integrator`]), a batch of many independent devices ([`batch`]) and the
//! characterisation experiments behind `mtjsim device` ([`experiments`]). It must not know
//! about MNA: the circuit element (`devices::mtj_element`) calls the pure functions here.
//!
//! Conventions (MTJ_CARD.md): SI units; positive current flows free → ref and favours P.

pub mod analytic;
pub mod batch;
pub mod constants;
pub mod experiments;
pub mod integrator;
pub mod llgs;
pub mod params;
pub mod temperature;
pub mod thermal;
pub mod transport;
pub mod vec3;

pub use integrator::{
    Bias, Drive, MacrospinState, StepOutput, Stepper, brown_field_increment, brown_sigma_a_per_m,
    recommended_dt_s, sample_xi, state_rates, step,
};
pub use llgs::{LlgsJacobian, MagCoeffs, dm_dt, dm_dt_jacobian, effective_field, energy_density};
pub use params::{InstanceParams, MtjParams};
pub use thermal::{ThermalModel, dtemp_dt};
pub use transport::{Conductance, CurrentJacobian, conductance, current_jacobian};
