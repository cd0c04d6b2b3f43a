//! SVG/PNG charts with plotters: simulation waveforms ([`plot_waveforms`]) and generic
//! line, heatmap and histogram charts for sweeps and Monte-Carlo studies.
//!
//! The output format follows the file extension (`.svg` or `.png`, case-insensitive).
//! Text uses the bundled DejaVu Sans (`assets/DejaVuSans.ttf`), registered on first use,
//! because plotters is built without system-font lookup; output therefore looks the same
//! on every machine.

use crate::output::table::eng_scale;
use crate::results::{Plot, VecKind, Vector};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::OnceLock;

/// Width of every chart in pixels.
pub const WIDTH: u32 = 1000;
/// Height of one [`plot_waveforms`] panel; the image is `TITLE_HEIGHT + n * PANEL_HEIGHT`.
pub const PANEL_HEIGHT: u32 = 300;
/// Height of the title strip above the [`plot_waveforms`] panels.
pub const TITLE_HEIGHT: u32 = 40;
/// Size of [`line_chart`], [`heatmap`] and [`histogram`] images.
pub const CHART_SIZE: (u32, u32) = (WIDTH, 600);

/// Series longer than this are reduced to per-bucket min/max before drawing, which keeps
/// SVGs small and drawing fast without hiding spikes.
const MAX_DRAWN_POINTS: usize = 4 * WIDTH as usize;

/// Family name under which the bundled DejaVu font is registered (every plot in the crate).
pub(crate) const FONT: &str = "sans-serif";

/// A colour-blind-friendly categorical palette (Tableau 10).
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Register the bundled font once per process (plotters' `ab_glyph` backend has no system fonts).
pub(crate) fn ensure_font() -> Result<(), String> {
    static FONT_OK: OnceLock<Result<(), String>> = OnceLock::new();
    FONT_OK
        .get_or_init(|| {
            plotters::style::register_font(
                FONT,
                FontStyle::Normal,
                include_bytes!("../../assets/DejaVuSans.ttf"),
            )
            .map_err(|_| "bundled font DejaVuSans.ttf is invalid".to_string())
        })
        .clone()
}

enum Backend {
    Svg,
    Png,
}

fn backend_for(path: &Path) -> Result<Backend, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("svg") => Ok(Backend::Svg),
        Some("png") => Ok(Backend::Png),
        _ => Err(format!(
            "{}: plot file must end in .svg or .png",
            path.display()
        )),
    }
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Open the backend chosen by the extension, run `$draw(&root, args..)` (a function
/// generic over the backend) and write the file.
macro_rules! render {
    ($path:expr, $size:expr, $draw:ident($($arg:expr),*)) => {{
        ensure_font()?;
        let path: &Path = $path;
        match backend_for(path)? {
            Backend::Svg => {
                let root = SVGBackend::new(path, $size).into_drawing_area();
                $draw(&root, $($arg),*)?;
                root.present().map_err(|e| format!("{}: {e}", path.display()))
            }
            Backend::Png => {
                let root = BitMapBackend::new(path, $size).into_drawing_area();
                $draw(&root, $($arg),*)?;
                root.present().map_err(|e| format!("{}: {e}", path.display()))
            }
        }
    }};
}

/// Plot a simulation result: one panel per vector kind (voltages share a panel, currents
/// share one, then temperatures, powers, ... each kind its own), x axis in the scale's unit
/// with an engineering prefix (`time (ns)`), y axes likewise (`voltage (mV)`), and a
/// legend of vector names. `which` restricts the vectors (case-insensitive names; unknown
/// names are an error so typos do not silently drop a trace).
///
/// Image size: [`WIDTH`] × ([`TITLE_HEIGHT`] + panels × [`PANEL_HEIGHT`]).
pub fn plot_waveforms(path: &Path, plot: &Plot, which: Option<&[String]>) -> Result<(), String> {
    let chosen: Vec<&Vector> = match which {
        None => plot.vectors.iter().collect(),
        Some(names) => {
            let mut out = Vec::new();
            let mut unknown = Vec::new();
            for n in names {
                match plot.vectors.iter().find(|v| v.name.eq_ignore_ascii_case(n)) {
                    Some(v) => out.push(v),
                    None => unknown.push(n.as_str()),
                }
            }
            if !unknown.is_empty() {
                return Err(format!(
                    "no vector named {} in plot '{}'",
                    unknown.join(", "),
                    plot.name
                ));
            }
            out
        }
    };
    if chosen.is_empty() {
        return Err(format!("plot '{}' has no vectors to draw", plot.name));
    }
    if let Some(v) = chosen
        .iter()
        .find(|v| v.data.len() != plot.scale.data.len())
    {
        return Err(format!(
            "vector '{}' has {} points, scale has {}",
            v.name,
            v.data.len(),
            plot.scale.data.len()
        ));
    }
    // Group by kind, voltages then currents first, others in order of appearance.
    let mut kinds: Vec<VecKind> = Vec::new();
    for k in [VecKind::Voltage, VecKind::Current]
        .into_iter()
        .chain(chosen.iter().map(|v| v.kind))
    {
        if !kinds.contains(&k) && chosen.iter().any(|v| v.kind == k) {
            kinds.push(k);
        }
    }
    let panels: Vec<(VecKind, Vec<&Vector>)> = kinds
        .into_iter()
        .map(|k| (k, chosen.iter().copied().filter(|v| v.kind == k).collect()))
        .collect();
    let height = TITLE_HEIGHT + PANEL_HEIGHT * panels.len() as u32;
    render!(path, (WIDTH, height), draw_waveforms(plot, &panels))
}

fn kind_noun(kind: VecKind) -> &'static str {
    match kind {
        VecKind::Time => "time",
        VecKind::Voltage => "voltage",
        VecKind::Current => "current",
        VecKind::Temperature => "temperature",
        VecKind::Power => "power",
        VecKind::Resistance => "resistance",
        VecKind::Other => "value",
    }
}

