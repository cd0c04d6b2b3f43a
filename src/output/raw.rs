//! ngspice raw files (binary and ascii), written byte-for-byte in ngspice-39's layout so
//! that ngspice's own `load`, waveform viewers and Python raw readers accept them, and
//! read back (ngspice's files and ours) so tests can cross-check against ngspice.
//!
//! Layout of one plot (several plots are simply concatenated, as ngspice does):
//!
//! ```text
//! Title: <circuit title>
//! Date: Sat Nov 28 03:32:16  2026
//! Plotname: Transient Analysis
//! Flags: real
//! No. Variables: 4
//! No. Points: 71      
//! Variables:
//! \t0\ttime\ttime
//! \t1\tv(in)\tvoltage
//! Binary:                      (or `Values:`)
//! <f64 little-endian, point-major>   (or ascii, see below)
//! ```
//!
//! ngspice pads `No. Points` to 8 columns so it can rewrite the count in place when a run
//! ends early; we write the same padding. Ascii values are `"{point}\t"` followed by one
//! `"\t{value:e}\n"` per variable, in C `%e` style (signed two-digit exponent).

use crate::results::{Plot, VecKind, Vector};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Raw-file encoding. Both carry the same header; only the data section differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RawFormat {
    /// `Binary:` section of f64 little-endian values, point-major (ngspice's default).
    #[default]
    Binary,
    /// `Values:` section in ngspice's ascii layout (`SPICE_ASCIIRAWFILE=1`). We print 17
    /// significant digits (ngspice's `set rawfileprec=16`) instead of ngspice's default 16
    /// so that ascii files round-trip bit-exactly too.
    Ascii,
}

/// Digits after the decimal point in ascii values (`%.16e`): enough for a lossless
/// round trip of every f64.
const ASCII_PRECISION: usize = 16;

/// Write `plots` to `path` as one ngspice raw file.
///
/// Vector names containing whitespace are written with `_` in its place (raw readers split
/// the `Variables:` lines on whitespace). Fails with `InvalidInput` if a vector's length
/// differs from its plot's scale.
pub fn write_raw(path: &Path, plots: &[Plot], format: RawFormat) -> io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    write_raw_to(&mut w, plots, format)?;
    w.flush()
}

/// [`write_raw`] into any writer (used for in-memory tests and stdout).
pub fn write_raw_to<W: Write>(w: &mut W, plots: &[Plot], format: RawFormat) -> io::Result<()> {
    let date = date_string();
    for plot in plots {
        write_plot(w, plot, format, &date)?;
    }
    Ok(())
}

fn write_plot<W: Write>(w: &mut W, plot: &Plot, format: RawFormat, date: &str) -> io::Result<()> {
    let vars: Vec<&Vector> = std::iter::once(&plot.scale).chain(&plot.vectors).collect();
    let npoints = plot.scale.data.len();
    if let Some(bad) = vars.iter().find(|v| v.data.len() != npoints) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "raw output: vector '{}' has {} points but scale '{}' has {npoints}",
                bad.name,
                bad.data.len(),
                plot.scale.name
            ),
        ));
    }
    writeln!(w, "Title: {}", one_line(&plot.title))?;
    writeln!(w, "Date: {date}")?;
    writeln!(w, "Plotname: {}", one_line(&plot.name))?;
    writeln!(w, "Flags: real")?;
    writeln!(w, "No. Variables: {}", vars.len())?;
    writeln!(w, "No. Points: {npoints:<8}")?;
    writeln!(w, "Variables:")?;
    for (i, v) in vars.iter().enumerate() {
        writeln!(w, "\t{i}\t{}\t{}", var_name(&v.name), v.kind.raw_type())?;
    }
    match format {
        RawFormat::Binary => {
            writeln!(w, "Binary:")?;
            let mut buf = Vec::with_capacity(vars.len() * 8);
            for p in 0..npoints {
                buf.clear();
                for v in &vars {
                    buf.extend_from_slice(&v.data[p].to_le_bytes());
                }
                w.write_all(&buf)?;
            }
        }
        RawFormat::Ascii => {
            writeln!(w, "Values:")?;
            let mut line = String::new();
            for p in 0..npoints {
                line.clear();
                line.push_str(&format!("{p}\t"));
                for v in &vars {
                    line.push('\t');
                    line.push_str(&c_exp(v.data[p], ASCII_PRECISION));
                    line.push('\n');
                }
                w.write_all(line.as_bytes())?;
            }
        }
    }
    Ok(())
}

