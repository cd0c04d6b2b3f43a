//! `.step` and `.meas` requests as plain data (parsed by `netlist`, run by `sweep` / `meas`).
//!
//! Owns: the shape of a stepped parameter and of a measurement. Must not know about text
//! (only [`Span`]s) or how a measurement is evaluated.

use crate::diag::Span;

/// One `.step param NAME ...` line: the values the parameter takes, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpec {
    /// Lowercase `.param` name.
    pub param: String,
    pub values: Vec<f64>,
    /// Unit for axis labels (`unit=s` on the `.step` line; empty if not given).
    pub unit: String,
    pub span: Span,
}

/// One `.meas` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// Lowercase result name.
    pub name: String,
    /// `tran`, `dc` or `op`: which plot kind it reads.
    pub analysis: String,
    pub kind: MeasKind,
    pub span: Span,
}

/// What a measurement computes (ngspice semantics).
#[derive(Debug, Clone, PartialEq)]
pub enum MeasKind {
    /// `TRIG … TARG …`: scale value of the target event minus that of the trigger event.
    TrigTarg { trig: Event, targ: Event },
    /// `FIND expr AT=x`: the signal interpolated at scale value `x`.
    FindAt { expr: VecExpr, at: f64 },
    /// `FIND expr WHEN …`: the signal at the event; `WHEN …` alone gives the event's scale.
    FindWhen { expr: Option<VecExpr>, when: Event },
    /// `AVG|RMS|INTEG|MIN|MAX|PP expr [FROM=a] [TO=b]`.
    Stat {
        func: StatFunc,
        expr: VecExpr,
        from: Option<f64>,
        to: Option<f64>,
    },
    /// `PARAM='expr'`: arithmetic over earlier measurements of the same netlist (and
    /// numbers); `text` is the expression and `inner` where it sits in the source.
    Param { text: String, inner: Span },
}

/// An event on the scale axis.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `AT=x`: a fixed scale value.
    At(f64),
    /// `expr VAL=v` / `WHEN expr=rhs` with `RISE|FALL|CROSS=n|LAST` and `TD=` (the event is
    /// searched from scale value `td` on).
    Cross {
        lhs: VecExpr,
        rhs: VecExpr,
        edge: Edge,
        /// 1-based occurrence; `None` means the last one.
        nth: Option<usize>,
        td: f64,
    },
}

/// Which crossings count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Rise,
    Fall,
    Cross,
}

/// Statistics over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatFunc {
    Avg,
    Rms,
    Integ,
    Min,
    Max,
    Pp,
}

/// A point-wise expression over saved vectors: `v(out)`, `v(a,b)*i(vdd)`, `abs(mz(n1))`.
#[derive(Debug, Clone, PartialEq)]
pub enum VecExpr {
    Num(f64),
    /// The scale (`time`, or the swept source of a `.dc`).
    Scale,
    /// A vector reference: function (`v`, `i`, `mz`, ...) and its lowercase arguments.
    Ref(String, Vec<String>),
    Neg(Box<VecExpr>),
    /// Binary operator `+ - * / ^` and operands.
    Bin(char, Box<VecExpr>, Box<VecExpr>),
    /// Math function (`abs`, `sqrt`, `exp`, `log`, `min`, `max`, ...) of point-wise values.
    Call(String, Vec<VecExpr>),
}
