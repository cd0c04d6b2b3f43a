//! A sweep's output folder: append-as-you-go logs, resume, the tidy table, shard merging.
//!
//! Layout of `DIR`:
//! - `plan.json` — the plan (axes, Monte Carlo runs, seed, measurement names), written
//!   first; a resume or merge refuses a folder whose plan differs.
//! - `points.jsonl` — one JSON object per finished point, appended (and flushed) the moment
//!   the point finishes, in completion order. The source of truth: a killed sweep loses at
//!   most the points in flight, and a torn last line is dropped on resume.
//! - `points.csv` — the same rows as CSV, appended alongside (for `tail -f`).
//! - `table.csv` — the tidy table, one row per point sorted by id, written at the end (and
//!   by `mtjsim sweep-merge`). It holds only deterministic columns, so tables of the same
//!   plan compare byte for byte whatever the thread count, sharding or interruptions.
//!
//! Numbers are written in Rust's shortest round-trip form, so the bits survive text.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Plan, PointResult};

/// Appends finished points to `points.jsonl` and `points.csv`.
pub struct Log {
    jsonl: File,
    csv: File,
}

fn io_err(path: &Path, e: io::Error) -> String {
    format!("{}: {e}", path.display())
}

/// Open (or create) `dir` for `plan`. With `resume`, previously finished points are
/// returned (a torn last line is cut off); without it, existing results are an error so
/// nothing is silently overwritten.
pub fn open(dir: &Path, plan: &Plan, resume: bool) -> Result<(Log, Vec<PointResult>), String> {
    fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let plan_path = dir.join("plan.json");
    let jsonl_path = dir.join("points.jsonl");
    let mut done = Vec::new();
    if plan_path.exists() {
        let old = read_plan(dir)?;
        if &old != plan {
            return Err(format!(
                "{} holds a different sweep (plan.json differs); use another --out",
                dir.display()
            ));
        }
        if jsonl_path.exists() {
            if !resume {
                return Err(format!(
                    "{} already holds results; add --resume to continue, or use another --out",
                    dir.display()
                ));
            }
            done = read_points(&jsonl_path, plan, true)?;
        }
    } else {
        let text = serde_json::to_string_pretty(plan).map_err(|e| e.to_string())?;
        fs::write(&plan_path, text + "\n").map_err(|e| io_err(&plan_path, e))?;
    }
    let jsonl = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&jsonl_path)
        .map_err(|e| io_err(&jsonl_path, e))?;
    // The CSV log is rebuilt from the JSON lines so it never carries a torn row.
    let csv_path = dir.join("points.csv");
    let mut csv = File::create(&csv_path).map_err(|e| io_err(&csv_path, e))?;
    let mut text = header(plan);
    for r in &done {
        text.push_str(&csv_row(plan, r));
    }
    csv.write_all(text.as_bytes())
        .map_err(|e| io_err(&csv_path, e))?;
    Ok((Log { jsonl, csv }, done))
}

impl Log {
    /// Append one finished point to both logs (one write call per file, then flush).
    pub fn append(&mut self, plan: &Plan, r: &PointResult) -> io::Result<()> {
        let mut line = to_json(r).to_string();
        line.push('\n');
        self.jsonl.write_all(line.as_bytes())?;
        self.jsonl.flush()?;
        self.csv.write_all(csv_row(plan, r).as_bytes())?;
        self.csv.flush()
    }
}

pub fn read_plan(dir: &Path) -> Result<Plan, String> {
    let p = dir.join("plan.json");
    let text = fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// Read `points.jsonl`. A torn last line (a kill mid-write) is dropped, and with `repair`
/// cut from the file; a bad line elsewhere is an error.
pub fn read_points(path: &Path, plan: &Plan, repair: bool) -> Result<Vec<PointResult>, String> {
    let bytes = fs::read(path).map_err(|e| io_err(path, e))?;
    let mut out = Vec::new();
    let mut good_len = 0;
    let mut pos = 0;
    let text = String::from_utf8_lossy(&bytes);
    for (k, line) in text.split_inclusive('\n').enumerate() {
        let complete = line.ends_with('\n');
        let parsed = serde_json::from_str::<Value>(line.trim_end())
            .ok()
            .and_then(|v| from_json(&v, plan));
        match parsed {
            Some(r) if complete => {
                out.push(r);
                pos += line.len();
                good_len = pos;
            }
            _ if pos + line.len() == text.len() => break,
            _ => return Err(format!("{}:{}: not a point record", path.display(), k + 1)),
        }
    }
    if repair && good_len < bytes.len() {
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| io_err(path, e))?;
        f.set_len(good_len as u64).map_err(|e| io_err(path, e))?;
    }
    Ok(out)
}

fn num(v: Option<f64>) -> Value {
    v.filter(|x| x.is_finite())
        .map_or(Value::Null, |x| json!(x))
}

