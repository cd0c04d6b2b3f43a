//! Acceptance suite for the circuit engine: every netlist in `tests/netlists/*.cir` is run
//! through ngspice-39 and through mtjsim (`netlist::load` → `analysis::simulate`), and every
//! saved vector of every plot is compared on a common grid.
//!
//! Pass criteria, per vector, relative to the ngspice vector's range (max − min):
//! RMS error < 0.5 % and max error < 3 %. Besides the values, the test checks that both
//! simulators produce the same plots (names and count), the same vector names (ngspice's
//! `v(node)`, `i(vsrc)`, `v(x1.node)`, `i(v.x1.vs)`, sweep scales `v(v-sweep)` /
//! `i(i-sweep)`), the same number of points for DC sweeps and operating points, and the
//! same time span for transients (TSTART honoured, TSTOP reached).
//!
//! `.print` requests with a differential voltage `v(a,b)` are not written by ngspice into a
//! raw file; when mtjsim saves such a vector it is compared against ngspice's
//! `v(a) − v(b)` (both nodes must then be saved explicitly).
//!
//! One test per netlist (see the `crosscheck!` list at the bottom); a guard test fails
//! when a netlist file has no test. Without ngspice the tests skip with a note, unless the
//! `CI` environment variable is set, in which case they fail.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mtjsim::results::{Plot, VecKind, Vector};
use mtjsim::testing::{compare_plots, require_ngspice, run_ngspice};

/// RMS error bound, relative to the reference vector's range.
const RMS_TOL: f64 = 0.005;
/// Max error bound, relative to the reference vector's range.
const MAX_TOL: f64 = 0.03;

fn netlist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("netlists")
}

/// Everything of a plot's vectors by name, the scale included.
fn all_vectors(p: &Plot) -> impl Iterator<Item = &Vector> {
    std::iter::once(&p.scale).chain(&p.vectors)
}

fn names(p: &Plot) -> BTreeSet<String> {
    all_vectors(p)
        .map(|v| v.name.to_ascii_lowercase())
        .collect()
}

/// `v(a,b)` → `Some(("a", "b"))`.
fn differential(name: &str) -> Option<(String, String)> {
    let inner = name.strip_prefix("v(")?.strip_suffix(')')?;
    let (a, b) = inner.split_once(',')?;
    Some((a.trim().to_ascii_lowercase(), b.trim().to_ascii_lowercase()))
}

fn node_voltage<'a>(p: &'a Plot, node: &str) -> Option<std::borrow::Cow<'a, [f64]>> {
    if node == "0" || node == "gnd" {
        return Some(std::borrow::Cow::Owned(vec![0.0; p.len()]));
    }
    let want = format!("v({node})");
    all_vectors(p)
        .find(|v| v.name.eq_ignore_ascii_case(&want))
        .map(|v| std::borrow::Cow::Borrowed(v.data.as_slice()))
}

/// The reference plot extended with `v(a,b) = v(a) − v(b)` for every differential vector
/// mtjsim saved that ngspice could not (ngspice ignores `.print` when writing a raw file).
/// Returns the extended plot and the names that could not be derived.
fn with_differentials(reference: &Plot, ours: &Plot) -> (Plot, Vec<String>) {
    let mut r = reference.clone();
    let have = names(reference);
    let mut underivable = Vec::new();
    for v in all_vectors(ours) {
        let name = v.name.to_ascii_lowercase();
        if have.contains(&name) {
            continue;
        }
        let Some((a, b)) = differential(&name) else {
            continue;
        };
        match (node_voltage(reference, &a), node_voltage(reference, &b)) {
            (Some(va), Some(vb)) => {
                let data = va.iter().zip(vb.iter()).map(|(x, y)| x - y).collect();
                r.vectors.push(Vector {
                    name: name.clone(),
                    kind: VecKind::Voltage,
                    data,
                });
            }
            _ => underivable.push(name),
        }
    }
    (r, underivable)
}

