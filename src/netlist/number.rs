//! SPICE numbers: `1.5`, `.5`, `1e-3`, engineering suffixes and ignored trailing units.
//!
//! Owns: turning the text of one number into an `f64`. Must not know about parameters or
//! expressions (see `expr.rs`, which calls [`scan`] for numbers inside expressions).
//!
//! Suffixes (case-insensitive): `t`=1e12 `g`=1e9 `meg`=1e6 `k`=1e3 `m`=1e-3 `mil`=25.4e-6
//! `u`=1e-6 `n`=1e-9 `p`=1e-12 `f`=1e-15 `a`=1e-18. Letters after the suffix are a unit and are
//! ignored (`10pF`, `1.5kohm`, `5ns`); letters that are not a suffix are a unit too (`3V`).
//! As in every SPICE, `1F` is one *femto* and `1M` is one *milli* (`1meg` is a million).
//! Digits after the letters (`1k5`) make the number invalid.

/// Scan an unsigned number at the start of `s`: digits with an optional fraction and
/// exponent, then any run of letters (suffix and unit). Returns the value and the number of
/// bytes consumed (always on a char boundary: only ASCII is consumed), or `None` when `s`
/// does not start with a digit (or `.` and a digit).
pub fn scan(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_part = &s[int_start..i];
    let mut frac_part = "";
    if i < b.len() && b[i] == b'.' {
        let f0 = i + 1;
        let mut j = f0;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        frac_part = &s[f0..j];
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        i = j;
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] | 0x20) == b'e' {
        let mut j = i + 1;
        let mut neg = false;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            neg = b[j] == b'-';
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            let mut e: i64 = 0;
            while j < b.len() && b[j].is_ascii_digit() {
                e = (e * 10 + i64::from(b[j] - b'0')).min(100_000);
                j += 1;
            }
            exp = if neg { -e } else { e };
            i = j;
        }
    }
    let letters = i;
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    let unit = s[letters..i].to_ascii_lowercase();
    let (shift, factor) = if unit.starts_with("meg") {
        (6, 1.0)
    } else if unit.starts_with("mil") {
        (0, 25.4e-6)
    } else {
        match unit.as_bytes().first() {
            Some(b't') => (12, 1.0),
            Some(b'g') => (9, 1.0),
            Some(b'k') => (3, 1.0),
            Some(b'm') => (-3, 1.0),
            Some(b'u') => (-6, 1.0),
            Some(b'n') => (-9, 1.0),
            Some(b'p') => (-12, 1.0),
            Some(b'f') => (-15, 1.0),
            Some(b'a') => (-18, 1.0),
            _ => (0, 1.0),
        }
    };
    // Build the decimal text with the suffix folded into the exponent so that `3.3n` is
    // exactly the f64 nearest to 3.3e-9 (a multiplication could be one ulp off).
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = if frac_part.is_empty() { "0" } else { frac_part };
    let text = format!("{int_part}.{frac_part}e{}", exp + shift);
    let v: f64 = text.parse().ok()?;
    Some((v * factor, i))
}

/// Parse a whole string as a SPICE number with an optional sign. `None` if anything is left
/// over (`1.2.3`, `1k5`, `abc`).
pub fn parse(s: &str) -> Option<f64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (v, n) = scan(rest)?;
    if n != rest.len() {
        return None;
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> f64 {
        parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn plain_numbers() {
        assert_eq!(p("1"), 1.0);
        assert_eq!(p("1.5"), 1.5);
        assert_eq!(p(".5"), 0.5);
        assert_eq!(p("5."), 5.0);
        assert_eq!(p("-2"), -2.0);
        assert_eq!(p("+2"), 2.0);
        assert_eq!(p("1e-3"), 1e-3);
        assert_eq!(p("1E3"), 1e3);
        assert_eq!(p("2.5e+2"), 250.0);
    }

    #[test]
    fn suffixes() {
        assert_eq!(p("1t"), 1e12);
        assert_eq!(p("1g"), 1e9);
        assert_eq!(p("1meg"), 1e6);
        assert_eq!(p("1MEG"), 1e6);
        assert_eq!(p("2k"), 2e3);
        assert_eq!(p("1m"), 1e-3);
        assert_eq!(p("1M"), 1e-3);
        assert_eq!(p("1u"), 1e-6);
        assert_eq!(p("3.3n"), 3.3e-9);
        assert_eq!(p("10p"), 10e-12);
        assert_eq!(p("1f"), 1e-15);
        assert_eq!(p("1F"), 1e-15);
        assert_eq!(p("1a"), 1e-18);
        assert!((p("1mil") - 25.4e-6).abs() < 1e-20);
        assert_eq!(p("1e3k"), 1e6);
    }

    #[test]
    fn units_are_ignored() {
        assert_eq!(p("10pF"), 10e-12);
        assert_eq!(p("1.5kohm"), 1500.0);
        assert_eq!(p("5ns"), 5e-9);
        assert_eq!(p("3V"), 3.0);
        assert_eq!(p("1megohm"), 1e6);
        assert_eq!(p("2ohm"), 2.0);
    }

    #[test]
    fn bad_numbers() {
        for s in [
            "", ".", "-", "abc", "1.2.3", "1k5", "e3", "1_0", "1e5.0", "--1",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn scan_stops_at_operators() {
        assert_eq!(scan("2k*3"), Some((2000.0, 2)));
        assert_eq!(scan("1e-3+1"), Some((1e-3, 4)));
        assert_eq!(scan("1e+x"), Some((1.0, 2)));
        assert_eq!(scan("x"), None);
    }

    #[test]
    fn huge_exponents_do_not_panic() {
        assert_eq!(p("1e999999999999999999999"), f64::INFINITY);
        assert_eq!(p("1e-999999999999999"), 0.0);
    }
}
