//! Arithmetic expressions: the inside of `{…}` / `'…'`, `.param` values and bare values.
//!
//! Owns: lexing and evaluating one expression (a single pass, no AST is kept). Must not know
//! where parameter values come from: names are resolved through a caller-supplied lookup.
//!
//! Grammar, loosest first:
//!
//! ```text
//! sum     = product { ("+" | "-") product }
//! product = unary { ("*" | "/") unary }
//! unary   = ("-" | "+") unary | power
//! power   = primary [ ("^" | "**") unary ]        (right-associative: 2^3^2 = 2^9)
//! primary = number | name | name "(" args ")" | "(" sum ")"
//! ```
//!
//! So `-2^2 = -4` and `2^-1 = 0.5`. Numbers take SPICE suffixes (`2k*3n`). Functions:
//! see [`FUNCTIONS`] (and the Monte Carlo ones in `mc`); `log` is the natural logarithm, as in ngspice. The constant `pi` is
//! available unless a parameter of that name shadows it. Nesting is limited to
//! [`MAX_DEPTH`] levels; a division by zero or a non-finite result is an error.

use super::lines::{TokKind, Token};
use super::number;
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};

/// Deepest nesting of parentheses / unary operators / powers / parameter references.
pub const MAX_DEPTH: usize = 64;

/// Built-in functions and their number of arguments.
pub const FUNCTIONS: &[(&str, usize)] = &[
    ("sqrt", 1),
    ("exp", 1),
    ("log", 1),
    ("ln", 1),
    ("log10", 1),
    ("abs", 1),
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("asin", 1),
    ("acos", 1),
    ("atan", 1),
    ("sinh", 1),
    ("cosh", 1),
    ("tanh", 1),
    ("floor", 1),
    ("ceil", 1),
    ("int", 1),
    ("sgn", 1),
    ("min", 2),
    ("max", 2),
    ("pow", 2),
    ("pwr", 2),
    ("atan2", 2),
];

/// The text of one expression and where it sits in the source.
#[derive(Debug, Clone)]
pub struct ExprSrc {
    pub text: String,
    pub file: usize,
    /// Byte offset of `text[0]` in the file (when `exact`).
    pub start: usize,
    /// Whether byte offsets in `text` map 1:1 to the file; otherwise every span is `whole`.
    pub exact: bool,
    pub whole: Span,
}

impl ExprSrc {
    /// The expression written as one token: a word (`1k`, `2*w`) or `{…}` / `'…'`.
    pub fn from_token(t: &Token) -> Self {
        ExprSrc {
            text: t.text.clone(),
            file: t.span.file,
            start: t.inner.start,
            exact: true,
            whole: t.span,
        }
    }

