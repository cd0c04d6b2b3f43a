//! The intrinsic-plasticity (IP) neuron layer: per neuron a temperature rise θ (K above
//! ambient) driven by its own input current and leaking with the thermal time constant.
//!
//! Per network step, with input drive `x` (units of Ic0 at ambient) and the calibrated
//! maps of [`CalibTable`]:
//! ```text
//!   spike  s = 1[x ≥ x50(θ)]           (the pulse switches the MTJ: the neuron fires;
//!                                        it is reset to P before the next step)
//!   θ'      = d·θ + h(x)                (Joule heat of this pulse; heat is not reset)
//! ```
//! A recently driven neuron is hot, so its threshold `x50(θ)` is lower: the neuron's
//! excitability remembers its recent input (intrinsic plasticity), fading as `d^k`.
//! Training uses a surrogate gradient `∂s/∂u = ½β/(β+|u|)²`, `u = x − x50(θ)`, and the exact
//! slopes of the interpolated tables (so gradients flow back in time through θ).
//! The behavioural (plain Rust) functions here are the reference for spike-for-spike
//! comparisons with circuit-level simulations.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};

use super::calib::CalibTable;

/// Width β of the surrogate derivative (units of Ic0).
pub const SURROGATE_BETA: f64 = 0.2;

/// Behavioural IP step for one population: updates `theta_k` in place and returns spikes
/// (0/1). `x` and `theta_k` have equal length.
pub fn ip_step(table: &CalibTable, theta_k: &mut [f32], x: &[f32]) -> Vec<u8> {
    let d = table.decay;
    theta_k
        .iter_mut()
        .zip(x)
        .map(|(th, &xi)| {
            let (x50, _) = table.x50(*th as f64);
            let s = (xi as f64 >= x50) as u8;
            *th = (d * *th as f64 + table.heat(xi as f64).0) as f32;
            s
        })
        .collect()
}

/// Stochastic variant: fire with the device's switching probability `P_sw(x, θ)`.
pub fn ip_step_stochastic<R: rand::Rng>(
    table: &CalibTable,
    theta_k: &mut [f32],
    x: &[f32],
    rng: &mut R,
) -> Vec<u8> {
    let d = table.decay;
    theta_k
        .iter_mut()
        .zip(x)
        .map(|(th, &xi)| {
            let p = table.p_switch(xi as f64, *th as f64);
            let s = rng.random_bool(p.clamp(0.0, 1.0)) as u8;
            *th = (d * *th as f64 + table.heat(xi as f64).0) as f32;
            s
        })
        .collect()
}

fn contiguous<'a, T: candle_core::WithDType>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [T]> {
    let v = s.as_slice::<T>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("IP op needs a contiguous tensor"),
    }
}

/// Apply `f` elementwise (f32 or f64 storage).
fn map1(s: &CpuStorage, l: &Layout, f: impl Fn(f64) -> f64) -> Result<(CpuStorage, Shape)> {
    let out = match s {
        CpuStorage::F32(_) => CpuStorage::F32(
            contiguous::<f32>(s, l)?
                .iter()
                .map(|&v| f(v as f64) as f32)
                .collect(),
        ),
        CpuStorage::F64(_) => {
            CpuStorage::F64(contiguous::<f64>(s, l)?.iter().map(|&v| f(v)).collect())
        }
        _ => candle_core::bail!("IP op supports f32/f64"),
    };
    Ok((out, l.shape().clone()))
}

fn map2(
    s1: &CpuStorage,
    l1: &Layout,
    s2: &CpuStorage,
    l2: &Layout,
    f: impl Fn(f64, f64) -> f64,
) -> Result<(CpuStorage, Shape)> {
    if l1.shape() != l2.shape() {
        candle_core::bail!("IP op shape mismatch {:?} vs {:?}", l1.shape(), l2.shape());
    }
    let out = match (s1, s2) {
        (CpuStorage::F32(_), CpuStorage::F32(_)) => CpuStorage::F32(
            contiguous::<f32>(s1, l1)?
                .iter()
                .zip(contiguous::<f32>(s2, l2)?)
                .map(|(&a, &b)| f(a as f64, b as f64) as f32)
                .collect(),
        ),
        (CpuStorage::F64(_), CpuStorage::F64(_)) => CpuStorage::F64(
            contiguous::<f64>(s1, l1)?
                .iter()
                .zip(contiguous::<f64>(s2, l2)?)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        ),
        _ => candle_core::bail!("IP op supports f32/f64 of one dtype"),
    };
    Ok((out, l1.shape().clone()))
}