/// Axis label and divisor: `("time (ns)", 1e-9)`. Dimensionless data is left unscaled.
fn axis(label: &str, kind: VecKind, max_abs: f64) -> (String, f64) {
    let unit = kind.unit();
    if unit.is_empty() {
        return (label.to_string(), 1.0);
    }
    let (div, prefix) = eng_scale(max_abs);
    (format!("{label} ({prefix}{unit})"), div)
}

/// Finite min/max of `values`, padded so flat or empty data still gets a visible range.
fn padded_range(values: impl Iterator<Item = f64>, pad_frac: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= 1e-12 * lo.abs().max(hi.abs()) || span == 0.0 {
        let d = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        return (lo - d, hi + d);
    }
    (lo - pad_frac * span, hi + pad_frac * span)
}

fn max_abs(values: &[f64]) -> f64 {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0, |m: f64, v| m.max(v.abs()))
}

/// Keep first/min/max/last of each bucket, in index order, so long traces stay faithful.
fn decimate(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points;
    }
    let buckets = (max / 4).max(1);
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(max + 4);
    for chunk in points.chunks(size) {
        let (mut imin, mut imax) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.1 < chunk[imin].1 {
                imin = i;
            }
            if p.1 > chunk[imax].1 {
                imax = i;
            }
        }
        let mut idx = [0, imin, imax, chunk.len() - 1];
        idx.sort_unstable();
        let mut last = usize::MAX;
        for i in idx {
            if i != last {
                out.push(chunk[i]);
                last = i;
            }
        }
    }
    out
}

/// Split a trace at non-finite values so NaN/inf gaps show as gaps.
fn finite_runs(points: Vec<(f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![Vec::new()];
    for p in points {
        if p.0.is_finite() && p.1.is_finite() {
            runs.last_mut().expect("non-empty").push(p);
        } else if !runs.last().expect("non-empty").is_empty() {
            runs.push(Vec::new());
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Draw named series into one chart area, with legend. Shared by waveforms and line charts.
#[allow(clippy::too_many_arguments)]
fn draw_series_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: Option<&str>,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    x_range: (f64, f64),
    y_range: (f64, f64),
    markers: bool,
) -> Result<(), String> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(10)
        .margin_right(25)
        .x_label_area_size(45)
        .y_label_area_size(75);
    if let Some(c) = caption {
        builder.caption(c, (FONT, 20));
    }
    let mut chart = builder
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let mut labelled = false;
    for (i, (name, pts)) in series.iter().enumerate() {
        let c = color(i);
        // Wide strokes get miter spikes on dense zig-zags (decimated noise): thin those.
        let style = c.stroke_width(if pts.len() <= 500 { 2 } else { 1 });
        let runs = finite_runs(decimate(pts.clone(), MAX_DRAWN_POINTS));
        let mut first = true;
        for run in runs {
            let single = run.len() == 1;
            let anno = chart
                .draw_series(LineSeries::new(run.iter().copied(), style))
                .map_err(err)?;
            if first && !name.is_empty() {
                anno.label(name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
                labelled = true;
            }
            first = false;
            if markers || single {
                chart
                    .draw_series(run.iter().map(|&p| Circle::new(p, 3, c.filled())))
                    .map_err(err)?;
            }
        }
    }
    if labelled {
        chart
            .configure_series_labels()
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

fn draw_waveforms<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot,
    panels: &[(VecKind, Vec<&Vector>)],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let title = if plot.title.is_empty() {
        plot.name.clone()
    } else {
        format!("{} — {}", plot.title, plot.name)
    };
    let (head, body) = root.split_vertically(TITLE_HEIGHT);
    head.draw(&Text::new(
        title,
        (WIDTH as i32 / 2, 10),
        (FONT, 20)
            .into_font()
            .into_text_style(&head)
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Top,
            )),
    ))
    .map_err(err)?;
    let scale = &plot.scale;
    let (x_label, x_div) = axis(&scale.name, scale.kind, max_abs(&scale.data));
    let xs: Vec<f64> = scale.data.iter().map(|x| x / x_div).collect();
    let x_range = padded_range(xs.iter().copied(), 0.0);
    let markers = xs.len() <= 30;
    for (area, (kind, vecs)) in body.split_evenly((panels.len(), 1)).iter().zip(panels) {
        let m = vecs.iter().map(|v| max_abs(&v.data)).fold(0.0, f64::max);
        let (y_label, y_div) = axis(kind_noun(*kind), *kind, m);
        let series: Vec<(String, Vec<(f64, f64)>)> = vecs
            .iter()
            .map(|v| {
                let pts = xs
                    .iter()
                    .zip(&v.data)
                    .map(|(&x, &y)| (x, y / y_div))
                    .collect();
                (v.name.clone(), pts)
            })
            .collect();
        let y_range = padded_range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)), 0.05);
        draw_series_chart(
            area, None, &x_label, &y_label, &series, x_range, y_range, markers,
        )?;
    }
    Ok(())
}

