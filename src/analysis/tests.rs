//! Analytic checks of the engine on hand-built circuits (independent of the parser).

use super::*;
use crate::circuit::{Circuit, Element, ElementKind, TranShape, Waveform};
use crate::diag::Span;

fn circuit(nodes: &[&str], elements: Vec<(&str, ElementKind)>, analyses: Vec<Analysis>) -> Circuit {
    let mut c = Circuit {
        title: "t".into(),
        ..Default::default()
    };
    c.nodes = std::iter::once("0")
        .chain(nodes.iter().copied())
        .map(String::from)
        .collect();
    c.elements = elements
        .into_iter()
        .map(|(n, kind)| Element {
            name: n.into(),
            kind,
            span: Span::default(),
        })
        .collect();
    c.analyses = analyses;
    c
}

fn step(v: f64) -> Waveform {
    Waveform {
        dc: 0.0,
        tran: Some(TranShape::Pwl {
            points: vec![(0.0, 0.0), (1e-12, v)],
            repeat: None,
            td: 0.0,
        }),
    }
}

#[test]
fn divider_operating_point() {
    let c = circuit(
        &["in", "out"],
        vec![
            (
                "v1",
                ElementKind::VSource {
                    p: 1,
                    n: 0,
                    wave: Waveform {
                        dc: 3.0,
                        tran: None,
                    },
                },
            ),
            ("r1", ElementKind::Resistor { a: 1, b: 2, r: 1e3 }),
            ("r2", ElementKind::Resistor { a: 2, b: 0, r: 2e3 }),
        ],
        vec![Analysis::Op],
    );
    let out = simulate(&c).unwrap();
    let p = &out.plots[0];
    assert!((p.get("v(out)").unwrap().data[0] - 2.0).abs() < 1e-12);
    // Current through the source: 1 mA flowing out of the + terminal, i.e. −1 mA (SPICE sign).
    assert!((p.get("i(v1)").unwrap().data[0] + 1e-3).abs() < 1e-15);
}

#[test]
fn rc_step_response_matches_exponential() {
    let (r, cap) = (1e3, 1e-9);
    let tau = r * cap;
    let c = circuit(
        &["in", "out"],
        vec![
            (
                "v1",
                ElementKind::VSource {
                    p: 1,
                    n: 0,
                    wave: step(1.0),
                },
            ),
            ("r1", ElementKind::Resistor { a: 1, b: 2, r }),
            (
                "c1",
                ElementKind::Capacitor {
                    a: 2,
                    b: 0,
                    c: cap,
                    ic: None,
                },
            ),
        ],
        vec![Analysis::Tran {
            tstep: tau / 50.0,
            tstop: 5.0 * tau,
            tstart: 0.0,
            tmax: None,
            uic: false,
        }],
    );
    let out = simulate(&c).unwrap();
    let p = &out.plots[0];
    let t = &p.scale.data;
    let v = &p.get("v(out)").unwrap().data;
    let mut worst: f64 = 0.0;
    for (t, v) in t.iter().zip(v) {
        let exact = if *t <= 1e-12 {
            0.0
        } else {
            1.0 - (-(t - 1e-12) / tau).exp()
        };
        worst = worst.max((v - exact).abs());
    }
    // Default reltol 1e-3 with trtol 7: ngspice-grade accuracy is a few mV on a 1 V step.
    assert!(worst < 5e-3, "max error {worst}");
    assert!((t.last().unwrap() - 5.0 * tau).abs() < 1e-18);
}

