//! Editable `.subckt`-based crossbar netlists for `mtjsim gen crossbar` and `mtjsim xbar`:
//! 1T1MTJ, 1MTJ or 1T1R cells, wire R/C per cell segment, a stored bit pattern, a read or
//! a write operation, and optional nearest-neighbour thermal coupling.
//!
//! Layout (docs/crossbar.md): cell (i, j) sits at row i, column j. With an access
//! transistor (1t1mtj, 1t1r) column j has a bit line `bl_<i>_<j>` driven at row 0 by
//! `vbl<j>` and a source line `sl_<i>_<j>` returning at the last row through `vsl<j>`
//! (0 V on a read: `i(vsl<j>)` is the sensed current); word line `wl<i>` gates row i.
//! Without (1mtj) row i is a line `rl_<i>_<j>` driven at column 0 by `vwl<i>` and column j
//! a line `cl_<i>_<j>` sensed at the last row by `vsl<j>`.
//! Bits: 1 = P (low resistance), 0 = AP. MTJ free layer on the bit-line (row-line) side, so
//! a positive bit-line current writes P and a positive source-line current writes AP.
//! This module only writes text; [`ArrayLayout`] tells callers which vectors hold what.

use std::fmt::Write;

/// Cell type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// MTJ in series with an NMOS access transistor.
    OneT1Mtj,
    /// Bare MTJ at the crossing of a row and a column line.
    OneMtj,
    /// Fixed resistor with an access transistor (ngspice-compatible).
    OneT1R,
}

impl Cell {
    pub fn parse(s: &str) -> Result<Cell, String> {
        match s.to_ascii_lowercase().as_str() {
            "1t1mtj" => Ok(Cell::OneT1Mtj),
            "1mtj" => Ok(Cell::OneMtj),
            "1t1r" => Ok(Cell::OneT1R),
            _ => Err(format!("unknown cell '{s}' (use 1t1mtj, 1mtj or 1t1r)")),
        }
    }
    fn has_mtj(self) -> bool {
        self != Cell::OneT1R
    }
}

/// Operation the generated transient performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Rows selected one after another at `v_read`; every column sensed.
    Read,
    /// Cell (row, col) written to the complement of its stored bit; others held at 0 V.
    Write { row: usize, col: usize },
}

/// What to generate (SI units).
#[derive(Debug, Clone)]
pub struct ArraySpec {
    pub rows: usize,
    pub cols: usize,
    pub cell: Cell,
    /// `.lib` file as it should be written in the netlist, and its section (the `.model`
    /// inside must have the section's name, as in device_models/mtj.lib).
    pub lib: String,
    pub section: String,
    /// Bit pattern, `bits[i][j]` (1 = P / low resistance).
    pub bits: Vec<Vec<bool>>,
    pub op: Op,
    /// Wire resistance (Ω) and capacitance to ground (F) per cell segment.
    pub wire_r: f64,
    pub wire_c: f64,
    pub v_read: f64,
    pub v_write: f64,
    /// Word-line high level on a read / a write (V).
    pub v_wl_read: f64,
    pub v_wl_write: f64,
    /// Time per row on a read; write pulse width (s).
    pub row_period: f64,
    pub write_width: f64,
    /// Resistances of a 1 and a 0 for `--cell 1t1r` (Ω).
    pub r_low: f64,
    pub r_high: f64,
    /// Thermal conductance between nearest-neighbour MTJs (W/K); 0 = none. Needs a card
    /// with rth > 0 (each MTJ gets a thermal node `tn_<i>_<j>` holding its rise in K).
    pub thermal_g_w_per_k: f64,
    /// `.options seed=` of the run.
    pub seed: u64,
    /// Write a DC operating point (`.op`, sources at their pulse levels) instead of a
    /// transient: the steady state of a write, e.g. for heat-spreading maps.
    pub dc_op: bool,
    /// Write only the array as `.subckt NAME` (ports: bit-line tops `bl_0_<j>`, source-line
    /// bottoms `sl_<R>_<j>`, word lines `wl<i>`; 1mtj: row-line ends `rl_<i>_0`, column-line
    /// ends `cl_<R>_<j>`), with no sources or analysis, for `.include` from a hand-written
    /// top level.
    pub subckt: Option<String>,
    /// `.options mtj_subcycle=N` (multirate MTJs, docs/device-model.md); 0 = off.
    pub subcycle: u32,
    /// A read selects only the first `read_rows` rows (0 = all): a one-row read of a large
    /// array is the transient of one word-line access.
    pub read_rows: usize,
}