/// A plain line chart of named `(x, y)` series with a legend (series with an empty name
/// are drawn but not listed). For sweeps and parameter studies whose axes the caller
/// labels; values are drawn as given, non-finite points leave gaps.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<(), String> {
    if series.iter().all(|s| s.1.is_empty()) {
        return Err(format!("line chart '{title}': no data"));
    }
    render!(
        path,
        CHART_SIZE,
        draw_line_chart(title, x_label, y_label, series)
    )
}

fn draw_line_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let x_range = padded_range(series.iter().flat_map(|s| s.1.iter().map(|p| p.0)), 0.02);
    let y_range = padded_range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)), 0.05);
    let markers = series.iter().all(|s| s.1.len() <= 30);
    draw_series_chart(
        root,
        Some(title),
        x_label,
        y_label,
        series,
        x_range,
        y_range,
        markers,
    )
}

/// Viridis, sampled at 9 stops and linearly interpolated: perceptually uniform and
/// readable in grayscale, so heatmaps of switching probability etc. print well.
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = t * (STOPS.len() - 1) as f64;
    let i = (f.floor() as usize).min(STOPS.len() - 2);
    let u = f - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * u).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Cell edges from cell centres: midpoints inside, half a spacing beyond the ends.
fn edges(c: &[f64]) -> Vec<f64> {
    match c.len() {
        0 => vec![],
        1 => vec![c[0] - 0.5, c[0] + 0.5],
        n => {
            let mut e = Vec::with_capacity(n + 1);
            e.push(c[0] - (c[1] - c[0]) / 2.0);
            e.extend(c.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            e.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0);
            e
        }
    }
}

/// A heatmap of `z[j][i]` at cell centres `(x[i], y[j])` (e.g. switching probability over
/// pulse width × amplitude), viridis-coloured with a colour bar labelled `z_label`.
/// Non-finite cells are drawn gray. `z` must have `y.len()` rows of `x.len()` values.
#[allow(clippy::too_many_arguments)]
pub fn heatmap(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    z_label: &str,
    x: &[f64],
    y: &[f64],
    z: &[Vec<f64>],
) -> Result<(), String> {
    if x.is_empty() || y.is_empty() {
        return Err(format!("heatmap '{title}': empty axis"));
    }
    if z.len() != y.len() || z.iter().any(|row| row.len() != x.len()) {
        return Err(format!(
            "heatmap '{title}': z must be {} rows of {} values",
            y.len(),
            x.len()
        ));
    }
    render!(
        path,
        CHART_SIZE,
        draw_heatmap(title, (x_label, x), (y_label, y), (z_label, z))
    )
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    (x_label, x): (&str, &[f64]),
    (y_label, y): (&str, &[f64]),
    (z_label, z): (&str, &[Vec<f64>]),
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, (FONT, 20)).map_err(err)?;
    let (main, bar) = root.split_horizontally(WIDTH - 130);
    let (xe, ye) = (edges(x), edges(y));
    let (x0, x1) = padded_range(xe.iter().copied(), 0.0);
    let (y0, y1) = padded_range(ye.iter().copied(), 0.0);
    let (z0, z1) = padded_range(z.iter().flatten().copied(), 0.0);
    let norm = |v: f64| (v - z0) / (z1 - z0);
    let mut chart = ChartBuilder::on(&main)
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)?;
    let cells = z.iter().enumerate().flat_map(|(j, row)| {
        let (xe, ye) = (&xe, &ye);
        row.iter().enumerate().map(move |(i, &v)| {
            let c = if v.is_finite() {
                viridis(norm(v))
            } else {
                RGBColor(190, 190, 190)
            };
            Rectangle::new([(xe[i], ye[j]), (xe[i + 1], ye[j + 1])], c.filled())
        })
    });
    chart.draw_series(cells).map_err(err)?;

    let mut cb = ChartBuilder::on(&bar)
        .margin(10)
        .margin_left(5)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(0.0..1.0, z0..z1)
        .map_err(err)?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(z_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)?;
    const STEPS: usize = 128;
    cb.draw_series((0..STEPS).map(|k| {
        let a = z0 + (z1 - z0) * k as f64 / STEPS as f64;
        let b = z0 + (z1 - z0) * (k + 1) as f64 / STEPS as f64;
        Rectangle::new([(0.0, a), (1.0, b)], viridis(norm((a + b) / 2.0)).filled())
    }))
    .map_err(err)?;
    Ok(())
}

