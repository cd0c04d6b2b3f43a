//! Element lines: `R C L V I E G F H D M N` (and `X`, handed to `subckt.rs`).
//!
//! Owns: the syntax of each element line — nodes, values, instance parameters, source
//! waveforms — and turning it into an [`ElementKind`]. Must not know about node numbering or
//! scopes beyond the helpers of [`Elab`].

use std::collections::HashMap;

use super::elaborate::{Elab, Inst};
use super::lines::{Kv, Line, TokKind, Token, split_kv};
use super::subckt;
use crate::circuit::{ElementKind, NodeId, TranShape, Waveform};
use crate::diag::Span;

/// Element letters we support, for help texts.
const SUPPORTED: &str = "R C L V I E G F H D M N X";

/// Elaborate one element line in an instance.
pub(crate) fn element(el: &mut Elab, inst: &Inst, line: &Line) {
    let name_tok = &line.tokens[0];
    if name_tok.kind != TokKind::Word {
        el.error(
            format!("expected an element name, found '{}'", name_tok.text),
            name_tok.span,
            format!("element lines start with a name whose first letter is the type ({SUPPORTED})"),
        );
        return;
    }
    let full = format!("{}{}", inst.prefix, name_tok.lower);
    let letter = name_tok.lower.chars().next().unwrap_or(' ');
    let e = Ctx {
        inst,
        line,
        full,
        letter: letter.to_ascii_uppercase(),
    };
    match letter {
        'r' => resistor(el, &e),
        'c' => capacitor(el, &e),
        'l' => inductor(el, &e),
        'v' | 'i' => source(el, &e),
        'e' | 'g' => vc_source(el, &e),
        'f' | 'h' => cc_source(el, &e),
        'd' => diode(el, &e),
        'm' => mosfet(el, &e),
        'n' => mtj(el, &e),
        'x' => subckt::instance(el, inst, line, &e.full),
        _ => {
            let what = match letter {
                'a' => Some("XSPICE code models (A)"),
                'b' => Some("behavioural sources (B)"),
                'j' => Some("JFETs (J)"),
                'k' => Some("coupled inductors (K)"),
                'o' | 't' | 'u' | 'p' | 'y' => Some("transmission lines"),
                'q' => Some("bipolar transistors (Q)"),
                's' | 'w' => Some("switches (S, W)"),
                'z' => Some("MESFETs (Z)"),
                _ => None,
            };
            let msg = match what {
                Some(w) => format!("{w} are not supported"),
                None => format!(
                    "unknown element type '{}' in '{}'",
                    letter.to_ascii_uppercase(),
                    name_tok.text
                ),
            };
            el.error(
                msg,
                name_tok.span,
                format!("supported element letters: {SUPPORTED} (N is an MTJ)"),
            );
        }
    }
}

/// What every element parser needs.
struct Ctx<'a> {
    inst: &'a Inst<'a>,
    line: &'a Line,
    full: String,
    letter: char,
}

impl Ctx<'_> {
    fn name_span(&self) -> Span {
        self.line.tokens[0].span
    }
}

/// Positional tokens and `key=value` pairs after the fixed part of a line.
struct Args<'l> {
    pos: Vec<&'l Token>,
    next: usize,
    kvs: Vec<Kv<'l>>,
    used: Vec<bool>,
}

impl<'l> Args<'l> {
    fn new(el: &mut Elab, toks: &'l [Token]) -> Self {
        let (pos, kvs) = split_kv(toks, el.diags);
        let used = vec![false; kvs.len()];
        Args {
            pos,
            next: 0,
            kvs,
            used,
        }
    }

