//! Human-readable numbers: engineering notation (`1.5 ns`) and the final-values table that
//! `mtjsim run` prints when no raw file is requested, so a quick run still shows results.

use crate::results::Plot;

/// SI prefixes from 1e-18 to 1e18, for exponents -18, -15, ..., 18.
const PREFIXES: [&str; 13] = [
    "a", "f", "p", "n", "µ", "m", "", "k", "M", "G", "T", "P", "E",
];

/// Engineering exponent (multiple of 3, clamped to the prefix table) for `max_abs`.
fn eng_exponent(max_abs: f64) -> i32 {
    if !max_abs.is_finite() || max_abs == 0.0 {
        return 0;
    }
    let e = max_abs.log10().floor() as i32;
    (e.div_euclid(3) * 3).clamp(-18, 18)
}

/// The (divisor, prefix) that shows values up to `max_abs` in 1..1000: used for plot axes
/// (`time (ns)`) so the whole axis shares one prefix.
pub(crate) fn eng_scale(max_abs: f64) -> (f64, &'static str) {
    let e = eng_exponent(max_abs);
    (10f64.powi(e), PREFIXES[((e + 18) / 3) as usize])
}

/// Split `value` into a mantissa in [1, 1000) (after rounding to `decimals`) and a prefix.
fn eng_parts(value: f64, decimals: usize) -> (f64, &'static str) {
    let (div, prefix) = eng_scale(value.abs());
    let m = value / div;
    // Rounding can carry into the next decade (999.96 -> 1000.0): move up one prefix.
    let rounded: f64 = format!("{m:.decimals$}").parse().unwrap_or(m);
    if rounded.abs() >= 1000.0 && prefix != "E" {
        let (div, prefix) = eng_scale(value.abs() * 1.001);
        return (value / div, prefix);
    }
    (m, prefix)
}

/// Engineering notation with up to 4 significant digits and trailing zeros dropped:
/// `eng(1.5e-9, "s") == "1.5 ns"`, `eng(-2.5e-3, "A") == "-2.5 mA"`.
///
/// Dimensionless values (`unit == ""`) get no prefix, since `500 m` reads badly for a
/// magnetization of 0.5: they print as plain decimals or, outside 1e-3..1e6, in `1.234e-9`
/// form. Zero prints as `0 s`; non-finite values as `NaN V` / `inf V`.
pub fn eng(value: f64, unit: &str) -> String {
    let num = if !value.is_finite() {
        format!("{value}")
    } else if unit.is_empty() {
        plain(value)
    } else {
        // 4 significant digits: decimals depend on the mantissa's magnitude.
        let (div, _) = eng_scale(value.abs());
        let m = value / div;
        let digits = if m.abs() >= 100.0 {
            1
        } else if m.abs() >= 10.0 {
            2
        } else {
            3
        };
        let (m, prefix) = eng_parts(value, digits);
        let s = trim_zeros(&format!("{m:.digits$}"));
        return join(&s, prefix, unit);
    };
    join(&num, "", unit)
}

fn join(num: &str, prefix: &str, unit: &str) -> String {
    if prefix.is_empty() && unit.is_empty() {
        num.to_string()
    } else {
        format!("{num} {prefix}{unit}")
    }
}

fn plain(value: f64) -> String {
    let a = value.abs();
    if value == 0.0 {
        "0".into()
    } else if (1e-3..1e6).contains(&a) {
        trim_zeros(&format!("{value:.4}"))
    } else {
        let s = format!("{value:.3e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{e}", trim_zeros(m))
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" { "0".into() } else { t.into() }
    } else {
        s.into()
    }
}