    /// An expression spread over several tokens (unbraced `.param a = 2 * (b + 1)`).
    pub fn from_tokens(toks: &[Token], sources: &SourceMap) -> Option<Self> {
        let (first, last) = (toks.first()?, toks.last()?);
        if toks.len() == 1 {
            return Some(Self::from_token(first));
        }
        let whole = Span {
            file: first.span.file,
            start: first.span.start,
            end: last.span.end,
        };
        let raw = sources
            .files
            .get(whole.file)
            .and_then(|f| f.text.get(whole.start..whole.end))
            .filter(|s| !s.contains('\n'));
        Some(match raw {
            Some(s) => ExprSrc {
                text: s.to_string(),
                file: whole.file,
                start: whole.start,
                exact: true,
                whole,
            },
            None => {
                let text = toks
                    .iter()
                    .map(|t| {
                        if t.kind == TokKind::Expr {
                            format!("({})", t.text)
                        } else {
                            t.text.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                ExprSrc {
                    text,
                    file: whole.file,
                    start: whole.start,
                    exact: false,
                    whole,
                }
            }
        })
    }

    /// Span of bytes `a..b` of `text`.
    pub fn span(&self, a: usize, b: usize) -> Span {
        if self.exact {
            Span {
                file: self.file,
                start: self.start + a,
                end: self.start + b,
            }
        } else {
            self.whole
        }
    }
}

/// Resolves a (lowercase) parameter name referenced at a span; `None` means an error was
/// already reported.
pub type Lookup<'a> = dyn FnMut(&str, Span, &mut Diagnostics) -> Option<f64> + 'a;

#[derive(Debug, Clone, PartialEq)]
enum T {
    Num(f64),
    Id(String),
    Plus,
    Minus,
    Star,
    Slash,
    Pow,
    LP,
    RP,
    Comma,
}

#[derive(Debug, Clone)]
struct Tk {
    t: T,
    a: usize,
    b: usize,
}

const NUMBER_HELP: &str = "numbers look like 1.5, 2e-3, 10p, 4.7k or 1meg";

fn lex(src: &ExprSrc, diags: &mut Diagnostics) -> Option<Vec<Tk>> {
    let s = src.text.as_str();
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let single = |t: T| Tk { t, a: i, b: i + 1 };
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'+' => {
                out.push(single(T::Plus));
                i += 1
            }
            b'-' => {
                out.push(single(T::Minus));
                i += 1
            }
            b'*' if b.get(i + 1) == Some(&b'*') => {
                out.push(Tk {
                    t: T::Pow,
                    a: i,
                    b: i + 2,
                });
                i += 2
            }
            b'*' => {
                out.push(single(T::Star));
                i += 1
            }
            b'/' => {
                out.push(single(T::Slash));
                i += 1
            }
            b'^' => {
                out.push(single(T::Pow));
                i += 1
            }
            b'(' | b'{' => {
                out.push(single(T::LP));
                i += 1
            }
            b')' | b'}' => {
                out.push(single(T::RP));
                i += 1
            }
            b',' => {
                out.push(single(T::Comma));
                i += 1
            }
            b'0'..=b'9' | b'.' => {
                let bad_end = |from: usize| {
                    let mut j = from;
                    while j < b.len()
                        && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.')
                    {
                        j += 1;
                    }
                    j
                };
                match number::scan(&s[i..]) {
                    Some((v, n))
                        if !b.get(i + n).is_some_and(|&x| {
                            x.is_ascii_alphanumeric() || x == b'_' || x == b'.'
                        }) =>
                    {
                        out.push(Tk {
                            t: T::Num(v),
                            a: i,
                            b: i + n,
                        });
                        i += n;
                    }
                    _ => {
                        let j = bad_end(i + 1);
                        diags.push(
                            Diagnostic::error(
                                format!("bad number '{}'", &s[i..j]),
                                Some(src.span(i, j)),
                            )
                            .with_help(NUMBER_HELP),
                        );
                        return None;
                    }
                }
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut j = i;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                out.push(Tk {
                    t: T::Id(s[i..j].to_ascii_lowercase()),
                    a: i,
                    b: j,
                });
                i = j;
            }
            _ => {
                let ch = s[i..].chars().next().unwrap_or('?');
                let j = i + ch.len_utf8();
                diags.push(
                    Diagnostic::error(
                        format!("unexpected character '{ch}' in expression"),
                        Some(src.span(i, j)),
                    )
                    .with_help(
                        "expressions use numbers, parameter names, + - * / ^ ( ) and functions",
                    ),
                );
                return None;
            }
        }
    }
    Some(out)
}

struct P<'a, 'l> {
    src: &'a ExprSrc,
    toks: Vec<Tk>,
    i: usize,
    depth: usize,
    lookup: &'a mut Lookup<'l>,
    diags: &'a mut Diagnostics,
}

impl P<'_, '_> {
    fn peek(&self) -> Option<&T> {
        self.toks.get(self.i).map(|t| &t.t)
    }

    fn err(&mut self, msg: String, a: usize, b: usize, help: &str) -> Option<f64> {
        let d = Diagnostic::error(msg, Some(self.src.span(a, b)));
        self.diags.push(if help.is_empty() {
            d
        } else {
            d.with_help(help)
        });
        None
    }

    fn here(&self) -> (usize, usize) {
        match self.toks.get(self.i) {
            Some(t) => (t.a, t.b),
            None => (self.src.text.len(), self.src.text.len()),
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let (a, b) = self.here();
            self.err(
                format!("expression nested more than {MAX_DEPTH} levels deep"),
                a,
                b,
                "simplify it",
            );
            return None;
        }
        Some(())
    }

