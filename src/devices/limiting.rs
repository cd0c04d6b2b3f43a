//! Newton step limiting for junction and FET voltages, as ngspice's `devsup.c` does it
//! (`DEVpnjlim`, `DEVfetlim`, `DEVlimvds`): each keeps the voltage a device evaluates at
//! from moving so far in one iteration that exponentials overflow or Newton oscillates.

/// Limit a pn-junction voltage `vnew` against the previous iterate `vold` (ngspice
/// `DEVpnjlim`, with Alan Gillespie's negative-voltage limiting). `vt` is the junction's
/// thermal voltage (times emission coefficient) and `vcrit` its critical voltage.
/// Returns the limited voltage and whether it was limited.
pub fn pnjlim(vnew: f64, vold: f64, vt: f64, vcrit: f64) -> (f64, bool) {
    if vnew > vcrit && (vnew - vold).abs() > vt + vt {
        let v = if vold > 0.0 {
            let arg = (vnew - vold) / vt;
            if arg > 0.0 {
                vold + vt * (2.0 + (arg - 2.0).ln())
            } else {
                vold - vt * (2.0 + (2.0 - arg).ln())
            }
        } else {
            vt * (vnew / vt).ln()
        };
        (v, true)
    } else if vnew < 0.0 {
        let arg = if vold > 0.0 {
            -vold - 1.0
        } else {
            2.0 * vold - 1.0
        };
        if vnew < arg {
            (arg, true)
        } else {
            (vnew, false)
        }
    } else {
        (vnew, false)
    }
}

/// Limit a FET gate voltage `vnew` against `vold` given the threshold `vto` (ngspice
/// `DEVfetlim`).
pub fn fetlim(vnew: f64, vold: f64, vto: f64) -> f64 {
    let vtsthi = (2.0 * (vold - vto)).abs() + 2.0;
    let vtstlo = (vold - vto).abs() + 1.0;
    let vtox = vto + 3.5;
    let delv = vnew - vold;
    let mut v = vnew;
    if vold >= vto {
        if vold >= vtox {
            if delv <= 0.0 {
                // Going off.
                if vnew >= vtox {
                    if -delv > vtstlo {
                        v = vold - vtstlo;
                    }
                } else {
                    v = vnew.max(vto + 2.0);
                }
            } else if delv >= vtsthi {
                // Staying on.
                v = vold + vtsthi;
            }
        } else if delv <= 0.0 {
            // Middle region, decreasing.
            v = vnew.max(vto - 0.5);
        } else {
            // Middle region, increasing.
            v = vnew.min(vto + 4.0);
        }
    } else if delv <= 0.0 {
        // Off, going further off.
        if -delv > vtsthi {
            v = vold - vtsthi;
        }
    } else {
        // Off, turning on.
        let vtemp = vto + 0.5;
        if vnew <= vtemp {
            if delv > vtstlo {
                v = vold + vtstlo;
            }
        } else {
            v = vtemp;
        }
    }
    v
}

/// Limit the per-iteration change of a drain–source voltage (ngspice `DEVlimvds`).
pub fn limvds(vnew: f64, vold: f64) -> f64 {
    if vold >= 3.5 {
        if vnew > vold {
            vnew.min(3.0 * vold + 2.0)
        } else if vnew < 3.5 {
            vnew.max(2.0)
        } else {
            vnew
        }
    } else if vnew > vold {
        vnew.min(4.0)
    } else {
        vnew.max(-0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VT: f64 = 0.025865;

    #[test]
    fn pnjlim_passes_small_steps() {
        // Below vcrit or within 2·vt of the old value nothing happens.
        assert_eq!(pnjlim(0.5, 0.0, VT, 0.6), (0.5, false));
        assert_eq!(pnjlim(0.7, 0.69, VT, 0.6), (0.7, false));
        // Moderate reverse steps are fine too.
        assert_eq!(pnjlim(-0.5, 0.0, VT, 0.6), (-0.5, false));
    }

    #[test]
    fn pnjlim_compresses_large_forward_steps() {
        // From a forward-biased old value: logarithmic compression, continuous in arg.
        let (v, lim) = pnjlim(5.0, 0.6, VT, 0.6);
        assert!(lim);
        let arg: f64 = (5.0 - 0.6) / VT;
        assert!((v - (0.6 + VT * (2.0 + (arg - 2.0).ln()))).abs() < 1e-15);
        assert!(v > 0.6 && v < 0.9);
        // From a reverse/zero old value: v = vt·ln(v/vt).
        let (v, lim) = pnjlim(5.0, 0.0, VT, 0.6);
        assert!(lim);
        assert!((v - VT * (5.0 / VT).ln()).abs() < 1e-15);
        // Large downward jump that still ends above vcrit.
        let (v, lim) = pnjlim(0.7, 2.0, VT, 0.6);
        assert!(lim);
        assert!(v < 2.0 && v > 0.7);
    }

    #[test]
    fn pnjlim_limits_large_reverse_steps() {
        // vold > 0: floor at −vold − 1.
        assert_eq!(pnjlim(-10.0, 0.5, VT, 0.6), (-1.5, true));
        // vold ≤ 0: floor at 2·vold − 1.
        assert_eq!(pnjlim(-10.0, -1.0, VT, 0.6), (-3.0, true));
        // Repeated application converges to any negative target.
        let mut v = 0.0;
        for _ in 0..10 {
            v = pnjlim(-100.0, v, VT, 0.6).0;
        }
        assert_eq!(v, -100.0);
    }

    #[test]
    fn fetlim_regions() {
        let vto = 1.0;
        // Off and turning on: clamp at vto + 0.5.
        assert_eq!(fetlim(5.0, 0.0, vto), 1.5);
        // Off, small increase is unchanged.
        assert_eq!(fetlim(0.5, 0.0, vto), 0.5);
        // Middle region increasing: at most vto + 4.
        assert_eq!(fetlim(10.0, 2.0, vto), 5.0);
        // Middle region decreasing: at least vto − 0.5.
        assert_eq!(fetlim(-3.0, 2.0, vto), 0.5);
        // Strongly on, increasing by more than vtsthi.
        let vold = 5.0;
        let vtsthi = (2.0f64 * (vold - vto)).abs() + 2.0;
        assert_eq!(fetlim(50.0, vold, vto), vold + vtsthi);
        // Strongly on, going off below vtox: at least vto + 2.
        assert_eq!(fetlim(0.0, vold, vto), 3.0);
    }

    #[test]
    fn limvds_regions() {
        assert_eq!(limvds(10.0, 0.0), 4.0);
        assert_eq!(limvds(-5.0, 0.0), -0.5);
        assert_eq!(limvds(100.0, 4.0), 14.0);
        assert_eq!(limvds(0.0, 4.0), 2.0);
        assert_eq!(limvds(3.7, 4.0), 3.7);
    }
}