/// Fixed three-decimal engineering value for aligned columns: `(" -2.500", "mA")`.
fn eng_fixed(value: f64, unit: &str) -> (String, String) {
    if !value.is_finite() {
        return (format!("{value}"), unit.to_string());
    }
    if unit.is_empty() {
        let a = value.abs();
        let s = if value == 0.0 || (1e-3..1e6).contains(&a) {
            format!("{value:.3}")
        } else {
            format!("{value:.3e}")
        };
        return (s, String::new());
    }
    let (m, prefix) = eng_parts(value, 3);
    let m = if m == 0.0 { 0.0 } else { m }; // no "-0.000"
    (format!("{m:.3}"), format!("{prefix}{unit}"))
}

/// One line per saved vector with its final value, names and numbers aligned:
///
/// ```text
/// v(out)    1.234 V
/// i(v1)    -2.500 mA
/// ```
///
/// The scale is left out (it is the same for every row); an empty plot gives `(no data)`.
pub fn final_values_table(plot: &Plot) -> String {
    if plot.is_empty() || plot.vectors.is_empty() {
        return "(no data)\n".into();
    }
    let rows: Vec<(&str, String, String)> = plot
        .vectors
        .iter()
        .map(|v| {
            let last = v.data.last().copied().unwrap_or(f64::NAN);
            let (num, unit) = eng_fixed(last, v.kind.unit());
            (v.name.as_str(), num, unit)
        })
        .collect();
    let name_w = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    // Align on the decimal point: pad the integer part and the fraction separately.
    let split = |s: &str| match s.find(['.', 'e']) {
        Some(i) => (s[..i].to_string(), s[i..].to_string()),
        None => (s.to_string(), String::new()),
    };
    let int_w = rows
        .iter()
        .map(|r| split(&r.1).0.chars().count())
        .max()
        .unwrap_or(0);
    let frac_w = rows
        .iter()
        .map(|r| split(&r.1).1.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (name, num, unit) in rows {
        let (i, f) = split(&num);
        let line = format!("{name:<name_w$}  {i:>int_w$}{f:<frac_w$} {unit}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{VecKind, Vector};

    #[test]
    fn eng_examples() {
        assert_eq!(eng(1.5e-9, "s"), "1.5 ns");
        assert_eq!(eng(-2.5e-3, "A"), "-2.5 mA");
        assert_eq!(eng(1.234, "V"), "1.234 V");
        assert_eq!(eng(0.0, "s"), "0 s");
        assert_eq!(eng(999.96, "V"), "1 kV");
        assert_eq!(eng(999.94, "V"), "999.9 V");
        assert_eq!(eng(4.7e3, "Ω"), "4.7 kΩ");
        assert_eq!(eng(12.5e-6, "A"), "12.5 µA");
        assert_eq!(eng(300.0, "K"), "300 K");
        assert_eq!(eng(1e-21, "A"), "0.001 aA");
        assert_eq!(eng(0.5, ""), "0.5");
        assert_eq!(eng(-1.25e-9, ""), "-1.25e-9");
        assert_eq!(eng(f64::NAN, "V"), "NaN V");
    }

    #[test]
    fn eng_scale_for_axes() {
        assert_eq!(eng_scale(10e-9), (1e-9, "n"));
        assert_eq!(eng_scale(0.0), (1.0, ""));
        assert_eq!(eng_scale(2.5e3), (1e3, "k"));
    }

    #[test]
    fn table_aligns_values() {
        let v = |name: &str, kind, x: f64| Vector {
            name: name.into(),
            kind,
            data: vec![0.0, x],
        };
        let plot = Plot {
            title: "t".into(),
            name: "Transient Analysis".into(),
            scale: v("time", VecKind::Time, 1e-9),
            vectors: vec![
                v("v(out)", VecKind::Voltage, 1.234),
                v("i(v1)", VecKind::Current, -2.5e-3),
                v("mz(m1)", VecKind::Other, -0.998),
            ],
        };
        let t = final_values_table(&plot);
        assert_eq!(
            t,
            "v(out)   1.234 V\n\
             i(v1)   -2.500 mA\n\
             mz(m1)  -0.998\n"
        );
    }
}