/// Titles and plot names must stay on one header line.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

fn var_name(s: &str) -> String {
    if s.is_empty() {
        return "_".into();
    }
    s.chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

/// C `printf("%.*e")`: Rust prints `1.5e-9`, C prints `1.5e-09` (sign, >= 2 digits);
/// non-finite values as glibc does (`inf`, `-inf`, `nan`).
pub(crate) fn c_exp(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    let s = format!("{v:.prec$e}");
    let (mant, exp) = s.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{sign}{:02}", exp.unsigned_abs())
}

/// ngspice's `datestring()`: asctime with a doubled space before the year. We use UTC
/// (no libc dependency); `SOURCE_DATE_EPOCH` pins it for reproducible files.
fn date_string() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    asctime_utc(secs)
}

fn asctime_utc(secs: i64) -> String {
    const WDAY: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (h, m, s) = (tod / 3600, tod % 3600 / 60, tod % 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let wday = (days + 4).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    format!(
        "{} {}{day:>3} {h:02}:{m:02}:{s:02}  {year}",
        WDAY[wday],
        MON[(month - 1) as usize]
    )
}

/// Read every plot of an ngspice raw file, binary or ascii (ngspice's and ours).
///
/// Real plots only: a complex plot (`Flags: complex`, from `.ac`/`.noise`) is rejected with
/// `InvalidData` naming the plot rather than misread. `No. Points` padding is accepted.
/// Vector names are lowercased, matching ngspice's case-insensitive names and
/// [`Plot::get`]. The first variable becomes the plot's scale (for an ngspice operating
/// point that is simply the first node voltage).
pub fn read_raw(path: &Path) -> io::Result<Vec<Plot>> {
    let bytes = std::fs::read(path)?;
    parse_raw(&bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

/// [`read_raw`] on bytes already in memory.
pub fn parse_raw(bytes: &[u8]) -> Result<Vec<Plot>, String> {
    let mut r = Reader { bytes, pos: 0 };
    let mut plots = Vec::new();
    loop {
        r.skip_whitespace();
        if r.pos >= bytes.len() {
            break;
        }
        plots.push(r.plot()?);
    }
    if plots.is_empty() {
        return Err("no plots in raw file".into());
    }
    Ok(plots)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

#[derive(Default)]
struct Header {
    title: String,
    plotname: String,
    complex: bool,
    nvars: Option<usize>,
    npoints: Option<usize>,
    vars: Vec<(String, VecKind)>,
}

impl Reader<'_> {
    fn skip_whitespace(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn line(&mut self) -> Option<&str> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let rest = &self.bytes[self.pos..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        self.pos += (end + 1).min(rest.len());
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some(std::str::from_utf8(line).unwrap_or("\u{fffd}"))
    }

    fn plot(&mut self) -> Result<Plot, String> {
        let mut h = Header::default();
        let binary = loop {
            let start = self.pos;
            let Some(line) = self.line() else {
                return Err("raw file ends inside a header".into());
            };
            let Some((key, value)) = line.split_once(':') else {
                if line.trim().is_empty() {
                    continue;
                }
                return Err(format!("unexpected header line at byte {start}: {line:?}"));
            };
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "title" => h.title = value.to_string(),
                "plotname" => h.plotname = value.to_string(),
                "flags" => {
                    h.complex = value
                        .split_whitespace()
                        .any(|f| f.eq_ignore_ascii_case("complex"))
                }
                "no. variables" => h.nvars = Some(parse_count(value, "No. Variables")?),
                "no. points" => h.npoints = Some(parse_count(value, "No. Points")?),
                "variables" => {
                    let n = h.nvars.ok_or("`Variables:` before `No. Variables:`")?;
                    let mut pending = (!value.is_empty()).then(|| value.to_string());
                    for i in 0..n {
                        let text = match pending.take() {
                            Some(t) => t,
                            None => self
                                .line()
                                .ok_or("raw file ends inside `Variables:`")?
                                .to_string(),
                        };
                        h.vars.push(parse_var(&text, i)?);
                    }
                }
                "binary" => break true,
                "values" => break false,
                // Date, Command, Option, Dimensions and anything newer: not needed.
                _ => {}
            }
        };
        let nvars = h.nvars.ok_or("missing `No. Variables:`")?;
        let npoints = h.npoints.ok_or("missing `No. Points:`")?;
        if h.vars.len() != nvars || nvars == 0 {
            return Err(format!(
                "plot '{}': {} variables listed, header says {nvars}",
                h.plotname,
                h.vars.len()
            ));
        }
        if h.complex {
            return Err(format!(
                "plot '{}' is complex (e.g. .ac); only real plots are supported",
                h.plotname
            ));
        }
        let mut data: Vec<Vec<f64>> = vec![Vec::with_capacity(npoints); nvars];
        if binary {
            let need = npoints
                .checked_mul(nvars * 8)
                .ok_or("No. Points overflows")?;
            let avail = self.bytes.len() - self.pos;
            if avail < need {
                return Err(format!(
                    "plot '{}': binary data truncated ({avail} of {need} bytes)",
                    h.plotname
                ));
            }
            let chunk = &self.bytes[self.pos..self.pos + need];
            for (k, b) in chunk.chunks_exact(8).enumerate() {
                let v = f64::from_le_bytes(b.try_into().expect("chunk of 8"));
                data[k % nvars].push(v);
            }
            self.pos += need;
        } else {
            for p in 0..npoints {
                let idx = self.token().ok_or_else(|| truncated(&h.plotname, p))?;
                if idx.parse::<usize>().is_err() {
                    return Err(format!(
                        "plot '{}': expected point index {p}, found {idx:?}",
                        h.plotname
                    ));
                }
                for col in data.iter_mut() {
                    let t = self.token().ok_or_else(|| truncated(&h.plotname, p))?;
                    col.push(parse_c_float(t).ok_or_else(|| {
                        format!("plot '{}': bad value {t:?} at point {p}", h.plotname)
                    })?);
                }
            }
        }
        let mut vectors: Vec<Vector> = h
            .vars
            .into_iter()
            .zip(data)
            .map(|((name, kind), data)| Vector { name, kind, data })
            .collect();
        let scale = vectors.remove(0);
        Ok(Plot {
            title: h.title,
            name: h.plotname,
            scale,
            vectors,
        })
    }

    fn token(&mut self) -> Option<&str> {
        self.skip_whitespace();
        let start = self.pos;
        while self.pos < self.bytes.len() && !self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        (self.pos > start).then(|| std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or(""))
    }
}

fn truncated(plot: &str, p: usize) -> String {
    format!("plot '{plot}': ascii values end at point {p}")
}

fn parse_count(value: &str, what: &str) -> Result<usize, String> {
    value
        .split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("bad `{what}:` value {value:?}"))
}

fn parse_var(text: &str, i: usize) -> Result<(String, VecKind), String> {
    let mut f = text.split_whitespace();
    let (Some(idx), Some(name)) = (f.next(), f.next()) else {
        return Err(format!("bad variable line {i}: {text:?}"));
    };
    if idx.parse::<usize>().is_err() {
        return Err(format!("bad variable index in line {i}: {text:?}"));
    }
    let kind = kind_from_raw_type(f.next().unwrap_or("notype"));
    Ok((name.to_ascii_lowercase(), kind))
}

/// Inverse of [`VecKind::raw_type`], also mapping ngspice's sweep types.
pub fn kind_from_raw_type(t: &str) -> VecKind {
    match t.to_ascii_lowercase().as_str() {
        "time" => VecKind::Time,
        "voltage" => VecKind::Voltage,
        "current" => VecKind::Current,
        "temperature" | "temp-sweep" => VecKind::Temperature,
        "power" => VecKind::Power,
        "impedance" | "res-sweep" => VecKind::Resistance,
        _ => VecKind::Other,
    }
}

/// Parse a C-printed float (`1.0e+00`, `inf`, `-nan`).
fn parse_c_float(t: &str) -> Option<f64> {
    if let Ok(v) = t.parse::<f64>() {
        return Some(v);
    }
    let u = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
    u.starts_with("nan").then_some(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Plot> {
        let t: Vec<f64> = (0..50).map(|i| i as f64 * 1e-10 + 1e-13 / 3.0).collect();
        let tran = Plot {
            title: "round trip".into(),
            name: "Transient Analysis".into(),
            scale: Vector {
                name: "time".into(),
                kind: VecKind::Time,
                data: t.clone(),
            },
            vectors: vec![
                Vector {
                    name: "v(out)".into(),
                    kind: VecKind::Voltage,
                    data: t.iter().map(|x| (x * 1e9).sin() / 3.0).collect(),
                },
                Vector {
                    name: "i(v1)".into(),
                    kind: VecKind::Current,
                    data: t.iter().map(|x| -x * 7.1e3 - 1e-300).collect(),
                },
                Vector {
                    name: "mz(m1)".into(),
                    kind: VecKind::Other,
                    data: t
                        .iter()
                        .enumerate()
                        .map(|(i, _)| match i {
                            3 => f64::INFINITY,
                            4 => f64::NEG_INFINITY,
                            5 => f64::MIN_POSITIVE / 8.0,
                            6 => -0.0,
                            7 => f64::MAX,
                            _ => 1.0 / (i as f64 + 0.7),
                        })
                        .collect(),
                },
                Vector {
                    name: "temp(m1)".into(),
                    kind: VecKind::Temperature,
                    data: t.iter().map(|x| 300.0 + x).collect(),
                },
                Vector {
                    name: "r(m1)".into(),
                    kind: VecKind::Resistance,
                    data: t.iter().map(|x| 1e3 + x).collect(),
                },
                Vector {
                    name: "p(m1)".into(),
                    kind: VecKind::Power,
                    data: t.iter().map(|x| x * x).collect(),
                },
            ],
        };
        let op = Plot {
            title: "round trip".into(),
            name: "Operating Point".into(),
            scale: Vector {
                name: "v(in)".into(),
                kind: VecKind::Voltage,
                data: vec![1.0],
            },
            vectors: vec![Vector {
                name: "i(v1)".into(),
                kind: VecKind::Current,
                data: vec![-1.0 / 3.0e3],
            }],
        };
        vec![tran, op]
    }

    fn bits(p: &[Plot]) -> Vec<Vec<u64>> {
        p.iter()
            .flat_map(|p| std::iter::once(&p.scale).chain(&p.vectors))
            .map(|v| v.data.iter().map(|x| x.to_bits()).collect())
            .collect()
    }

    #[test]
    fn round_trip_bit_exact_both_formats() {
        let plots = sample();
        for fmt in [RawFormat::Binary, RawFormat::Ascii] {
            let mut buf = Vec::new();
            write_raw_to(&mut buf, &plots, fmt).unwrap();
            let back = parse_raw(&buf).unwrap();
            assert_eq!(bits(&back), bits(&plots), "{fmt:?}");
            assert_eq!(back.len(), 2);
            for (a, b) in back.iter().zip(&plots) {
                assert_eq!(a.title, b.title);
                assert_eq!(a.name, b.name);
                assert_eq!(a.scale.name, b.scale.name);
                assert_eq!(a.scale.kind, b.scale.kind);
                let ak: Vec<_> = a.vectors.iter().map(|v| (&v.name, v.kind)).collect();
                let bk: Vec<_> = b.vectors.iter().map(|v| (&v.name, v.kind)).collect();
                assert_eq!(ak, bk);
            }
        }
    }

    #[test]
    fn header_layout_matches_ngspice() {
        let mut buf = Vec::new();
        write_raw_to(&mut buf, &sample()[1..], RawFormat::Ascii).unwrap();
        let s = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "Title: round trip");
        assert!(lines[1].starts_with("Date: "));
        assert_eq!(lines[2], "Plotname: Operating Point");
        assert_eq!(lines[3], "Flags: real");
        assert_eq!(lines[4], "No. Variables: 2");
        assert_eq!(lines[5], "No. Points: 1       ");
        assert_eq!(lines[6], "Variables:");
        assert_eq!(lines[7], "\t0\tv(in)\tvoltage");
        assert_eq!(lines[8], "\t1\ti(v1)\tcurrent");
        assert_eq!(lines[9], "Values:");
        assert_eq!(lines[10], "0\t\t1.0000000000000000e+00");
        assert_eq!(lines[11], "\t-3.3333333333333332e-04");
        assert_eq!(lines.len(), 12);
    }

    #[test]
    fn c_exp_matches_printf() {
        assert_eq!(c_exp(0.0, 15), "0.000000000000000e+00");
        assert_eq!(c_exp(1.5e-9, 3), "1.500e-09");
        assert_eq!(c_exp(-2.0e100, 2), "-2.00e+100");
        assert_eq!(c_exp(1e-300, 1), "1.0e-300");
        assert_eq!(c_exp(f64::NAN, 3), "nan");
        assert_eq!(c_exp(f64::NEG_INFINITY, 3), "-inf");
    }

    #[test]
    fn asctime_like_ngspice() {
        // 2026-11-28 03:32:16 UTC was a Saturday.
        assert_eq!(asctime_utc(1_795_836_736), "Sat Nov 28 03:32:16  2026");
        assert_eq!(asctime_utc(0), "Thu Jan  1 00:00:00  1970");
        assert_eq!(asctime_utc(951_782_400), "Tue Feb 29 00:00:00  2000");
    }

    #[test]
    fn rejects_complex_and_mismatched_lengths() {
        let complex = b"Title: t\nDate: x\nPlotname: AC Analysis\nFlags: complex\n\
No. Variables: 2\nNo. Points: 1       \nVariables:\n\t0\tfrequency\tfrequency\n\t1\tv(1)\tvoltage\n\
Values:\n0\t\t1.0e+00,0.0e+00\n\t1.0e+00,2.0e+00\n";
        let e = parse_raw(complex).unwrap_err();
        assert!(e.contains("complex"), "{e}");

        let mut p = sample();
        p[0].vectors[0].data.pop();
        let e = write_raw_to(&mut Vec::new(), &p, RawFormat::Binary).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn truncated_binary_is_an_error() {
        let mut buf = Vec::new();
        write_raw_to(&mut buf, &sample()[..1], RawFormat::Binary).unwrap();
        buf.truncate(buf.len() - 3);
        assert!(parse_raw(&buf).unwrap_err().contains("truncated"));
    }

    #[test]
    fn reads_crlf_and_unpadded_ascii() {
        let text = "Title: x\r\nDate: d\r\nPlotname: DC transfer characteristic\r\nFlags: real\r\n\
No. Variables: 2\r\nNo. Points: 2\r\nVariables:\r\n\t0\tv(v-sweep)\tvoltage\r\n\tV(OUT)\tvoltage\r\n";
        // Second variable line lacks the index: reject rather than misread.
        assert!(parse_raw(text.as_bytes()).is_err());
        let text = text.replace("\tV(OUT)", "\t1\tV(OUT)")
            + "Values:\r\n0\t\t0.0e+00\r\n\t1.0e+00\r\n1\t\t1.0e+00\r\n\t-inf\r\n";
        let p = parse_raw(text.as_bytes()).unwrap();
        assert_eq!(p[0].vectors[0].name, "v(out)");
        assert_eq!(p[0].vectors[0].data, vec![1.0, f64::NEG_INFINITY]);
        assert_eq!(p[0].scale.data, vec![0.0, 1.0]);
    }
}