/// Pair plots by name: the k-th ngspice plot called "Transient Analysis" with our k-th
/// plot of that name (ngspice runs analyses grouped by type, mtjsim in netlist order; the
/// netlists keep both orders equal, but the pairing does not rely on it).
fn pair_plots<'a>(
    reference: &'a [Plot],
    ours: &'a [Plot],
) -> (Vec<(&'a Plot, &'a Plot)>, Vec<String>) {
    let mut problems = Vec::new();
    let ref_names: Vec<&str> = reference.iter().map(|p| p.name.as_str()).collect();
    let our_names: Vec<&str> = ours.iter().map(|p| p.name.as_str()).collect();
    if reference.len() != ours.len() {
        problems.push(format!(
            "plot count differs: ngspice {} {:?}, mtjsim {} {:?}",
            reference.len(),
            ref_names,
            ours.len(),
            our_names
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut pairs = Vec::new();
    for r in reference {
        let k = seen.entry(r.name.as_str()).or_default();
        match ours
            .iter()
            .filter(|o| o.name.eq_ignore_ascii_case(&r.name))
            .nth(*k)
        {
            Some(o) => pairs.push((r, o)),
            None => problems.push(format!(
                "mtjsim has no plot '{}' (#{}) (mtjsim plots: {:?})",
                r.name,
                *k + 1,
                our_names
            )),
        }
        *k += 1;
    }
    for o in ours {
        if !reference
            .iter()
            .any(|r| r.name.eq_ignore_ascii_case(&o.name))
        {
            problems.push(format!(
                "mtjsim plot '{}' has no ngspice counterpart (ngspice plots: {:?})",
                o.name, ref_names
            ));
        }
    }
    (pairs, problems)
}

fn is_transient(p: &Plot) -> bool {
    p.scale.name.eq_ignore_ascii_case("time")
}

fn first_last(v: &[f64]) -> (f64, f64) {
    (
        v.first().copied().unwrap_or(f64::NAN),
        v.last().copied().unwrap_or(f64::NAN),
    )
}

/// Structure checks of one plot pair: vector names, scale name, length / span.
fn structure(r: &Plot, o: &Plot) -> Vec<String> {
    let mut problems = Vec::new();
    let label = &r.name;
    let op = r.name.eq_ignore_ascii_case("Operating Point");
    // The scale of an ngspice operating-point plot is just its first vector; the sets of
    // names are compared instead.
    if !op && !r.scale.name.eq_ignore_ascii_case(&o.scale.name) {
        problems.push(format!(
            "{label}: scale is '{}' in mtjsim, '{}' in ngspice",
            o.scale.name, r.scale.name
        ));
    }
    let rn = names(r);
    let on = names(o);
    let missing: Vec<&String> = rn.difference(&on).collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{label}: vectors saved by ngspice but not by mtjsim: {missing:?}"
        ));
    }
    let extra: Vec<&String> = on
        .difference(&rn)
        .filter(|n| differential(n).is_none())
        .collect();
    if !extra.is_empty() {
        problems.push(format!(
            "{label}: vectors saved by mtjsim but not by ngspice: {extra:?}"
        ));
    }
    for v in &o.vectors {
        if v.data.len() != o.scale.data.len() {
            problems.push(format!(
                "{label}: mtjsim vector {} has {} points, its scale {}",
                v.name,
                v.data.len(),
                o.len()
            ));
        }
    }
    if is_transient(r) {
        let (r0, r1) = first_last(&r.scale.data);
        let (o0, o1) = first_last(&o.scale.data);
        let span = (r1 - r0).abs().max(f64::MIN_POSITIVE);
        // ngspice writes its first accepted point at or after TSTART, not TSTART itself.
        if (o0 - r0).abs() > 0.01 * span {
            problems.push(format!(
                "{label}: time starts at {o0:e} in mtjsim, {r0:e} in ngspice (TSTART?)"
            ));
        }
        if (o1 - r1).abs() > 1e-6 * r1.abs().max(span) {
            problems.push(format!(
                "{label}: time ends at {o1:e} in mtjsim, {r1:e} in ngspice (TSTOP)"
            ));
        }
    } else if r.len() != o.len() {
        problems.push(format!(
            "{label}: {} points in mtjsim, {} in ngspice",
            o.len(),
            r.len()
        ));
    }
    problems
}

/// Differential voltages `v(a,b)` requested by `.save` / `.print` lines of the netlist,
/// with the analysis a `.print` names (`tran`, `dc`, `op`), lowercase, spaces removed.
fn differential_requests(text: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let lower = line.trim().to_ascii_lowercase();
        let (analysis, rest) = if let Some(rest) = lower.strip_prefix(".print") {
            let rest = rest.trim_start();
            let (a, r) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            (Some(a.to_string()), r.to_string())
        } else if let Some(rest) = lower.strip_prefix(".save") {
            (None, rest.to_string())
        } else {
            continue;
        };
        let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        let mut at = 0;
        while let Some(k) = compact[at..].find("v(") {
            let start = at + k;
            let Some(len) = compact[start..].find(')') else {
                break;
            };
            let req = &compact[start..=start + len];
            if differential(req).is_some() {
                out.push((analysis.clone(), req.to_string()));
            }
            at = start + len + 1;
        }
    }
    out
}

fn plot_matches_analysis(p: &Plot, analysis: &Option<String>) -> bool {
    match analysis.as_deref() {
        None => true,
        Some("tran") => p.name.eq_ignore_ascii_case("Transient Analysis"),
        Some("dc") => p.name.eq_ignore_ascii_case("DC transfer characteristic"),
        Some("op") => p.name.eq_ignore_ascii_case("Operating Point"),
        Some(_) => false,
    }
}

