//! End-to-end tests of the netlist front end: text in, circuit or rendered diagnostics out.

use std::path::{Path, PathBuf};

use super::*;
use crate::circuit::{Analysis, ElementKind, Method, OutputRequest, TranShape};
use crate::diag::Severity;

fn parse(text: &str) -> Parsed {
    load_str("t.cir", text, Path::new("."))
}

fn ok(text: &str) -> Circuit {
    let p = parse(text);
    assert!(
        !p.diagnostics.has_errors(),
        "unexpected errors:\n{}",
        p.render_diagnostics()
    );
    p.circuit
}

fn kind<'c>(c: &'c Circuit, name: &str) -> &'c ElementKind {
    let i = c
        .element(name)
        .unwrap_or_else(|| panic!("no element {name}; have {:?}", names(c)));
    &c.elements[i].kind
}

fn names(c: &Circuit) -> Vec<&str> {
    c.elements.iter().map(|e| e.name.as_str()).collect()
}

/// Rendered errors only.
fn errors(text: &str) -> Vec<String> {
    let p = parse(text);
    p.diagnostics
        .items
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.render(&p.sources))
        .collect()
}

/// Assert the first error renders as `t.cir:LINE:COL: error: MSG...` with the caret at COL
/// (and `width` carets), and return it.
fn expect_error(text: &str, line: usize, col: usize, msg: &str) -> String {
    let errs = errors(text);
    let Some(first) = errs.first() else {
        panic!("expected an error '{msg}' for:\n{text}")
    };
    let head = format!("t.cir:{line}:{col}: error: {msg}");
    assert!(
        first.starts_with(&head),
        "expected\n  {head}\ngot\n{}",
        errs.join("\n")
    );
    let caret_line = first.lines().nth(3).unwrap_or("");
    let after_bar = caret_line.split_once("| ").map_or("", |x| x.1);
    assert_eq!(
        after_bar.find('^'),
        Some(col - 1),
        "caret misplaced in\n{first}"
    );
    first.clone()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-30)
}

/// A fresh temporary directory.
fn tempdir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "mtjsim-netlist-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("create dir");
    }
    std::fs::write(&p, text).expect("write file");
    p
}

// ---------------------------------------------------------------- elements

#[test]
fn passive_elements_and_ground_aliases() {
    let c = ok(
        "divider\nV1 IN 0 DC 1.2\nR1 in Mid 1.5kohm\nR2 mid GND r=2k m=2\nC1 mid 0 10pF ic=0.5\nL1 in x 1u\n\
                Rx x 0 {1k*2}\n.op\n.end\n",
    );
    assert_eq!(c.title, "divider");
    assert_eq!(c.nodes, ["0", "in", "mid", "x"]);
    assert!(matches!(kind(&c, "r1"), ElementKind::Resistor { a: 1, b: 2, r } if *r == 1500.0));
    assert!(matches!(kind(&c, "r2"), ElementKind::Resistor { a: 2, b: 0, r } if *r == 1000.0));
    assert!(
        matches!(kind(&c, "c1"), ElementKind::Capacitor { c, ic: Some(v), .. } if close(*c, 10e-12) && *v == 0.5)
    );
    assert!(matches!(kind(&c, "l1"), ElementKind::Inductor { l, ic: None, .. } if *l == 1e-6));
    assert!(matches!(kind(&c, "rx"), ElementKind::Resistor { r, .. } if *r == 2000.0));
    assert!(
        matches!(kind(&c, "v1"), ElementKind::VSource { p: 1, n: 0, wave } if wave.dc == 1.2 && wave.tran.is_none())
    );
    assert_eq!(c.analyses, [Analysis::Op]);
    // Element spans point at their line.
    let p = parse("t\nR1 a 0 1\n.op\n");
    assert_eq!(p.sources.line_col(p.circuit.elements[0].span), (2, 1));
}

#[test]
fn controlled_sources() {
    let c = ok("t\nV1 a 0 1\nR1 a 0 1k\nVs b c 0\nR2 a b 1\nR3 c 0 1\n\
                E1 e 0 a 0 2.5\nG1 g 0 a 0 1m\nF1 f 0 vs 3\nH1 h 0 Vs 100\nRe e 0 1\nRg g 0 1\nRf f 0 1\nRh h 0 1\n.op\n");
    assert!(matches!(kind(&c, "e1"), ElementKind::Vcvs { gain, .. } if *gain == 2.5));
    assert!(matches!(kind(&c, "g1"), ElementKind::Vccs { gm, .. } if *gm == 1e-3));
    assert!(
        matches!(kind(&c, "f1"), ElementKind::Cccs { vctrl, gain, .. } if vctrl == "vs" && *gain == 3.0)
    );
    assert!(
        matches!(kind(&c, "h1"), ElementKind::Ccvs { vctrl, r, .. } if vctrl == "vs" && *r == 100.0)
    );
}