    /// The next positional token.
    fn pos(&mut self) -> Option<&'l Token> {
        let t = self.pos.get(self.next).copied();
        if t.is_some() {
            self.next += 1;
        }
        t
    }

    /// Remove a flag word (`off`) from the remaining positional tokens.
    fn flag(&mut self, word: &str) -> bool {
        match self.pos[self.next..].iter().position(|t| t.is(word)) {
            Some(k) => {
                self.pos.remove(self.next + k);
                true
            }
            None => false,
        }
    }

    /// Value of the last `key=value` with one of `keys`.
    fn kv(&mut self, keys: &[&str]) -> Option<&'l Token> {
        let mut found = None;
        for (i, kv) in self.kvs.iter().enumerate() {
            if keys.contains(&kv.key.lower.as_str()) {
                self.used[i] = true;
                found = Some(kv.value);
            }
        }
        found
    }

    /// Report leftovers: extra positional tokens and unknown (or ignored) parameters.
    fn finish(self, el: &mut Elab, e: &Ctx, usage: &str, ignored: &[&str], known: &[&str]) -> bool {
        let mut ok = true;
        for t in &self.pos[self.next..] {
            el.error(
                format!("unexpected '{}' in '{}'", t.text, e.line.tokens[0].text),
                t.span,
                usage.to_string(),
            );
            ok = false;
        }
        for (kv, used) in self.kvs.iter().zip(&self.used) {
            if *used {
                continue;
            }
            if ignored.contains(&kv.key.lower.as_str()) {
                el.warn(
                    format!(
                        "parameter '{}' is not supported and is ignored",
                        kv.key.text
                    ),
                    kv.key.span,
                );
            } else {
                let help = if known.is_empty() {
                    format!("{} elements take no parameters", e.letter)
                } else {
                    format!("{} elements accept: {}", e.letter, known.join(", "))
                };
                el.error(
                    format!(
                        "unknown parameter '{}' for {} elements",
                        kv.key.text, e.letter
                    ),
                    kv.key.span,
                    help,
                );
                ok = false;
            }
        }
        ok
    }
}

/// The first `n` tokens after the name as nodes.
fn nodes(el: &mut Elab, e: &Ctx, n: usize, usage: &str) -> Option<Vec<NodeId>> {
    let toks = &e.line.tokens;
    let mut out = Vec::with_capacity(n);
    for k in 1..=n {
        let is_node = toks.get(k).is_some_and(|t| {
            t.kind == TokKind::Word && toks.get(k + 1).is_none_or(|x| x.kind != TokKind::Eq)
        });
        if !is_node {
            let found = toks
                .get(k)
                .map_or(String::new(), |t| format!(" (found '{}')", t.text));
            el.error(
                format!(
                    "too few nodes for '{}': {} elements need {n}{found}",
                    toks[0].text, e.letter
                ),
                e.line.span_at(k),
                usage.to_string(),
            );
            return None;
        }
        out.push(el.node(e.inst, &toks[k])?);
    }
    Some(out)
}

/// Evaluate a required value token, reporting a missing one at the end of the line.
fn required(el: &mut Elab, e: &Ctx, tok: Option<&Token>, what: &str, usage: &str) -> Option<f64> {
    let Some(t) = tok else {
        el.error(
            format!("missing {what} for '{}'", e.line.tokens[0].text),
            e.line.end_span(),
            usage.to_string(),
        );
        return None;
    };
    el.value(e.inst, t)
}

fn optional(el: &mut Elab, e: &Ctx, tok: Option<&Token>) -> Result<Option<f64>, ()> {
    match tok {
        None => Ok(None),
        Some(t) => el.value(e.inst, t).map(Some).ok_or(()),
    }
}

/// A multiplier `m=` (must be positive).
fn multiplier(el: &mut Elab, e: &Ctx, tok: Option<&Token>) -> Option<f64> {
    match tok {
        None => Some(1.0),
        Some(t) => {
            let m = el.value(e.inst, t)?;
            if m > 0.0 {
                Some(m)
            } else {
                el.error(
                    "multiplier m must be positive",
                    t.span,
                    "m is the number of parallel devices",
                );
                None
            }
        }
    }
}

