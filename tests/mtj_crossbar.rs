//! Generated MTJ crossbars (issue 4): the generated netlist composes through `.include`,
//! a read recovers the stored pattern from the sensed currents, a write of one cell leaves
//! the others undisturbed, and the 1T1MTJ array conserves energy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mtjsim::analysis::{SimOutput, simulate};
use mtjsim::circuit::{Circuit, ElementKind, OutputRequest};
use mtjsim::generate::array::{self, ArraySpec, Cell, Op};
use mtjsim::generate::metrics::{read_report, write_report};
use mtjsim::netlist::load_str;

fn lib() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device_models/mtj.lib")
        .display()
        .to_string()
}

fn spec(rows: usize, cols: usize) -> ArraySpec {
    let mut s = ArraySpec::new(rows, cols);
    s.lib = lib();
    s
}

fn parse(text: &str, dir: &Path) -> Circuit {
    let parsed = load_str("gen.cir", text, dir);
    assert!(
        !parsed.diagnostics.has_errors(),
        "{}",
        parsed.render_diagnostics()
    );
    parsed.circuit
}

fn run(s: &ArraySpec) -> SimOutput {
    simulate(&parse(&array::netlist(s), Path::new("."))).expect("simulation runs")
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mtjsim-xbar-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A generated array written as `.subckt` and pulled into a hand-written top level with
/// `.include`: selecting row 1 senses the stored row (P cells carry more current than AP
/// cells: R_AP/R_P ≈ 2.2 at 0.1 V, so a 1 must exceed every 0 by > 1.5× even with the
/// transistor's ~300 Ω in series).
#[test]
fn generated_array_composes_through_include() {
    let dir = tmpdir("include");
    let mut s = spec(2, 3);
    s.bits = vec![vec![true, false, true], vec![false, true, true]];
    s.subckt = Some("arr".into());
    std::fs::write(dir.join("arr.cir"), array::netlist(&s)).unwrap();
    let top = "hand-written periphery\n.include \"arr.cir\"\n\
        xa b0 b1 b2 s0 s1 s2 w0 w1 arr\n\
        vb0 b0 0 dc 0.1\nvb1 b1 0 dc 0.1\nvb2 b2 0 dc 0.1\n\
        vs0 s0 0 dc 0\nvs1 s1 0 dc 0\nvs2 s2 0 dc 0\n\
        vw0 w0 0 dc 0\nvw1 w1 0 pwl(0 0 0.1n 1.2)\n.tran 10p 1n\n\
        .save i(vs0) i(vs1) i(vs2)\n.end\n";
    let c = parse(top, &dir);
    let out = simulate(&c).unwrap();
    let p = &out.plots[0];
    let i: Vec<f64> = (0..3)
        .map(|j| {
            p.get(&format!("i(vs{j})"))
                .unwrap()
                .data
                .last()
                .unwrap()
                .abs()
        })
        .collect();
    eprintln!("row 1 sensed currents {i:?}");
    let zero = i[0];
    assert!(i[1] > 1.5 * zero && i[2] > 1.5 * zero, "{i:?}");
    assert!(
        (i[1] / i[2] - 1.0).abs() < 0.02,
        "two P cells read alike: {i:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Read of a known random pattern: the decided bits (threshold found from the currents
/// alone) equal the stored ones, the margin is positive, the sensed current settles within
/// the row period, and the read energy is positive and below the ideal bound of every
/// bit line conducting for the whole run (vread · Σ I · t).
#[test]
fn read_recovers_pattern_1t1mtj_and_1mtj() {
    for (cell, wire_r) in [(Cell::OneT1Mtj, 2.0), (Cell::OneMtj, 5.0)] {
        let mut s = spec(4, 4);
        s.cell = cell;
        s.wire_r = wire_r;
        s.bits = array::pattern_random(4, 4, 3);
        let out = run(&s);
        let r = read_report(&s, out.plots.last().unwrap(), out.source_energy_j[0]).unwrap();
        eprintln!(
            "{cell:?}: margin {:.3e} A ({:.1} %), latency {:.3e} s, energy {:.3e} J, threshold {:.3e}",
            r.margin_a,
            100.0 * r.margin_rel,
            r.latency_s,
            r.energy_j,
            r.threshold
        );
        assert_eq!(r.bits, s.bits, "{cell:?}: read pattern");
        assert_eq!(r.errors, 0);
        assert!(r.margin_a > 0.0);
        assert!(r.latency_s > 0.0 && r.latency_s < 0.5 * s.row_period);
        let bound: f64 = r.current.iter().flatten().sum::<f64>() * s.v_read * s.row_period;
        assert!(
            r.energy_j > 0.0 && r.energy_j < 2.0 * bound,
            "{} vs {bound}",
            r.energy_j
        );
    }
}

/// Write of one cell in a 3×3 1T1MTJ array in both directions (checker pattern: (1,1) is
/// a 1 → written to AP; (0,1) is a 0 → written to P), with thermal noise on: the target
/// switches and no other cell is disturbed: every other cell's state·m_z stays above 0.5 at
/// all times. Thermal wobble of a Δ = 45 bit is ~0.15 rad rms (⟨θ²⟩ = 1/Δ), so its extremes
/// over thousands of steps reach ~0.5 rad (m_z ≈ 0.86, observed 0.86–0.91); reaching 60°
/// (m_z = 0.5) thermally has probability ~exp(−45·0.75) ≈ 1e-15, so only a real disturb
/// current could. The peak current in unselected cells is
/// reported as the disturb margin and must stay far below Ic0 (38 µA): access transistors
/// are off, so < 1 % of Ic0.
#[test]
fn write_one_cell_does_not_disturb_others() {
    for target in [(1, 1), (0, 1)] {
        let mut s = spec(3, 3);
        s.bits = array::pattern_checker(3, 3);
        s.op = Op::Write {
            row: target.0,
            col: target.1,
        };
        let out = run(&s);
        let w = write_report(&s, out.plots.last().unwrap(), out.source_energy_j[0]).unwrap();
        eprintln!("write {target:?}: {w:?}");
        assert!(w.switched, "target switched");
        assert!(w.t_switch_s.unwrap() < s.write_width);
        assert!(w.worst_other > 0.5, "disturbed: {}", w.worst_other);
        assert!(
            w.max_other_a < 0.01 * 38e-6,
            "unselected current {}",
            w.max_other_a
        );
        assert!(w.target_a > 2.0 * 38e-6, "write current {}", w.target_a);
    }
}

/// Energy balance of a 2×2 1T1MTJ write with wire R and C: the sources' energy equals the
/// MTJs' Joule energy + the transistors' ∫v_ds·i (each in series with its MTJ) + the wire
/// resistors' ∫v²/R + the change of the energy stored in the wire capacitors, within 0.5 %.
#[test]
fn array_energy_balance() {
    let mut s = spec(2, 2);
    s.bits = array::pattern_checker(2, 2);
    s.op = Op::Write { row: 0, col: 1 };
    s.wire_r = 50.0;
    s.wire_c = 5e-15;
    s.write_width = 4e-9;
    let mut c = parse(&array::netlist(&s), Path::new("."));
    // Save every node voltage and every MTJ's current and power.
    c.saves = c
        .nodes
        .iter()
        .skip(1)
        .map(|n| OutputRequest::Voltage(n.clone(), None))
        .collect();
    for e in &c.elements {
        if let ElementKind::Mtj { .. } = e.kind {
            c.saves
                .push(OutputRequest::Device("p".into(), e.name.clone()));
            c.saves.push(OutputRequest::Current(e.name.clone()));
        }
    }
    let out = simulate(&c).unwrap();
    let p = out.plots.last().unwrap();
    let t = &p.scale.data;
    let v = |n: usize| -> Vec<f64> {
        if n == 0 {
            vec![0.0; t.len()]
        } else {
            p.get(&format!("v({})", c.nodes[n])).unwrap().data.clone()
        }
    };
    let integral = |y: &dyn Fn(usize) -> f64| -> f64 {
        (1..t.len())
            .map(|k| 0.5 * (y(k) + y(k - 1)) * (t[k] - t[k - 1]))
            .sum()
    };
    let mut e = HashMap::new();
    let mtj_i: HashMap<String, Vec<f64>> = c
        .elements
        .iter()
        .filter(|e| matches!(e.kind, ElementKind::Mtj { .. }))
        .map(|e| {
            let prefix = e.name.rsplit_once('.').unwrap().0.to_string();
            let name = format!("i(n.{})", e.name);
            (prefix, p.get(&name).unwrap().data.clone())
        })
        .collect();
    for el in &c.elements {
        match &el.kind {
            ElementKind::Resistor { a, b, r } => {
                let (va, vb) = (v(*a), v(*b));
                *e.entry("wires").or_insert(0.0) += integral(&|k| (va[k] - vb[k]).powi(2) / r);
            }
            ElementKind::Capacitor { a, b, c: cap, .. } => {
                let (va, vb) = (v(*a), v(*b));
                let n = t.len() - 1;
                *e.entry("caps").or_insert(0.0) +=
                    0.5 * cap * ((va[n] - vb[n]).powi(2) - (va[0] - vb[0]).powi(2));
            }
            ElementKind::Mtj { .. } => {
                let pw = p.get(&format!("p(n.{})", el.name)).unwrap().data.clone();
                *e.entry("mtj").or_insert(0.0) += integral(&|k| pw[k]);
            }
            ElementKind::Mosfet { d, s: src, .. } => {
                let (vd, vs) = (v(*d), v(*src));
                let i = &mtj_i[el.name.rsplit_once('.').unwrap().0];
                *e.entry("fet").or_insert(0.0) += integral(&|k| (vd[k] - vs[k]) * i[k]);
            }
            _ => {}
        }
    }
    let total: f64 = e.values().sum();
    let src = out.source_energy_j[0];
    eprintln!("sources {src:.5e} J; {e:?}; sum {total:.5e}");
    assert!(e["mtj"] > 0.2 * src && e["wires"] > 0.0);
    assert!((total / src - 1.0).abs() < 5e-3, "{total} vs {src}");
}

/// Write error rate with thermal noise (`mtjsim xbar --trials`): 64 seeded writes of a 1 to
/// AP in a 2×2 1T1MTJ array (multirate, 20 substeps). The mean switching delay at this drive
/// is ≈ 1.5 ns with a thermal spread of the initial angle, so a 1.5 ns pulse must fail for
/// some seeds and succeed for others (0 < WER < 1: the noise, not a deterministic threshold,
/// decides), while a 10 ns pulse must never fail (WER = 0).
#[test]
fn write_error_rate_reflects_thermal_noise() {
    let mut s = spec(2, 2);
    s.bits = array::pattern_checker(2, 2);
    s.op = Op::Write { row: 0, col: 0 };
    s.subcycle = 20;
    let wer = |width: f64| {
        let mut t = s.clone();
        t.write_width = width;
        let r = mtjsim::cli::xbar::write_trials(&t, 64).unwrap();
        assert!(r.iter().all(|x| x.0.worst_other > 0.5), "no disturb");
        r.iter().filter(|x| !x.0.switched).count() as f64 / 64.0
    };
    let (short, long) = (wer(1.5e-9), wer(10e-9));
    eprintln!("WER: 1.5 ns pulse {short}, 10 ns pulse {long}");
    assert!(short > 0.0 && short < 1.0, "short-pulse WER {short}");
    assert_eq!(long, 0.0);
}

/// Issue 4: with the MTJs replaced by fixed resistors (`--cell 1t1r`) the generated 16×16
/// array (wire R and C, access transistors) gives the same sensed bit-line currents in
/// ngspice and mtjsim: RMS error < 0.5 % of each vector's range on a common grid (the
/// issue's tolerance) and max pointwise error < 0.1 % (observed: rms 7e-6, max 8e-5 of range).
#[test]
fn generated_1t1r_array_matches_ngspice() {
    if !mtjsim::testing::require_ngspice("generated_1t1r_array_matches_ngspice") {
        return;
    }
    let dir = mtjsim::testing::TempDir::new("gen1t1r").unwrap();
    let mut s = spec(16, 16);
    s.cell = Cell::OneT1R;
    let path = dir.path().join("x16.cir");
    std::fs::write(&path, array::netlist(&s)).unwrap();
    let reference = mtjsim::testing::run_ngspice(&path).unwrap();
    let ours = simulate(&parse(&array::netlist(&s), Path::new(".")))
        .unwrap()
        .plots;
    let names: Vec<String> = (0..16).map(|j| format!("i(vsl{j})")).collect();
    let refs: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    let cmp = mtjsim::testing::compare_plots(
        reference.last().unwrap(),
        ours.last().unwrap(),
        Some(&refs),
    );
    eprintln!("{cmp}");
    assert!(cmp.passes(5e-3, 1e-3), "{cmp}");
}

/// `--read-rows 2` on a 6×4 array: the transient stops after two word-line accesses
/// (2 × row period) and the two rows read are recovered.
#[test]
fn partial_read_recovers_the_rows_read() {
    let mut s = spec(6, 4);
    s.bits = array::pattern_random(6, 4, 9);
    s.read_rows = 2;
    s.subcycle = 50;
    let out = run(&s);
    let p = out.plots.last().unwrap();
    assert!((p.scale.data.last().unwrap() / (2.0 * s.row_period) - 1.0).abs() < 1e-9);
    let r = read_report(&s, p, out.source_energy_j[0]).unwrap();
    assert_eq!(r.bits, s.bits[..2].to_vec());
    assert_eq!(r.errors, 0);
}

/// The generated 16×16 1T1R read: its netlist, and that netlist with `.options OPTIONS`
/// before `.tran`, simulated.
fn one_t1r_16_with(options: &str) -> (String, SimOutput) {
    let mut s = spec(16, 16);
    s.cell = Cell::OneT1R;
    let plain = array::netlist(&s);
    let text = plain.replacen(".tran ", &format!(".options {options}\n.tran "), 1);
    assert_ne!(plain, text, "the netlist has a .tran card");
    let out = simulate(&parse(&text, Path::new("."))).unwrap();
    (plain, out)
}

/// The 16 sensed column currents of `ours` compared with `reference`'s.
fn compare_sensed(
    reference: &mtjsim::results::Plot,
    ours: &SimOutput,
) -> mtjsim::testing::Comparison {
    let names: Vec<String> = (0..16).map(|j| format!("i(vsl{j})")).collect();
    let refs: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    mtjsim::testing::compare_plots(reference, ours.plots.last().unwrap(), Some(&refs))
}

/// Certified latency (on by default): a cut-off transistor whose last linearisation still
/// gives its currents to within 1e-15 A reuses it without a load. On the 16×16 1T1R read
/// most loads of the 240 cut-off cells are skipped, while the time steps and Newton
/// iterations stay those of the full evaluation (`latency=0`) and the sensed currents move
/// by less than 1e-9 of their range.
#[test]
fn latency_keeps_the_1t1r_answer() {
    let (_, a) = one_t1r_16_with("latency=0");
    let (_, b) = one_t1r_16_with("latency=1");
    assert_eq!(a.stats.latent_devices, 0);
    assert_eq!(b.stats.device_bypasses, 0);
    assert_eq!(a.stats.accepted_steps, b.stats.accepted_steps);
    assert_eq!(a.stats.newton_iterations, b.stats.newton_iterations);
    assert!(
        b.stats.latent_devices > b.stats.newton_iterations * 16 * 15 * 3 / 4,
        "latent loads {} over {} Newton iterations",
        b.stats.latent_devices,
        b.stats.newton_iterations
    );
    let cmp = compare_sensed(a.plots.last().unwrap(), &b);
    eprintln!("latency vs full evaluation: {cmp}");
    assert!(cmp.passes(1e-9, 1e-9), "{cmp}");
}

/// Chord steps (`.options chordtol`, 0.03 by default): a transient's confirming Newton
/// iteration whose matrix moved by at most 3 % of the diagonal scale solves the residual
/// equation with the factors in hand. On the 16×16 1T1R read that replaces at least a
/// quarter of the LU refactorizations without costing time steps or more than 2 % extra
/// Newton iterations, and the sensed currents stay within 1e-9 of their range of the
/// always-refactoring run (`chordtol=0`): the fixed point is the same, only the path to it
/// differs.
#[test]
fn chord_steps_keep_the_1t1r_answer() {
    let (_, a) = one_t1r_16_with("chordtol=0");
    let (_, b) = one_t1r_16_with("chordtol=0.03");
    assert_eq!(a.stats.chord_iterations, 0);
    assert_eq!(a.stats.accepted_steps, b.stats.accepted_steps);
    assert!(
        b.stats.newton_iterations * 50 <= a.stats.newton_iterations * 51,
        "Newton iterations {} with chord steps, {} without",
        b.stats.newton_iterations,
        a.stats.newton_iterations
    );
    assert!(
        b.stats.lu_factorizations * 4 <= a.stats.lu_factorizations * 3,
        "factorizations {} with {} chord steps, {} without",
        b.stats.lu_factorizations,
        b.stats.chord_iterations,
        a.stats.lu_factorizations
    );
    let cmp = compare_sensed(a.plots.last().unwrap(), &b);
    eprintln!("chord steps vs always refactoring: {cmp}");
    assert!(cmp.passes(1e-9, 1e-9), "{cmp}");
}

/// Only states read at earlier points are shifted into the history: in the 16×16 1T1R read
/// the charge-free access transistors keep none (their words are their last operating point),
/// the bit- and source-line capacitors keep their charge and current; a gate capacitance
/// (`cgso`) gives the transistors charges, and then all their words keep a history too.
#[test]
fn only_states_with_charges_keep_a_history() {
    let mut s = spec(16, 16);
    s.cell = Cell::OneT1R;
    let plain = array::netlist(&s);
    let circuit = parse(&plain, Path::new("."));
    let sys = mtjsim::analysis::System::new(&circuit).unwrap();
    let caps = circuit
        .elements
        .iter()
        .filter(|e| matches!(e.kind, ElementKind::Capacitor { .. }))
        .count();
    assert!(caps >= 2 * 16 * 16, "{caps} capacitors");
    assert_eq!(sys.history_words(), 2 * caps);
    assert!(sys.history_words() * 5 < sys.states[0].len());
    let model = plain
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with(".model") && l.contains("nmos"))
        .expect("an nmos model card")
        .to_string();
    let charged = plain.replacen(&model, &format!("{model} cgso=1e-10"), 1);
    let sys = mtjsim::analysis::System::new(&parse(&charged, Path::new("."))).unwrap();
    assert_eq!(sys.history_words(), sys.states[0].len());
}

/// `.options bypass=1` (ngspice's BYPASS, off by default): transistors whose voltages and
/// currents moved less than the Newton tolerances since their last evaluation at the same
/// time point reuse it. On the generated 16×16 1T1R read most loads of the 240 cut-off
/// cells are bypassed, and the sensed currents still match ngspice (run without bypass, its
/// default) within the tolerance and mtjsim without bypass within 0.1 % of range.
/// Both runs turn the certified latency off (`latency=0`), which would otherwise take the
/// cut-off cells first.
#[test]
fn bypass_keeps_the_1t1r_answer() {
    let (plain, a) = one_t1r_16_with("latency=0");
    let (_, b) = one_t1r_16_with("latency=0 bypass=1");
    assert_eq!(a.stats.device_bypasses, 0);
    assert!(
        b.stats.device_bypasses > a.stats.newton_iterations * 16 * 16 / 4,
        "bypasses {} over {} Newton iterations",
        b.stats.device_bypasses,
        a.stats.newton_iterations
    );
    let own = compare_sensed(a.plots.last().unwrap(), &b);
    eprintln!("bypass vs full evaluation: {own}");
    assert!(own.passes(1e-3, 1e-3), "{own}");
    if !mtjsim::testing::require_ngspice("bypass_keeps_the_1t1r_answer") {
        return;
    }
    let dir = mtjsim::testing::TempDir::new("bypass1t1r").unwrap();
    let path = dir.path().join("x16.cir");
    std::fs::write(&path, &plain).unwrap();
    let reference = mtjsim::testing::run_ngspice(&path).unwrap();
    let cmp = compare_sensed(reference.last().unwrap(), &b);
    eprintln!("bypass vs ngspice: {cmp}");
    assert!(cmp.passes(5e-3, 1e-3), "{cmp}");
}