#[test]
fn semiconductors_and_mtj() {
    let c = ok(
        "t\n.model dm d (is=1e-14 n=1.05)\n.model nch nmos level=1 vto=0.7 kp=120u\n\
                .model pm mtj (d=40n tfl=1.1n ms=1.1meg easy=z tmr0=1.5)\n\
                V1 a 0 1\nD1 a b dm 2 off\nR1 b 0 1k\nM1 a a 0 0 nch W=1u L=100n m=2\nM2 a a 0 0 NCH\n\
                N1 a 0 pm state=ap theta0=0.01 temp0=300 seed=42\nNmtj2 a 0 pm\n.tran 1n 10n\n",
    );
    assert!(
        matches!(kind(&c, "d1"), ElementKind::Diode { model, area, off: true, .. } if model == "dm" && *area == 2.0)
    );
    match kind(&c, "m1") {
        ElementKind::Mosfet {
            w,
            l,
            m,
            ad,
            model,
            off,
            ..
        } => {
            assert_eq!(
                (*w, *l, *m, *ad, model.as_str(), *off),
                (1e-6, 100e-9, 2.0, 0.0, "nch", false)
            );
        }
        k => panic!("{k:?}"),
    }
    assert!(matches!(kind(&c, "m2"), ElementKind::Mosfet { w, l, .. } if *w == 1e-4 && *l == 1e-4));
    match kind(&c, "n1") {
        ElementKind::Mtj {
            free,
            reference,
            model,
            params,
            ..
        } => {
            assert_eq!((*free, *reference, model.as_str()), (1, 0, "pm"));
            assert_eq!(params["state"], -1.0);
            assert_eq!(params["theta0"], 0.01);
            assert_eq!(params["temp0"], 300.0);
            assert_eq!(params["seed"], 42.0);
        }
        k => panic!("{k:?}"),
    }
    assert!(matches!(kind(&c, "nmtj2"), ElementKind::Mtj { params, .. } if params.is_empty()));
    let m = &c.models["pm"];
    assert_eq!(m.kind, "mtj");
    assert_eq!(m.params["ms"], 1.1e6);
    assert_eq!(m.string_params["easy"], "z");
    assert_eq!(c.models["nch"].params["kp"], 120e-6);
}

#[test]
fn source_waveforms() {
    let c = ok("t\nR0 a 0 1\nR9 i 0 1\n\
                V1 a 0 PULSE(0 1.2 1n 100p 100p 5n 10n)\n\
                V2 b 0 pulse 0, 1, 2n\n\
                V3 c 0 DC 0.3 AC 1 0 PWL(0 0 1n 1 2n 0) r=0 td=1n\n\
                V4 d 0 SIN(0.5 0.1 1meg)\n\
                I1 i 0 EXP(0 1m 1n 2n 5n 1n)\n\
                V5 e 0 dc=2\nV6 f 0 {2*3}\nV7 g 0 ac 1\nV8 h 0 sin(0.2 1 1meg 0.5u 2e5 30)\nRh h 0 1\n\
                Rb b 0 1\nRc c 0 1\nRd d 0 1\nRe e 0 1\nRf f 0 1\nRg g 0 1\n.op\n");
    let wave = |n: &str| match kind(&c, n) {
        ElementKind::VSource { wave, .. } | ElementKind::ISource { wave, .. } => wave.clone(),
        k => panic!("{k:?}"),
    };
    let w = wave("v1");
    assert_eq!(w.dc, 0.0);
    assert_eq!(
        w.tran,
        Some(TranShape::Pulse {
            v1: 0.0,
            v2: 1.2,
            td: 1e-9,
            tr: Some(100e-12),
            tf: Some(100e-12),
            pw: Some(5e-9),
            per: Some(10e-9),
            np: None
        })
    );
    assert_eq!(
        wave("v2").tran,
        Some(TranShape::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: 2e-9,
            tr: None,
            tf: None,
            pw: None,
            per: None,
            np: None
        })
    );
    let w = wave("v3");
    assert_eq!(w.dc, 0.3);
    assert_eq!(
        w.tran,
        Some(TranShape::Pwl {
            points: vec![(0.0, 0.0), (1e-9, 1.0), (2e-9, 0.0)],
            repeat: Some(0.0),
            td: 1e-9
        })
    );
    let w = wave("v4");
    assert_eq!(w.dc, 0.5, "DC of a SIN source is VO");
    assert_eq!(
        w.tran,
        Some(TranShape::Sin {
            vo: 0.5,
            va: 0.1,
            freq: Some(1e6),
            td: 0.0,
            theta: 0.0,
            phase: 0.0
        })
    );
    let w = wave("i1");
    assert_eq!(
        w.tran,
        Some(TranShape::Exp {
            v1: 0.0,
            v2: 1e-3,
            td1: Some(1e-9),
            tau1: Some(2e-9),
            td2: Some(5e-9),
            tau2: Some(1e-9)
        })
    );
    assert_eq!(wave("v5").dc, 2.0);
    assert_eq!(wave("v6").dc, 6.0);
    assert_eq!(wave("v7").dc, 0.0);
    assert!(
        close(wave("v8").dc, 0.7),
        "SIN with a phase starts at VO + VA*sin(PHASE)"
    );
}

