//! `.meas` / `.measure` cards (ngspice syntax):
//!
//! ```text
//! .meas tran NAME TRIG sig VAL=v [RISE|FALL|CROSS=n|LAST] [TD=t]  TARG sig VAL=v [...]
//! .meas tran NAME TRIG AT=t TARG ...
//! .meas tran NAME FIND sig AT=t
//! .meas tran NAME FIND sig WHEN sig=v|sig [RISE|FALL|CROSS=n|LAST] [TD=t]
//! .meas tran NAME WHEN sig=v ...
//! .meas tran NAME AVG|RMS|INTEG|MIN|MAX|PP sig [FROM=t1] [TO=t2]
//! .meas tran NAME PARAM='expression of earlier measurements'
//! ```
//!
//! `sig` is a vector (`v(out)`, `v(a,b)`, `i(vdd)`, `mz(n1)`, `time`) or an expression over
//! vectors in `par('…')`, `{…}` or `'…'` (`par('v(c)*i(vs)')`). Owns the syntax and the
//! checks that named vectors exist; evaluation is `crate::meas`.

use super::elaborate::{Elab, Inst};
use super::lines::{Line, TokKind, Token};
use super::number;
use crate::circuit::sweep::{Edge, Event, MeasKind, StatFunc, VecExpr};
use crate::circuit::{ElementKind, Measure};
use crate::diag::Span;

const USAGE: &str = ".meas tran NAME TRIG v(a) VAL=0.5 RISE=1 TARG v(b) VAL=0.5 RISE=1 | FIND v(a) AT=1n | AVG v(a) FROM=0 TO=1n";

/// Math functions allowed inside `par('…')` (everything else with `(` is a vector).
const MATH: &[&str] = &[
    "abs", "sgn", "sqrt", "exp", "log", "ln", "log10", "min", "max", "pow",
];

struct Cur<'l> {
    toks: Vec<&'l Token>,
    i: usize,
    end: Span,
}

impl<'l> Cur<'l> {
    fn peek(&self) -> Option<&'l Token> {
        self.toks.get(self.i).copied()
    }
    fn at(&self) -> Span {
        self.peek().map_or(self.end, |t| t.span)
    }
    /// `KEY=VALUE` at the cursor: (key, value token).
    fn kv(&self) -> Option<(&'l Token, &'l Token)> {
        let k = self.toks.get(self.i)?;
        let eq = self.toks.get(self.i + 1)?;
        let v = self.toks.get(self.i + 2)?;
        (k.kind == TokKind::Word && eq.kind == TokKind::Eq).then_some((k, v))
    }
}