fn crosscheck(file: &str) {
    crosscheck_in(&netlist_dir(), file);
}

fn crosscheck_in(dir: &Path, file: &str) {
    if !require_ngspice(file) {
        return;
    }
    let path = dir.join(file);
    let reference = match run_ngspice(&path) {
        Ok(p) => p,
        Err(e) => panic!("{file}: ngspice failed (the netlist must run cleanly in ngspice):\n{e}"),
    };

    let parsed = mtjsim::netlist::load(&path);
    if parsed.diagnostics.has_errors() {
        panic!(
            "{file}: mtjsim rejected the netlist:\n{}",
            parsed.render_diagnostics()
        );
    }
    if !parsed.diagnostics.items.is_empty() {
        eprintln!(
            "{file}: mtjsim diagnostics:\n{}",
            parsed.render_diagnostics()
        );
    }
    let out = match mtjsim::analysis::simulate(&parsed.circuit) {
        Ok(o) => o,
        Err(e) => {
            let done: Vec<&str> = e.plots.iter().map(|p| p.name.as_str()).collect();
            panic!(
                "{file}: mtjsim simulation failed{}: {e}\n(plots completed: {done:?})",
                e.time
                    .map(|t| format!(" at t = {}", mtjsim::analysis::fmt_time(t)))
                    .unwrap_or_default()
            )
        }
    };

    let mut report = String::new();
    let mut failed = false;
    // `.print` / `.save` differential requests must be recorded by mtjsim (ngspice does not
    // write them to a raw file, so the plot comparison alone would not notice).
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    for (analysis, req) in differential_requests(&text) {
        for p in out
            .plots
            .iter()
            .filter(|p| plot_matches_analysis(p, &analysis))
        {
            if p.get(&req).is_none() {
                failed = true;
                let _ = writeln!(
                    report,
                    "  STRUCTURE: {}: requested {req} is not in mtjsim's plot",
                    p.name
                );
            }
        }
    }
    let (pairs, problems) = pair_plots(&reference, &out.plots);
    for p in &problems {
        failed = true;
        let _ = writeln!(report, "  STRUCTURE: {p}");
    }
    for (r, o) in pairs {
        for p in structure(r, o) {
            failed = true;
            let _ = writeln!(report, "  STRUCTURE: {p}");
        }
        let (r_ext, underivable) = with_differentials(r, o);
        for n in underivable {
            failed = true;
            let _ = writeln!(
                report,
                "  STRUCTURE: {}: cannot check {n}: ngspice did not save both nodes",
                r.name
            );
        }
        // Compare every vector the two plots have in common (the scale of an operating
        // point included; a missing vector is reported above, not twice).
        let on = names(o);
        let common: Vec<&str> = all_vectors(&r_ext)
            .filter(|v| {
                !std::ptr::eq(*v, &r_ext.scale) || r.name.eq_ignore_ascii_case("Operating Point")
            })
            .map(|v| v.name.as_str())
            .filter(|n| on.contains(&n.to_ascii_lowercase()))
            .collect();
        if common.is_empty() {
            failed = true;
            let _ = writeln!(report, "  {}: no common vectors to compare", r.name);
            continue;
        }
        let cmp = compare_plots(&r_ext, o, Some(&common));
        let ok = cmp.passes(RMS_TOL, MAX_TOL);
        failed |= !ok;
        let _ = writeln!(
            report,
            "  {} ({} ngspice points, {} mtjsim points): {}",
            r.name,
            r.len(),
            o.len(),
            if ok { "ok" } else { "FAIL" }
        );
        for line in cmp.to_string().lines() {
            let _ = writeln!(report, "    {line}");
        }
    }
    eprintln!(
        "{file}: {} plot(s); mtjsim {} accepted / {} rejected steps, {} Newton iterations\n{report}",
        out.plots.len(),
        out.stats.accepted_steps,
        out.stats.rejected_steps,
        out.stats.newton_iterations
    );
    if failed {
        panic!(
            "{file}: mtjsim disagrees with ngspice (tolerances: rms {RMS_TOL}, max {MAX_TOL} of range)\n{report}"
        );
    }
}

macro_rules! crosscheck {
    ($($name:ident),* $(,)?) => {
        /// Every netlist that has a test, file stem = test name.
        const NETLISTS: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                crosscheck(concat!(stringify!($name), ".cir"));
            }
        )*
    };
}