// ---------------------------------------------------------------- params and subcircuits

#[test]
fn global_params() {
    let c = ok(
        "t\n.param rval={2*base} base=1k\n.param vdd = 1.2\nV1 a 0 {vdd}\nR1 a 0 rval\nR2 a 0 'rval/2'\n.op\n",
    );
    assert!(matches!(kind(&c, "r1"), ElementKind::Resistor { r, .. } if *r == 2000.0));
    assert!(matches!(kind(&c, "r2"), ElementKind::Resistor { r, .. } if *r == 1000.0));
    assert!(matches!(kind(&c, "v1"), ElementKind::VSource { wave, .. } if wave.dc == 1.2));
}

#[test]
fn subckt_flattening() {
    let text = "t\n.param scale=2\n\
        .subckt cell top bot params: r=1k c={r*1f}\n\
        .model md d (is={scale*1e-15})\n\
        R1 top mid {r*scale}\nC1 mid bot {c}\nD1 mid bot md\nVs mid x 0\nRx x bot 1\nF1 bot 0 vs 2\n\
        .ends cell\n\
        .subckt pair a b\nX1 a m cell r=10\nX2 m b cell\n.ends\n\
        V1 in 0 1\nXA in 0 cell\nXB in 0 pair\nXC in 0 cell params: r=5\n.op\n";
    let c = ok(text);
    assert!(
        matches!(kind(&c, "xa.r1"), ElementKind::Resistor { r, a: 1, b, .. } if *r == 2000.0 && c.nodes[*b] == "xa.mid")
    );
    assert!(matches!(kind(&c, "xa.c1"), ElementKind::Capacitor { c, .. } if close(*c, 1e-12)));
    assert!(matches!(kind(&c, "xb.x1.r1"), ElementKind::Resistor { r, .. } if *r == 20.0));
    assert!(matches!(kind(&c, "xb.x2.r1"), ElementKind::Resistor { r, .. } if *r == 2000.0));
    assert!(matches!(kind(&c, "xc.r1"), ElementKind::Resistor { r, .. } if *r == 10.0));
    // Nodes: pins map to the parent's nodes, locals are prefixed.
    assert!(c.node("xb.m").is_some());
    assert!(c.node("xb.x1.mid").is_some());
    match kind(&c, "xb.x1.r1") {
        ElementKind::Resistor { a, b, .. } => {
            assert_eq!(c.nodes[*a], "in");
            assert_eq!(c.nodes[*b], "xb.x1.mid");
        }
        k => panic!("{k:?}"),
    }
    // Local models are stored under hierarchical keys and evaluated per instance.
    assert!(
        matches!(kind(&c, "xb.x2.d1"), ElementKind::Diode { model, .. } if model == "xb.x2.md")
    );
    assert_eq!(c.models["xb.x2.md"].params["is"], 2e-15);
    // F's controlling source is resolved in the same instance.
    assert!(matches!(kind(&c, "xa.f1"), ElementKind::Cccs { vctrl, .. } if vctrl == "xa.vs"));
}

