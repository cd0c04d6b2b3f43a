//! Raw-file interoperability with ngspice-39: we read what ngspice writes (binary and
//! ascii, multi-plot), our writer reproduces ngspice's layout byte for byte, and ngspice's
//! `load` accepts our files with the exact values. Tests needing ngspice skip with a note
//! when it is not on PATH (and fail when `CI` is set).

use mtjsim::output::raw::{RawFormat, parse_raw, read_raw, write_raw, write_raw_to};
use mtjsim::results::{Plot, VecKind, Vector};
use mtjsim::testing::{TempDir, require_ngspice, run_ngspice};
use std::path::Path;
use std::process::Command;

const RC: &str = "RC test circuit
V1 in 0 PULSE(0 1 1n 1n 1n 5n 20n)
R1 in out 1k
C1 out 0 1p
.tran 0.1n 10n
.end
";

const DIVIDER: &str = "divider op and dc
V1 in 0 1
R1 in out 1k
R2 out 0 2k
.op
.dc V1 0 2 0.5
.end
";

fn write(dir: &TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Run ngspice with `SPICE_ASCIIRAWFILE=1` (its switch for ascii raw output).
fn ngspice_ascii(dir: &TempDir, netlist: &Path) -> Vec<Plot> {
    let raw = dir.path().join("ascii.raw");
    let out = Command::new("ngspice")
        .env("SPICE_ASCIIRAWFILE", "1")
        .arg("-b")
        .arg("-r")
        .arg(&raw)
        .arg(netlist)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&raw)
            .unwrap()
            .windows(8)
            .any(|w| w == b"Values:\n")
    );
    read_raw(&raw).unwrap()
}

fn vec_of<'a>(p: &'a Plot, name: &str) -> &'a Vector {
    p.get(name)
        .unwrap_or_else(|| panic!("no {name} in {}", p.name))
}

#[test]
fn reads_ngspice_transient_binary_and_ascii() {
    if !require_ngspice("reads_ngspice_transient_binary_and_ascii") {
        return;
    }
    let dir = TempDir::new("raw-read").unwrap();
    let net = write(&dir, "rc.cir", RC);
    let bin = run_ngspice(&net).unwrap();
    assert_eq!(bin.len(), 1);
    let p = &bin[0];
    assert_eq!(p.title, "RC test circuit".to_ascii_lowercase());
    assert_eq!(p.name, "Transient Analysis");
    assert_eq!(
        (p.scale.name.as_str(), p.scale.kind),
        ("time", VecKind::Time)
    );
    let kinds: Vec<(&str, VecKind)> = p
        .vectors
        .iter()
        .map(|v| (v.name.as_str(), v.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("v(in)", VecKind::Voltage),
            ("v(out)", VecKind::Voltage),
            ("i(v1)", VecKind::Current)
        ]
    );
    assert!(p.len() > 50);
    assert_eq!(*p.scale.data.last().unwrap(), 10e-9);
    // Physics check that the columns are not shuffled: i(v1) = -(v(in) - v(out)) / 1k.
    let (vin, vout, i) = (vec_of(p, "v(in)"), vec_of(p, "v(out)"), vec_of(p, "i(v1)"));
    for k in 0..p.len() {
        let expect = -(vin.data[k] - vout.data[k]) / 1e3;
        assert!((i.data[k] - expect).abs() < 1e-9, "point {k}");
    }
    assert!(vin.data.iter().cloned().fold(0.0, f64::max) > 0.999);

    let ascii = ngspice_ascii(&dir, &net);
    assert_eq!(ascii.len(), 1);
    let a = &ascii[0];
    assert_eq!((a.name.as_str(), a.len()), (p.name.as_str(), p.len()));
    // ngspice prints 16 significant digits in ascii.
    for (va, vb) in std::iter::once(&a.scale)
        .chain(&a.vectors)
        .zip(std::iter::once(&p.scale).chain(&p.vectors))
    {
        assert_eq!(va.name, vb.name);
        for (x, y) in va.data.iter().zip(&vb.data) {
            assert!(
                (x - y).abs() <= 1e-15 * y.abs().max(1e-300),
                "{}: {x} vs {y}",
                va.name
            );
        }
    }
}