fn resistor(el: &mut Elab, e: &Ctx) {
    const USAGE: &str = "R<name> N+ N- VALUE [m=M], e.g. R1 in out 1k";
    let Some(n) = nodes(el, e, 2, USAGE) else {
        return;
    };
    let mut a = Args::new(el, &e.line.tokens[3..]);
    let v = a.kv(&["r", "resistance"]).or_else(|| a.pos());
    let m = a.kv(&["m"]);
    let ignored = [
        "tc", "tc1", "tc2", "temp", "dtemp", "noisy", "ac", "scale", "l", "w",
    ];
    if !a.finish(el, e, USAGE, &ignored, &["r", "m"]) {
        return;
    }
    let Some(r) = required(el, e, v, "resistance value", USAGE) else {
        return;
    };
    let Some(m) = multiplier(el, e, m) else {
        return;
    };
    if r == 0.0 {
        el.error(
            format!("resistance of '{}' is 0", e.line.tokens[0].text),
            v.map_or(e.name_span(), |t| t.span),
            "use a 0 V voltage source for a short circuit",
        );
        return;
    }
    el.add(
        e.full.clone(),
        e.name_span(),
        ElementKind::Resistor {
            a: n[0],
            b: n[1],
            r: r / m,
        },
        e.line,
    );
}

fn capacitor(el: &mut Elab, e: &Ctx) {
    const USAGE: &str = "C<name> N+ N- VALUE [ic=V0] [m=M], e.g. C1 out 0 10f";
    let Some(n) = nodes(el, e, 2, USAGE) else {
        return;
    };
    let mut a = Args::new(el, &e.line.tokens[3..]);
    let v = a.kv(&["c", "capacitance"]).or_else(|| a.pos());
    let ic = a.kv(&["ic"]);
    let m = a.kv(&["m"]);
    let ignored = ["tc", "tc1", "tc2", "temp", "dtemp", "scale", "l", "w"];
    if !a.finish(el, e, USAGE, &ignored, &["c", "ic", "m"]) {
        return;
    }
    let Some(c) = required(el, e, v, "capacitance value", USAGE) else {
        return;
    };
    let Ok(ic) = optional(el, e, ic) else { return };
    let Some(m) = multiplier(el, e, m) else {
        return;
    };
    el.add(
        e.full.clone(),
        e.name_span(),
        ElementKind::Capacitor {
            a: n[0],
            b: n[1],
            c: c * m,
            ic,
        },
        e.line,
    );
}

fn inductor(el: &mut Elab, e: &Ctx) {
    const USAGE: &str = "L<name> N+ N- VALUE [ic=I0] [m=M], e.g. L1 a b 1u";
    let Some(n) = nodes(el, e, 2, USAGE) else {
        return;
    };
    let mut a = Args::new(el, &e.line.tokens[3..]);
    let v = a.kv(&["l", "inductance"]).or_else(|| a.pos());
    let ic = a.kv(&["ic"]);
    let m = a.kv(&["m"]);
    let ignored = ["tc", "tc1", "tc2", "temp", "dtemp", "scale", "nt"];
    if !a.finish(el, e, USAGE, &ignored, &["l", "ic", "m"]) {
        return;
    }
    let Some(l) = required(el, e, v, "inductance value", USAGE) else {
        return;
    };
    let Ok(ic) = optional(el, e, ic) else { return };
    let Some(m) = multiplier(el, e, m) else {
        return;
    };
    if l == 0.0 {
        el.error(
            format!("inductance of '{}' is 0", e.line.tokens[0].text),
            v.map_or(e.name_span(), |t| t.span),
            "use a 0 V voltage source for a short circuit",
        );
        return;
    }
    el.add(
        e.full.clone(),
        e.name_span(),
        ElementKind::Inductor {
            a: n[0],
            b: n[1],
            l: l / m,
            ic,
        },
        e.line,
    );
}

const SOURCE_USAGE: &str = "V<name> N+ N- [DC] VALUE [AC MAG] [PULSE(V1 V2 TD TR TF PW PER) | PWL(T1 V1 ...) | SIN(VO VA FREQ TD THETA PHASE) | EXP(V1 V2 TD1 TAU1 TD2 TAU2)]";
const SHAPES: [&str; 4] = ["pulse", "pwl", "sin", "exp"];
const SOURCE_WORDS: [&str; 8] = ["dc", "ac", "pulse", "pwl", "sin", "exp", "r", "td"];

