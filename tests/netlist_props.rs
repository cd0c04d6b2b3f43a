//! Property tests of the netlist front end: no input panics, and printed circuits parse back
//! to the same circuit.

use std::path::Path;

use mtjsim::circuit::{Circuit, ElementKind};
use mtjsim::netlist::load_str;
use proptest::prelude::*;

fn parse(text: &str) -> mtjsim::netlist::Parsed {
    load_str("p.cir", text, Path::new("/nonexistent-mtjsim-dir"))
}

/// Valid netlists exercising most of the syntax; the seeds for mutation.
const CORPUS: &[&str] = &[
    "divider\nV1 in 0 DC 1.2\nR1 in mid 1.5k\nR2 mid 0 {2*rb}\n.param rb=1k\nC1 mid 0 10p ic=0.1\n.op\n.end\n",
    "sources\nV1 a 0 PULSE(0 1.2 1n 100p 100p 5n 10n)\nV2 b 0 pwl 0 0, 1n 1 r=0 td=1n\nV3 c 0 SIN(0 1 1meg)\n\
     I1 0 d EXP(0 1m 1n 2n 5n 1n)\nR1 a b 1k\nR2 b c 1k\nR3 c 0 1k\nR4 d 0 1k\n.tran 1p 20n uic\n.save v(a) v(a,b) i(v1)\n",
    "subckt\n.param scale=2\n.subckt cell top bot params: r=1k\n.model md d (is=1e-14)\nR1 top mid {r*scale}\n\
     D1 mid bot md\n.ends cell\nV1 in 0 1\nX1 in 0 cell r=10\nX2 in 0 cell\n.dc v1 0 1 0.1\n",
    "mtj\n.model pm mtj (d=40n tfl=1.1n ms=1.1meg easy=z)\n.model nch nmos level=1 vto=0.7\nVdd vdd 0 1\n\
     M1 vdd g x 0 nch w=1u l=100n\nVg g 0 1\nN1 x 0 pm state=ap theta0=0.01\n.options reltol=1e-4 method=gear\n\
     .ic v(x)=0\n.print tran mz(n1) temp(n1)\n.tran 1p 1n\n",
    "ctrl\nV1 a 0 1\nR1 a 0 1k\nVs a b 0\nR2 b 0 1\nE1 e 0 a 0 2\nG1 0 g a 0 1m\nF1 0 f vs 3\nH1 h 0 vs 1\n\
     Re e 0 1\nRg g 0 1\nRf f 0 1\nRh h 0 1\n.control\nrun\n.endc\n.meas tran x max v(a)\n.op\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteToken(usize),
    DuplicateToken(usize),
    SwapTokens(usize, usize),
    DeleteChar(usize),
    InsertChar(usize, char),
    SwapChars(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(vec![
        '(', ')', '{', '}', '=', ',', '\'', '"', '+', '*', '.', ';', '$', '\n', ' ', '0', 'x', '^',
        '/', '-', 'é',
    ]);
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteToken),
        any::<usize>().prop_map(Mutation::DuplicateToken),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
        any::<usize>().prop_map(Mutation::DeleteChar),
        (any::<usize>(), special).prop_map(|(a, c)| Mutation::InsertChar(a, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapChars(a, b)),
    ]
}

/// Apply a mutation to text; tokens are whitespace-separated runs (newlines kept).
fn apply(text: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut tokens: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        for (k, w) in line.split(' ').enumerate() {
            if k > 0 {
                tokens.push(" ".into());
            }
            tokens.push(w.to_string());
        }
    }
    let nt = tokens.len().max(1);
    let nc = chars.len().max(1);
    match *m {
        Mutation::DeleteToken(i) => {
            if !tokens.is_empty() {
                tokens.remove(i % nt);
            }
            tokens.concat()
        }
        Mutation::DuplicateToken(i) => {
            if !tokens.is_empty() {
                let t = tokens[i % nt].clone();
                tokens.insert(i % nt, t);
            }
            tokens.concat()
        }
        Mutation::SwapTokens(a, b) => {
            if !tokens.is_empty() {
                tokens.swap(a % nt, b % nt);
            }
            tokens.concat()
        }
        Mutation::DeleteChar(i) => {
            if !chars.is_empty() {
                chars.remove(i % nc);
            }
            chars.into_iter().collect()
        }
        Mutation::InsertChar(i, c) => {
            chars.insert(i % (chars.len() + 1), c);
            chars.into_iter().collect()
        }
        Mutation::SwapChars(a, b) => {
            if !chars.is_empty() {
                chars.swap(a % nc, b % nc);
            }
            chars.into_iter().collect()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text);
    }

    #[test]
    fn random_spice_like_text_never_panics(text in "[a-zA-Z0-9 .=(){}'\"+*,;$\n/^é-]{0,300}") {
        let _ = parse(&text);
        let with_title = format!("title\n{text}");
        let _ = parse(&with_title);
    }

    #[test]
    fn mutated_netlists_never_panic(
        base in 0..CORPUS.len(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut text = CORPUS[base].to_string();
        for m in &muts {
            text = apply(&text, m);
        }
        let p = parse(&text);
        // Rendering must not panic either, whatever the spans are.
        let _ = p.diagnostics.render(&p.sources);
    }
}

