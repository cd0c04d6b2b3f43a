//! `mtjsim gen crossbar …`: write an editable crossbar netlist (src/generate/array.rs).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::generate::array::{self, ArraySpec, Cell, Op};

#[derive(Debug, Args)]
pub struct GenArgs {
    #[command(subcommand)]
    pub which: GenKind,
}

#[derive(Debug, Subcommand)]
pub enum GenKind {
    /// R×C crossbar with a read or write operation (docs/crossbar.md).
    Crossbar {
        #[command(flatten)]
        array: ArrayArgs,
        /// Output netlist.
        #[arg(short = 'o', long = "out", value_name = "FILE.cir")]
        out: PathBuf,
    },
}

/// Array description shared by `gen crossbar` and `xbar`.
#[derive(Debug, Clone, Args)]
pub struct ArrayArgs {
    #[arg(long, default_value_t = 4)]
    pub rows: usize,
    #[arg(long, default_value_t = 4)]
    pub cols: usize,
    /// 1t1mtj, 1mtj or 1t1r.
    #[arg(long, default_value = "1t1mtj")]
    pub cell: String,
    /// MTJ model card as LIB:SECTION.
    #[arg(long, default_value = "device_models/mtj.lib:pmtj_mem")]
    pub model: String,
    /// Wire resistance per cell segment (Ω).
    #[arg(long, default_value_t = 2.0)]
    pub wire_r: f64,
    /// Wire capacitance to ground per cell segment (F).
    #[arg(long, default_value_t = 1e-15)]
    pub wire_c: f64,
    /// random, checker or a file of 0/1 rows.
    #[arg(long, default_value = "random")]
    pub pattern: String,
    /// read, or write (of --target).
    #[arg(long, default_value = "read")]
    pub op: String,
    /// Cell written by --op write, as ROW,COL.
    #[arg(long, default_value = "0,0")]
    pub target: String,
    /// Read bias on the bit lines (V).
    #[arg(long, default_value_t = 0.1)]
    pub v_read: f64,
    /// Write bias on the selected bit or source line (V).
    #[arg(long, default_value_t = 1.2)]
    pub v_write: f64,
    /// Read time per row (s).
    #[arg(long, default_value_t = 2e-9)]
    pub row_period: f64,
    /// Write pulse width (s).
    #[arg(long, default_value_t = 10e-9)]
    pub write_width: f64,
    /// Thermal conductance between nearest-neighbour MTJs (W/K); 0 = no coupling. Needs a
    /// card with rth > 0 (e.g. ipn_neuron).
    #[arg(long, default_value_t = 0.0)]
    pub thermal_coupling: f64,
    /// Write only the array as `.subckt NAME` (no sources, no analysis) for `.include`.
    #[arg(long, value_name = "NAME")]
    pub subckt: Option<String>,
    /// Multirate MTJs: up to N internal substeps per circuit step (`.options mtj_subcycle=N`).
    #[arg(long, default_value_t = 0)]
    pub subcycle: u32,
    /// Read: select only the first K rows (0 = all).
    #[arg(long, default_value_t = 0)]
    pub read_rows: usize,
    /// Seed of the random pattern and of `.options seed=`.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl ArrayArgs {
    /// The spec; `.lib` paths are written relative to `netlist_dir` when they resolve from
    /// there, else absolute, so the netlist runs from where it is written.
    pub fn spec(&self, netlist_dir: &Path) -> Result<ArraySpec, String> {
        if self.rows == 0 || self.cols == 0 {
            return Err("--rows and --cols must be at least 1".into());
        }
        let mut s = ArraySpec::new(self.rows, self.cols);
        s.cell = Cell::parse(&self.cell)?;
        let (lib, section) = self
            .model
            .rsplit_once(':')
            .ok_or_else(|| format!("--model '{}': expected LIB:SECTION", self.model))?;
        s.lib = if netlist_dir.join(lib).exists() {
            lib.to_string()
        } else {
            let abs = std::fs::canonicalize(lib)
                .map_err(|e| format!("--model: cannot open {lib}: {e}"))?;
            relative_to(&abs, netlist_dir).unwrap_or_else(|| abs.display().to_string())
        };
        s.section = section.to_string();
        s.bits = match self.pattern.as_str() {
            "random" => array::pattern_random(self.rows, self.cols, self.seed),
            "checker" => array::pattern_checker(self.rows, self.cols),
            file => {
                let text =
                    std::fs::read_to_string(file).map_err(|e| format!("--pattern {file}: {e}"))?;
                array::pattern_parse(&text, self.rows, self.cols)
                    .map_err(|e| format!("{file}:{e}"))?
            }
        };
        s.op = match self.op.as_str() {
            "read" => Op::Read,
            "write" => {
                let parsed = self
                    .target
                    .split_once(',')
                    .and_then(|(r, c)| Some((r.trim().parse().ok()?, c.trim().parse().ok()?)));
                let Some((row, col)) = parsed else {
                    return Err(format!("--target '{}': expected ROW,COL", self.target));
                };
                if row >= self.rows || col >= self.cols {
                    return Err(format!("--target {row},{col} is outside the array"));
                }
                Op::Write { row, col }
            }
            o => return Err(format!("--op '{o}': use read or write")),
        };
        if s.cell == Cell::OneT1R && s.op != Op::Read {
            return Err("--cell 1t1r has no write operation (fixed resistors)".into());
        }
        for (name, v) in [
            ("--wire-r", self.wire_r),
            ("--wire-c", self.wire_c),
            ("--thermal-coupling", self.thermal_coupling),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("{name} must be ≥ 0"));
            }
        }
        for (name, v) in [
            ("--row-period", self.row_period),
            ("--write-width", self.write_width),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!("{name} must be > 0"));
            }
        }
        s.wire_r = self.wire_r;
        s.wire_c = self.wire_c;
        s.v_read = self.v_read;
        s.v_write = self.v_write;
        s.row_period = self.row_period;
        s.write_width = self.write_width;
        s.thermal_g_w_per_k = self.thermal_coupling;
        s.seed = self.seed;
        s.subckt = self.subckt.clone();
        s.subcycle = self.subcycle;
        s.read_rows = self.read_rows;
        Ok(s)
    }
}

/// `target` as a path relative to directory `dir` (both resolved), e.g. `../device_models/
/// mtj.lib`, so the written netlist keeps working when the tree is moved.
fn relative_to(target: &Path, dir: &Path) -> Option<String> {
    std::fs::create_dir_all(dir).ok()?;
    let dir = std::fs::canonicalize(dir).ok()?;
    let t: Vec<_> = target.components().collect();
    let d: Vec<_> = dir.components().collect();
    let common = t.iter().zip(&d).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut out = PathBuf::new();
    for _ in common..d.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    Some(out.display().to_string())
}

pub fn run(args: &GenArgs) -> i32 {
    match &args.which {
        GenKind::Crossbar { array: a, out } => {
            let dir = out.parent().unwrap_or(Path::new(""));
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let spec = match a.spec(dir) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            if let Err(e) = std::fs::create_dir_all(dir)
                .and_then(|_| std::fs::write(out, array::netlist(&spec)))
            {
                eprintln!("error: cannot write {}: {e}", out.display());
                return 1;
            }
            eprintln!(
                "wrote {} ({}x{} {:?}, {} cells)",
                out.display(),
                spec.rows,
                spec.cols,
                spec.cell,
                spec.rows * spec.cols
            );
            0
        }
    }
}