fn source(el: &mut Elab, e: &Ctx) {
    let Some(n) = nodes(el, e, 2, SOURCE_USAGE) else {
        return;
    };
    let toks = &e.line.tokens[3..];
    let mut dc: Option<f64> = None;
    let mut tran: Option<TranShape> = None;
    let mut ok = true;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let w = if t.kind == TokKind::Word {
            t.lower.as_str()
        } else {
            ""
        };
        if t.kind == TokKind::Comma {
            i += 1;
        } else if w == "dc" {
            i += 1;
            if toks.get(i).is_some_and(|x| x.kind == TokKind::Eq) {
                i += 1;
            }
            match toks.get(i) {
                Some(v) if matches!(v.kind, TokKind::Word | TokKind::Expr) => {
                    dc = el.value(e.inst, v);
                    ok &= dc.is_some();
                    i += 1;
                }
                other => {
                    let at = other.map_or_else(|| e.line.end_span(), |x| x.span);
                    el.error("expected a value after DC", at, SOURCE_USAGE);
                    return;
                }
            }
        } else if w == "ac" {
            i += 1;
            if toks.get(i).is_some_and(|x| x.kind == TokKind::Eq) {
                i += 1;
            }
            let mut k = 0;
            while k < 2 && toks.get(i).is_some_and(Token::looks_numeric) {
                i += 1;
                k += 1;
            }
            if k == 0 {
                el.error(
                    "expected a magnitude after AC",
                    e.line.span_at(3 + i),
                    SOURCE_USAGE,
                );
                return;
            }
        } else if SHAPES.contains(&w) {
            if tran.is_some() {
                el.error(
                    "a source can have only one transient shape",
                    t.span,
                    SOURCE_USAGE,
                );
                return;
            }
            let Some((args, next)) = shape_args(el, toks, i + 1) else {
                return;
            };
            i = next;
            let mut vals = Vec::with_capacity(args.len());
            for a in &args {
                match el.value(e.inst, a) {
                    Some(v) => vals.push((v, a.span)),
                    None => ok = false,
                }
            }
            let (mut repeat, mut td) = (None, 0.0);
            while let (Some(k), Some(eq), Some(v)) = (toks.get(i), toks.get(i + 1), toks.get(i + 2))
            {
                if w != "pwl" || eq.kind != TokKind::Eq || !(k.is("r") || k.is("td")) {
                    break;
                }
                match el.value(e.inst, v) {
                    Some(x) if k.is("r") => repeat = Some(x),
                    Some(x) => td = x,
                    None => ok = false,
                }
                i += 3;
            }
            if ok {
                tran = shape(el, w, t.span, &vals, repeat, td);
                ok &= tran.is_some();
            }
        } else if matches!(
            w,
            "sffm" | "am" | "trnoise" | "trrandom" | "pat" | "distof1" | "distof2" | "portnum"
        ) {
            el.error(
                format!(
                    "'{}' sources are not supported",
                    t.text.to_ascii_uppercase()
                ),
                t.span,
                "supported: DC value, PULSE, PWL, SIN, EXP",
            );
            return;
        } else if matches!(t.kind, TokKind::Word | TokKind::Expr)
            && dc.is_none()
            && tran.is_none()
            && toks.get(i + 1).is_none_or(|x| x.kind != TokKind::Eq)
        {
            dc = el.value(e.inst, t);
            ok &= dc.is_some();
            i += 1;
        } else {
            el.error(
                format!(
                    "unexpected '{}' in source '{}'",
                    t.text, e.line.tokens[0].text
                ),
                t.span,
                SOURCE_USAGE,
            );
            return;
        }
    }
    if !ok {
        return;
    }
    let dc = match (dc, &tran) {
        (Some(v), _) => v,
        (None, Some(s)) => initial_value(s),
        (None, None) => {
            el.warn(
                format!("no value given for '{}'; using 0", e.line.tokens[0].text),
                e.line.end_span(),
            );
            0.0
        }
    };
    let wave = Waveform { dc, tran };
    let kind = if e.letter == 'V' {
        ElementKind::VSource {
            p: n[0],
            n: n[1],
            wave,
        }
    } else {
        ElementKind::ISource {
            p: n[0],
            n: n[1],
            wave,
        }
    };
    el.add(e.full.clone(), e.name_span(), kind, e.line);
}

