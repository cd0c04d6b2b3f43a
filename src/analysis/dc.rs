//! DC sweep of one or two independent sources (`.dc`), first source innermost as in ngspice.

use super::record::Recorder;
use super::system::{NewtonParams, System};
use super::{SimError, op};
use crate::circuit::{Circuit, DcSweep};
use crate::devices::{InitPhase, Mode};
use crate::results::{Plot, VecKind, Vector};

fn sweep_values(s: &DcSweep) -> Vec<f64> {
    if s.step == 0.0 || (s.stop - s.start) * s.step < 0.0 {
        return vec![s.start];
    }
    let n = ((s.stop - s.start) / s.step + 1e-9).floor().max(0.0) as usize;
    (0..=n.min(10_000_000))
        .map(|k| s.start + k as f64 * s.step)
        .collect()
}

fn device_index(sys: &System, name: &str) -> Result<usize, SimError> {
    sys.devices
        .iter()
        .position(|d| d.name() == name && d.dc_value().is_some())
        .ok_or_else(|| SimError::simple(format!(".dc: '{name}' is not an independent source")))
}

/// Run a DC sweep; returns one plot (the outer sweep's points concatenated, as ngspice does).
pub fn run(sys: &mut System, circuit: &Circuit, sweeps: &[DcSweep]) -> Result<Plot, SimError> {
    let inner = sweeps
        .first()
        .ok_or_else(|| SimError::simple(".dc needs a source"))?;
    let inner_dev = device_index(sys, &inner.source)?;
    let outer = match sweeps.get(1) {
        Some(s) => Some((device_index(sys, &s.source)?, sweep_values(s))),
        None => None,
    };
    let scale_name = if inner.source.starts_with('i') {
        "i(i-sweep)"
    } else {
        "v(v-sweep)"
    };
    let kind = if inner.source.starts_with('i') {
        VecKind::Current
    } else {
        VecKind::Voltage
    };
    let scale = Vector {
        name: scale_name.into(),
        kind,
        data: Vec::new(),
    };
    let mut rec = Recorder::new(sys, circuit, "DC transfer characteristic", scale)
        .map_err(SimError::simple)?;
    let saved_inner = sys.devices[inner_dev].dc_value().unwrap_or(0.0);
    let saved_outer = outer.as_ref().and_then(|(d, _)| sys.devices[*d].dc_value());
    let outer_values = outer.as_ref().map_or(vec![f64::NAN], |(_, v)| v.clone());
    let inner_values = sweep_values(inner);
    let mut result = Ok(());
    'outer: for &ov in &outer_values {
        if let Some((d, _)) = &outer {
            sys.devices[*d].set_dc(ov);
        }
        let mut have_previous = false;
        for &iv in &inner_values {
            sys.devices[inner_dev].set_dc(iv);
            let p = NewtonParams {
                mode: Mode::Dc,
                time: 0.0,
                max_iter: sys.options.extra.get("itl2").map_or(50, |v| *v as usize),
                srcfact: 1.0,
                diag_gmin: 0.0,
                pins: Vec::new(),
                sources_at_t0: false,
            };
            let ok = have_previous && sys.newton(&p, InitPhase::Normal).is_ok();
            if !ok && let Err(e) = op::solve(sys, &[], &circuit.nodeset) {
                result = Err(e);
                break 'outer;
            }
            have_previous = true;
            rec.record(sys, iv);
        }
    }
    sys.devices[inner_dev].set_dc(saved_inner);
    if let (Some((d, _)), Some(v)) = (&outer, saved_outer) {
        sys.devices[*d].set_dc(v);
    }
    let plot = rec.finish();
    match result {
        Ok(()) => Ok(plot),
        Err(mut e) => {
            e.plots.push(plot);
            Err(e)
        }
    }
}