fn to_json(r: &PointResult) -> Value {
    json!({
        "id": r.id,
        "params": r.values,
        "mc": r.mc,
        "error": r.error,
        "meas": r.measures.iter().map(|m| num(*m)).collect::<Vec<_>>(),
        "energy_j": num(r.energy_j),
        "newton": r.newton_iterations,
        "steps": r.accepted_steps,
        "setup_s": r.setup_s,
        "wall_s": r.wall_s,
    })
}

fn from_json(v: &Value, plan: &Plan) -> Option<PointResult> {
    let f = |x: &Value| x.as_f64();
    let values: Vec<f64> = v["params"]
        .as_array()?
        .iter()
        .map(f)
        .collect::<Option<_>>()?;
    let measures: Vec<Option<f64>> = v["meas"].as_array()?.iter().map(f).collect();
    if values.len() != plan.axes.len() || measures.len() != plan.measures.len() {
        return None;
    }
    Some(PointResult {
        id: v["id"].as_u64()? as usize,
        values,
        mc: v["mc"].as_u64().map(|m| m as usize),
        error: v["error"].as_str().map(str::to_string),
        measures,
        energy_j: f(&v["energy_j"]),
        newton_iterations: v["newton"].as_u64()? as usize,
        accepted_steps: v["steps"].as_u64().unwrap_or(0) as usize,
        setup_s: f(&v["setup_s"]).unwrap_or(0.0),
        wall_s: f(&v["wall_s"]).unwrap_or(0.0),
    })
}

/// Header of the tidy table: `id, <params…>, mc, status, <measures…>, energy_j, newton, error`.
pub fn header(plan: &Plan) -> String {
    let mut cols = vec!["id".to_string()];
    cols.extend(plan.axes.iter().map(|a| a.name.clone()));
    cols.push("mc".into());
    cols.push("status".into());
    cols.extend(plan.measures.iter().cloned());
    cols.extend(["energy_j", "newton", "error"].map(String::from));
    cols.join(",") + "\n"
}

fn fmt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:e}"))
}

/// One table row (floats in shortest round-trip form; the error text quoted).
pub fn csv_row(plan: &Plan, r: &PointResult) -> String {
    let mut cells = vec![r.id.to_string()];
    cells.extend(r.values.iter().map(|v| format!("{v:e}")));
    cells.push(r.mc.map_or(String::new(), |m| m.to_string()));
    cells.push(if r.error.is_some() { "failed" } else { "ok" }.into());
    cells.extend(r.measures.iter().map(|m| fmt(*m)));
    cells.push(fmt(r.energy_j));
    cells.push(r.newton_iterations.to_string());
    cells.push(r.error.as_ref().map_or(String::new(), |e| {
        format!("\"{}\"", e.replace('"', "'").replace(['\n', '\r'], " "))
    }));
    debug_assert_eq!(plan.measures.len(), r.measures.len());
    cells.join(",") + "\n"
}

/// Write the tidy table (`rows` sorted by id; duplicates must agree) to `path`.
pub fn write_table(path: &Path, plan: &Plan, rows: &[PointResult]) -> Result<(), String> {
    let mut by_id: BTreeMap<usize, &PointResult> = BTreeMap::new();
    for r in rows {
        if let Some(old) = by_id.insert(r.id, r)
            && csv_row(plan, old) != csv_row(plan, r)
        {
            return Err(format!(
                "point {} appears twice with different results",
                r.id
            ));
        }
    }
    let mut text = header(plan);
    for r in by_id.values() {
        text.push_str(&csv_row(plan, r));
    }
    fs::write(path, text).map_err(|e| io_err(path, e))
}

/// `mtjsim sweep-merge`: join the points of several shard folders (same plan) into `out`
/// (`plan.json`, `points.jsonl`, `table.csv`). Returns (plan, rows, missing point count).
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(Plan, Vec<PointResult>, usize), String> {
    let Some(first) = dirs.first() else {
        return Err("no folders to merge".into());
    };
    let plan = read_plan(first)?;
    let mut rows = Vec::new();
    for d in dirs {
        if read_plan(d)? != plan {
            return Err(format!(
                "{} holds a different sweep than {}",
                d.display(),
                first.display()
            ));
        }
        rows.extend(read_points(&d.join("points.jsonl"), &plan, false)?);
    }
    rows.sort_by_key(|r| r.id);
    fs::create_dir_all(out).map_err(|e| io_err(out, e))?;
    write_table(&out.join("table.csv"), &plan, &rows)?;
    rows.dedup_by_key(|r| r.id);
    let plan_path = out.join("plan.json");
    if !dirs.iter().any(|d| d == out) {
        let text = serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?;
        fs::write(&plan_path, text + "\n").map_err(|e| io_err(&plan_path, e))?;
        let mut jl = String::new();
        for r in &rows {
            jl.push_str(&to_json(r).to_string());
            jl.push('\n');
        }
        let p = out.join("points.jsonl");
        fs::write(&p, jl).map_err(|e| io_err(&p, e))?;
    }
    let missing = plan.len() - rows.len();
    Ok((plan, rows, missing))
}
