//! `mtjsim plot TABLE --x A [--y B] [--color C]`: line plot, heat map or histogram of a
//! sweep table (or any CSV with a header), as SVG and PNG.

use std::path::PathBuf;

use clap::Args;

use crate::sweep::plots::{Col, Spec, Table, plot_spec};
use crate::sweep::store;

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Table (CSV with a header), e.g. sweep_out/NAME/table.csv.
    pub table: PathBuf,
    /// Column on the x axis (alone: histogram of it).
    #[arg(long)]
    pub x: String,
    /// Column on the y axis (line plot of its mean per x; with --color: heat map).
    #[arg(long)]
    pub y: Option<String>,
    /// Column shown as colour over the (x, y) grid (mean per cell; needs --y).
    #[arg(long)]
    pub color: Option<String>,
    /// Output path without extension (default: next to the table, named after the columns).
    #[arg(short = 'o', long, value_name = "BASE")]
    pub out: Option<PathBuf>,
}

/// Run `mtjsim plot`; 0 ok, 1 bad input.
pub fn run(args: &PlotArgs) -> i32 {
    match run_inner(args) {
        Ok(paths) => {
            paths.iter().for_each(|p| println!("{}", p.display()));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn run_inner(args: &PlotArgs) -> Result<Vec<PathBuf>, String> {
    if args.color.is_some() && args.y.is_none() {
        return Err("--color needs --y (a heat map over x and y)".into());
    }
    let table = Table::read(&args.table)?;
    // Units come from the sweep's plan.json when the table sits in a sweep folder.
    let dir = args.table.parent().unwrap_or(std::path::Path::new(""));
    let plan = store::read_plan(dir).ok();
    let unit = |c: &str| -> String {
        let c = c.to_ascii_lowercase();
        if c == "energy_j" {
            return "J".into();
        }
        plan.as_ref()
            .and_then(|p| {
                p.axes
                    .iter()
                    .find(|a| a.name == c)
                    .map(|a| a.unit.clone())
                    .or_else(|| {
                        let k = p.measures.iter().position(|m| *m == c)?;
                        p.measure_units.get(k).cloned()
                    })
            })
            .unwrap_or_default()
    };
    let col = |name: &str| -> Result<Col, String> {
        Ok(Col {
            name: name.to_string(),
            unit: unit(name),
            values: table.column(name)?,
        })
    };
    let mut name = args.x.clone();
    for c in [&args.y, &args.color].into_iter().flatten() {
        name.push('_');
        name.push_str(c);
    }
    let title = match (&args.y, &args.color) {
        (Some(y), Some(c)) => format!("{c} over {} × {y}", args.x),
        (Some(y), None) => format!("{y} vs {}", args.x),
        _ => format!("distribution of {}", args.x),
    };
    let spec = Spec {
        title: &title,
        x: col(&args.x)?,
        y: args.y.as_deref().map(col).transpose()?,
        color: args.color.as_deref().map(col).transpose()?,
    };
    let base = args
        .out
        .clone()
        .unwrap_or_else(|| dir.join(format!("plot_{name}")));
    if let Some(d) = base.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    plot_spec(&spec, &base)
}