/// `h(x)`: heating per step (autograd: exact table slope).
#[derive(Clone)]
struct Heat(Arc<CalibTable>);
/// `h'(x)` (no gradient of its own: used inside backward only).
struct HeatSlope(Arc<CalibTable>);

impl CustomOp1 for Heat {
    fn name(&self) -> &'static str {
        "ip-heat"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        map1(s, l, |x| self.0.heat(x).0)
    }
    fn bwd(&self, arg: &Tensor, _res: &Tensor, g: &Tensor) -> Result<Option<Tensor>> {
        let slope = arg
            .contiguous()?
            .apply_op1_no_bwd(&HeatSlope(self.0.clone()))?;
        Ok(Some(g.mul(&slope)?))
    }
}

impl CustomOp1 for HeatSlope {
    fn name(&self) -> &'static str {
        "ip-heat-slope"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        map1(s, l, |x| self.0.heat(x).1)
    }
}

/// Spike `1[x ≥ x50(θ)]` (or its smooth surrogate `½ + ½u/(β+|u|)` when `smooth`, used by
/// the finite-difference tests), with the surrogate gradient.
#[derive(Clone)]
struct Spike {
    table: Arc<CalibTable>,
    smooth: bool,
}
/// Backward helpers: `which = 0` → ∂s/∂x, `1` → ∂s/∂θ.
struct SpikeGrad {
    table: Arc<CalibTable>,
    which: u8,
}

fn surrogate(u: f64) -> f64 {
    0.5 * SURROGATE_BETA / (SURROGATE_BETA + u.abs()).powi(2)
}

impl CustomOp2 for Spike {
    fn name(&self) -> &'static str {
        "ip-spike"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let smooth = self.smooth;
        map2(s1, l1, s2, l2, |x, th| {
            let u = x - self.table.x50(th).0;
            if smooth {
                0.5 + 0.5 * u / (SURROGATE_BETA + u.abs())
            } else {
                (u >= 0.0) as u8 as f64
            }
        })
    }
    fn bwd(
        &self,
        x: &Tensor,
        th: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (x, th) = (x.contiguous()?, th.contiguous()?);
        let gx = x.apply_op2_no_bwd(
            &th,
            &SpikeGrad {
                table: self.table.clone(),
                which: 0,
            },
        )?;
        let gt = x.apply_op2_no_bwd(
            &th,
            &SpikeGrad {
                table: self.table.clone(),
                which: 1,
            },
        )?;
        Ok((Some(g.mul(&gx)?), Some(g.mul(&gt)?)))
    }
}

impl CustomOp2 for SpikeGrad {
    fn name(&self) -> &'static str {
        "ip-spike-grad"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let which = self.which;
        map2(s1, l1, s2, l2, |x, th| {
            let (x50, dx50) = self.table.x50(th);
            let sg = surrogate(x - x50);
            if which == 0 { sg } else { -sg * dx50 }
        })
    }
}

