//! Sweeps, Monte Carlo and `.meas`: analytic values, sharding, --jobs independence,
//! kill-and-resume, and failed points (docs/sweeps.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use mtjsim::{analysis, meas, netlist};

const RC: &str = "RC charging with measurements
.param r=1k c=1n
v1 in 0 1
r1 in out {r}
vs out cap 0
c1 cap 0 {c} ic=0
.tran 1n 10u 0 1n uic
.meas tran tdelay TRIG AT=0 TARG v(cap) VAL=0.5 RISE=1
.meas tran ecap INTEG par('v(cap)*i(vs)')
.meas tran vend FIND v(cap) AT=10u
.end
";

fn values(text: &str) -> Vec<(String, f64)> {
    let p = netlist::load_str("rc.cir", text, Path::new("."));
    assert!(!p.diagnostics.has_errors(), "{}", p.render_diagnostics());
    let out = analysis::simulate(&p.circuit).expect("simulates");
    meas::measure_all(&p.circuit, &out.plots)
        .into_iter()
        .map(|m| (m.name, m.value.expect("measured")))
        .collect()
}

#[test]
fn meas_matches_rc_delay_and_capacitor_energy() {
    let v = values(RC);
    let (r, c) = (1e3, 1e-9);
    // 50 % delay of a step into an RC: RC·ln 2.
    let tdelay = v[0].1;
    assert!(
        (tdelay / (r * c * 2f64.ln()) - 1.0).abs() < 1e-3,
        "{tdelay}"
    );
    // Energy stored in the capacitor after 10 RC: C·v(end)²/2, v(end) = 1 - e^-10.
    let vend = 1.0 - (-10f64).exp();
    assert!((v[2].1 / vend - 1.0).abs() < 1e-4, "{}", v[2].1);
    let e = v[1].1;
    assert!((e / (0.5 * c * vend * vend) - 1.0).abs() < 1e-3, "{e}");
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mtjsim")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mtjsim_sweep_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A Monte Carlo RC sweep: R varies 5 % per run (gauss), C is stepped.
fn mc_netlist(dir: &Path, steps: &str) -> PathBuf {
    let text = format!(
        "MC RC
.param c=1n rr={{gauss(1k,0.05,1)}}
v1 in 0 1
r1 in out {{rr}}
c1 out 0 {{c}} ic=0
.tran 2n 3u 0 2n uic
.step param c LIST {steps}
.meas tran tdelay TRIG AT=0 TARG v(out) VAL=0.5 RISE=1
.end
"
    );
    let p = dir.join("mc.cir");
    std::fs::write(&p, text).unwrap();
    p
}

fn sweep(args: &[&str]) -> std::process::Output {
    let out = Command::new(bin())
        .arg("sweep")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn table(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("table.csv")).unwrap()
}

#[test]
fn shards_union_and_jobs_give_the_same_table() {
    let d = tmp("shards");
    let net = mc_netlist(&d, "1n 2n");
    let n = net.to_str().unwrap();
    let full = d.join("full");
    sweep(&[
        n,
        "--mc",
        "12",
        "--seed",
        "9",
        "-j",
        "1",
        "--no-plots",
        "-o",
        full.to_str().unwrap(),
    ]);
    let two = d.join("two");
    sweep(&[
        n,
        "--mc",
        "12",
        "--seed",
        "9",
        "-j",
        "2",
        "--no-plots",
        "-o",
        two.to_str().unwrap(),
    ]);
    assert_eq!(table(&full), table(&two), "--jobs changed results");
    let mut dirs = Vec::new();
    for k in 0..3 {
        let s = d.join(format!("s{k}"));
        sweep(&[
            n,
            "--mc",
            "12",
            "--seed",
            "9",
            "--shard",
            &format!("{k}/3"),
            "-o",
            s.to_str().unwrap(),
        ]);
        dirs.push(s);
    }
    let merged = d.join("merged");
    let st = Command::new(bin())
        .arg("sweep-merge")
        .args(&dirs)
        .args(["--no-plots", "-o", merged.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(table(&full), table(&merged), "union of shards differs");
    // Rows: 2 steps × 12 runs, all ok; delay ∝ R, so the spread across runs is ~5 %.
    let rows: Vec<Vec<String>> = table(&full)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 24);
    let d1: Vec<f64> = rows
        .iter()
        .filter(|r| r[1] == "1e-9")
        .map(|r| r[4].parse().unwrap())
        .collect();
    let nominal = 1e-6 * 2f64.ln();
    let mean = d1.iter().sum::<f64>() / 12.0;
    let sd = (d1.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 11.0).sqrt();
    assert!((mean / nominal - 1.0).abs() < 0.05, "{mean}");
    assert!(sd / nominal > 0.02 && sd / nominal < 0.09, "{sd}");
    // Slurm's array variables pick the same shard as --shard.
    let env_dir = d.join("env");
    let out = Command::new(bin())
        .args([
            "sweep",
            n,
            "--mc",
            "12",
            "--seed",
            "9",
            "-o",
            env_dir.to_str().unwrap(),
        ])
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(table(&env_dir), table(&dirs[1]));
}

#[test]
fn killed_sweep_resumes_to_the_same_table() {
    let d = tmp("resume");
    let net = mc_netlist(&d, "1n 1.5n 2n 2.5n");
    let n = net.to_str().unwrap();
    let full = d.join("full");
    sweep(&[
        n,
        "--mc",
        "60",
        "-j",
        "2",
        "--no-plots",
        "-o",
        full.to_str().unwrap(),
    ]);
    let part = d.join("part");
    let mut child = Command::new(bin())
        .args([
            "sweep",
            n,
            "--mc",
            "60",
            "-j",
            "1",
            "--no-plots",
            "-o",
            part.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = part.join("points.jsonl");
    let t0 = std::time::Instant::now();
    loop {
        let lines = std::fs::read_to_string(&log).map_or(0, |s| s.lines().count());
        if lines >= 20 || t0.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!((20..240).contains(&done), "killed after {done} points");
    assert!(!part.join("table.csv").exists());
    sweep(&[
        n,
        "--mc",
        "60",
        "-j",
        "2",
        "--no-plots",
        "--resume",
        "-o",
        part.to_str().unwrap(),
    ]);
    assert_eq!(table(&full), table(&part));
    // Without --resume an existing folder is not overwritten.
    let again = Command::new(bin())
        .args(["sweep", n, "--mc", "60", "-o", part.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
}

#[test]
fn a_failing_point_is_recorded_and_the_others_run() {
    let d = tmp("fail");
    let net = d.join("d.cir");
    std::fs::write(
        &net,
        "diode op
.param vd=0.7
v1 a 0 {vd}
d1 a 0 dm
.model dm d (is=1e-14)
.op
.meas op idiode FIND i(v1) AT=0
.step param vd LIST 0.6 1e4 0.66
.end
",
    )
    .unwrap();
    let out = d.join("o");
    sweep(&[
        net.to_str().unwrap(),
        "--no-plots",
        "-o",
        out.to_str().unwrap(),
    ]);
    let t = table(&out);
    let rows: Vec<&str> = t.lines().skip(1).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[1].contains(",failed,"), "{t}");
    // The others converge: diode current ratio for 60 mV is e^(0.06/Vt) (Vt at 27 °C).
    let i = |r: &str| -> f64 { r.split(',').nth(4).unwrap().parse().unwrap() };
    let vt: f64 = 1.380649e-23 * 300.15 / 1.602176634e-19;
    let ratio = i(rows[2]) / i(rows[0]);
    assert!((ratio / (0.06 / vt).exp() - 1.0).abs() < 0.01, "{ratio}");
}

fn example(name: &str, extra: &[&str]) -> Vec<Vec<String>> {
    let d = tmp(name);
    let net = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("netlists")
        .join(name);
    let out = d.join("o");
    let mut args = vec![net.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    sweep(&args);
    table(&out)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn f(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

#[test]
fn example_memory_decay_time_is_rth_cth() {
    // Columns: id, rth, mc, status, tpeak, t1, t2, tau, ...
    let rows = example("sweep_memory_decay.cir", &["--no-plots"]);
    assert_eq!(rows.len(), 5);
    for r in &rows {
        let tau = f(&r[7]);
        let expect = f(&r[1]) * 20e-15;
        assert!((tau / expect - 1.0).abs() < 0.01, "rth {} tau {tau}", r[1]);
        assert!(f(&r[4]) > 300.5, "the pulse heats the pillar");
    }
}

#[test]
fn example_crossbar_margin_shrinks_with_wire_resistance() {
    // Columns: id, rw, mc, status, i0..i3, margin, ratio, ...
    let rows = example("sweep_crossbar_margin.cir", &["--no-plots"]);
    assert_eq!(rows.len(), 120);
    assert!(rows.iter().all(|r| r[3] == "ok"));
    let mean = |rw: &str| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r[1] == rw)
            .map(|r| f(&r[8]))
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    // Nominal read at 0.1 V: P ~ 25 µA, AP ~ 11 µA, so the margin is ~10 µA at low rw and
    // the IR drop of 1 kΩ segments removes a large part of it.
    assert!(mean("1e0") > 5e-6, "{}", mean("1e0"));
    assert!(
        mean("1e3") < 0.8 * mean("1e0"),
        "{} {}",
        mean("1e3"),
        mean("1e0")
    );
}

#[test]
fn example_switching_phase_diagram_has_both_corners() {
    // Columns: id, amp, pw, mc, status, sw, tsw, ewrite, ...
    let rows = example("sweep_switching.cir", &["--mc", "4"]);
    let p = |amp: &str, pw: &str| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r[1] == amp && r[2] == pw)
            .map(|r| f(&r[5]))
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert_eq!(p("1e0", "8e-9"), 1.0, "strong long pulses switch");
    assert_eq!(p("4e-1", "1e-9"), 0.0, "weak short pulses do not");
}

#[test]
fn example_bench_drive_moves_the_free_layer() {
    // 2 ns pulses from AP: a stronger pulse (more spin torque) leaves m_z further from -1.
    let rows = example(
        "sweep_bench_mtj.cir",
        &[
            "--set",
            "amp=0.6:0.9:4",
            "--set",
            "pw=2n:2n:1",
            "--no-plots",
        ],
    );
    assert_eq!(rows.len(), 4);
    let mz: Vec<f64> = rows.iter().map(|r| f(&r[5])).collect();
    assert!(mz.windows(2).all(|w| w[1] > w[0]), "{mz:?}");
    assert!(mz.iter().all(|m| (-1.0..=1.0).contains(m)), "{mz:?}");
}