/// Value at t = 0 of a transient shape (used as the DC value when none is given).
fn initial_value(s: &TranShape) -> f64 {
    match s {
        TranShape::Pulse { v1, .. } => *v1,
        TranShape::Pwl { points, .. } => points.first().map_or(0.0, |p| p.1),
        // Before TD ngspice's SIN is VO + VA·sin(PHASE).
        TranShape::Sin { vo, va, phase, .. } => vo + va * phase.to_radians().sin(),
        TranShape::Exp { v1, .. } => *v1,
    }
}

/// Argument tokens of a shape starting at `i`: `( a b, c )` or bare values. Returns the
/// tokens and the index after them.
fn shape_args<'t>(el: &mut Elab, toks: &'t [Token], i: usize) -> Option<(Vec<&'t Token>, usize)> {
    let mut out = Vec::new();
    if toks.get(i).is_some_and(|t| t.kind == TokKind::LParen) {
        let mut j = i + 1;
        while let Some(t) = toks.get(j) {
            match t.kind {
                TokKind::RParen => return Some((out, j + 1)),
                TokKind::Comma => {}
                TokKind::Word | TokKind::Expr => out.push(t),
                _ => {
                    el.error(
                        format!("unexpected '{}' in source arguments", t.text),
                        t.span,
                        SOURCE_USAGE,
                    );
                    return None;
                }
            }
            j += 1;
        }
        return Some((out, j));
    }
    let mut j = i;
    while let Some(t) = toks.get(j) {
        let is_kw = t.kind == TokKind::Word && SOURCE_WORDS.contains(&t.lower.as_str());
        let before_eq = toks.get(j + 1).is_some_and(|x| x.kind == TokKind::Eq);
        match t.kind {
            TokKind::Comma => {}
            TokKind::Word | TokKind::Expr if !is_kw && !before_eq => out.push(t),
            _ => break,
        }
        j += 1;
    }
    Some((out, j))
}

fn shape(
    el: &mut Elab,
    kind: &str,
    at: Span,
    v: &[(f64, Span)],
    repeat: Option<f64>,
    td: f64,
) -> Option<TranShape> {
    let n = v.len();
    let get = |k: usize| v.get(k).map(|x| x.0);
    // ngspice treats a zero optional parameter like an absent one (it gets its default).
    let nz = |k: usize| get(k).filter(|x| *x != 0.0);
    let count_err = |el: &mut Elab, what: &str| {
        el.error(
            format!(
                "{} needs {what}, got {n} value{}",
                kind.to_ascii_uppercase(),
                if n == 1 { "" } else { "s" }
            ),
            at,
            SOURCE_USAGE,
        );
        None
    };
    match kind {
        "pulse" => {
            if !(2..=8).contains(&n) {
                return count_err(el, "2 to 8 values (V1 V2 [TD TR TF PW PER NP])");
            }
            if let Some(np) = get(7)
                && (np < 0.0 || np.fract() != 0.0)
            {
                el.error(
                    format!("PULSE pulse count NP must be a whole number >= 0, got {np}"),
                    at,
                    SOURCE_USAGE,
                );
                return None;
            }
            Some(TranShape::Pulse {
                v1: v[0].0,
                v2: v[1].0,
                td: get(2).unwrap_or(0.0),
                tr: nz(3),
                tf: nz(4),
                pw: nz(5),
                per: nz(6),
                np: nz(7),
            })
        }
        "pwl" => {
            if n < 2 || !n.is_multiple_of(2) {
                return count_err(el, "time-value pairs (T1 V1 T2 V2 ...)");
            }
            let points: Vec<(f64, f64)> = v.chunks(2).map(|c| (c[0].0, c[1].0)).collect();
            for k in 1..points.len() {
                if points[k].0 < points[k - 1].0 {
                    el.error(
                        format!(
                            "PWL time {:e} is before the previous time {:e}",
                            points[k].0,
                            points[k - 1].0
                        ),
                        v[2 * k].1,
                        "PWL times must not decrease",
                    );
                    return None;
                }
            }
            Some(TranShape::Pwl { points, repeat, td })
        }
        "sin" => {
            if !(2..=6).contains(&n) {
                return count_err(el, "2 to 6 values (VO VA [FREQ TD THETA PHASE])");
            }
            Some(TranShape::Sin {
                vo: v[0].0,
                va: v[1].0,
                freq: nz(2),
                td: get(3).unwrap_or(0.0),
                theta: get(4).unwrap_or(0.0),
                phase: get(5).unwrap_or(0.0),
            })
        }
        _ => {
            if !(2..=6).contains(&n) {
                return count_err(el, "2 to 6 values (V1 V2 [TD1 TAU1 TD2 TAU2])");
            }
            Some(TranShape::Exp {
                v1: v[0].0,
                v2: v[1].0,
                td1: nz(2),
                tau1: nz(3),
                td2: nz(4),
                tau2: nz(5),
            })
        }
    }
}