#[test]
fn nested_definitions_and_globals() {
    let c = ok("t\n.global vdd\nVdd vdd 0 1\n\
        .subckt outer a\n.subckt inner b\nR1 b vdd 1k\n.ends inner\nX1 a inner\n.ends outer\n\
        X1 n outer\nR0 n 0 1\n.op\n");
    match kind(&c, "x1.x1.r1") {
        ElementKind::Resistor { a, b, .. } => {
            assert_eq!(c.nodes[*a], "n");
            assert_eq!(c.nodes[*b], "vdd", "global nodes are not prefixed");
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn subckt_param_scoping_sees_instance_values() {
    let c = ok(
        "t\n.param w=1\n.subckt s a params: w=2\n.param l={w*3}\nR1 a 0 {l}\n.ends\nX1 n s w=5\nX2 n s\nV1 n 0 1\n.op\n",
    );
    assert!(matches!(kind(&c, "x1.r1"), ElementKind::Resistor { r, .. } if *r == 15.0));
    assert!(matches!(kind(&c, "x2.r1"), ElementKind::Resistor { r, .. } if *r == 6.0));
}

// ---------------------------------------------------------------- include and lib

#[test]
fn include_and_lib_relative_paths() {
    let d = tempdir("inc");
    write(
        &d,
        "sub/parts.inc",
        "* parts\nR2 a 0 2k\n.include deeper.inc\n",
    );
    write(&d, "sub/deeper.inc", "R3 a 0 3k\n");
    write(
        &d,
        "models.lib",
        "* lib\n.lib tt\n.param vt=0.7\n.model nch nmos (vto={vt})\n.endl\n.lib ff\n.lib 'models.lib' tt\n.model fast d\n.endl ff\n",
    );
    let top = write(
        &d,
        "top.cir",
        "top\n.include sub/parts.inc\n.lib \"models.lib\" ff\nV1 a 0 1\nR1 a 0 1k\nM1 a a 0 0 nch\n.op\n.end\n",
    );
    let p = load(&top);
    assert!(!p.diagnostics.has_errors(), "{}", p.render_diagnostics());
    let c = p.circuit;
    assert_eq!(names(&c), ["r2", "r3", "v1", "r1", "m1"]);
    assert_eq!(c.models["nch"].params["vto"], 0.7);
    assert!(c.models.contains_key("fast"));
    // Diagnostics in included files name those files.
    write(&d, "bad.inc", "R9 a 0 1x5\n");
    let top2 = write(&d, "top2.cir", "top\n.include bad.inc\n.op\n");
    let p = load(&top2);
    let r = p.render_diagnostics();
    assert!(r.contains("bad.inc:1:8: error: bad number '1x5'"), "{r}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn include_errors() {
    let d = tempdir("incerr");
    write(&d, "a.inc", ".include b.inc\n");
    write(&d, "b.inc", ".include a.inc\n");
    write(&d, "m.lib", ".lib tt\n.model x d\n.endl\n");
    let top = write(
        &d,
        "top.cir",
        "t\n.include a.inc\n.include nothere.inc\n.lib m.lib ss\n.op\n",
    );
    let p = load(&top);
    let r = p.render_diagnostics();
    assert!(
        r.contains("b.inc:1:10: error: include cycle: 'a.inc' is already being read"),
        "{r}"
    );
    assert!(
        r.contains("top.cir:3:10: error: cannot read 'nothere.inc'"),
        "{r}"
    );
    assert!(
        r.contains("top.cir:4:12: error: library section 'ss' not found in 'm.lib'"),
        "{r}"
    );
    assert!(r.contains("sections in 'm.lib': tt"), "{r}");
    // Including the top file itself is a cycle too.
    let selfinc = write(&d, "self.cir", "t\n.include self.cir\n.op\n");
    assert!(
        load(&selfinc)
            .render_diagnostics()
            .contains("include cycle")
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn load_models_from_lib_sections() {
    let d = tempdir("models");
    let lib = write(
        &d,
        "mtj.lib",
        "* MTJ parameter sets\n.model top d\n.lib pmtj\n.param base_ms=1.1meg\n.model pmtj_ref mtj (d=40n ms={base_ms} easy=z)\n.endl\n\
         .lib bad\n.model b mtj (d=1k5)\n.endl\n",
    );
    let (m, _) = load_models(&lib, Some("PMTJ")).expect("section loads");
    assert_eq!(m.len(), 1);
    let card = &m["pmtj_ref"];
    assert_eq!(card.kind, "mtj");
    assert_eq!(card.params["d"], 40e-9);
    assert_eq!(card.string_params["easy"], "z");
    assert_eq!(card.params["ms"], 1.1e6);
    let (whole, _) = load_models(&lib, None).expect("whole file loads");
    assert_eq!(whole.keys().collect::<Vec<_>>(), ["top"]);
    let (diags, sources) = load_models(&lib, Some("bad")).expect_err("bad number");
    assert!(diags.render(&sources).contains("bad number '1k5'"));
    let (diags, sources) = load_models(&lib, Some("nope")).expect_err("missing section");
    assert!(
        diags
            .render(&sources)
            .contains("library section 'nope' not found")
    );
    assert!(load_models(&d.join("missing.lib"), None).is_err());
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------- dot commands

#[test]
fn analyses_options_and_outputs() {
    let c = ok(
        "t\n.model pm mtj ()\nV1 a 0 1\nI1 0 b 1m\nR1 a b 1k\nRb b 0 1k\nL1 b c 1n\nRc c 0 1\nN1 a 0 pm\n\
        .options reltol=1e-4 abstol=1p method=gear maxord=2 itl1=50 seed=7 temp=85 klu cshunt=1e-15 custom\n\
        .temp 27\n.ic v(a)=1 v(b)=0.5\n.nodeset v(c)=0.1\n\
        .dc v1 0 5 0.1 i1 0 1m 0.5m\n.tran 1p 10n 0 1p uic\n.op\n\
        .save v(a) v(a,b) i(v1) i(l1) b mz(n1) temp(n1) r(N1) p(n1) mx(n1) my(n1) v(a)\n.print tran v(c)\n",
    );
    let o = &c.options;
    assert_eq!(
        (o.reltol, o.abstol, o.method, o.maxord, o.itl1, o.seed),
        (1e-4, 1e-12, Method::Gear, 2, 50, Some(7))
    );
    assert!(
        (o.temp_k - 300.15).abs() < 1e-9,
        ".temp comes later and wins"
    );
    assert_eq!(o.extra["klu"], 1.0);
    assert_eq!(o.extra["cshunt"], 1e-15);
    let (a, b, cc) = (
        c.node("a").unwrap(),
        c.node("b").unwrap(),
        c.node("c").unwrap(),
    );
    assert_eq!(c.ic, [(a, 1.0), (b, 0.5)]);
    assert_eq!(c.nodeset, [(cc, 0.1)]);
    assert_eq!(c.analyses.len(), 3);
    match &c.analyses[0] {
        Analysis::Dc { sweeps } => {
            assert_eq!(sweeps.len(), 2);
            assert_eq!(
                (sweeps[0].source.as_str(), sweeps[0].stop, sweeps[0].step),
                ("v1", 5.0, 0.1)
            );
            assert_eq!(sweeps[1].source, "i1");
        }
        x => panic!("{x:?}"),
    }
    assert_eq!(
        c.analyses[1],
        Analysis::Tran {
            tstep: 1e-12,
            tstop: 10e-9,
            tstart: 0.0,
            tmax: Some(1e-12),
            uic: true
        }
    );
    use OutputRequest::*;
    let v = |s: &str| s.to_string();
    assert_eq!(
        c.saves,
        [
            Voltage(v("a"), None),
            Voltage(v("a"), Some(v("b"))),
            Current(v("v1")),
            Current(v("l1")),
            Voltage(v("b"), None),
            Device(v("mz"), v("n1")),
            Device(v("temp"), v("n1")),
            Device(v("r"), v("n1")),
            Device(v("p"), v("n1")),
            Device(v("mx"), v("n1")),
            Device(v("my"), v("n1")),
            Voltage(v("c"), None),
        ]
    );
}

#[test]
fn save_all_means_everything() {
    let c = ok("t\nV1 a 0 1\nR1 a 0 1\n.save v(a) all\n.save i(v1)\n.op\n");
    assert!(c.saves.is_empty());
}

#[test]
fn step_and_meas_errors_point_at_the_text() {
    let p =
        parse("t\nV1 a 0 1\nR1 a 0 1\n.step param r 1 2 1\n.meas tran x max v(zz)\n.tran 1n 1u\n");
    let msgs: Vec<(&str, usize)> = p
        .diagnostics
        .items
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.message.as_str(), p.sources.line_col(d.span.unwrap()).0))
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].0.contains("no top-level .param") && msgs[0].1 == 4,
        "{msgs:?}"
    );
    assert!(msgs[1].0.contains("v(zz)") && msgs[1].1 == 5, "{msgs:?}");
    let ok = parse(
        "t\n.param r=1k\nV1 a 0 1\nR1 a 0 {r}\n.step dec param r 1k 100k 1\n.meas tran x max v(a)\n.tran 1n 1u\n",
    );
    assert!(!ok.diagnostics.has_errors(), "{}", ok.render_diagnostics());
    assert_eq!(ok.circuit.steps[0].values.len(), 3);
    assert_eq!(ok.circuit.measures[0].name, "x");
}

#[test]
fn warnings_for_unsupported_commands() {
    let p = parse(
        "t\nV1 a 0 1\nR1 a 0 1\n.four 1meg v(a)\n.foo bar\n.ac dec 10 1 1meg\n\
                   .control\nrun\nplot v(a)\n.endc\n.op\n",
    );
    assert!(!p.diagnostics.has_errors(), "{}", p.render_diagnostics());
    let w: Vec<&str> = p
        .diagnostics
        .items
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        w,
        [
            "'.control' blocks are not supported yet; ignored up to '.endc'",
            "'.four' is not supported yet; ignored",
            "unknown dot command '.foo'; ignored",
            "analysis '.ac' is not supported; ignored",
        ]
    );
    let p = parse("t\nV1 a 0 1\nR1 a 0 1\n");
    assert_eq!(p.diagnostics.items.len(), 1);
    assert_eq!(p.diagnostics.items[0].message, "no analysis in the netlist");
    assert_eq!(p.diagnostics.items[0].severity, Severity::Warning);
}

// ---------------------------------------------------------------- diagnostics

#[test]
fn diag_bad_number() {
    let r = expect_error("t\nR1 a 0 1.2.3\n.op\n", 2, 8, "bad number '1.2.3'");
    assert!(r.contains("2 | R1 a 0 1.2.3"), "{r}");
    assert!(r.contains("|        ^^^^^"), "{r}");
    assert!(r.contains("= help: numbers look like"), "{r}");
}

#[test]
fn diag_unknown_element_and_too_few_nodes() {
    expect_error(
        "t\nV1 a 0 1\nQ1 a b c qmod\n.op\n",
        3,
        1,
        "bipolar transistors (Q) are not supported",
    );
    expect_error("t\n%x a b\n.op\n", 2, 1, "unknown element type '%' in '%x'");
    expect_error(
        "t\nR1 a\n.op\n",
        2,
        5,
        "too few nodes for 'R1': R elements need 2",
    );
    expect_error(
        "t\nM1 d g s\n.op\n",
        2,
        9,
        "too few nodes for 'M1': M elements need 4",
    );
    expect_error(
        "t\nR1 a b\n.op\n",
        2,
        7,
        "missing resistance value for 'R1'",
    );
    expect_error("t\nR1 a b 1 2\n.op\n", 2, 10, "unexpected '2' in 'R1'");
    expect_error(
        "t\nR1 a b 1 tc3=1\n.op\n",
        2,
        10,
        "unknown parameter 'tc3' for R elements",
    );
}

#[test]
fn diag_models() {
    let r = expect_error(
        "t\n.model dm d\n.model nm nmos\nV1 a 0 1\nD1 a 0 dx\n.op\n",
        5,
        8,
        "unknown model 'dx'",
    );
    assert!(r.contains("defined models: dm, nm"), "{r}");
    let r = expect_error("t\nV1 a 0 1\nD1 a 0 dx\n.op\n", 3, 8, "unknown model 'dx'");
    assert!(r.contains("add a .model line"), "{r}");
    expect_error(
        "t\n.model nm nmos\nV1 a 0 1\nD1 a 0 nm\n.op\n",
        4,
        8,
        "model 'nm' has type 'nmos', but D elements need a 'd' model",
    );
    expect_error(
        "t\n.model nm nmos (level=3 vto=1)\n.op\n",
        2,
        23,
        "only LEVEL=1 MOSFETs are supported",
    );
    expect_error(
        "t\n.model\n.op\n",
        2,
        7,
        "expected a model name after .model",
    );
}

#[test]
fn diag_params() {
    let r = expect_error(
        "t\n.param a=1\nR1 n 0 {a + bogus}\n.op\n",
        3,
        13,
        "undefined parameter 'bogus'",
    );
    assert!(r.contains("^^^^^"), "{r}");
    assert!(r.contains("defined parameters: a"), "{r}");
    expect_error("t\nR1 n 0 {1/(2-2)}\n.op\n", 2, 10, "division by zero");
    expect_error(
        "t\n.param a={b} b={a}\n.op\n",
        2,
        17,
        "parameter 'a' depends on itself",
    );
    expect_error(
        "t\nR1 n 0 {(1+2}\n.op\n",
        2,
        9,
        "unmatched '(' in expression",
    );
    expect_error("t\nR1 n 0 (1\n.op\n", 2, 8, "unmatched '('");
    expect_error("t\nR1 n 0 {1\n.op\n", 2, 8, "unmatched '{'");
    expect_error(
        "t\nR1 n 0 {max(1)}\n.op\n",
        2,
        9,
        "function 'max' takes 2 arguments, got 1",
    );
}

#[test]
fn diag_subckts() {
    expect_error(
        "t\n.subckt s a b\nR1 a b 1\n.op\n",
        2,
        9,
        "missing .ends for subcircuit 's'",
    );
    let r = expect_error(
        "t\n.subckt s a b\n.ends\nX1 n 0 q\n.op\n",
        4,
        8,
        "unknown subcircuit 'q'",
    );
    assert!(r.contains("defined subcircuits: s"), "{r}");
    let r = expect_error(
        "t\n.subckt s a b\nR1 a b 1\n.ends\nX1 n s\n.op\n",
        5,
        4,
        "subcircuit 's' has 2 pins (a b), but 'X1' connects 1 node",
    );
    assert!(r.contains("X<name> a b s"), "{r}");
    let r = expect_error(
        "t\n.subckt s a\nX1 a s\n.ends\nX1 n s\n.op\n",
        3,
        6,
        "recursive subcircuit 's'",
    );
    assert!(r.contains("s -> s"), "{r}");
    let r = expect_error(
        "t\n.subckt s a\nR1 a 0 1\n.ends\nX1 n s w=1\n.op\n",
        5,
        8,
        "subcircuit 's' has no parameter 'w'",
    );
    assert!(r.contains("declares no parameters"), "{r}");
    // Mutual recursion.
    let r = errors("t\n.subckt a n\nX1 n b\n.ends\n.subckt b n\nX1 n a\n.ends\nX1 m a\n.op\n");
    assert!(
        r[0].contains("recursive subcircuit 'a'") && r[0].contains("a -> b -> a"),
        "{r:?}"
    );
}

#[test]
fn diag_duplicates_and_references() {
    let r = expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\nr1 a 0 2\n.op\n",
        4,
        1,
        "duplicate element name 'r1'",
    );
    assert!(r.contains("first defined at t.cir:3:1"), "{r}");
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\nF1 a 0 vx 2\n.op\n",
        4,
        8,
        "controlling voltage source 'vx' of 'f1' not found",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\nH1 a 0 r1 2\n.op\n",
        4,
        8,
        "'h1' is controlled by 'r1', which is not a voltage source",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\n.save v(zz)\n.op\n",
        4,
        9,
        "unknown node 'zz'",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\n.print tran i(r1)\n.op\n",
        4,
        15,
        "i() needs a voltage source, inductor or E/H source; 'r1' is none of these",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\n.save mz(r1)\n.op\n",
        4,
        10,
        "mz() applies to MTJ (N) elements; 'r1' is not one",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\n.ic v(b)=1\n.op\n",
        4,
        7,
        "unknown node 'b'",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\n.dc v2 0 1 0.1\n",
        4,
        5,
        "unknown source 'v2'",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\n.dc v1 0 1 0\n",
        4,
        12,
        "the .dc step must not be 0",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\n.options chordtol=-0.1\n.op\n",
        4,
        19,
        "chordtol must be zero or positive",
    );
    expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\n.tran 0 1n\n",
        4,
        7,
        "TSTEP must be positive",
    );
    expect_error(
        "t\nE1 a 0 poly(1) b 0 1 2\n.op\n",
        2,
        8,
        "POLY controlled sources are not supported",
    );
    expect_error(
        "t\nV1 a 0 SFFM(0 1 1k)\n.op\n",
        2,
        8,
        "'SFFM' sources are not supported",
    );
    expect_error(
        "t\nV1 a 0 PWL(0 0 2n 1 1n 2)\n.op\n",
        2,
        21,
        "PWL time 1e-9 is before the previous time 2e-9",
    );
    expect_error(
        "t\n.model pm mtj\nN1 a 0 pm state=up\n.op\n",
        3,
        17,
        "state must be p or ap, found 'up'",
    );
}

