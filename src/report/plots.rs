//! SVG figures of the report (plotters, bundled DejaVu font, rendered to strings).

use plotters::prelude::*;

use super::Report;
use crate::mapping::pipeline::McPoint;

use crate::output::plot::{FONT, PALETTE as COLORS, ensure_font as font};

fn err<E: std::fmt::Display>(e: E) -> String {
    format!("plot: {e}")
}

/// All figures as (file name, SVG text).
pub fn all(r: &Report) -> Result<Vec<(String, String)>, String> {
    font()?;
    let mut v = vec![
        ("energy_breakdown.svg".to_string(), energy(r)?),
        ("memory_vs_baselines.svg".to_string(), memory(r)?),
    ];
    if !r.mc.is_empty() {
        v.push(("accuracy_vs_variation.svg".to_string(), mc(r)?));
    }
    Ok(v)
}

/// Stacked bars: energy per inference; left the simulated parts alone (they would be
/// invisible next to the ADCs), right everything.
fn energy(r: &Report) -> Result<String, String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (1000, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (left, right) = root.split_horizontally(380);
        let sim: Vec<(usize, &super::EnergyPart)> = r
            .energy_parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.origin == "simulated")
            .collect();
        let all: Vec<(usize, &super::EnergyPart)> = r.energy_parts.iter().enumerate().collect();
        stacked(&left, "Simulated (∫v·i), pJ", &sim, false)?;
        stacked(&right, "All parts per inference, pJ", &all, true)?;
        root.present().map_err(err)?;
    }
    Ok(s)
}

fn stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    parts: &[(usize, &super::EnergyPart)],
    legend: bool,
) -> Result<(), String> {
    let total: f64 = parts.iter().map(|(_, p)| p.joules).sum::<f64>() * 1e12;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 16))
        .margin(10)
        .x_label_area_size(20)
        .y_label_area_size(60)
        .build_cartesian_2d(
            0f64..if legend { 3.0 } else { 1.0 },
            0f64..(total * 1.05).max(1e-9),
        )
        .map_err(|e| err(format!("{e:?}")))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("energy per inference (pJ)")
        .label_style((FONT, 12))
        .draw()
        .map_err(|e| err(format!("{e:?}")))?;
    let mut base = 0.0;
    for (k, p) in parts {
        let col = COLORS[k % COLORS.len()];
        let v = p.joules * 1e12;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.2, base), (0.8, base + v)],
                col.filled(),
            )))
            .map_err(|e| err(format!("{e:?}")))?
            .label(format!("{} ({:.3} pJ)", p.name, v))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], col.filled()));
        base += v;
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 12))
            .draw()
            .map_err(|e| err(format!("{e:?}")))?;
    }
    Ok(())
}

/// Log-scale bars: memory energy per time step, ours vs baselines.
fn memory(r: &Report) -> Result<String, String> {
    let mut s = String::new();
    let mut items: Vec<(String, f64)> =
        vec![("IPNet neurons (simulated)".into(), r.ip_memory_per_step_j)];
    // Bar labels: the name without its sizes (the table has them).
    items.extend(r.baselines.iter().map(|b| {
        let short = b.name.split(" (I =").next().unwrap_or(&b.name);
        (short.to_string(), b.memory_j)
    }));
    let width = 150 * items.len().max(6) as u32;
    {
        let root = SVGBackend::with_string(&mut s, (width, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let lo = items
            .iter()
            .map(|x| x.1)
            .fold(f64::INFINITY, f64::min)
            .max(1e-18)
            / 3.0;
        let hi = items.iter().map(|x| x.1).fold(0.0, f64::max).max(lo * 10.0) * 3.0;
        let n = items.len();
        let names: Vec<String> = items.iter().map(|x| x.0.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption("Memory energy per time step (J, log scale)", (FONT, 18))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let k = x.round() as i64;
                if (x - k as f64).abs() < 0.01 && k >= 0 && (k as usize) < names.len() {
                    names[k as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .y_desc("energy per step (J)")
            .label_style((FONT, 12))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(items.iter().enumerate().map(|(k, (_, v))| {
                Rectangle::new(
                    [(k as f64 - 0.3, lo), (k as f64 + 0.3, *v)],
                    COLORS[k % 10].filled(),
                )
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(s)
}

/// Class agreement and exact-MVM fraction vs variation σ.
fn mc(r: &Report) -> Result<String, String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (700, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let smax = r.mc.iter().map(|m| m.sigma).fold(0.0, f64::max).max(1e-3) * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Agreement with the behavioural network vs device variation",
                (FONT, 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..smax, 0f64..105f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("σ/μ of RA, TMR, Ku")
            .y_desc("%")
            .label_style((FONT, 12))
            .draw()
            .map_err(err)?;
        let mut series = vec![
            (
                "class agreement",
                COLORS[0],
                r.mc.iter()
                    .map(|m| (m.sigma, 100.0 * m.class_agreement))
                    .collect::<Vec<_>>(),
            ),
            (
                "exact MVM outputs",
                COLORS[1],
                r.mc.iter()
                    .map(|m| (m.sigma, 100.0 * m.mvm_exact))
                    .collect(),
            ),
        ];
        // Optional series, drawn only where every point has them.
        type Getter = fn(&McPoint) -> Option<f64>;
        let optional: [(&str, Getter); 2] = [
            ("accuracy", |m| m.accuracy),
            ("spike agreement", |m| m.spike_agreement),
        ];
        for (i, (name, get)) in optional.into_iter().enumerate() {
            if let Some(pts) =
                r.mc.iter()
                    .map(|m| get(m).map(|v| (m.sigma, 100.0 * v)))
                    .collect::<Option<Vec<_>>>()
            {
                series.push((name, COLORS[2 + i], pts));
            }
        }
        for (name, col, pts) in series {
            chart
                .draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 15, y)], col.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, col.filled())))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 12))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(s)
}