#[test]
fn lc_resonance_frequency() {
    let (l, cap): (f64, f64) = (1e-6, 1e-9);
    let f0 = 1.0 / (2.0 * std::f64::consts::PI * (l * cap).sqrt());
    let period = 1.0 / f0;
    let c = circuit(
        &["a"],
        vec![
            (
                "l1",
                ElementKind::Inductor {
                    a: 1,
                    b: 0,
                    l,
                    ic: Some(0.0),
                },
            ),
            (
                "c1",
                ElementKind::Capacitor {
                    a: 1,
                    b: 0,
                    c: cap,
                    ic: Some(1.0),
                },
            ),
        ],
        vec![Analysis::Tran {
            tstep: period / 100.0,
            tstop: 10.0 * period,
            tstart: 0.0,
            tmax: None,
            uic: true,
        }],
    );
    let mut c = c;
    c.ic = vec![(1, 1.0)];
    let out = simulate(&c).unwrap();
    let p = &out.plots[0];
    let (t, v) = (&p.scale.data, &p.get("v(a)").unwrap().data);
    // Rising zero crossings, linearly interpolated.
    let mut crossings = Vec::new();
    for k in 1..t.len() {
        if v[k - 1] < 0.0 && v[k] >= 0.0 {
            crossings.push(t[k - 1] + (t[k] - t[k - 1]) * (-v[k - 1]) / (v[k] - v[k - 1]));
        }
    }
    assert!(crossings.len() >= 8, "{} crossings", crossings.len());
    let measured = (crossings.len() - 1) as f64 / (crossings.last().unwrap() - crossings[0]);
    assert!(
        (measured / f0 - 1.0).abs() < 2e-3,
        "f = {measured}, f0 = {f0}"
    );
    // Trapezoidal integration is non-dissipative: amplitude stays ~1 V after 10 periods.
    let amp = v[v.len() / 2..].iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!((amp - 1.0).abs() < 0.02, "amplitude {amp}");
}

fn mtj_card(extra: &[(&str, f64)]) -> crate::circuit::Model {
    let mut params: std::collections::HashMap<String, f64> =
        [("rth", 1e5), ("cth", 1e-15), ("noise", 0.0)]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
    for (k, v) in extra {
        params.insert(k.to_string(), *v);
    }
    crate::circuit::Model {
        name: "mtj1".into(),
        kind: "mtj".into(),
        params,
        string_params: Default::default(),
        span: Span::default(),
    }
}

#[test]
fn mtj_joule_heating_reaches_i2r_rth() {
    let mut c = circuit(
        &["a"],
        vec![
            (
                "v1",
                ElementKind::VSource {
                    p: 1,
                    n: 0,
                    wave: step(0.1),
                },
            ),
            (
                "n1",
                ElementKind::Mtj {
                    free: 1,
                    reference: 0,
                    thermal: None,
                    model: "mtj1".into(),
                    params: Default::default(),
                },
            ),
        ],
        vec![Analysis::Tran {
            tstep: 1e-11,
            tstop: 3e-9,
            tstart: 0.0,
            tmax: None,
            uic: false,
        }],
    );
    c.models.insert("mtj1".into(), mtj_card(&[]));
    c.saves = vec![
        crate::circuit::OutputRequest::Device("temp".into(), "n1".into()),
        crate::circuit::OutputRequest::Device("p".into(), "n1".into()),
        crate::circuit::OutputRequest::Device("mz".into(), "n1".into()),
    ];
    let out = simulate(&c).unwrap();
    let p = &out.plots[0];
    let temp = *p.get("temp(n1)").unwrap().data.last().unwrap();
    let pw = *p.get("p(n1)").unwrap().data.last().unwrap();
    let mz = *p.get("mz(n1)").unwrap().data.last().unwrap();
    // τ_th = rth·cth = 0.1 ns, so after 3 ns (30 τ) the rise is P·rth to within e^-30.
    let expected = 300.15 + pw * 1e5;
    assert!(
        (temp - expected).abs() < 1e-3 * (expected - 300.15),
        "T = {temp}, expected {expected}"
    );
    assert!(mz > 0.99, "positive current keeps the P state, mz = {mz}");
    // Energy delivered by the source equals the Joule heat (the only dissipation).
    let e_src = out.source_energy_j[0];
    let (t, pv) = (&p.scale.data, &p.get("p(n1)").unwrap().data);
    let e_joule: f64 = (1..t.len())
        .map(|k| 0.5 * (pv[k] + pv[k - 1]) * (t[k] - t[k - 1]))
        .sum();
    assert!(
        (e_src / e_joule - 1.0).abs() < 5e-3,
        "source {e_src} J vs joule {e_joule} J"
    );
}