/// Parse one `.meas` line into `el.circuit.measures`.
pub(crate) fn meas(el: &mut Elab, inst: &Inst, line: &Line) {
    let toks: Vec<&Token> = line.tokens[1..]
        .iter()
        .filter(|t| t.kind != TokKind::Comma)
        .collect();
    let mut c = Cur {
        toks,
        i: 0,
        end: line.end_span(),
    };
    let Some(an) = c.peek() else {
        el.error(
            "expected an analysis (tran, dc, op) after .meas",
            c.end,
            USAGE,
        );
        return;
    };
    if !matches!(an.lower.as_str(), "tran" | "dc" | "op") {
        el.error(
            format!("'.meas {}' is not supported", an.text),
            an.span,
            "measure tran, dc or op results",
        );
        return;
    }
    c.i += 1;
    let Some(name) = c.peek().filter(|t| t.kind == TokKind::Word) else {
        el.error("expected a measurement name", c.at(), USAGE);
        return;
    };
    if el.circuit.measures.iter().any(|m| m.name == name.lower) {
        el.error(
            format!("measurement '{}' is defined twice", name.text),
            name.span,
            "give each .meas a distinct name",
        );
        return;
    }
    c.i += 1;
    if let Some((k, v)) = c.kv().filter(|(k, _)| k.is("param")) {
        let _ = k;
        c.i += 3;
        let known: Vec<String> = el.circuit.measures.iter().map(|m| m.name.clone()).collect();
        let src = super::expr::ExprSrc::from_token(v);
        // Check the expression now (syntax, names) so errors point into the netlist.
        let mut lookup = |n: &str, span: Span, d: &mut crate::diag::Diagnostics| {
            if let Some(k) = known.iter().position(|k| k == n) {
                Some(1.0 + 0.37 * (k + 1) as f64)
            } else {
                d.push(
                    crate::diag::Diagnostic::error(
                        format!("'{n}' is not an earlier measurement"),
                        Some(span),
                    )
                    .with_help("PARAM= may use measurements defined above it and numbers"),
                );
                None
            }
        };
        // Value errors (0/0 with placeholder values) are only known after the run.
        let mut scratch = crate::diag::Diagnostics::default();
        super::expr::eval(&src, &mut lookup, &mut scratch);
        for d in scratch.items {
            if !(d.message.contains("division by zero") || d.message.contains("not a finite")) {
                el.diags.push(d);
            }
        }
        if let Some(t) = c.peek() {
            el.error(format!("unexpected '{}' in .meas", t.text), t.span, USAGE);
            return;
        }
        el.circuit.measures.push(Measure {
            name: name.lower.clone(),
            analysis: an.lower.clone(),
            kind: MeasKind::Param {
                text: src.text.clone(),
                inner: v.inner,
            },
            span: line.span,
        });
        return;
    }
    let Some(kw) = c.peek() else {
        el.error(
            "expected TRIG, FIND, WHEN, AVG, RMS, INTEG, MIN, MAX or PP",
            c.end,
            USAGE,
        );
        return;
    };
    c.i += 1;
    let kind = match kw.lower.as_str() {
        "trig" => (|| {
            let trig = event(el, inst, &mut c, false)?;
            match c.peek() {
                Some(t) if t.is("targ") => c.i += 1,
                _ => {
                    el.error("expected TARG after the trigger", c.at(), USAGE);
                    return None;
                }
            }
            let targ = event(el, inst, &mut c, false)?;
            Some(MeasKind::TrigTarg { trig, targ })
        })(),
        "find" => (|| {
            let expr = signal(el, inst, &mut c)?;
            if let Some((k, v)) = c.kv().filter(|(k, _)| k.is("at")) {
                let _ = k;
                c.i += 3;
                let at = el.value(inst, v)?;
                return Some(MeasKind::FindAt { expr, at });
            }
            match c.peek() {
                Some(t) if t.is("when") => c.i += 1,
                _ => {
                    el.error("expected AT=VALUE or WHEN after FIND", c.at(), USAGE);
                    return None;
                }
            }
            let when = event(el, inst, &mut c, true)?;
            Some(MeasKind::FindWhen {
                expr: Some(expr),
                when,
            })
        })(),
        "when" => event(el, inst, &mut c, true).map(|when| MeasKind::FindWhen { expr: None, when }),
        "avg" | "rms" | "integ" | "integral" | "min" | "max" | "pp" => (|| {
            let func = match kw.lower.as_str() {
                "avg" => StatFunc::Avg,
                "rms" => StatFunc::Rms,
                "integ" | "integral" => StatFunc::Integ,
                "min" => StatFunc::Min,
                "max" => StatFunc::Max,
                _ => StatFunc::Pp,
            };
            let expr = signal(el, inst, &mut c)?;
            let (mut from, mut to) = (None, None);
            while let Some((k, v)) = c.kv() {
                let slot = match k.lower.as_str() {
                    "from" => &mut from,
                    "to" => &mut to,
                    _ => {
                        el.error(format!("unexpected '{}='", k.text), k.span, "FROM=t1 TO=t2");
                        return None;
                    }
                };
                *slot = Some(el.value(inst, v)?);
                c.i += 3;
            }
            if let (Some(a), Some(b)) = (from, to)
                && b < a
            {
                el.error(
                    "TO is before FROM",
                    c.toks[c.i - 1].span,
                    "FROM=t1 TO=t2 with t1 <= t2",
                );
                return None;
            }
            Some(MeasKind::Stat {
                func,
                expr,
                from,
                to,
            })
        })(),
        _ => {
            el.error(
                format!("unknown measurement '{}'", kw.text),
                kw.span,
                "use TRIG/TARG, FIND, WHEN, AVG, RMS, INTEG, MIN, MAX or PP",
            );
            None
        }
    };
    let Some(kind) = kind else { return };
    if let Some(t) = c.peek() {
        el.error(format!("unexpected '{}' in .meas", t.text), t.span, USAGE);
        return;
    }
    el.circuit.measures.push(Measure {
        name: name.lower.clone(),
        analysis: an.lower.clone(),
        kind,
        span: line.span,
    });
}