crosscheck! {
    // passive elements and independent sources
    r_network_op,
    rc_step_pulse,
    rc_pulse_count,
    rc_pwl_repeat,
    rl_sin_damped,
    exp_sources,
    isource_sin_pulse,
    dc_linear_two_source,
    // ringing and initial conditions
    rlc_underdamped_step,
    lc_tank_uic,
    rlc_loop_ic,
    tran_op_source_values,
    // controlled sources
    vcvs_vccs_dc,
    cccs_ccvs_tran,
    // diodes
    diode_halfwave_rectifier,
    diode_bridge_rectifier,
    diode_clipper,
    diode_reverse_recovery,
    diode_zener_dc,
    // MOSFETs
    nmos_iv_two_source_dc,
    nmos_body_effect_dc,
    pmos_iv_two_source_dc,
    cs_amplifier_dc,
    cmos_inverter_vtc_dc,
    cmos_inverter_tran,
    nmos_access_rc,
    latch_nodeset_op,
    latch_ic_tran,
    crossbar_1t1r_4x4,
    nmos_stiff_retry,
    // netlist language
    subckt_params_nested,
    param_expressions,
    include_lib,
    save_print_forms,
    // analyses and options
    tran_tstart_tmax,
    options_gear,
    stiff_ps_us,
}

/// The user-facing examples in `netlists/` must keep running, and agree with ngspice too.
macro_rules! example {
    ($($name:ident => $file:literal),* $(,)?) => {
        const EXAMPLES: &[&str] = &[$($file),*];
        $(
            #[test]
            fn $name() {
                crosscheck_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("netlists"), $file);
            }
        )*
    };
}

example! {
    example_rc_ladder => "rc_ladder.cir",
    example_cmos_inverter_chain => "cmos_inverter_chain.cir",
    example_diode_bridge_rectifier => "diode_bridge_rectifier.cir",
    example_crossbar_1t1r_8x8_read => "crossbar_1t1r_8x8_read.cir",
    example_lc_oscillator => "lc_oscillator.cir",
}

#[test]
fn every_example_has_a_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("netlists");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("netlists/")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|f| f.ends_with(".cir"))
        .collect();
    files.sort();
    // MTJ examples use the `N` element ngspice lacks; tests/mtj_netlists.rs checks them.
    const MTJ_EXAMPLES: &[&str] = &[
        "1t1mtj_write_read.cir",
        "mtj_crossbar_2x2.cir",
        "mtj_heating_neuron.cir",
        // Sweep examples: tests/sweeps.rs runs them.
        "sweep_bench_mtj.cir",
        "sweep_crossbar_margin.cir",
        "sweep_memory_decay.cir",
        "sweep_switching.cir",
    ];
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !EXAMPLES.contains(&f.as_str()) && !MTJ_EXAMPLES.contains(&f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "examples without a test (add them to example!): {missing:?}"
    );
    for f in &files {
        let text = std::fs::read_to_string(dir.join(f)).expect("example");
        assert!(
            text.lines()
                .take(30)
                .any(|l| l.to_ascii_lowercase().contains("what to look at")),
            "netlists/{f}: header should have a 'What to look at' section"
        );
    }
}

/// A netlist dropped into `tests/netlists/` without a test would silently never run.
#[test]
fn every_netlist_has_a_test() {
    let mut files: Vec<String> = std::fs::read_dir(netlist_dir())
        .expect("tests/netlists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cir"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    files.sort();
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !NETLISTS.contains(&f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "netlists without a crosscheck test (add them to crosscheck!): {missing:?}"
    );
    let stale: Vec<&&str> = NETLISTS
        .iter()
        .filter(|n| !files.iter().any(|f| f == *n))
        .collect();
    assert!(
        stale.is_empty(),
        "crosscheck tests without a netlist file: {stale:?}"
    );
    assert!(
        files.len() >= 28,
        "the acceptance suite needs at least 28 netlists, found {}",
        files.len()
    );
}

/// Each netlist documents what it exercises in its header comment.
#[test]
fn every_netlist_has_a_header_comment() {
    for name in NETLISTS {
        let text =
            std::fs::read_to_string(netlist_dir().join(format!("{name}.cir"))).expect("netlist");
        let mut lines = text.lines();
        let title = lines.next().unwrap_or("");
        assert!(
            title.starts_with('*'),
            "{name}.cir: the first line should be a '*' title comment"
        );
        assert!(
            text.lines()
                .take(12)
                .any(|l| l.to_ascii_lowercase().starts_with("* exercises:")),
            "{name}.cir: header should say what it exercises ('* Exercises: ...')"
        );
    }
}

/// The request scanner used above finds differential voltages in `.save` / `.print`.
#[test]
fn differential_request_scanner() {
    let text =
        "t\n.save v(a) b i(vx) V( a , B )\n.PRINT tran v(a,b) i(vx)\n.print dc v(x,0)\nr1 a b 1\n";
    assert_eq!(
        differential_requests(text),
        vec![
            (None, "v(a,b)".to_string()),
            (Some("tran".to_string()), "v(a,b)".to_string()),
            (Some("dc".to_string()), "v(x,0)".to_string()),
        ]
    );
}
