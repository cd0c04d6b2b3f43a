//! The shipped MTJ example netlists, run through the whole netlist → circuit → MNA path:
//! each asserts the physical behaviour its header comment tells the user to look at.

use std::path::Path;

use mtjsim::analysis::simulate;
use mtjsim::netlist::load;
use mtjsim::results::Plot;

fn run(name: &str) -> Plot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("netlists")
        .join(name);
    let parsed = load(&path);
    assert!(
        !parsed.diagnostics.has_errors(),
        "{}",
        parsed.render_diagnostics()
    );
    let mut out = simulate(&parsed.circuit).expect("simulation runs");
    out.plots.pop().expect("a transient plot")
}

fn at(p: &Plot, name: &str, t: f64) -> f64 {
    let k = p.scale.data.partition_point(|x| *x < t);
    p.get(name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .data[k.min(p.len() - 1)]
}

#[test]
fn one_t_one_mtj_write_switches_ap_to_p_and_read_sees_r_p() {
    let p = run("1t1mtj_write_read.cir");
    assert!(at(&p, "mz(n1)", 0.0) < -0.99, "starts AP");
    assert!(at(&p, "mz(n1)", 9e-9) > 0.9, "write pulse switched it to P");
    // Read at 0.1 V: R_P of the card is 3.98 kΩ (area / ra); bias 0.1 V barely changes it.
    let r = at(&p, "r(n1)", 16e-9);
    assert!(
        (r - 3979.0).abs() / 3979.0 < 0.01,
        "read sees R_P, got {r} Ω"
    );
    // The isothermal card never heats.
    let tmax = p
        .get("temp(n1)")
        .unwrap()
        .data
        .iter()
        .fold(0.0f64, |m, v| m.max(*v));
    assert!((tmax - 300.15).abs() < 1e-9);
}

#[test]
fn heating_neuron_fires_under_sub_critical_train_and_resets() {
    let p = run("mtj_heating_neuron.cir");
    let temp = &p.get("temp(n1)").unwrap().data;
    let mz = &p.get("mz(n1)").unwrap().data;
    let t = &p.scale.data;
    let fire = t
        .iter()
        .zip(mz)
        .find(|(_, m)| **m > 0.5)
        .map(|(t, _)| *t)
        .expect("neuron fires");
    assert!(
        fire > 5e-9,
        "not on the first pulse: heat must accumulate (fired at {fire:e})"
    );
    // Heat accumulated before firing: the device is warmer than ambient by several kelvin.
    let k = t.partition_point(|x| *x < fire);
    assert!(temp[k] > 305.0, "T at firing {}", temp[k]);
    assert!(*mz.last().unwrap() < -0.9, "reset pulse restores AP");
}

#[test]
fn mtj_crossbar_read_recovers_pattern_without_disturb() {
    let p = run("mtj_crossbar_2x2.cir");
    // Row 0 selected: cell (0,0) is P, (0,1) is AP → column 0 carries more current.
    let (c0, c1) = (at(&p, "i(vr0)", 3e-9).abs(), at(&p, "i(vr1)", 3e-9).abs());
    assert!(c0 > 1.5 * c1, "row 0: {c0} vs {c1}");
    let (c0, c1) = (at(&p, "i(vr0)", 9e-9).abs(), at(&p, "i(vr1)", 9e-9).abs());
    assert!(c1 > 1.5 * c0, "row 1: {c0} vs {c1}");
    for (cell, sign) in [
        ("mz(n00)", 1.0),
        ("mz(n01)", -1.0),
        ("mz(n10)", -1.0),
        ("mz(n11)", 1.0),
    ] {
        let worst = p
            .get(cell)
            .unwrap()
            .data
            .iter()
            .fold(1.0f64, |m, v| m.min(sign * v));
        assert!(worst > 0.8, "{cell} disturbed by the read: min {worst}");
    }
}

#[test]
fn same_seed_gives_bit_identical_waveforms() {
    let a = run("mtj_heating_neuron.cir");
    let b = run("mtj_heating_neuron.cir");
    assert_eq!(a.scale.data, b.scale.data);
    for (x, y) in a.vectors.iter().zip(&b.vectors) {
        assert_eq!(x.data, y.data, "{}", x.name);
    }
}