/// An event: `AT=x`, or `sig VAL=v …` (`when` = false) / `sig=rhs …` (`when` = true).
fn event(el: &mut Elab, inst: &Inst, c: &mut Cur, when: bool) -> Option<Event> {
    if !when && let Some((k, v)) = c.kv().filter(|(k, _)| k.is("at")) {
        let _ = k;
        c.i += 3;
        return Some(Event::At(el.value(inst, v)?));
    }
    let lhs = signal(el, inst, c)?;
    let mut rhs = None;
    if when {
        if c.peek().is_some_and(|t| t.kind == TokKind::Eq) {
            c.i += 1;
            rhs = Some(signal(el, inst, c)?);
        } else {
            el.error(
                "expected '=' after the WHEN signal",
                c.at(),
                "WHEN v(out)=0.5",
            );
            return None;
        }
    }
    let (mut edge, mut nth, mut td) = (Edge::Cross, Some(1), 0.0);
    while let Some((k, v)) = c.kv() {
        match k.lower.as_str() {
            "val" if !when => rhs = Some(VecExpr::Num(el.value(inst, v)?)),
            "rise" | "fall" | "cross" => {
                edge = match k.lower.as_str() {
                    "rise" => Edge::Rise,
                    "fall" => Edge::Fall,
                    _ => Edge::Cross,
                };
                nth = if v.is("last") {
                    None
                } else {
                    let n = el.value(inst, v)?;
                    if n < 1.0 || n.fract() != 0.0 {
                        el.error(
                            format!("{}= needs a positive integer or LAST", k.text),
                            v.span,
                            "",
                        );
                        return None;
                    }
                    Some(n as usize)
                };
            }
            "td" => td = el.value(inst, v)?,
            _ => break,
        }
        c.i += 3;
    }
    let Some(rhs) = rhs else {
        el.error("expected VAL=VALUE", c.at(), "TRIG v(in) VAL=0.5 RISE=1");
        return None;
    };
    Some(Event::Cross {
        lhs,
        rhs,
        edge,
        nth,
        td,
    })
}

/// A signal at the cursor.
fn signal(el: &mut Elab, inst: &Inst, c: &mut Cur) -> Option<VecExpr> {
    let Some(t) = c.peek() else {
        el.error("expected a signal such as v(out)", c.end, USAGE);
        return None;
    };
    let next = |k: usize| c.toks.get(c.i + k).copied();
    if t.kind == TokKind::Expr {
        c.i += 1;
        return parse_expr(el, &t.text, t.inner);
    }
    if t.kind != TokKind::Word {
        el.error(
            format!("expected a signal, found '{}'", t.text),
            t.span,
            USAGE,
        );
        return None;
    }
    if next(1).is_some_and(|p| p.kind == TokKind::LParen) {
        if t.is("par")
            && let (Some(e), Some(r)) = (next(2), next(3))
            && e.kind == TokKind::Expr
            && r.kind == TokKind::RParen
        {
            c.i += 4;
            return parse_expr(el, &e.text, e.inner);
        }
        let mut args = Vec::new();
        let mut j = c.i + 2;
        loop {
            match c.toks.get(j) {
                Some(a) if a.kind == TokKind::Word => args.push(a.lower.clone()),
                Some(a) if a.kind == TokKind::RParen => break,
                other => {
                    let at = other.map_or(c.end, |a| a.span);
                    el.error(
                        "expected NAME) in a vector reference",
                        at,
                        "e.g. v(out), i(vdd), mz(n1), par('v(a)*i(v1)')",
                    );
                    return None;
                }
            }
            j += 1;
        }
        c.i = j + 1;
        let r = VecExpr::Ref(t.lower.clone(), args);
        check_ref(el, &r, t.span)?;
        return Some(r);
    }
    c.i += 1;
    if t.is("time") {
        return Some(VecExpr::Scale);
    }
    el.value(inst, t).map(VecExpr::Num)
}