impl ArraySpec {
    /// Defaults for an R×C array: pmtj_mem cells, 2 Ω / 1 fF wires, 0.1 V read.
    pub fn new(rows: usize, cols: usize) -> ArraySpec {
        ArraySpec {
            rows,
            cols,
            cell: Cell::OneT1Mtj,
            lib: "device_models/mtj.lib".into(),
            section: "pmtj_mem".into(),
            bits: pattern_random(rows, cols, 1),
            op: Op::Read,
            wire_r: 2.0,
            wire_c: 1e-15,
            v_read: 0.1,
            v_write: 1.2,
            v_wl_read: 1.2,
            v_wl_write: 2.0,
            row_period: 2e-9,
            write_width: 10e-9,
            r_low: 5e3,
            r_high: 20e3,
            thermal_g_w_per_k: 0.0,
            seed: 1,
            dc_op: false,
            subckt: None,
            subcycle: 0,
            read_rows: 0,
        }
    }

    /// Rows a read selects.
    pub fn rows_read(&self) -> usize {
        if self.read_rows == 0 {
            self.rows
        } else {
            self.read_rows.min(self.rows)
        }
    }
    /// Word-line delay of row `i` on a read (s).
    pub fn read_row_start(&self, i: usize) -> f64 {
        i as f64 * self.row_period
    }
    /// Edge time of every pulse (s).
    pub fn edge(&self) -> f64 {
        0.05 * self.row_period
    }
    /// Time at which row `i`'s sensed currents are sampled on a read: just before its word
    /// line falls.
    pub fn read_sample_time(&self, i: usize) -> f64 {
        self.read_row_start(i) + self.edge() + 0.5 * self.row_period - 0.01 * self.row_period
    }
    /// Write: pulse start, end of the flat top, and stop time (s).
    pub fn write_times(&self) -> (f64, f64, f64) {
        let t0 = 0.5e-9;
        let t1 = t0 + self.edge() + self.write_width;
        (t0, t1, t1 + 3e-9)
    }
    pub fn tstop(&self) -> f64 {
        match self.op {
            Op::Read => self.rows_read() as f64 * self.row_period,
            Op::Write { .. } => self.write_times().2,
        }
    }
    /// Element name of cell (i, j)'s MTJ as written in `.save`.
    pub fn mtj_name(&self, i: usize, j: usize) -> String {
        format!("x{i}_{j}.n1")
    }
    /// Name of the saved vector `q(...)` of cell (i, j)'s MTJ (ngspice's flattened form).
    pub fn mtj_vec(&self, q: &str, i: usize, j: usize) -> String {
        format!("{q}(n.x{i}_{j}.n1)")
    }
}

/// Pseudo-random bits from a fixed hash of (seed, i, j): the file is reproducible.
pub fn pattern_random(rows: usize, cols: usize, seed: u64) -> Vec<Vec<bool>> {
    (0..rows)
        .map(|i| {
            (0..cols)
                .map(|j| {
                    let mut z =
                        seed ^ ((i as u64) << 32 | j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    z ^= z >> 33;
                    z = z.wrapping_mul(0xff51_afd7_ed55_8ccd);
                    z ^= z >> 33;
                    z & 1 == 1
                })
                .collect()
        })
        .collect()
}

pub fn pattern_checker(rows: usize, cols: usize) -> Vec<Vec<bool>> {
    (0..rows)
        .map(|i| (0..cols).map(|j| (i + j) % 2 == 0).collect())
        .collect()
}

/// A pattern file: one row per line of `0`/`1` characters (spaces ignored, `#` comments).
pub fn pattern_parse(text: &str, rows: usize, cols: usize) -> Result<Vec<Vec<bool>>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let bits: Vec<char> = line.chars().filter(|c| !c.is_whitespace()).collect();
        if bits.is_empty() {
            continue;
        }
        let mut row = Vec::new();
        for (k, c) in bits.iter().enumerate() {
            match c {
                '0' => row.push(false),
                '1' => row.push(true),
                _ => {
                    return Err(format!(
                        "line {}:{}: expected 0 or 1, found '{c}'",
                        n + 1,
                        k + 1
                    ));
                }
            }
        }
        if row.len() != cols {
            return Err(format!(
                "line {}: {} bits, the array has {cols} columns",
                n + 1,
                row.len()
            ));
        }
        out.push(row);
    }
    if out.len() != rows {
        return Err(format!(
            "{} rows of bits, the array has {rows} rows",
            out.len()
        ));
    }
    Ok(out)
}