/// Final mz of an AP-initialised, isothermal, noiseless MTJ driven by a current step of
/// `ratio`·Ic0 (positive current favours P) for `t_s` seconds.
fn mtj_final_mz_under_current(ratio: f64, t_s: f64) -> f64 {
    let card = mtj_card(&[("rth", 0.0), ("cth", 0.0)]);
    let p = crate::devices::mtj::params::MtjParams::from_model_with_ambient(&card, 300.15).unwrap();
    let ic0 = crate::devices::mtj::temperature::ic0_a(&p, p.tamb_k, -1.0);
    let wave = Waveform {
        dc: 0.0,
        tran: Some(TranShape::Pwl {
            points: vec![(0.0, 0.0), (1e-12, ratio * ic0)],
            repeat: None,
            td: 0.0,
        }),
    };
    let mut c = circuit(
        &["a"],
        vec![
            // Current flows from node 0 through the source into `a`, then free → ref.
            ("i1", ElementKind::ISource { p: 0, n: 1, wave }),
            (
                "n1",
                ElementKind::Mtj {
                    free: 1,
                    reference: 0,
                    thermal: None,
                    model: "mtj1".into(),
                    params: [("state".to_string(), -1.0)].into_iter().collect(),
                },
            ),
        ],
        vec![Analysis::Tran {
            tstep: 1e-10,
            tstop: t_s,
            tstart: 0.0,
            tmax: None,
            uic: false,
        }],
    );
    c.models.insert("mtj1".into(), card);
    c.saves = vec![crate::circuit::OutputRequest::Device(
        "mz".into(),
        "n1".into(),
    )];
    let out = simulate(&c).unwrap();
    *out.plots[0].get("mz(n1)").unwrap().data.last().unwrap()
}

#[test]
fn mtj_in_circuit_switches_only_above_ic0() {
    // PHYSICS.md check 3 through the circuit path: the current source drives the MTJ's own
    // KCL row, and the spin torque sees that current.
    assert!(
        mtj_final_mz_under_current(0.95, 50e-9) < -0.9,
        "must not switch at 0.95 Ic0"
    );
    assert!(
        mtj_final_mz_under_current(1.5, 50e-9) > 0.9,
        "must switch at 1.5 Ic0"
    );
}

/// The generated 8×8 1T1R crossbar read and its transient.
fn crossbar_8x8_read() -> (Circuit, tran::TranSpec) {
    let xbar = crate::generate::crossbar::CrossbarSpec::square(8);
    let text = crate::generate::crossbar::netlist(&xbar);
    let parsed = crate::netlist::load_str("xbar.cir", &text, std::path::Path::new("."));
    assert!(!parsed.diagnostics.has_errors());
    let spec = tran::TranSpec {
        tstep: 1e-10,
        tstop: xbar.tstop(),
        tstart: 0.0,
        tmax: None,
        uic: false,
    };
    (parsed.circuit, spec)
}

/// Parallel device loading must not change a single bit of the result: the two halves write
/// disjoint slots and states, the gather sums slots in the same order, and each half of the
/// linear part's point matrix and rhs receives the same additions in the same order.
#[test]
fn parallel_load_is_bit_identical_to_serial() {
    let (circuit, spec) = crossbar_8x8_read();
    let c = &circuit;
    let mut par = System::new(c).unwrap();
    par.set_parallel_load(true);
    if rayon::current_num_threads() >= 2 {
        assert!(
            par.parallel_load(),
            "the crossbar's devices can be split in two"
        );
    }
    let a = tran::run(&mut par, c, spec).ok().unwrap().plot;
    let mut ser = System::new(c).unwrap();
    ser.set_parallel_load(false);
    let b = tran::run(&mut ser, c, spec).ok().unwrap().plot;
    assert_eq!(a.scale.data, b.scale.data);
    assert!(!a.vectors.is_empty());
    for (va, vb) in a.vectors.iter().zip(&b.vectors) {
        assert_eq!(va.data, vb.data, "{}", va.name);
    }
    assert_eq!(par.stats.newton_iterations, ser.stats.newton_iterations);
}

