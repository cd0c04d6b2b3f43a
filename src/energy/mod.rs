//! Energy parameters that are not simulated: periphery circuits around the arrays and the
//! per-operation energies of the digital baselines. Every value carries its source; a TOML
//! file can override any of them (`--energy-table FILE`, same keys as [`Periphery`] and
//! [`Digital`]).
//!
//! What is simulated (not from this table): the crossbar arrays (∫v·i of the input drivers
//! and word line in each tile transient) and the IP neurons (∫v·i of their drivers in each
//! neuron transient).

pub mod baseline;

use serde::{Deserialize, Serialize};

/// Periphery energies per operation (J) and delays (s).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Periphery {
    /// One ADC conversion (8-bit SAR class). ISAAC (Shafiee et al., ISCA 2016, Table 6):
    /// 8-bit ADC, 16 mW at 1.28 GS/s in 32 nm → 12.5 pJ per conversion.
    pub adc_j: f64,
    /// ADC conversion time (s): 1/1.28 GS/s (ISAAC).
    pub adc_s: f64,
    /// 1-bit input driver (DAC) per row per read. ISAAC Table 6: 8×128 1-bit DACs, 4 mW at
    /// 1.28 GHz per tile group → 4 mW / 1024 / 1.28 GHz ≈ 3.1 fJ per conversion.
    pub dac_j: f64,
    /// Sense/transimpedance + sample-and-hold per sensed column per read. ISAAC Table 6:
    /// S&H 8×128 units, 10 µW at 1.28 GHz → ≈ 7.6e-18 J; we take 10 fJ to include a TIA.
    pub sense_j: f64,
    /// Digital shift-and-add of one partial sum (16-bit add, 45 nm): Horowitz ISSCC 2014,
    /// 16-bit int add ≈ 0.05 pJ (interpolated between 8-bit 0.03 pJ and 32-bit 0.1 pJ).
    pub add_j: f64,
    /// Current-mode neuron driver (current DAC) per neuron per step: 8-bit current-steering
    /// DAC energy per conversion, order 100 fJ (e.g. ISAAC/PRIME-class periphery); assumed.
    pub neuron_driver_j: f64,
    /// Comparator reading the neuron MTJ's state per neuron per step: a StrongARM latch,
    /// ~10 fJ per decision in 45–65 nm (Razavi, IEEE SSC Magazine 2015); assumed.
    pub comparator_j: f64,
    /// Comparator decision time (s).
    pub comparator_s: f64,
}

impl Default for Periphery {
    fn default() -> Self {
        Periphery {
            adc_j: 12.5e-12,
            adc_s: 1.0 / 1.28e9,
            dac_j: 3.1e-15,
            sense_j: 10e-15,
            add_j: 0.05e-12,
            neuron_driver_j: 100e-15,
            comparator_j: 10e-15,
            comparator_s: 100e-12,
        }
    }
}

/// Per-operation energies of a 45 nm digital implementation (J). Horowitz, "Computing's
/// energy problem (and what we can do about it)", ISSCC 2014, Fig. (45 nm, 0.9 V).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Digital {
    /// 8-bit integer multiply (0.2 pJ) and add (0.03 pJ).
    pub mul8_j: f64,
    pub add8_j: f64,
    /// 32-bit float multiply (3.7 pJ) and add (0.9 pJ).
    pub fmul32_j: f64,
    pub fadd32_j: f64,
    /// SRAM read/write of 64 bits from an 8 KB array (10 pJ), 32 KB (20 pJ), 1 MB (100 pJ).
    pub sram8k_64b_j: f64,
    pub sram32k_64b_j: f64,
    pub sram1m_64b_j: f64,
    /// DRAM access of 64 bits (1.3–2.6 nJ; we take 1.3 nJ).
    pub dram_64b_j: f64,
    /// Bits per stored value in the baselines (state, weights, frames).
    pub word_bits: f64,
    /// Throughput of the digital accelerator running a trained backbone (MAC/s), for its
    /// latency estimate: Eyeriss (Chen et al., IEEE JSSC 52(1), 2017), 168 PEs at 200 MHz,
    /// one MAC per PE per cycle → 33.6 GMAC/s peak (65 nm).
    pub mac_per_s: f64,
}

impl Default for Digital {
    fn default() -> Self {
        Digital {
            mul8_j: 0.2e-12,
            add8_j: 0.03e-12,
            fmul32_j: 3.7e-12,
            fadd32_j: 0.9e-12,
            sram8k_64b_j: 10e-12,
            sram32k_64b_j: 20e-12,
            sram1m_64b_j: 100e-12,
            dram_64b_j: 1.3e-9,
            word_bits: 8.0,
            mac_per_s: 168.0 * 200e6,
        }
    }
}

/// Both tables, as read from TOML (`[periphery]`, `[digital]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnergyTable {
    pub periphery: Periphery,
    pub digital: Digital,
}

impl EnergyTable {
    /// Defaults overridden by a TOML file (unknown keys are an error, with the location).
    pub fn load(path: Option<&std::path::Path>) -> Result<EnergyTable, String> {
        let Some(path) = path else {
            return Ok(EnergyTable::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TOML file overrides single values, keeps the others, and rejects unknown keys.
    #[test]
    fn toml_overrides_and_rejects_typos() {
        let t: EnergyTable = toml::from_str("[periphery]\nadc_j = 1e-12\n").unwrap();
        assert_eq!(t.periphery.adc_j, 1e-12);
        assert_eq!(t.periphery.dac_j, Periphery::default().dac_j);
        assert_eq!(t.digital.mul8_j, Digital::default().mul8_j);
        assert!(toml::from_str::<EnergyTable>("[periphery]\nadc = 1e-12\n").is_err());
    }
}