/// A histogram of `values` in `bins` equal-width bins over their finite range (e.g. the
/// distribution of switching times in a Monte-Carlo run); y axis is the count.
pub fn histogram(
    path: &Path,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
) -> Result<(), String> {
    if bins == 0 {
        return Err(format!("histogram '{title}': bins must be > 0"));
    }
    if !values.iter().any(|v| v.is_finite()) {
        return Err(format!("histogram '{title}': no finite values"));
    }
    render!(
        path,
        CHART_SIZE,
        draw_histogram(title, x_label, values, bins)
    )
}

/// Bin edges and counts: shared by drawing and tests.
fn bin_counts(values: &[f64], bins: usize) -> (f64, f64, Vec<usize>) {
    let (mut lo, mut hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo >= hi {
        let d = if lo == 0.0 { 0.5 } else { 0.05 * lo.abs() };
        lo -= d;
        hi += d;
    }
    let mut counts = vec![0usize; bins];
    let w = (hi - lo) / bins as f64;
    for v in values.iter().filter(|v| v.is_finite()) {
        let k = (((v - lo) / w).floor() as usize).min(bins - 1);
        counts[k] += 1;
    }
    (lo, hi, counts)
}

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let (lo, hi, counts) = bin_counts(values, bins);
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.05;
    let w = (hi - lo) / bins as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(10)
        .margin_right(25)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(x_label)
        .y_desc("count")
        .y_label_formatter(&|c| {
            // Counts are integers: label only integral ticks.
            if (c - c.round()).abs() < 1e-9 {
                format!("{:.0}", c.round())
            } else {
                String::new()
            }
        })
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let fill = color(0);
    chart
        .draw_series(
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(k, &c)| {
                    let a = lo + w * k as f64;
                    Rectangle::new([(a, 0.0), (a + w, c as f64)], fill.mix(0.8).filled())
                }),
        )
        .map_err(err)?;
    chart
        .draw_series(
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(k, &c)| {
                    let a = lo + w * k as f64;
                    Rectangle::new([(a, 0.0), (a + w, c as f64)], WHITE.stroke_width(1))
                }),
        )
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimate_keeps_extremes_in_order() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (i as f64, if i == 5123 { 9.0 } else { (i % 7) as f64 }))
            .collect();
        let d = decimate(pts, 400);
        assert!(d.len() <= 404);
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(d.contains(&(5123.0, 9.0)));
        assert_eq!(d.first(), Some(&(0.0, 0.0)));
        assert_eq!(d.last().map(|p| p.0), Some(9999.0));
    }

    #[test]
    fn bins_cover_all_values() {
        let (lo, hi, c) = bin_counts(&[0.0, 0.5, 1.0, f64::NAN, 1.0], 4);
        assert_eq!((lo, hi), (0.0, 1.0));
        assert_eq!(c, vec![1, 0, 1, 2]);
        let (lo, hi, c) = bin_counts(&[2.0, 2.0], 3);
        assert!(lo < 2.0 && hi > 2.0);
        assert_eq!(c.iter().sum::<usize>(), 2);
    }

    #[test]
    fn edges_and_colors() {
        assert_eq!(edges(&[0.0, 1.0, 3.0]), vec![-0.5, 0.5, 2.0, 4.0]);
        assert_eq!(edges(&[2.0]), vec![1.5, 2.5]);
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
    }

    #[test]
    fn rejects_unknown_extension() {
        let e = line_chart(
            Path::new("/tmp/x.jpg"),
            "t",
            "x",
            "y",
            &[("a".into(), vec![(0.0, 1.0)])],
        )
        .unwrap_err();
        assert!(e.contains(".svg or .png"));
    }
}