/// Engineering-style number without float noise (rounded to 1e-15 relative units of
/// femto: every time and capacitance here is a multiple of 1 fs / 1 fF or coarser).
fn e(x: f64) -> String {
    let scaled = (x * 1e15).round() / 1e15;
    if scaled != 0.0 && (scaled / x - 1.0).abs() < 1e-9 {
        format!("{scaled:e}")
    } else {
        format!("{x:e}")
    }
}

/// Write the netlist text.
pub fn netlist(s: &ArraySpec) -> String {
    let mut o = String::new();
    let (n, m) = (s.rows, s.cols);
    let cell = match s.cell {
        Cell::OneT1Mtj => "1T1MTJ",
        Cell::OneMtj => "1MTJ",
        Cell::OneT1R => "1T1R",
    };
    let op = match s.op {
        Op::Read => "read (rows selected one after another)".to_string(),
        Op::Write { row, col } => format!(
            "write of cell ({row}, {col}) to {}",
            if s.bits[row][col] { "0 (AP)" } else { "1 (P)" }
        ),
    };
    let thermal = s.cell.has_mtj() && s.thermal_g_w_per_k > 0.0;
    let _ = writeln!(
        o,
        "* {n}x{m} {cell} crossbar, {op} (generated by mtjsim gen crossbar)"
    );
    let _ = writeln!(
        o,
        "* Layout and conventions: docs/crossbar.md. Cell (i,j) = x<i>_<j>."
    );
    let _ = writeln!(
        o,
        "* Bits: 1 = P (low R), 0 = AP. i(vsl<j>) is column j's sensed current."
    );
    if s.cell.has_mtj() {
        let _ = writeln!(o, ".lib \"{}\" {}", s.lib, s.section);
    }
    if thermal {
        let _ = writeln!(
            o,
            "* Thermal coupling: tn_<i>_<j> holds cell (i,j)'s temperature rise (1 V = 1 K);"
        );
        let _ = writeln!(
            o,
            "* rtc resistors between neighbours are thermal resistances (1 Ohm = 1 K/W)."
        );
    }
    let _ = writeln!(o, ".options seed={}", s.seed);
    if s.subcycle > 0 {
        let _ = writeln!(o, ".options mtj_subcycle={}", s.subcycle);
    }
    let _ = writeln!(
        o,
        ".model nacc nmos (level=1 vto=0.4 kp=200u gamma=0.4 phi=0.7 lambda=0.05)"
    );
    let _ = writeln!(
        o,
        ".param vread={} vwrite={} vwlr={} vwlw={} rwire={} cwire={}",
        s.v_read,
        s.v_write,
        s.v_wl_read,
        s.v_wl_write,
        s.wire_r,
        e(s.wire_c)
    );
    if thermal {
        let _ = writeln!(o, ".param rtc={}", e(1.0 / s.thermal_g_w_per_k));
    }
    let tn_port = if thermal { " tn" } else { "" };
    match s.cell {
        Cell::OneT1Mtj | Cell::OneT1R => {
            let (params, dev) = if s.cell == Cell::OneT1R {
                ("rcell=10k", "rc bl_out mid {rcell}".to_string())
            } else {
                (
                    "s=1",
                    format!(
                        "n1 bl_out mid{tn_port} {} state={{s}} theta0=0.02",
                        s.section
                    ),
                )
            };
            let _ = writeln!(
                o,
                "* One cell: bit line in/out, source line in/out, word line{}.",
                if thermal { ", thermal node" } else { "" }
            );
            let _ = writeln!(
                o,
                ".subckt cell bl_in bl_out sl_in sl_out wl{tn_port} {params}"
            );
            let _ = writeln!(o, "rbl bl_in bl_out {{rwire}}");
            let _ = writeln!(o, "cbl bl_out 0 {{cwire}}");
            let _ = writeln!(o, "rsl sl_in sl_out {{rwire}}");
            let _ = writeln!(o, "csl sl_in 0 {{cwire}}");
            let _ = writeln!(o, "{dev}");
            let _ = writeln!(o, "macc mid wl sl_in 0 nacc w=1u l=0.1u");
            let _ = writeln!(o, ".ends cell");
        }
        Cell::OneMtj => {
            let _ = writeln!(
                o,
                "* One cell: row line in/out, column line in/out{}; MTJ free layer on the row side.",
                if thermal { ", thermal node" } else { "" }
            );
            let _ = writeln!(o, ".subckt cell rl_in rl_out cl_in cl_out{tn_port} s=1");
            let _ = writeln!(o, "rrl rl_in rl_out {{rwire}}");
            let _ = writeln!(o, "crl rl_out 0 {{cwire}}");
            let _ = writeln!(o, "rcl cl_in cl_out {{rwire}}");
            let _ = writeln!(o, "ccl cl_in 0 {{cwire}}");
            let _ = writeln!(
                o,
                "n1 rl_out cl_in{tn_port} {} state={{s}} theta0=0.02",
                s.section
            );
            let _ = writeln!(o, ".ends cell");
        }
    }
    if let Some(name) = &s.subckt {
        let ports: Vec<String> = match s.cell {
            Cell::OneMtj => (0..n)
                .map(|i| format!("rl_{i}_0"))
                .chain((0..m).map(|j| format!("cl_{n}_{j}")))
                .collect(),
            _ => (0..m)
                .map(|j| format!("bl_0_{j}"))
                .chain((0..m).map(|j| format!("sl_{n}_{j}")))
                .chain((0..n).map(|i| format!("wl{i}")))
                .collect(),
        };
        let _ = writeln!(
            o,
            "* The whole array; instantiate with X<name> {{ports}} {name}."
        );
        let _ = writeln!(o, ".subckt {name} {}", ports.join(" "));
    } else {
        sources(&mut o, s);
    }
    // Cells.
    for i in 0..n {
        for j in 0..m {
            let b = s.bits[i][j];
            let tn = if thermal {
                format!(" tn_{i}_{j}")
            } else {
                String::new()
            };
            let param = match s.cell {
                Cell::OneT1R => format!("rcell={}", if b { s.r_low } else { s.r_high }),
                _ => format!("s={}", if b { 1 } else { -1 }),
            };
            let _ = match s.cell {
                Cell::OneMtj => writeln!(
                    o,
                    "x{i}_{j} rl_{i}_{j} rl_{i}_{} cl_{i}_{j} cl_{}_{j}{tn} cell {param}",
                    j + 1,
                    i + 1
                ),
                _ => writeln!(
                    o,
                    "x{i}_{j} bl_{i}_{j} bl_{}_{j} sl_{i}_{j} sl_{}_{j} wl{i}{tn} cell {param}",
                    i + 1,
                    i + 1
                ),
            };
        }
    }
    if thermal {
        for i in 0..n {
            for j in 0..m {
                if j + 1 < m {
                    let _ = writeln!(o, "rtch{i}_{j} tn_{i}_{j} tn_{i}_{} {{rtc}}", j + 1);
                }
                if i + 1 < n {
                    let _ = writeln!(o, "rtcv{i}_{j} tn_{i}_{j} tn_{}_{j} {{rtc}}", i + 1);
                }
            }
        }
    }
    if let Some(name) = &s.subckt {
        let _ = writeln!(o, ".ends {name}");
        return o;
    }
    let step = match s.op {
        Op::Read => s.row_period / 20.0,
        Op::Write { .. } => 1e-10,
    };
    if s.dc_op {
        let _ = writeln!(o, ".op");
    } else {
        let _ = writeln!(o, ".tran {} {}", e(step), e(s.tstop()));
    }
    let mut saves: Vec<String> = (0..m).map(|j| format!("i(vsl{j})")).collect();
    if let Op::Write { .. } = s.op {
        saves.extend((0..m).map(|j| format!("i(vbl{j})")));
    }
    // A read saves only the sensed currents (saving every cell's m at every step would
    // dominate memory at 32×32 and above); a write saves every cell for the disturb check.
    if s.cell.has_mtj() && (s.op != Op::Read || thermal) {
        for i in 0..n {
            for j in 0..m {
                let name = s.mtj_name(i, j);
                saves.push(format!("mz({name})"));
                saves.push(format!("i({name})"));
                if thermal {
                    saves.push(format!("temp({name})"));
                    saves.push(format!("v(tn_{i}_{j})"));
                }
            }
        }
    }
    for chunk in saves.chunks(8) {
        let _ = writeln!(o, ".save {}", chunk.join(" "));
    }
    let _ = writeln!(o, ".end");
    o
}