    fn sum(&mut self) -> Option<f64> {
        self.enter()?;
        let mut v = self.product()?;
        loop {
            match self.peek() {
                Some(T::Plus) => {
                    self.i += 1;
                    v += self.product()?;
                }
                Some(T::Minus) => {
                    self.i += 1;
                    v -= self.product()?;
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Some(v)
    }

    fn product(&mut self) -> Option<f64> {
        let mut v = self.unary()?;
        loop {
            match self.peek() {
                Some(T::Star) => {
                    self.i += 1;
                    v *= self.unary()?;
                }
                Some(T::Slash) => {
                    let (a, b) = self.here();
                    self.i += 1;
                    let d = self.unary()?;
                    if d == 0.0 {
                        return self.err(
                            "division by zero".into(),
                            a,
                            b,
                            "the right-hand side of '/' is 0",
                        );
                    }
                    v /= d;
                }
                _ => break,
            }
        }
        Some(v)
    }

    fn unary(&mut self) -> Option<f64> {
        match self.peek() {
            Some(T::Minus) | Some(T::Plus) => {
                let neg = self.peek() == Some(&T::Minus);
                self.i += 1;
                self.enter()?;
                let v = self.unary()?;
                self.depth -= 1;
                Some(if neg { -v } else { v })
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Option<f64> {
        let base = self.primary()?;
        if self.peek() == Some(&T::Pow) {
            self.i += 1;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Some(base.powf(e));
        }
        Some(base)
    }

    fn primary(&mut self) -> Option<f64> {
        let Some(tk) = self.toks.get(self.i).cloned() else {
            let n = self.src.text.len();
            return self.err(
                "expression ends too early".into(),
                n.saturating_sub(1),
                n,
                "expected a number, a parameter name or '('",
            );
        };
        match tk.t {
            T::Num(v) => {
                self.i += 1;
                Some(v)
            }
            T::LP => {
                self.i += 1;
                let v = self.sum()?;
                self.expect_rp(tk.a)?;
                Some(v)
            }
            T::Id(name) => {
                self.i += 1;
                if self.peek() == Some(&T::LP) {
                    return self.call(&name, tk.a, tk.b);
                }
                let span = self.src.span(tk.a, tk.b);
                (self.lookup)(&name, span, self.diags)
            }
            _ => self.err(
                format!("unexpected '{}' in expression", &self.src.text[tk.a..tk.b]),
                tk.a,
                tk.b,
                "expected a number, a parameter name or '('",
            ),
        }
    }

    fn expect_rp(&mut self, open: usize) -> Option<()> {
        if self.peek() == Some(&T::RP) {
            self.i += 1;
            return Some(());
        }
        self.err(
            "unmatched '(' in expression".into(),
            open,
            open + 1,
            "close it with ')'",
        );
        None
    }

    fn call(&mut self, name: &str, a: usize, b: usize) -> Option<f64> {
        let open = self.toks.get(self.i).map_or(b, |t| t.a);
        self.i += 1; // '('
        let Some(&(_, arity)) = FUNCTIONS
            .iter()
            .chain(super::mc::FUNCTIONS)
            .find(|(f, _)| *f == name)
        else {
            let names: Vec<&str> = FUNCTIONS
                .iter()
                .chain(super::mc::FUNCTIONS)
                .map(|(f, _)| *f)
                .collect();
            return self.err(
                format!("unknown function '{name}'"),
                a,
                b,
                &format!("available functions: {}", names.join(", ")),
            );
        };
        let mut args = Vec::new();
        if self.peek() != Some(&T::RP) {
            loop {
                args.push(self.sum()?);
                if self.peek() == Some(&T::Comma) {
                    self.i += 1;
                } else {
                    break;
                }
            }
        }
        self.expect_rp(open)?;
        if args.len() != arity {
            let plural = if arity == 1 { "" } else { "s" };
            return self.err(
                format!(
                    "function '{name}' takes {arity} argument{plural}, got {}",
                    args.len()
                ),
                a,
                b,
                "",
            );
        }
        if let Some(v) = super::mc::call(name, &args) {
            return Some(v);
        }
        let x = args[0];
        let y = args.get(1).copied().unwrap_or(0.0);
        Some(match name {
            "sqrt" => x.sqrt(),
            "exp" => x.exp(),
            "log" | "ln" => x.ln(),
            "log10" => x.log10(),
            "abs" => x.abs(),
            "sin" => x.sin(),
            "cos" => x.cos(),
            "tan" => x.tan(),
            "asin" => x.asin(),
            "acos" => x.acos(),
            "atan" => x.atan(),
            "sinh" => x.sinh(),
            "cosh" => x.cosh(),
            "tanh" => x.tanh(),
            "floor" => x.floor(),
            "ceil" => x.ceil(),
            "int" => x.trunc(),
            "sgn" => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            "min" => x.min(y),
            "max" => x.max(y),
            "pow" => x.powf(y),
            "pwr" => x.signum() * x.abs().powf(y),
            "atan2" => x.atan2(y),
            _ => f64::NAN,
        })
    }
}

/// Evaluate an expression. Errors (syntax, undefined names via `lookup`, division by zero,
/// non-finite result) are pushed to `diags` and give `None`.
pub fn eval(src: &ExprSrc, lookup: &mut Lookup<'_>, diags: &mut Diagnostics) -> Option<f64> {
    let toks = lex(src, diags)?;
    if toks.is_empty() {
        diags.push(
            Diagnostic::error("empty expression", Some(src.whole))
                .with_help("expected a number or an expression"),
        );
        return None;
    }
    let mut p = P {
        src,
        toks,
        i: 0,
        depth: 0,
        lookup,
        diags,
    };
    let v = p.sum()?;
    if let Some(t) = p.toks.get(p.i) {
        let (a, b) = (t.a, t.b);
        return p.err(
            format!("unexpected '{}' in expression", &src.text[a..b]),
            a,
            b,
            "expected an operator (+ - * / ^) or the end of the expression",
        );
    }
    if !v.is_finite() {
        diags.push(
            Diagnostic::error(
                format!("expression '{}' is not a finite number ({v})", src.text),
                Some(src.whole),
            )
            .with_help("check for overflow, log/sqrt of a negative number, or 0^-1"),
        );
        return None;
    }
    Some(v)
}

/// Evaluate an expression that may not reference parameters (only `pi`).
pub fn eval_const(src: &ExprSrc, diags: &mut Diagnostics) -> Option<f64> {
    let mut lookup = |name: &str, span: Span, d: &mut Diagnostics| {
        if name == "pi" {
            return Some(std::f64::consts::PI);
        }
        d.push(Diagnostic::error(
            format!("undefined parameter '{name}'"),
            Some(span),
        ));
        None
    };
    eval(src, &mut lookup, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(s: &str) -> ExprSrc {
        ExprSrc {
            text: s.into(),
            file: 0,
            start: 10,
            exact: true,
            whole: Span {
                file: 0,
                start: 9,
                end: 11 + s.len(),
            },
        }
    }

    fn ev(s: &str) -> Option<f64> {
        let mut d = Diagnostics::default();
        let mut lookup = |name: &str, span: Span, d: &mut Diagnostics| match name {
            "a" => Some(2.0),
            "b" => Some(3.0),
            "pi" => Some(std::f64::consts::PI),
            _ => {
                d.push(Diagnostic::error(
                    format!("undefined parameter '{name}'"),
                    Some(span),
                ));
                None
            }
        };
        let r = eval(&src(s), &mut lookup, &mut d);
        assert_eq!(r.is_none(), d.has_errors(), "{s}: {:?}", d.items);
        r
    }

    fn err(s: &str) -> Diagnostic {
        let mut d = Diagnostics::default();
        let mut lookup = |name: &str, span: Span, d: &mut Diagnostics| {
            d.push(Diagnostic::error(
                format!("undefined parameter '{name}'"),
                Some(span),
            ));
            None
        };
        assert_eq!(eval(&src(s), &mut lookup, &mut d), None, "{s}");
        assert_eq!(d.items.len(), 1, "{s}: {:?}", d.items);
        d.items.remove(0)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn operators_and_precedence() {
        assert_eq!(ev("1+2*3"), Some(7.0));
        assert_eq!(ev("(1+2)*3"), Some(9.0));
        assert_eq!(ev("10-4-3"), Some(3.0));
        assert_eq!(ev("8/4/2"), Some(1.0));
        assert_eq!(ev("2^3"), Some(8.0));
        assert_eq!(ev("2**3"), Some(8.0));
        assert_eq!(ev("2^3^2"), Some(512.0), "^ is right-associative");
        assert_eq!(ev("-2^2"), Some(-4.0), "unary minus binds looser than ^");
        assert_eq!(ev("2^-1"), Some(0.5));
        assert_eq!(ev("--2"), Some(2.0));
        assert_eq!(ev("+2"), Some(2.0));
        assert_eq!(ev("2*-3"), Some(-6.0));
        assert_eq!(ev("a*b+1"), Some(7.0));
        assert_eq!(ev(" ( a ) "), Some(2.0));
        assert_eq!(ev("{a+1}*2"), Some(6.0), "braces act as parentheses");
    }

    #[test]
    fn numbers_with_suffixes() {
        assert_eq!(ev("2k*3"), Some(6000.0));
        assert!(close(ev("1meg/1k").unwrap(), 1000.0));
        assert_eq!(ev("1e-3*1e3"), Some(1.0));
        assert_eq!(ev("10pF"), Some(10e-12));
        assert_eq!(ev(".5"), Some(0.5));
    }

    #[test]
    fn functions() {
        assert_eq!(ev("sqrt(16)"), Some(4.0));
        assert!(close(ev("exp(1)").unwrap(), std::f64::consts::E));
        assert!(close(ev("log(exp(2))").unwrap(), 2.0), "log is natural");
        assert!(close(ev("ln(exp(3))").unwrap(), 3.0));
        assert_eq!(ev("log10(1000)"), Some(3.0));
        assert_eq!(ev("abs(-3)"), Some(3.0));
        assert_eq!(ev("min(2, 5)"), Some(2.0));
        assert_eq!(ev("max(2,5)"), Some(5.0));
        assert_eq!(ev("pow(2,10)"), Some(1024.0));
        assert_eq!(ev("pwr(-2,2)"), Some(-4.0));
        assert!(close(ev("sin(pi/2)").unwrap(), 1.0));
        assert!(close(ev("cos(0)").unwrap(), 1.0));
        assert!(close(ev("tan(pi/4)").unwrap(), 1.0));
        assert!(close(ev("atan(1)*4").unwrap(), std::f64::consts::PI));
        assert_eq!(
            ev("floor(2.7)+ceil(2.2)+int(-1.5)+sgn(-3)"),
            Some(2.0 + 3.0 - 1.0 - 1.0)
        );
        assert_eq!(ev("max(min(a,b), 1) ^ 2"), Some(4.0));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = err("1+zz*2");
        assert_eq!(e.message, "undefined parameter 'zz'");
        assert_eq!(
            e.span,
            Some(Span {
                file: 0,
                start: 12,
                end: 14
            })
        );

        let e = err("1/(2-2)");
        assert_eq!(e.message, "division by zero");
        assert_eq!(e.span.map(|s| s.start), Some(11));

        assert!(err("(1+2").message.contains("unmatched '('"));
        assert!(err("1+2)").message.contains("unexpected ')'"));
        assert!(err("1 2").message.contains("unexpected '2'"));
        assert!(err("1+").message.contains("ends too early"));
        assert!(err("foo(1)").message.contains("unknown function 'foo'"));
        assert!(err("max(1)").message.contains("takes 2 arguments"));
        assert!(err("sqrt(-1)").message.contains("not a finite number"));
        assert!(err("1.2.3").message.contains("bad number '1.2.3'"));
        assert!(err("1k5").message.contains("bad number"));
        assert!(err("2 # 3").message.contains("unexpected character '#'"));
        assert!(err("").message.contains("empty expression"));
        assert!(err("é").message.contains("unexpected character 'é'"));
    }

    #[test]
    fn nesting_is_limited() {
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert!(err(&deep).message.contains("nested more than"));
        let minus = "-".repeat(10_000) + "1";
        assert!(err(&minus).message.contains("nested more than"));
        let pow = vec!["1"; 10_000].join("^");
        assert!(err(&pow).message.contains("nested more than"));
        // Long flat chains are fine (they loop, not recurse).
        let long = vec!["1"; 10_000].join("+");
        assert_eq!(ev(&long), Some(10_000.0));
    }
}