#[test]
fn corpus_is_valid() {
    for text in CORPUS {
        let p = parse(text);
        assert!(
            !p.diagnostics.has_errors(),
            "{}",
            p.diagnostics.render(&p.sources)
        );
    }
}

// ---------------------------------------------------------------- round trip

#[derive(Debug, Clone)]
struct Gen {
    letter: char,
    a: usize,
    b: usize,
    value: f64,
    suffix: usize,
}

const SUFFIXES: [(&str, f64); 7] = [
    ("", 1.0),
    ("k", 1e3),
    ("meg", 1e6),
    ("m", 1e-3),
    ("u", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
];

fn gen_circuit() -> impl Strategy<Value = (Vec<String>, Vec<Gen>, bool)> {
    let names = prop::collection::hash_set("[a-z][a-z0-9_]{0,5}", 1..8)
        .prop_map(|s| s.into_iter().filter(|n| n != "gnd").collect::<Vec<_>>())
        .prop_filter("need a node", |v| !v.is_empty());
    let elem = (
        prop::sample::select(vec!['R', 'C', 'V', 'I']),
        any::<usize>(),
        any::<usize>(),
        1e-15f64..1e6,
        0..SUFFIXES.len(),
    )
        .prop_map(|(letter, a, b, value, suffix)| Gen {
            letter,
            a,
            b,
            value,
            suffix,
        });
    (names, prop::collection::vec(elem, 1..12), any::<bool>())
}

fn fmt_value(v: f64, suffix: usize) -> String {
    let (s, scale) = SUFFIXES[suffix];
    format!("{:e}{s}", v / scale)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn printed_circuits_parse_back((names, elems, upper) in gen_circuit()) {
        // Node 0 of `names` plus ground; every node gets a 1meg resistor to ground so the
        // circuit is always well-formed; V sources get a private node so they never loop.
        let case = |s: &str| if upper { s.to_ascii_uppercase() } else { s.to_string() };
        let mut text = String::from("round trip\n");
        let mut expect: Vec<(String, char, String, String, f64)> = Vec::new();
        let node = |k: usize| if k % (names.len() + 1) == names.len() { "0".to_string() } else { names[k % (names.len() + 1)].clone() };
        for (i, g) in elems.iter().enumerate() {
            let name = format!("{}{i}", g.letter.to_ascii_lowercase());
            let (a, b) = if g.letter == 'V' { (format!("vn{i}"), "0".to_string()) } else { (node(g.a), node(g.b)) };
            text.push_str(&format!("{} {} {} {}\n", case(&name), case(&a), case(&b), fmt_value(g.value, g.suffix)));
            expect.push((name, g.letter, a, b, g.value));
        }
        let mut used: Vec<String> = expect.iter().flat_map(|e| [e.2.clone(), e.3.clone()]).filter(|n| n != "0").collect();
        used.sort();
        used.dedup();
        for n in &used {
            text.push_str(&format!("rgnd_{n} {n} 0 1meg\n"));
        }
        text.push_str(".op\n.end\n");

        let p = parse(&text);
        prop_assert!(!p.diagnostics.has_errors(), "{}\n{}", text, p.diagnostics.render(&p.sources));
        let c: &Circuit = &p.circuit;
        prop_assert_eq!(c.nodes.len(), used.len() + 1);
        prop_assert_eq!(c.elements.len(), expect.len() + used.len());
        for (name, letter, a, b, v) in &expect {
            let e = &c.elements[c.element(name).expect("element exists")];
            let (na, nb) = (c.nodes[e.kind.nodes()[0]].clone(), c.nodes[e.kind.nodes()[1]].clone());
            prop_assert_eq!(&na, a);
            prop_assert_eq!(&nb, b);
            let got = match (&e.kind, letter) {
                (ElementKind::Resistor { r, .. }, 'R') => *r,
                (ElementKind::Capacitor { c, .. }, 'C') => *c,
                (ElementKind::VSource { wave, .. }, 'V') => wave.dc,
                (ElementKind::ISource { wave, .. }, 'I') => wave.dc,
                (k, l) => return Err(TestCaseError::fail(format!("{l}: wrong kind {k:?}"))),
            };
            prop_assert!((got - v).abs() <= 1e-12 * v.abs(), "{} = {} parsed as {}", name, v, got);
        }
    }
}

#[test]
fn plain_exponent_values_round_trip_exactly() {
    for v in [
        1.0,
        0.1,
        3.3e-9,
        1.234_567_890_123e-13,
        9.999e5,
        f64::MIN_POSITIVE * 1e10,
    ] {
        let text = format!("t\nR1 a 0 {v:e}\nV1 a 0 1\n.op\n");
        let p = parse(&text);
        let c = &p.circuit;
        match c.elements[0].kind {
            ElementKind::Resistor { r, .. } => assert_eq!(r, v),
            ref k => panic!("{k:?}"),
        }
    }
}