/// Reject POLY and behavioural forms of E/G/F/H with a clear message.
fn reject_nonlinear(el: &mut Elab, e: &Ctx, k: usize) -> bool {
    let toks = &e.line.tokens;
    let Some(t) = toks.get(k) else { return false };
    if t.is("poly") || t.lower.starts_with("poly(") {
        el.error(
            "POLY controlled sources are not supported",
            t.span,
            format!("use the linear form, e.g. {}", linear_usage(e.letter)),
        );
        return true;
    }
    let behavioural = [
        "value", "vol", "cur", "table", "laplace", "freq", "and", "or", "nand", "nor",
    ];
    if t.kind == TokKind::Word && behavioural.contains(&t.lower.as_str()) {
        el.error(
            format!(
                "behavioural '{}' sources are not supported",
                t.text.to_ascii_uppercase()
            ),
            t.span,
            format!("use the linear form, e.g. {}", linear_usage(e.letter)),
        );
        return true;
    }
    false
}

fn linear_usage(letter: char) -> &'static str {
    match letter {
        'E' => "E<name> N+ N- NC+ NC- GAIN",
        'G' => "G<name> N+ N- NC+ NC- TRANSCONDUCTANCE",
        'F' => "F<name> N+ N- VCTRL GAIN",
        _ => "H<name> N+ N- VCTRL TRANSRESISTANCE",
    }
}

fn vc_source(el: &mut Elab, e: &Ctx) {
    let usage = linear_usage(e.letter);
    if reject_nonlinear(el, e, 3) {
        return;
    }
    let Some(n) = nodes(el, e, 4, usage) else {
        return;
    };
    let mut a = Args::new(el, &e.line.tokens[5..]);
    let v = a.kv(&["gain", "gm"]).or_else(|| a.pos());
    if !a.finish(el, e, usage, &["m"], &["gain"]) {
        return;
    }
    let what = if e.letter == 'E' {
        "gain"
    } else {
        "transconductance"
    };
    let Some(g) = required(el, e, v, what, usage) else {
        return;
    };
    let kind = if e.letter == 'E' {
        ElementKind::Vcvs {
            p: n[0],
            n: n[1],
            cp: n[2],
            cn: n[3],
            gain: g,
        }
    } else {
        ElementKind::Vccs {
            p: n[0],
            n: n[1],
            cp: n[2],
            cn: n[3],
            gm: g,
        }
    };
    el.add(e.full.clone(), e.name_span(), kind, e.line);
}