#[test]
fn diag_topology() {
    let r = expect_error(
        "t\nV1 a 0 1\nR1 a 0 1\nC1 a b 1p\nR2 b c 1\n.op\n",
        4,
        6,
        "node 'b' has no DC path to ground",
    );
    assert!(
        r.contains("add a resistor to ground or check the node name (also without a DC path: c)"),
        "{r}"
    );
    let r = expect_error(
        "t\nV1 a 0 1\nV2 a 0 2\nR1 a 0 1\n.op\n",
        3,
        1,
        "voltage sources/inductors form a loop",
    );
    assert!(r.contains("'v2' closes a loop"), "{r}");
    expect_error(
        "t\nV1 a 0 1\nL1 a b 1n\nE1 b 0 a 0 1\nR1 a 0 1\n.op\n",
        4,
        1,
        "voltage sources/inductors form a loop",
    );
    // The MOSFET gate does not conduct; its channel does.
    expect_error(
        "t\n.model n nmos\nV1 d 0 1\nM1 d g 0 0 n\n.op\n",
        4,
        6,
        "node 'g' has no DC path to ground",
    );
    // A dangling resistor is only a warning.
    let p = parse("t\nV1 a 0 1\nR1 a b 1\n.op\n");
    assert!(!p.diagnostics.has_errors());
    assert!(
        p.render_diagnostics()
            .contains("t.cir:3:6: warning: node 'b' is connected to only one terminal")
    );
}