#[test]
fn reads_ngspice_multi_plot_files() {
    if !require_ngspice("reads_ngspice_multi_plot_files") {
        return;
    }
    let dir = TempDir::new("raw-multi").unwrap();
    let net = write(&dir, "div.cir", DIVIDER);
    for plots in [run_ngspice(&net).unwrap(), ngspice_ascii(&dir, &net)] {
        let names: Vec<&str> = plots.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), 2);
        assert!(
            names.contains(&"Operating Point") && names.contains(&"DC transfer characteristic")
        );
        let op = plots.iter().find(|p| p.name == "Operating Point").unwrap();
        assert_eq!(op.len(), 1);
        assert_eq!(op.scale.name, "v(in)");
        assert!((vec_of(op, "v(out)").data[0] - 2.0 / 3.0).abs() < 1e-12);
        let dc = plots.iter().find(|p| p.name.starts_with("DC")).unwrap();
        assert_eq!(dc.scale.name, "v(v-sweep)");
        assert_eq!(dc.scale.data, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        let vout = vec_of(dc, "v(out)");
        for (s, v) in dc.scale.data.iter().zip(&vout.data) {
            assert!((v - s * 2.0 / 3.0).abs() < 1e-12);
        }
    }
}

/// Drop the `Date:` lines, the only bytes that legitimately differ.
fn without_dates(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        let at_line_start = out.is_empty() || out.last() == Some(&b'\n');
        if at_line_start && rest.starts_with(b"Date: ") {
            let end = rest.iter().position(|&b| b == b'\n').unwrap();
            rest = &rest[end + 1..];
            continue;
        }
        out.push(rest[0]);
        rest = &rest[1..];
    }
    out
}

#[test]
fn our_binary_writer_reproduces_ngspice_files_byte_for_byte() {
    if !require_ngspice("our_binary_writer_reproduces_ngspice_files_byte_for_byte") {
        return;
    }
    let dir = TempDir::new("raw-bytes").unwrap();
    for (name, text) in [("rc.cir", RC), ("div.cir", DIVIDER)] {
        let net = write(&dir, name, text);
        let raw = dir.path().join("ng.raw");
        let st = Command::new("ngspice")
            .env_remove("SPICE_ASCIIRAWFILE")
            .args(["-b", "-r"])
            .arg(&raw)
            .arg(&net)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(st.status.success());
        let theirs = std::fs::read(&raw).unwrap();
        let plots = parse_raw(&theirs).unwrap();
        let mut ours = Vec::new();
        write_raw_to(&mut ours, &plots, RawFormat::Binary).unwrap();
        assert!(
            without_dates(&ours) == without_dates(&theirs),
            "{name}: layout differs\nours:\n{}\nngspice:\n{}",
            String::from_utf8_lossy(&ours[..ours.len().min(400)]),
            String::from_utf8_lossy(&theirs[..theirs.len().min(400)])
        );
    }
}

