//! Analytic checks of the engine through the full netlist path (`netlist::load_str` →
//! `analysis::simulate`): waveforms of small linear circuits against closed-form answers,
//! and an energy balance computed from the saved waveforms. No ngspice needed.

use std::path::Path;

use mtjsim::analysis::{SimOutput, simulate};
use mtjsim::results::Plot;

fn run(name: &str, text: &str) -> SimOutput {
    let parsed = mtjsim::netlist::load_str(name, text, Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        !parsed.diagnostics.has_errors(),
        "{name}: netlist rejected:\n{}",
        parsed.render_diagnostics()
    );
    simulate(&parsed.circuit).unwrap_or_else(|e| panic!("{name}: simulation failed: {e}"))
}

fn vector<'a>(plot: &'a Plot, name: &str) -> &'a [f64] {
    let names: Vec<&str> = plot.vectors.iter().map(|v| v.name.as_str()).collect();
    &plot
        .get(name)
        .unwrap_or_else(|| panic!("no vector {name} in plot '{}' (has {names:?})", plot.name))
        .data
}

fn only_tran(out: &SimOutput) -> &Plot {
    assert_eq!(out.plots.len(), 1, "expected one plot");
    let p = &out.plots[0];
    assert_eq!(p.scale.name, "time");
    assert!(p.len() > 10, "too few points: {}", p.len());
    p
}

/// Trapezoidal ∫ y dt over the plot's own (non-uniform) time points.
fn integrate(t: &[f64], y: &[f64]) -> f64 {
    t.windows(2)
        .zip(y.windows(2))
        .map(|(t, y)| 0.5 * (y[0] + y[1]) * (t[1] - t[0]))
        .sum()
}

/// RC step response: v(out) = 1 − exp(−t/RC) for a 1 V step at t = 0 (1 ps rise).
#[test]
fn rc_step_response_matches_exponential() {
    let (r, c) = (1e3, 1e-9);
    let tau = r * c;
    let out = run(
        "rc_step",
        "RC step response
v1 in 0 pulse(0 1 0 1p 1p 1 2)
r1 in out 1k
c1 out 0 1n
.tran 10n 6u 0 10n
.save v(in) v(out) i(v1)
.end
",
    );
    let p = only_tran(&out);
    let t = &p.scale.data;
    let vout = vector(p, "v(out)");
    let iv = vector(p, "i(v1)");
    assert!(
        t[0] == 0.0 && (t[t.len() - 1] - 6e-6).abs() < 1e-15,
        "time span {}..{}",
        t[0],
        t[t.len() - 1]
    );
    let mut worst = (0.0f64, 0.0);
    for (k, &tk) in t.iter().enumerate() {
        // The 1 ps ramp delays the response by half a ramp: negligible at this tolerance.
        let expect = if tk <= 0.0 {
            0.0
        } else {
            1.0 - (-(tk - 0.5e-12).max(0.0) / tau).exp()
        };
        let err = (vout[k] - expect).abs();
        if err > worst.0 {
            worst = (err, tk);
        }
        // Source current: −(1 − v(out))/R once the ramp is over (into the + terminal).
        if tk > 1e-9 {
            let i_expect = -(1.0 - expect) / r;
            assert!(
                (iv[k] - i_expect).abs() < 1e-3 / r,
                "i(v1) at t = {tk:e}: {} vs {i_expect}",
                iv[k]
            );
        }
    }
    eprintln!(
        "rc step: worst |v(out) - (1 - exp(-t/RC))| = {:.3e} V at t = {:e}",
        worst.0, worst.1
    );
    assert!(
        worst.0 < 1e-3,
        "v(out) deviates from 1 - exp(-t/RC) by {:.3e} V at t = {:e}",
        worst.0,
        worst.1
    );
    // After 6 tau the capacitor is within 0.25 % of the final value.
    assert!((vout[vout.len() - 1] - (1.0 - (-6.0f64).exp())).abs() < 1e-3);
}

/// LC tank from initial conditions: the period measured from zero crossings of v(top)
/// equals 2π√(LC) within 0.1 %.
#[test]
fn lc_resonance_frequency_from_zero_crossings() {
    let (l, c): (f64, f64) = (1e-6, 1e-9);
    let f0 = 1.0 / (2.0 * std::f64::consts::PI * (l * c).sqrt());
    let period = 1.0 / f0;
    let tstop = 8.0 * period;
    let tmax = period / 200.0;
    let text = format!(
        "LC tank resonance
l1 top 0 1u
c1 top 0 1n ic=1
.tran {:e} {:e} 0 {:e} uic
.save v(top) i(l1)
.end
",
        period / 100.0,
        tstop,
        tmax
    );
    let out = run("lc_tank", &text);
    let p = only_tran(&out);
    let t = &p.scale.data;
    let v = vector(p, "v(top)");
    // Rising and falling zero crossings, linearly interpolated.
    let mut crossings = Vec::new();
    for k in 1..t.len() {
        let (a, b) = (v[k - 1], v[k]);
        if (a < 0.0 && b >= 0.0) || (a > 0.0 && b <= 0.0) {
            crossings.push(t[k - 1] + (t[k] - t[k - 1]) * a / (a - b));
        }
    }
    assert!(
        crossings.len() >= 14,
        "only {} zero crossings in 8 periods",
        crossings.len()
    );
    let n = crossings.len() - 1;
    let measured = 2.0 * (crossings[n] - crossings[0]) / n as f64;
    let rel = (measured - period).abs() / period;
    eprintln!("lc tank: period {measured:e} s vs {period:e} s, rel. error {rel:.2e}");
    assert!(
        rel < 1e-3,
        "period from zero crossings {measured:e} s vs 2*pi*sqrt(LC) = {period:e} s (rel. error {rel:.2e})"
    );
    // First crossing a quarter period in (cosine start).
    assert!(
        (crossings[0] - period / 4.0).abs() < 1e-3 * period,
        "first zero crossing at {:e}, expected {:e}",
        crossings[0],
        period / 4.0
    );
    // Amplitude: a lossless tank keeps its energy (trapezoidal rule does not damp).
    let vmax_late = v[v.len() * 3 / 4..]
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(
        (vmax_late - 1.0).abs() < 5e-3,
        "late amplitude {vmax_late}, expected 1 V"
    );
}