fn cc_source(el: &mut Elab, e: &Ctx) {
    let usage = linear_usage(e.letter);
    if reject_nonlinear(el, e, 3) {
        return;
    }
    let Some(n) = nodes(el, e, 2, usage) else {
        return;
    };
    let toks = &e.line.tokens;
    let Some(ctrl) = toks
        .get(3)
        .filter(|t| t.kind == TokKind::Word && toks.get(4).is_none_or(|x| x.kind != TokKind::Eq))
    else {
        el.error(
            "expected the name of the controlling voltage source",
            e.line.span_at(3),
            usage,
        );
        return;
    };
    let mut a = Args::new(el, &toks[4..]);
    let v = a.kv(&["gain"]).or_else(|| a.pos());
    if !a.finish(el, e, usage, &["m"], &["gain"]) {
        return;
    }
    let what = if e.letter == 'F' {
        "gain"
    } else {
        "transresistance"
    };
    let Some(g) = required(el, e, v, what, usage) else {
        return;
    };
    let vctrl = format!("{}{}", e.inst.prefix, ctrl.lower);
    el.pending_ctrl
        .push((e.full.clone(), vctrl.clone(), ctrl.span));
    let kind = if e.letter == 'F' {
        ElementKind::Cccs {
            p: n[0],
            n: n[1],
            vctrl,
            gain: g,
        }
    } else {
        ElementKind::Ccvs {
            p: n[0],
            n: n[1],
            vctrl,
            r: g,
        }
    };
    el.add(e.full.clone(), e.name_span(), kind, e.line);
}

fn model_token<'l>(el: &mut Elab, e: &'l Ctx, k: usize, usage: &str) -> Option<&'l Token> {
    let toks = &e.line.tokens;
    match toks.get(k) {
        Some(t)
            if t.kind == TokKind::Word && toks.get(k + 1).is_none_or(|x| x.kind != TokKind::Eq) =>
        {
            Some(t)
        }
        _ => {
            el.error(
                format!("missing model name for '{}'", toks[0].text),
                e.line.span_at(k),
                usage.to_string(),
            );
            None
        }
    }
}

fn diode(el: &mut Elab, e: &Ctx) {
    const USAGE: &str = "D<name> ANODE CATHODE MODEL [AREA] [off], e.g. D1 a 0 dmod";
    let Some(n) = nodes(el, e, 2, USAGE) else {
        return;
    };
    let Some(mt) = model_token(el, e, 3, USAGE) else {
        return;
    };
    let model = el.model(e.inst, mt, &["d"], 'D', "d (is=1e-14 n=1)");
    let mut a = Args::new(el, &e.line.tokens[4..]);
    let off = a.flag("off");
    let area = a.kv(&["area"]).or_else(|| a.pos());
    let m = a.kv(&["m"]);
    let ignored = ["pj", "ic", "temp", "dtemp", "lm", "wm", "lp", "wp"];
    if !a.finish(el, e, USAGE, &ignored, &["area", "m", "off"]) {
        return;
    }
    let Some(model) = model else { return };
    let Ok(area) = optional(el, e, area) else {
        return;
    };
    let Some(m) = multiplier(el, e, m) else {
        return;
    };
    let area = area.unwrap_or(1.0);
    if area <= 0.0 {
        el.error("diode area must be positive", e.line.span_at(4), USAGE);
        return;
    }
    el.add(
        e.full.clone(),
        e.name_span(),
        ElementKind::Diode {
            a: n[0],
            c: n[1],
            model,
            area: area * m,
            off,
        },
        e.line,
    );
}