#[test]
fn our_ascii_layout_matches_ngspice_apart_from_digits() {
    if !require_ngspice("our_ascii_layout_matches_ngspice_apart_from_digits") {
        return;
    }
    let dir = TempDir::new("raw-ascii-layout").unwrap();
    let net = write(&dir, "div.cir", DIVIDER);
    let raw = dir.path().join("ascii.raw");
    let st = Command::new("ngspice")
        .env("SPICE_ASCIIRAWFILE", "1")
        .args(["-b", "-r"])
        .arg(&raw)
        .arg(&net)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(st.status.success());
    let theirs = String::from_utf8(std::fs::read(&raw).unwrap()).unwrap();
    let mut ours = Vec::new();
    write_raw_to(
        &mut ours,
        &parse_raw(theirs.as_bytes()).unwrap(),
        RawFormat::Ascii,
    )
    .unwrap();
    let ours = String::from_utf8(ours).unwrap();
    let (ol, tl): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    assert_eq!(ol.len(), tl.len());
    for (o, t) in ol.iter().zip(&tl) {
        if t.starts_with("Date: ") {
            continue;
        }
        // Values: same prefix (index, tabs); ours has one more mantissa digit.
        match (t.rsplit_once('\t'), o.rsplit_once('\t')) {
            (Some((tp, tv)), Some((op, ov))) if tv.parse::<f64>().is_ok() => {
                assert_eq!(op, tp, "prefix of {t:?}");
                let (tm, te) = tv.split_once('e').unwrap();
                let (om, oe) = ov.split_once('e').unwrap();
                assert_eq!(oe, te, "{t:?} vs {o:?}");
                assert_eq!(om.len(), tm.len() + 1, "{t:?} vs {o:?}");
                let (x, y): (f64, f64) = (tv.parse().unwrap(), ov.parse().unwrap());
                assert!((x - y).abs() <= 1e-15 * x.abs(), "{t:?} vs {o:?}");
            }
            _ => assert_eq!(o, t),
        }
    }
}

fn sample_plots(n: usize) -> Vec<Plot> {
    let t: Vec<f64> = (0..n).map(|i| i as f64 * 1e-10 / 3.0).collect();
    let mk = |name: &str, kind, f: &dyn Fn(f64) -> f64| Vector {
        name: name.into(),
        kind,
        data: t.iter().map(|&x| f(x)).collect(),
    };
    let tran = Plot {
        title: "mtjsim interop".into(),
        name: "Transient Analysis".into(),
        scale: mk("time", VecKind::Time, &|x| x),
        vectors: vec![
            mk("v(out)", VecKind::Voltage, &|x| (x * 7e9).sin() / 3.0),
            mk("i(v1)", VecKind::Current, &|x| {
                -1.234567890123e-4 * (1.0 + x * 1e9)
            }),
            mk("temp(m1)", VecKind::Temperature, &|x| 300.0 + x * 1e9 / 7.0),
            mk("r(m1)", VecKind::Resistance, &|x| {
                1e3 * (2.0 + (x * 1e9).cos())
            }),
            mk("mz(m1)", VecKind::Other, &|x| (x * 3e9).cos()),
            mk("p(m1)", VecKind::Power, &|x| 1e-6 * x * 1e9),
        ],
    };
    let op = Plot {
        title: "mtjsim interop".into(),
        name: "Operating Point".into(),
        scale: Vector {
            name: "v(in)".into(),
            kind: VecKind::Voltage,
            data: vec![1.0],
        },
        vectors: vec![
            Vector {
                name: "v(out)".into(),
                kind: VecKind::Voltage,
                data: vec![2.0 / 3.0],
            },
            Vector {
                name: "i(v1)".into(),
                kind: VecKind::Current,
                data: vec![-1.0 / 3.0e3],
            },
        ],
    };
    vec![tran, op]
}

#[test]
fn file_round_trip_is_bit_exact() {
    let dir = TempDir::new("raw-rt").unwrap();
    let plots = sample_plots(200);
    for fmt in [RawFormat::Binary, RawFormat::Ascii] {
        let path = dir.path().join(format!("{fmt:?}.raw"));
        write_raw(&path, &plots, fmt).unwrap();
        assert_eq!(read_raw(&path).unwrap(), plots, "{fmt:?}");
    }
}

/// Parse ngspice `print` output: `idx\tv1\tv2\t...` rows.
fn printed_rows(log: &str) -> Vec<Vec<f64>> {
    log.lines()
        .filter_map(|l| {
            let mut f = l.split('\t').filter(|s| !s.trim().is_empty());
            f.next()?.trim().parse::<usize>().ok()?;
            let vals: Option<Vec<f64>> = f.map(|s| s.trim().parse().ok()).collect();
            vals.filter(|v| !v.is_empty())
        })
        .collect()
}