/// Partial assembly (a point's repeated iterations rebuild only the entries of the devices
/// they evaluate, and the LU then compares only the columns holding them) must give the
/// bits and the decisions of a full assembly, serial and in two halves.
#[test]
fn partial_assembly_is_bit_identical_to_full() {
    let (circuit, spec) = crossbar_8x8_read();
    let c = &circuit;
    for halves in [false, true] {
        let mut partial = System::new(c).unwrap();
        partial.set_parallel_load(halves);
        let a = tran::run(&mut partial, c, spec).ok().unwrap().plot;
        let mut full = System::new(c).unwrap();
        full.set_parallel_load(halves);
        full.disable_partial_assembly();
        let b = tran::run(&mut full, c, spec).ok().unwrap().plot;
        // Most repeated iterations of the read are assembled partially.
        assert!(
            2 * partial.stats.partial_assemblies
                > partial.stats.newton_iterations - partial.stats.accepted_steps,
            "{} partial assemblies, {} iterations, {} steps",
            partial.stats.partial_assemblies,
            partial.stats.newton_iterations,
            partial.stats.accepted_steps
        );
        assert_eq!(full.stats.partial_assemblies, 0);
        assert_eq!(a.scale.data, b.scale.data);
        assert!(!a.vectors.is_empty());
        for (va, vb) in a.vectors.iter().zip(&b.vectors) {
            assert_eq!(va.data, vb.data, "{} (halves: {halves})", va.name);
        }
        // The LU, told which positions a partial assembly rebuilt, decides as without it.
        for (a, b) in [
            (
                partial.stats.newton_iterations,
                full.stats.newton_iterations,
            ),
            (
                partial.stats.lu_factorizations,
                full.stats.lu_factorizations,
            ),
            (partial.stats.chord_iterations, full.stats.chord_iterations),
            (
                partial.lu_columns_recomputed(),
                full.lu_columns_recomputed(),
            ),
        ] {
            assert_eq!(a, b, "halves: {halves}");
        }
    }
}

/// LU factor families (the factors of each integration coefficient kept, a step-size
/// change refactored from those of the last point with the same step size): the read's
/// currents agree with refactoring from the last factorization to 1e-9 of their range, the
/// step sizes of a read cycle find their kept factors, and fewer LU columns are recomputed.
#[test]
fn lu_families_keep_the_1t1r_answer() {
    let (circuit, spec) = crossbar_8x8_read();
    let c = &circuit;
    let mut kept = System::new(c).unwrap();
    let a = tran::run(&mut kept, c, spec).ok().unwrap().plot;
    let mut plain = System::new(c).unwrap();
    plain.disable_lu_families();
    let b = tran::run(&mut plain, c, spec).ok().unwrap().plot;
    assert_eq!(plain.lu_family_reuses(), 0);
    assert!(
        kept.lu_family_reuses() > 20,
        "{} reuses",
        kept.lu_family_reuses()
    );
    assert!(
        kept.lu_columns_recomputed() * 20 < plain.lu_columns_recomputed() * 19,
        "{} vs {} columns",
        kept.lu_columns_recomputed(),
        plain.lu_columns_recomputed()
    );
    let mut currents = 0;
    for va in a.vectors.iter().filter(|v| v.name.starts_with("i(")) {
        let vb = b.vectors.iter().find(|v| v.name == va.name).unwrap();
        let ta = &a.scale.data;
        let range = va.data.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))
            - va.data.iter().fold(f64::INFINITY, |m, &v| m.min(v));
        assert!(range > 0.0, "{}", va.name);
        // The time points may differ in their last bits: compare at b's points by
        // linear interpolation in a's.
        for (t, &y) in b.scale.data.iter().zip(&vb.data) {
            let k = ta.partition_point(|&s| s < *t).min(ta.len() - 1);
            let ya = if k == 0 || ta[k] == *t {
                va.data[k]
            } else {
                let w = (t - ta[k - 1]) / (ta[k] - ta[k - 1]);
                va.data[k - 1] + w * (va.data[k] - va.data[k - 1])
            };
            assert!((ya - y).abs() <= 1e-9 * range, "{} at {t}", va.name);
        }
        currents += 1;
    }
    assert!(currents >= 8, "{currents} read currents");
}