#[test]
fn rendered_example_for_the_docs() {
    let r = errors("mtj read\nV1 bl 0 0.1\nN1 bl 0 pmtj state=ap\n.tran 1p 1n\n");
    assert_eq!(
        r[0],
        "t.cir:3:9: error: unknown model 'pmtj'\n  |\n3 | N1 bl 0 pmtj state=ap\n  |         ^^^^\n  \
         = help: no models are defined; add a .model line, e.g. '.model pmtj mtj (d=40n tfl=1.3n ms=1.1meg ku=1meg alpha=0.01)'\n"
    );
}

#[test]
fn pathological_inputs_do_not_panic() {
    let deep_x = {
        // 2^40 instances if unchecked: stops at the element limit long before (each level
        // doubles, so use few levels and check it still finishes).
        let mut s = String::from("t\n.subckt l0 a\nR1 a 0 1\n.ends\n");
        for i in 1..12 {
            s.push_str(&format!(
                ".subckt l{i} a\nX1 a l{} \nX2 a l{}\n.ends\n",
                i - 1,
                i - 1
            ));
        }
        s.push_str("X1 n l11\nV1 n 0 1\n.op\n");
        s
    };
    let c = ok(&deep_x);
    assert_eq!(c.elements.len(), 2048 + 1);
    for text in [
        "",
        "\n",
        "t\n+\n",
        "t\n.subckt\n",
        "t\n.ends\n",
        "t\nX1\n",
        "t\n.param\n",
        "t\n.lib\n",
        "t\n.include\n",
        "t\n.dc\n",
        "t\n.tran\n",
        "t\n.save v(\n",
        "t\n.ic v(a)=\n",
        "t\nV1 a 0 pulse(\n",
        "t\nV1 a 0 pulse()\n",
        "t\nV1 a 0 pwl 1\n",
        "t\nR1 é ü 1\n",
        "t\nR1 a 0 {é}\n",
        "t\n.model a b (c=)\n",
        "t\n=\n",
        "t\n(\n",
        "t\nR1 = = =\n",
        "t\n.options =\n",
        "t\n.subckt s a\nX1 a s\n.ends\nX1 n s\n",
    ] {
        let _ = parse(text);
    }
}