/// Check that a vector reference names existing nodes/elements.
fn check_ref(el: &mut Elab, r: &VecExpr, span: Span) -> Option<()> {
    let VecExpr::Ref(f, args) = r else {
        return Some(());
    };
    let ok = match (f.as_str(), args.len()) {
        ("v", 1 | 2) => args.iter().all(|a| el.node_id(a).is_some()),
        ("i", 1) => el.find_element(&args[0]).is_some_and(|k| {
            matches!(
                el.circuit.elements[k].kind,
                ElementKind::VSource { .. }
                    | ElementKind::Inductor { .. }
                    | ElementKind::Vcvs { .. }
                    | ElementKind::Ccvs { .. }
            )
        }),
        ("mx" | "my" | "mz" | "temp" | "r" | "p", 1) => el
            .find_element(&args[0])
            .is_some_and(|k| matches!(el.circuit.elements[k].kind, ElementKind::Mtj { .. })),
        _ => false,
    };
    if ok {
        Some(())
    } else {
        el.error(
            format!(
                "'{f}({})' does not name a saved vector of this circuit",
                args.join(",")
            ),
            span,
            "use v(NODE), v(A,B), i(VSOURCE) or mx/my/mz/temp/r/p(MTJ)",
        );
        None
    }
}

/// Parse the text of `par('…')` / `{…}` whose first byte is at `at.start`.
fn parse_expr(el: &mut Elab, text: &str, at: Span) -> Option<VecExpr> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    let r = p.sum().and_then(|e| {
        p.ws();
        if p.i < p.s.len() {
            Err((p.i, "unexpected text".to_string()))
        } else {
            Ok(e)
        }
    });
    match r {
        Ok(e) => {
            let mut refs = Vec::new();
            collect_refs(&e, &mut refs);
            for r in refs {
                check_ref(el, &r, at)?;
            }
            Some(e)
        }
        Err((off, msg)) => {
            let s = (at.start + off).min(at.end);
            el.error(
                format!("{msg} in measurement expression"),
                Span {
                    file: at.file,
                    start: s,
                    end: (s + 1).min(at.end.max(s)),
                },
                "e.g. par('v(c)*i(vs)'): vectors, numbers, + - * / ^, abs() sgn() sqrt() exp() log() min() max()",
            );
            None
        }
    }
}

/// Every vector reference in an expression.
pub fn collect_refs(e: &VecExpr, out: &mut Vec<VecExpr>) {
    match e {
        VecExpr::Ref(..) => out.push(e.clone()),
        VecExpr::Neg(a) => collect_refs(a, out),
        VecExpr::Bin(_, a, b) => {
            collect_refs(a, out);
            collect_refs(b, out);
        }
        VecExpr::Call(_, args) => args.iter().for_each(|a| collect_refs(a, out)),
        VecExpr::Num(_) | VecExpr::Scale => {}
    }
}

/// Recursive-descent parser for point-wise vector expressions (same precedence as `expr`).
struct P<'s> {
    s: &'s [u8],
    i: usize,
}

type R = Result<VecExpr, (usize, String)>;