/// Independent sources of the operation.
fn sources(o: &mut String, s: &ArraySpec) {
    let (n, m) = (s.rows, s.cols);
    let edge = s.edge();
    let (t0, t1, _) = s.write_times();
    // A trapezoidal pulse from 0 to `level` between t0 and t1 (flat top), as PWL.
    let pulse = |level: &str| {
        if s.dc_op {
            return format!("dc {{{level}}}");
        }
        format!(
            "pwl(0 0 {} 0 {} {{{level}}} {} {{{level}}} {} 0)",
            e(t0),
            e(t0 + edge),
            e(t1),
            e(t1 + edge)
        )
    };
    let _ = writeln!(o, "* Sources.");
    match (s.cell, s.op) {
        (Cell::OneMtj, Op::Read) => {
            for j in 0..m {
                let _ = writeln!(o, "vsl{j} cl_{n}_{j} 0 dc 0");
            }
            for i in 0..n {
                let td = s.read_row_start(i);
                let _ = writeln!(
                    o,
                    "vwl{i} rl_{i}_0 0 pulse(0 {{vread}} {} {} {} {} {})",
                    e(td),
                    e(edge),
                    e(edge),
                    e(0.5 * s.row_period),
                    e(s.row_period * n as f64 * 10.0)
                );
            }
        }
        (Cell::OneMtj, Op::Write { row, col }) => {
            // V/2 scheme: selected row at ±V, selected column at 0, others at V/2 (AP
            // write: the row goes to 0 and the column to V).
            let to_p = !s.bits[row][col];
            let _ = writeln!(o, ".param vhalf={{vwrite/2}}");
            for i in 0..n {
                let level = if i == row {
                    if to_p { "vwrite" } else { "0" }
                } else {
                    "vhalf"
                };
                let w = if level == "0" {
                    "dc 0".to_string()
                } else {
                    pulse(level)
                };
                let _ = writeln!(o, "vwl{i} rl_{i}_0 0 {w}");
            }
            for j in 0..m {
                let level = if j == col {
                    if to_p { "0" } else { "vwrite" }
                } else {
                    "vhalf"
                };
                let w = if level == "0" {
                    "dc 0".to_string()
                } else {
                    pulse(level)
                };
                let _ = writeln!(o, "vsl{j} cl_{n}_{j} 0 {w}");
            }
        }
        (_, Op::Read) => {
            for j in 0..m {
                let _ = writeln!(o, "vbl{j} bl_0_{j} 0 dc {{vread}}");
                let _ = writeln!(o, "vsl{j} sl_{n}_{j} 0 dc 0");
            }
            for i in 0..n {
                let td = s.read_row_start(i);
                let _ = writeln!(
                    o,
                    "vwl{i} wl{i} 0 pulse(0 {{vwlr}} {} {} {} {} {})",
                    e(td),
                    e(edge),
                    e(edge),
                    e(0.5 * s.row_period),
                    e(s.row_period * n as f64 * 10.0)
                );
            }
        }
        (_, Op::Write { row, col }) => {
            let to_p = !s.bits[row][col];
            for j in 0..m {
                let (bl, sl) = if j != col {
                    ("dc 0".to_string(), "dc 0".to_string())
                } else if to_p {
                    (pulse("vwrite"), "dc 0".to_string())
                } else {
                    ("dc 0".to_string(), pulse("vwrite"))
                };
                let _ = writeln!(o, "vbl{j} bl_0_{j} 0 {bl}");
                let _ = writeln!(o, "vsl{j} sl_{n}_{j} 0 {sl}");
            }
            for i in 0..n {
                let w = if i == row && s.dc_op {
                    "dc {vwlw}".to_string()
                } else if i == row {
                    // The word line opens slightly before and closes after the data pulse.
                    format!(
                        "pwl(0 0 {} 0 {} {{vwlw}} {} {{vwlw}} {} 0)",
                        e(0.5 * t0),
                        e(0.5 * t0 + edge),
                        e(t1 + edge + 0.5e-9),
                        e(t1 + 2.0 * edge + 0.5e-9)
                    )
                } else {
                    "dc 0".to_string()
                };
                let _ = writeln!(o, "vwl{i} wl{i} 0 {w}");
            }
        }
    }
}