/// The truncation check's differences kept from the last accepted point give the bits of
/// recomputing them: the same time points and outputs, on the crossbar read and on
/// cross-check circuits with breakpoints, an order change and rejected steps.
#[test]
fn kept_lte_differences_are_bit_identical() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netlists");
    let mut cases = vec![crossbar_8x8_read()];
    for name in [
        "nmos_stiff_retry.cir",
        "rc_pulse_count.cir",
        "diode_reverse_recovery.cir",
    ] {
        let parsed = crate::netlist::load(&dir.join(name));
        assert!(!parsed.diagnostics.has_errors(), "{name}");
        let spec = parsed
            .circuit
            .analyses
            .iter()
            .find_map(tran::TranSpec::of)
            .expect("a transient");
        cases.push((parsed.circuit, spec));
    }
    let mut rejected = 0;
    for (c, spec) in &cases {
        let mut kept = System::new(c).unwrap();
        let a = tran::run(&mut kept, c, *spec).ok().unwrap().plot;
        let mut full = System::new(c).unwrap();
        full.cap_lte.disable();
        let b = tran::run(&mut full, c, *spec).ok().unwrap().plot;
        let title = c.title.lines().next().unwrap_or_default();
        assert!(a.scale.data.len() > 20, "{title}");
        assert!(
            a.scale.data == b.scale.data,
            "{title}: the time points differ"
        );
        for (va, vb) in a.vectors.iter().zip(&b.vectors) {
            assert!(va.data == vb.data, "{title}: {} differs", va.name);
        }
        assert_eq!(
            kept.stats.rejected_steps, full.stats.rejected_steps,
            "{title}"
        );
        rejected += kept.stats.rejected_steps;
    }
    assert!(rejected > 0, "no case rejected a step");
}

/// The same on ngspice cross-check circuits whose devices carry charges (gate and junction
/// capacitances, re-evaluated after convergence without an assembly), with first iterations
/// assembled partially when the step keeps its integration coefficient, and with rejected
/// steps.
#[test]
fn partial_assembly_is_bit_identical_on_charged_devices() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netlists");
    for name in [
        "cmos_inverter_tran.cir",
        "diode_reverse_recovery.cir",
        "nmos_stiff_retry.cir",
        "latch_ic_tran.cir",
    ] {
        let parsed = crate::netlist::load(&dir.join(name));
        assert!(!parsed.diagnostics.has_errors(), "{name}");
        let c = &parsed.circuit;
        let spec = c
            .analyses
            .iter()
            .find_map(tran::TranSpec::of)
            .expect("a transient");
        let mut partial = System::new(c).unwrap();
        let a = tran::run(&mut partial, c, spec).ok().unwrap().plot;
        let mut full = System::new(c).unwrap();
        full.disable_partial_assembly();
        let b = tran::run(&mut full, c, spec).ok().unwrap().plot;
        assert!(partial.stats.partial_assemblies > 0, "{name}");
        assert_eq!(a.scale.data, b.scale.data, "{name}");
        for (va, vb) in a.vectors.iter().zip(&b.vectors) {
            assert_eq!(va.data, vb.data, "{name}: {}", va.name);
        }
        assert_eq!(
            (
                partial.stats.newton_iterations,
                partial.stats.lu_factorizations
            ),
            (full.stats.newton_iterations, full.stats.lu_factorizations),
            "{name}"
        );
    }
}