/// Energy balance of a PULSE-driven series RLC: source energy = resistor heat + the energy
/// stored in C and L at the end, from the saved waveforms; and the engine's own
/// `source_energy_j` agrees with the integral of −v(in)·i(v1).
#[test]
fn rlc_energy_balance() {
    let (r, l, c) = (10.0, 1e-6, 1e-9);
    let out = run(
        "rlc_energy",
        "RLC energy balance
v1 in 0 pulse(0 1 10n 5n 5n 150n 1)
r1 in a 10
l1 a b 1u
c1 b 0 1n
.tran 0.5n 400n 0 0.25n
.save v(in) v(a) v(b) i(v1) i(l1)
.end
",
    );
    let p = only_tran(&out);
    let t = &p.scale.data;
    let vin = vector(p, "v(in)");
    let vb = vector(p, "v(b)");
    let iv = vector(p, "i(v1)");
    let il = vector(p, "i(l1)");
    let n = t.len() - 1;
    // i(v1) flows into the + terminal, so the source delivers −v·i.
    let p_src: Vec<f64> = vin.iter().zip(iv).map(|(v, i)| -v * i).collect();
    let p_r: Vec<f64> = il.iter().map(|i| i * i * r).collect();
    let e_src = integrate(t, &p_src);
    let e_r = integrate(t, &p_r);
    let e_c = 0.5 * c * vb[n] * vb[n];
    let e_l = 0.5 * l * il[n] * il[n];
    // Series loop: the source current is the inductor current.
    for k in 0..=n {
        assert!(
            (iv[k] + il[k]).abs() < 1e-9 + 1e-6 * il[k].abs(),
            "i(v1) != -i(l1) at t = {:e}",
            t[k]
        );
    }
    assert!(e_src > 0.0, "source energy {e_src:e} J should be positive");
    // The end state must hold a real share of the energy for the check to mean anything.
    assert!(
        e_c + e_l > 0.01 * e_src,
        "stored energy too small to test: {:e} of {e_src:e}",
        e_c + e_l
    );
    let balance = (e_src - (e_r + e_c + e_l)).abs() / e_src;
    eprintln!(
        "rlc energy: source {e_src:e} J, R {e_r:e} J, C {e_c:e} J, L {e_l:e} J, balance {balance:.2e}, engine {:e} J",
        out.source_energy_j.first().copied().unwrap_or(f64::NAN)
    );
    assert!(
        balance < 1e-3,
        "energy balance off by {balance:.2e}: source {e_src:e} J, R {e_r:e} J, C {e_c:e} J, L {e_l:e} J"
    );
    assert_eq!(
        out.source_energy_j.len(),
        1,
        "one transient, one source energy"
    );
    let engine = out.source_energy_j[0];
    let rel = (engine - e_src).abs() / e_src;
    assert!(
        rel < 1e-3,
        "SimOutput.source_energy_j = {engine:e} J, integral of -v(in)*i(v1) = {e_src:e} J (rel. {rel:.2e})"
    );
}

/// With UIC there is no operating point: the transient starts from the element `ic=`
/// values. The first saved point must show them (ngspice omits the t = 0 point in this
/// case; a t = 0 row, if written, must not claim the capacitor starts discharged).
#[test]
fn uic_first_point_shows_element_initial_conditions() {
    let out = run(
        "uic_start",
        "UIC start
l1 top 0 1u ic=10m
c1 top 0 1n ic=0.5
.tran 1n 100n 0 1n uic
.save v(top) i(l1)
.end
",
    );
    let p = only_tran(&out);
    let v = vector(p, "v(top)");
    let i = vector(p, "i(l1)");
    let t0 = p.scale.data[0];
    assert!(
        (v[0] - 0.5).abs() < 1e-3 && (i[0] - 10e-3).abs() < 1e-5,
        "first point (t = {t0:e}): v(top) = {} (c1 ic=0.5), i(l1) = {} (l1 ic=10m)",
        v[0],
        i[0]
    );
}