#[test]
fn ngspice_loads_our_files_with_exact_values() {
    if !require_ngspice("ngspice_loads_our_files_with_exact_values") {
        return;
    }
    let dir = TempDir::new("raw-load").unwrap();
    let plots = sample_plots(25);
    for fmt in [RawFormat::Binary, RawFormat::Ascii] {
        let raw = dir.path().join(format!("ours-{fmt:?}.raw"));
        write_raw(&raw, &plots, fmt).unwrap();
        let script = format!(
            "* load mtjsim raw\n.control\nset numdgt=17\nset height=100000\nload {}\n\
             setplot tran1\ndisplay\nprint v(out) i(v1) temp(m1)\nprint r(m1) mz(m1) p(m1)\n\
             setplot op1\nprint v(in) v(out) i(v1)\nsetplot\nquit 0\n.endc\n.end\n",
            raw.display()
        );
        let cir = write(&dir, "load.cir", &script);
        let out = Command::new("ngspice")
            .arg("-b")
            .arg(&cir)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{log}");
        assert!(
            !log.contains("Error") && !log.to_lowercase().contains("warning"),
            "{log}"
        );
        // `display` lists every vector with the type we wrote.
        let tran = &plots[0];
        for v in std::iter::once(&tran.scale).chain(&tran.vectors) {
            let want = format!("{}, real, {} long", v.kind.raw_type(), tran.len());
            assert!(
                log.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{} ", v.name))
                        && l.contains(&want)),
                "{fmt:?}: `display` lacks {} ({want})\n{log}",
                v.name
            );
        }
        assert!(log.contains("tran1") && log.contains("op1"), "{log}");
        // Printed rows: 25 rows for each transient print.
        let rows = printed_rows(&log);
        assert_eq!(rows.len(), 2 * 25, "{fmt:?}\n{log}");
        let cols = |names: &[&str], p: &Plot, k: usize| -> Vec<f64> {
            names.iter().map(|n| p.get(n).unwrap().data[k]).collect()
        };
        for k in 0..25 {
            assert_eq!(
                rows[k],
                cols(&["v(out)", "i(v1)", "temp(m1)"], tran, k),
                "{fmt:?} row {k}"
            );
            assert_eq!(
                rows[25 + k],
                cols(&["r(m1)", "mz(m1)", "p(m1)"], tran, k),
                "{fmt:?} row {k}"
            );
        }
        // One-point vectors print as `name = value`.
        for v in std::iter::once(&plots[1].scale).chain(&plots[1].vectors) {
            let printed: f64 = log
                .lines()
                .find_map(|l| l.trim().strip_prefix(&format!("{} = ", v.name)))
                .unwrap_or_else(|| panic!("{} not printed\n{log}", v.name))
                .trim()
                .parse()
                .unwrap();
            assert_eq!(printed, v.data[0], "{fmt:?} {}", v.name);
        }
    }
}

#[test]
fn run_ngspice_reports_failures_with_log() {
    if !require_ngspice("run_ngspice_reports_failures_with_log") {
        return;
    }
    let dir = TempDir::new("ngspice-fail").unwrap();
    let bad = write(
        &dir,
        "bad.cir",
        "bad\nV1 in 0 1\nXfoo a b nosuch\n.op\n.end\n",
    );
    let e = run_ngspice(&bad).unwrap_err();
    assert!(
        e.contains("unknown subckt") && e.contains("ngspice log"),
        "{e}"
    );
    let short = write(&dir, "short.cir", "loop\nV1 in 0 1\nV2 in 0 2\n.op\n.end\n");
    let e = run_ngspice(&short).unwrap_err();
    assert!(
        e.to_lowercase().contains("singular") || e.contains("exited"),
        "{e}"
    );
    assert!(run_ngspice(&dir.path().join("missing.cir")).is_err());
}