fn mosfet(el: &mut Elab, e: &Ctx) {
    const USAGE: &str = "M<name> D G S B MODEL [L=..] [W=..] [AD= AS= PD= PS=] [M=] [off]";
    let Some(n) = nodes(el, e, 4, USAGE) else {
        return;
    };
    let Some(mt) = model_token(el, e, 5, USAGE) else {
        return;
    };
    let model = el.model(
        e.inst,
        mt,
        &["nmos", "pmos"],
        'M',
        "nmos (level=1 vto=0.7 kp=120u)",
    );
    let mut a = Args::new(el, &e.line.tokens[6..]);
    let off = a.flag("off");
    let toks: Vec<Option<&Token>> = ["l", "w", "ad", "as", "pd", "ps", "m"]
        .iter()
        .map(|k| a.kv(&[k]))
        .collect();
    let ignored = ["nrd", "nrs", "ic", "temp", "dtemp", "geo", "delvto"];
    if !a.finish(
        el,
        e,
        USAGE,
        &ignored,
        &["l", "w", "ad", "as", "pd", "ps", "m", "off"],
    ) {
        return;
    }
    let Some(model) = model else { return };
    let defaults = [1e-4, 1e-4, 0.0, 0.0, 0.0, 0.0, 1.0];
    let mut v = [0.0; 7];
    for (k, t) in toks.iter().enumerate() {
        let Ok(x) = optional(el, e, *t) else { return };
        v[k] = x.unwrap_or(defaults[k]);
    }
    for (k, what) in [(0, "L"), (1, "W"), (6, "M")] {
        if v[k] <= 0.0 {
            el.error(
                format!("{what} must be positive"),
                toks[k].map_or(e.name_span(), |t| t.span),
                USAGE,
            );
            return;
        }
    }
    let kind = ElementKind::Mosfet {
        d: n[0],
        g: n[1],
        s: n[2],
        b: n[3],
        model,
        l: v[0],
        w: v[1],
        ad: v[2],
        as_: v[3],
        pd: v[4],
        ps: v[5],
        m: v[6],
        off,
    };
    el.add(e.full.clone(), e.name_span(), kind, e.line);
}

fn mtj(el: &mut Elab, e: &Ctx) {
    const USAGE: &str =
        "N<name> FREE REF [TNODE] MODEL [state=p|ap] [theta0=RAD] [phi0=RAD] [temp0=K] [seed=N]";
    // An optional thermal node: a fourth plain word (not `key=value`) makes it 3 nodes.
    let toks = &e.line.tokens;
    let n_nodes = if toks.get(4).is_some_and(|t| {
        t.kind == TokKind::Word && toks.get(5).is_none_or(|x| x.kind != TokKind::Eq)
    }) {
        3
    } else {
        2
    };
    let Some(n) = nodes(el, e, n_nodes, USAGE) else {
        return;
    };
    let Some(mt) = model_token(el, e, n_nodes + 1, USAGE) else {
        return;
    };
    let model = el.model(
        e.inst,
        mt,
        &["mtj"],
        'N',
        "mtj (d=40n tfl=1.3n ms=1.1meg ku=1meg alpha=0.01)",
    );
    let mut a = Args::new(el, &e.line.tokens[n_nodes + 2..]);
    let state = a.kv(&["state"]);
    let rest: Vec<(&str, Option<&Token>)> = vec![
        ("theta0", a.kv(&["theta0"])),
        ("phi0", a.kv(&["phi0"])),
        ("temp0", a.kv(&["temp0", "t0"])),
        ("seed", a.kv(&["seed"])),
    ];
    if !a.finish(
        el,
        e,
        USAGE,
        &[],
        &["state", "theta0", "phi0", "temp0", "seed"],
    ) {
        return;
    }
    let Some(model) = model else { return };
    let mut params = HashMap::new();
    if let Some(t) = state {
        let v = match t.lower.as_str() {
            "p" => Some(1.0),
            "ap" => Some(-1.0),
            _ if t.looks_numeric() => el.value(e.inst, t).filter(|v| *v == 1.0 || *v == -1.0),
            _ => None,
        };
        let Some(v) = v else {
            el.error(
                format!("state must be p or ap, found '{}'", t.text),
                t.span,
                USAGE,
            );
            return;
        };
        params.insert("state".to_string(), v);
    }
    for (key, t) in rest {
        let Some(t) = t else { continue };
        let Some(v) = el.value(e.inst, t) else { return };
        let bad = match key {
            "temp0" => (v <= 0.0).then_some("temp0 is in kelvin and must be positive"),
            "seed" => (v < 0.0 || v.fract() != 0.0 || v > 2f64.powi(64))
                .then_some("seed must be a non-negative integer"),
            _ => None,
        };
        if let Some(msg) = bad {
            el.error(msg, t.span, USAGE);
            return;
        }
        params.insert(key.to_string(), v);
    }
    el.add(
        e.full.clone(),
        e.name_span(),
        ElementKind::Mtj {
            free: n[0],
            reference: n[1],
            thermal: n.get(2).copied(),
            model,
            params,
        },
        e.line,
    );
}
