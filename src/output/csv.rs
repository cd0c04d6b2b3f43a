//! CSV export: one column per vector (scale first), one row per point, so results open
//! directly in spreadsheets, pandas or numpy without a raw-file reader.

use crate::results::Plot;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Write `plot` as CSV: a header row of vector names, then every point with values in
/// Rust's shortest round-trip scientific form (`{:e}`, e.g. `1.5e-9`), so parsing the file
/// gives back exactly the simulated f64s. Fails with `InvalidInput` on ragged vectors.
pub fn write_csv(path: &Path, plot: &Plot) -> io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    write_csv_to(&mut w, plot)?;
    w.flush()
}

/// [`write_csv`] into any writer.
pub fn write_csv_to<W: Write>(w: &mut W, plot: &Plot) -> io::Result<()> {
    let cols: Vec<_> = std::iter::once(&plot.scale).chain(&plot.vectors).collect();
    let n = plot.scale.data.len();
    if let Some(bad) = cols.iter().find(|v| v.data.len() != n) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "csv output: vector '{}' has {} points but the scale has {n}",
                bad.name,
                bad.data.len()
            ),
        ));
    }
    let header: Vec<String> = cols.iter().map(|v| quote(&v.name)).collect();
    writeln!(w, "{}", header.join(","))?;
    let mut line = String::new();
    for p in 0..n {
        line.clear();
        for (i, v) in cols.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&format!("{:e}", v.data[p]));
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// RFC 4180 quoting, only where needed (names normally look like `v(out)`).
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{VecKind, Vector};

    #[test]
    fn header_and_round_trip() {
        let t = vec![0.0, 1e-10 / 3.0, 2e-9];
        let plot = Plot {
            title: "t".into(),
            name: "Transient Analysis".into(),
            scale: Vector {
                name: "time".into(),
                kind: VecKind::Time,
                data: t.clone(),
            },
            vectors: vec![Vector {
                name: "v(a,b)".into(),
                kind: VecKind::Voltage,
                data: vec![-1.0 / 3.0, f64::NAN, 5e-324],
            }],
        };
        let mut buf = Vec::new();
        write_csv_to(&mut buf, &plot).unwrap();
        let s = String::from_utf8(buf).unwrap();
        let mut lines = s.lines();
        assert_eq!(lines.next(), Some("time,\"v(a,b)\""));
        let rows: Vec<Vec<f64>> = lines
            .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
            .collect();
        assert_eq!(rows.len(), 3);
        for (p, row) in rows.iter().enumerate() {
            assert_eq!(row[0].to_bits(), t[p].to_bits());
            let v = plot.vectors[0].data[p];
            assert!(row[1].to_bits() == v.to_bits() || (v.is_nan() && row[1].is_nan()));
        }
        assert!(s.contains("\n2e-9,5e-324\n"));
    }
}