#[test]
fn ngspice_hierarchical_names_in_outputs() {
    let c = ok(
        "t\n.subckt div top bot\nrt top m 1k\nvs m m2 0\nrb m2 bot 1k\n.ends\n\
                V1 in 0 1\nX2 in 0 div\nE1 e 0 in 0 2\nRe e 0 1\n\
                .save v(x2.m) i(v.x2.vs) i(x2.vs) i(e1)\n.dc v.x2.vs 0 1 0.5\n",
    );
    use OutputRequest::*;
    assert_eq!(
        c.saves,
        [
            Voltage("x2.m".into(), None),
            Current("x2.vs".into()),
            Current("e1".into())
        ]
    );
    assert!(matches!(&c.analyses[0], Analysis::Dc { sweeps } if sweeps[0].source == "x2.vs"));
    // The letter must match the element's type.
    assert!(
        errors(
            "t\nV1 a 0 1\nR1 a 0 1\n.subckt s a\nvs a 0 1\n.ends\nX1 n s\n.save i(r.x1.vs)\n.op\n"
        )
        .iter()
        .any(|e| e.contains("unknown element 'r.x1.vs'"))
    );
}

#[test]
fn element_initial_conditions() {
    let c = ok(
        "UIC start\nl1 top 0 1u ic=10m\nc1 top 0 1n ic=0.5\n.tran 1n 100n 0 1n uic\n.save v(top) i(l1)\n.end\n",
    );
    assert!(matches!(kind(&c, "l1"), ElementKind::Inductor { ic: Some(i), .. } if *i == 10e-3));
    assert!(matches!(kind(&c, "c1"), ElementKind::Capacitor { ic: Some(v), .. } if *v == 0.5));
    assert!(matches!(c.analyses[0], Analysis::Tran { uic: true, .. }));
}

/// PULSE takes an 8th value, the pulse count NP (ngspice-39); a fractional or negative
/// count and a 9th value are errors.
#[test]
fn pulse_count_argument() {
    let c = ok("t\nV1 a 0 PULSE(0 1 0 1n 1n 4n 10n 3)\nR1 a 0 1\n.op\n");
    match kind(&c, "v1") {
        ElementKind::VSource { wave, .. } => assert!(matches!(
            wave.tran,
            Some(TranShape::Pulse { np: Some(n), .. }) if n == 3.0
        )),
        k => panic!("{k:?}"),
    }
    let e = errors("t\nV1 a 0 PULSE(0 1 0 1n 1n 4n 10n 1.5)\nR1 a 0 1\n.op\n");
    assert!(e.iter().any(|m| m.contains("whole number")), "{e:?}");
    let e = errors("t\nV1 a 0 PULSE(0 1 0 1n 1n 4n 10n 2 7)\nR1 a 0 1\n.op\n");
    assert!(e.iter().any(|m| m.contains("2 to 8 values")), "{e:?}");
}