/// Differentiable IP layer over a sequence. `x_seq[t]`: drive at step t (any shape, all
/// equal); returns spikes per step. θ starts at 0 (ambient). `smooth` replaces the step
/// function by its surrogate primitive (tests only).
pub fn ip_forward(table: &Arc<CalibTable>, x_seq: &[Tensor], smooth: bool) -> Result<Vec<Tensor>> {
    let mut out = Vec::with_capacity(x_seq.len());
    let Some(first) = x_seq.first() else {
        return Ok(out);
    };
    let mut theta = first.zeros_like()?;
    for x in x_seq {
        let x = x.contiguous()?;
        let s = x.apply_op2(
            &theta,
            Spike {
                table: table.clone(),
                smooth,
            },
        )?;
        let h = x.apply_op1(Heat(table.clone()))?;
        theta = ((theta * table.decay)? + h)?;
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::network::calib::CalibOpts;
    use candle_core::{DType, Device, Var};
    use rand::{Rng, SeedableRng};

    /// A table with the shapes of a calibrated one (quadratic heating, threshold falling
    /// with temperature), so these tests need no device simulation.
    pub fn toy_table() -> CalibTable {
        let x_grid: Vec<f64> = (0..25).map(|i| 0.1 * i as f64).collect();
        let theta: Vec<f64> = (0..9).map(|j| 10.0 * j as f64).collect();
        CalibTable {
            card: "toy".into(),
            source: "test".into(),
            opts: CalibOpts::default(),
            tamb_k: 300.0,
            ic0_a: 25e-6,
            tau_th_s: 20e-9,
            decay: (-0.5f64).exp(),
            decay_analytic: (-0.5f64).exp(),
            heat_k: x_grid
                .iter()
                .map(|x| 6.0 * x * x * (1.0 - 0.05 * x))
                .collect(),
            x_grid,
            p_sw: vec![],
            x50: theta
                .iter()
                .map(|t| 1.3 - 0.012 * t - 0.00005 * t * t)
                .collect(),
            x50_raw: vec![],
            width: vec![0.05; 9],
            theta_grid_k: theta,
        }
    }

    /// BPTT gradients of the IP layer (through spikes and the temperature recursion)
    /// equal central finite differences of the same smooth forward.
    #[test]
    fn gradients_match_finite_differences() {
        let table = Arc::new(toy_table());
        let (t_steps, n) = (6, 7);
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(2);
        let x0: Vec<Vec<f64>> = (0..t_steps)
            .map(|_| (0..n).map(|_| r.random_range(0.2..1.8)).collect())
            .collect();
        let w: Vec<Vec<f64>> = (0..t_steps)
            .map(|_| (0..n).map(|_| r.random_range(-1.0..1.0)).collect())
            .collect();
        let loss = |xs: &[Tensor]| -> Tensor {
            let s = ip_forward(&table, xs, true).unwrap();
            let mut acc = Tensor::zeros((), DType::F64, &Device::Cpu).unwrap();
            for (st, wt) in s.iter().zip(&w) {
                let wt = Tensor::new(wt.as_slice(), &Device::Cpu).unwrap();
                acc = (acc + (st * wt).unwrap().sum_all().unwrap()).unwrap();
            }
            acc
        };
        let vars: Vec<Var> = x0
            .iter()
            .map(|v| Var::new(v.as_slice(), &Device::Cpu).unwrap())
            .collect();
        let xs: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let grads = loss(&xs).backward().unwrap();
        let eps = 1e-6;
        let mut checked = 0;
        for t in 0..t_steps {
            let g: Vec<f64> = grads.get(&xs[t]).unwrap().to_vec1().unwrap();
            for i in 0..n {
                let eval = |d: f64| {
                    let xs: Vec<Tensor> = (0..t_steps)
                        .map(|k| {
                            let mut v = x0[k].clone();
                            if k == t {
                                v[i] += d;
                            }
                            Tensor::new(v.as_slice(), &Device::Cpu).unwrap()
                        })
                        .collect();
                    loss(&xs).to_scalar::<f64>().unwrap()
                };
                let fd = (eval(eps) - eval(-eps)) / (2.0 * eps);
                assert!(
                    (fd - g[i]).abs() <= 1e-5 * (1.0 + fd.abs()),
                    "t={t} i={i}: autograd {} vs FD {fd}",
                    g[i]
                );
                checked += 1;
            }
        }
        assert_eq!(checked, t_steps * n);
        // Memory: the loss at the last step depends on the first step's input via θ.
        assert!(grads.get(&xs[0]).is_some());
    }

    /// The autograd layer and the behavioural reference agree spike for spike, and a
    /// driven neuron keeps a lowered threshold for later steps.
    #[test]
    fn behavioural_matches_autograd_and_remembers() {
        let table = Arc::new(toy_table());
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
        let xs: Vec<Vec<f32>> = (0..10)
            .map(|_| (0..50).map(|_| r.random_range(0.0f32..1.6)).collect())
            .collect();
        let ts: Vec<Tensor> = xs
            .iter()
            .map(|v| Tensor::new(v.as_slice(), &Device::Cpu).unwrap())
            .collect();
        let s = ip_forward(&table, &ts, false).unwrap();
        let mut th = vec![0f32; 50];
        for (k, x) in xs.iter().enumerate() {
            let b = ip_step(&table, &mut th, x);
            let a: Vec<f32> = s[k].to_vec1().unwrap();
            assert_eq!(
                a.iter().map(|&v| v as u8).collect::<Vec<_>>(),
                b,
                "step {k}"
            );
        }
        // Same sub-threshold drive 1.0 (< x50(0) = 1.3): fires only after priming pulses.
        let cold = ip_step(&table, &mut [0.0], &[1.0]);
        let mut hot = [0f32];
        ip_step(&table, &mut hot, &[2.0]);
        ip_step(&table, &mut hot, &[2.0]);
        assert_eq!(cold, vec![0]);
        assert_eq!(ip_step(&table, &mut hot, &[1.0]), vec![1]);
    }
}