impl P<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn sum(&mut self) -> R {
        let mut a = self.product()?;
        loop {
            if self.eat(b'+') {
                a = VecExpr::Bin('+', Box::new(a), Box::new(self.product()?));
            } else if self.eat(b'-') {
                a = VecExpr::Bin('-', Box::new(a), Box::new(self.product()?));
            } else {
                return Ok(a);
            }
        }
    }
    fn product(&mut self) -> R {
        let mut a = self.unary()?;
        loop {
            self.ws();
            if self.s.get(self.i..self.i + 2) == Some(b"**") {
                return Ok(a);
            }
            if self.eat(b'*') {
                a = VecExpr::Bin('*', Box::new(a), Box::new(self.unary()?));
            } else if self.eat(b'/') {
                a = VecExpr::Bin('/', Box::new(a), Box::new(self.unary()?));
            } else {
                return Ok(a);
            }
        }
    }
    fn unary(&mut self) -> R {
        if self.i > 256 * 1024 {
            return Err((self.i, "expression too long".into()));
        }
        if self.eat(b'-') {
            return Ok(VecExpr::Neg(Box::new(self.unary()?)));
        }
        if self.eat(b'+') {
            return self.unary();
        }
        let base = self.primary()?;
        self.ws();
        if self.s.get(self.i..self.i + 2) == Some(b"**") {
            self.i += 2;
            return Ok(VecExpr::Bin('^', Box::new(base), Box::new(self.unary()?)));
        }
        if self.eat(b'^') {
            return Ok(VecExpr::Bin('^', Box::new(base), Box::new(self.unary()?)));
        }
        Ok(base)
    }
    fn primary(&mut self) -> R {
        self.ws();
        let start = self.i;
        match self.s.get(self.i) {
            None => Err((self.i, "expected a value".into())),
            Some(b'(') => {
                self.i += 1;
                let e = self.sum()?;
                if !self.eat(b')') {
                    return Err((start, "unmatched '('".into()));
                }
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || *c == b'.' => {
                let rest = std::str::from_utf8(&self.s[self.i..]).unwrap_or("");
                match number::scan(rest) {
                    Some((v, n)) if n > 0 => {
                        self.i += n;
                        Ok(VecExpr::Num(v))
                    }
                    _ => Err((start, "bad number".into())),
                }
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    self.i += 1;
                }
                let name = String::from_utf8_lossy(&self.s[start..self.i]).to_ascii_lowercase();
                if !self.eat(b'(') {
                    return if name == "time" {
                        Ok(VecExpr::Scale)
                    } else {
                        Err((start, format!("unknown name '{name}'")))
                    };
                }
                if MATH.contains(&name.as_str()) {
                    let mut args = vec![self.sum()?];
                    while self.eat(b',') {
                        args.push(self.sum()?);
                    }
                    if !self.eat(b')') {
                        return Err((self.i, "expected ')'".into()));
                    }
                    let want = if matches!(name.as_str(), "min" | "max" | "pow") {
                        2
                    } else {
                        1
                    };
                    if args.len() != want {
                        return Err((start, format!("{name}() takes {want} argument(s)")));
                    }
                    return Ok(VecExpr::Call(name, args));
                }
                // A vector reference: raw names up to ')' separated by ','.
                let close = self.s[self.i..]
                    .iter()
                    .position(|&c| c == b')')
                    .ok_or((start, "unclosed vector reference".to_string()))?;
                let inner =
                    String::from_utf8_lossy(&self.s[self.i..self.i + close]).to_ascii_lowercase();
                self.i += close + 1;
                let args: Vec<String> = inner.split(',').map(|a| a.trim().to_string()).collect();
                if args.iter().any(|a| a.is_empty()) {
                    return Err((start, "empty name in vector reference".into()));
                }
                Ok(VecExpr::Ref(name, args))
            }
            Some(_) => Err((self.i, "unexpected character".into())),
        }
    }
}
