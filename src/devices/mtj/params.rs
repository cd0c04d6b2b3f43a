//! The MTJ model card (`.model NAME mtj (...)`, MTJ_CARD.md) turned into validated SI
//! parameters, plus the element's instance parameters (`state`, `theta0`, ...).
//!
//! Owns: the list of card parameters with their defaults, range checks and derived
//! geometry. Must not know about dynamics; the physics lives in the sibling modules.

use std::collections::HashMap;

use super::vec3::{V3, normalize};
use crate::circuit::Model;

/// Default ambient temperature when neither the card nor the circuit sets one (K).
pub const DEFAULT_TAMB_K: f64 = 300.0;

/// Every numeric card parameter with its default (NaN = "derived", see [`MtjParams`]) and a
/// one-line description; the order is the order of MTJ_CARD.md. Used for validation
/// messages and the docs table.
pub const CARD_PARAMS: &[(&str, f64, &str)] = &[
    ("d", 40e-9, "free-layer diameter (m)"),
    (
        "area",
        f64::NAN,
        "pillar area (m^2), overrides d; default pi d^2/4",
    ),
    ("tfl", 1.3e-9, "free-layer thickness (m)"),
    ("ms", 1.1e6, "saturation magnetization at tref (A/m)"),
    (
        "ku",
        1.0e6,
        "uniaxial anisotropy energy density at tref (J/m^3)",
    ),
    ("nx", 0.0, "demagnetizing factor x"),
    ("ny", 0.0, "demagnetizing factor y"),
    ("nz", 1.0, "demagnetizing factor z"),
    ("alpha", 0.01, "Gilbert damping"),
    ("pol", 0.6, "spin polarization P"),
    ("lambda", 1.0, "Slonczewski asymmetry Lambda"),
    ("beta", 0.0, "field-like / damping-like torque ratio"),
    (
        "mpx",
        f64::NAN,
        "reference-layer direction x (default +easy)",
    ),
    (
        "mpy",
        f64::NAN,
        "reference-layer direction y (default +easy)",
    ),
    (
        "mpz",
        f64::NAN,
        "reference-layer direction z (default +easy)",
    ),
    ("hx", 0.0, "applied field x (A/m)"),
    ("hy", 0.0, "applied field y (A/m)"),
    ("hz", 0.0, "applied field z (A/m)"),
    ("tmr0", 1.5, "zero-bias TMR ratio at tref"),
    ("vh", 0.5, "bias at which TMR halves (V)"),
    ("ttmr", 0.0, "linear temperature coefficient of TMR (1/K)"),
    ("ra", 5e-12, "resistance-area product, P state (Ohm m^2)"),
    ("tc", 1000.0, "Curie temperature (K)"),
    ("kexp", 2.0, "anisotropy scaling exponent Ku ~ Ms^kexp"),
    ("tref", 300.0, "reference temperature of ms, ku, tmr0 (K)"),
    (
        "rth",
        0.0,
        "thermal resistance to ambient (K/W); 0 = isothermal",
    ),
    ("cth", 0.0, "thermal capacitance (J/K)"),
    (
        "tamb",
        f64::NAN,
        "ambient temperature (K); default: circuit temperature, else 300",
    ),
    ("noise", 1.0, "1: Brown thermal field on; 0: deterministic"),
];

/// String-valued card parameters.
pub const CARD_STRING_PARAMS: &[(&str, &str, &str)] = &[(
    "easy",
    "z",
    "easy axis: z (perpendicular), x or y (in-plane)",
)];

/// Instance parameters of an `N` element (MTJ_CARD.md "Element").
pub const INSTANCE_PARAMS: &[&str] = &["state", "theta0", "phi0", "temp0", "seed"];

/// A coordinate axis (easy axis of the free layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    X,
    Y,
    Z,
}

impl Axis {
    /// Unit vector along the axis.
    pub fn unit(self) -> V3 {
        match self {
            Axis::X => [1.0, 0.0, 0.0],
            Axis::Y => [0.0, 1.0, 0.0],
            Axis::Z => [0.0, 0.0, 1.0],
        }
    }
    /// Index 0, 1, 2.
    pub fn index(self) -> usize {
        match self {
            Axis::X => 0,
            Axis::Y => 1,
            Axis::Z => 2,
        }
    }
    /// A right-handed frame `(e, u, v)` with `e` this axis: `theta0`/`phi0` are measured in it
    /// (`phi0 = 0` tilts towards `u`). For `z` this is the usual (z; x, y).
    pub fn frame(self) -> (V3, V3, V3) {
        let (x, y, z) = ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]);
        match self {
            Axis::X => (x, y, z),
            Axis::Y => (y, z, x),
            Axis::Z => (z, x, y),
        }
    }
}

/// Validated MTJ model parameters in SI units (field names carry the unit).
#[derive(Debug, Clone, PartialEq)]
pub struct MtjParams {
    /// Model name (lowercase), for messages.
    pub name: String,
    /// Pillar diameter (m); derived from `area` when only that was given.
    pub diameter_m: f64,
    /// Pillar area (m²).
    pub area_m2: f64,
    /// Free-layer thickness (m).
    pub tfl_m: f64,
    /// Free-layer volume `area · tfl` (m³).
    pub volume_m3: f64,
    /// Saturation magnetization at `tref_k` (A/m).
    pub ms_a_per_m: f64,
    /// Uniaxial anisotropy energy density at `tref_k` (J/m³).
    pub ku_j_per_m3: f64,
    pub easy_axis: Axis,
    /// Unit vector of the easy axis.
    pub easy: V3,
    /// Demagnetizing factors (Nx, Ny, Nz).
    pub demag: V3,
    pub alpha: f64,
    /// Spin polarization P.
    pub pol: f64,
    /// Slonczewski asymmetry Λ.
    pub lambda: f64,
    /// Field-like torque ratio β.
    pub beta: f64,
    /// Unit vector of the reference layer.
    pub mp: V3,
    /// Card applied field (A/m).
    pub h_app_a_per_m: V3,
    /// Zero-bias TMR at `tref_k`.
    pub tmr0: f64,
    /// Bias at which TMR halves (V).
    pub vh_v: f64,
    /// Linear temperature coefficient of the TMR (1/K).
    pub ttmr_per_k: f64,
    /// RA product of the P state (Ω m²).
    pub ra_ohm_m2: f64,
    pub tc_k: f64,
    pub kexp: f64,
    pub tref_k: f64,
    /// Thermal resistance to ambient (K/W); 0 = isothermal.
    pub rth_k_per_w: f64,
    /// Thermal capacitance (J/K).
    pub cth_j_per_k: f64,
    pub tamb_k: f64,
    /// Brown thermal field on.
    pub noise: bool,
}

impl Default for MtjParams {
    /// The card defaults of MTJ_CARD.md.
    fn default() -> Self {
        let m = Model {
            name: "default".into(),
            kind: "mtj".into(),
            params: HashMap::new(),
            string_params: HashMap::new(),
            span: Default::default(),
        };
        MtjParams::from_model(&m).expect("card defaults are valid")
    }
}

fn valid_list() -> String {
    let mut names: Vec<&str> = CARD_PARAMS.iter().map(|p| p.0).collect();
    names.extend(CARD_STRING_PARAMS.iter().map(|p| p.0));
    names.join(", ")
}

impl MtjParams {
    /// Read and validate a `.model ... mtj` card; `tamb` defaults to 300 K.
    pub fn from_model(model: &Model) -> Result<MtjParams, String> {
        Self::from_model_with_ambient(model, DEFAULT_TAMB_K)
    }

    /// Read and validate a card; `default_tamb_k` (the circuit temperature) is used when the
    /// card does not set `tamb`.
    pub fn from_model_with_ambient(
        model: &Model,
        default_tamb_k: f64,
    ) -> Result<MtjParams, String> {
        let name = model.name.to_ascii_lowercase();
        let ctx = |msg: String| format!("model {name}: {msg}");
        if !model.kind.eq_ignore_ascii_case("mtj") {
            return Err(ctx(format!("type is `{}`, expected `mtj`", model.kind)));
        }
        let mut unknown: Vec<&str> = model
            .params
            .keys()
            .filter(|k| !CARD_PARAMS.iter().any(|p| p.0 == k.as_str()))
            .map(|k| k.as_str())
            .collect();
        unknown.extend(
            model
                .string_params
                .keys()
                .filter(|k| !CARD_STRING_PARAMS.iter().any(|p| p.0 == k.as_str()))
                .map(|k| k.as_str()),
        );
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return Err(ctx(format!(
                "unknown parameter{} {}; valid parameters: {}",
                if unknown.len() > 1 { "s" } else { "" },
                unknown.join(", "),
                valid_list()
            )));
        }
        for (k, v) in &model.params {
            if !v.is_finite() {
                return Err(ctx(format!("{k}={v} is not a finite number")));
            }
        }
        let get = |key: &str| -> f64 {
            let def = CARD_PARAMS
                .iter()
                .find(|p| p.0 == key)
                .map(|p| p.1)
                .unwrap_or(f64::NAN);
            model.params.get(key).copied().unwrap_or(def)
        };
        let easy_axis = match model
            .string_params
            .get("easy")
            .map(|s| s.to_ascii_lowercase())
        {
            None => Axis::Z,
            Some(s) => match s.as_str() {
                "z" | "+z" => Axis::Z,
                "x" | "+x" => Axis::X,
                "y" | "+y" => Axis::Y,
                other => return Err(ctx(format!("easy={other}: expected z, x or y"))),
            },
        };
        let positive = |key: &str, v: f64| -> Result<f64, String> {
            if v > 0.0 {
                Ok(v)
            } else {
                Err(ctx(format!("{key}={v} must be > 0")))
            }
        };
        let non_negative = |key: &str, v: f64| -> Result<f64, String> {
            if v >= 0.0 {
                Ok(v)
            } else {
                Err(ctx(format!("{key}={v} must be >= 0")))
            }
        };
        let (diameter_m, area_m2) = if let Some(&a) = model.params.get("area") {
            let a = positive("area", a)?;
            (2.0 * (a / std::f64::consts::PI).sqrt(), a)
        } else {
            let d = positive("d", get("d"))?;
            (d, std::f64::consts::PI * d * d / 4.0)
        };
        let tfl_m = positive("tfl", get("tfl"))?;
        let ms_a_per_m = positive("ms", get("ms"))?;
        let ku_j_per_m3 = non_negative("ku", get("ku"))?;
        let mut demag = [0.0; 3];
        for (i, k) in ["nx", "ny", "nz"].iter().enumerate() {
            let v = get(k);
            if !(0.0..=1.0).contains(&v) {
                return Err(ctx(format!("{k}={v} must lie in [0, 1]")));
            }
            demag[i] = v;
        }
        let alpha = non_negative("alpha", get("alpha"))?;
        let pol = get("pol");
        if !(0.0..=1.0).contains(&pol) {
            return Err(ctx(format!("pol={pol} must lie in [0, 1]")));
        }
        // Λ > 0 keeps the denominator of η(m) = PΛ²/((Λ²+1) + (Λ²−1) m·p) positive for all m.
        let lambda = positive("lambda", get("lambda"))?;
        let beta = get("beta");
        let easy = easy_axis.unit();
        let mp_given = ["mpx", "mpy", "mpz"]
            .iter()
            .any(|k| model.params.contains_key(*k));
        let mp = if mp_given {
            let v = [
                model.params.get("mpx").copied().unwrap_or(0.0),
                model.params.get("mpy").copied().unwrap_or(0.0),
                model.params.get("mpz").copied().unwrap_or(0.0),
            ];
            if super::vec3::norm(v) == 0.0 {
                return Err(ctx(
                    "reference direction (mpx, mpy, mpz) is the zero vector".into(),
                ));
            }
            normalize(v)
        } else {
            easy
        };
        let h_app_a_per_m = [get("hx"), get("hy"), get("hz")];
        let tmr0 = non_negative("tmr0", get("tmr0"))?;
        let vh_v = positive("vh", get("vh"))?;
        let ttmr_per_k = get("ttmr");
        let ra_ohm_m2 = positive("ra", get("ra"))?;
        let tref_k = positive("tref", get("tref"))?;
        let tc_k = get("tc");
        if tc_k <= tref_k {
            return Err(ctx(format!("tc={tc_k} must be > tref={tref_k}")));
        }
        let kexp = non_negative("kexp", get("kexp"))?;
        let rth_k_per_w = non_negative("rth", get("rth"))?;
        let cth_j_per_k = non_negative("cth", get("cth"))?;
        let tamb_k = model.params.get("tamb").copied().unwrap_or(default_tamb_k);
        if !(tamb_k > 0.0 && tamb_k < tc_k) {
            return Err(ctx(format!("tamb={tamb_k} must lie in (0, tc={tc_k})")));
        }
        let noise = match get("noise") {
            0.0 => false,
            1.0 => true,
            v => return Err(ctx(format!("noise={v} must be 0 or 1"))),
        };
        Ok(MtjParams {
            name,
            diameter_m,
            area_m2,
            tfl_m,
            volume_m3: area_m2 * tfl_m,
            ms_a_per_m,
            ku_j_per_m3,
            easy_axis,
            easy,
            demag,
            alpha,
            pol,
            lambda,
            beta,
            mp,
            h_app_a_per_m,
            tmr0,
            vh_v,
            ttmr_per_k,
            ra_ohm_m2,
            tc_k,
            kexp,
            tref_k,
            rth_k_per_w,
            cth_j_per_k,
            tamb_k,
            noise,
        })
    }

    /// P-state conductance `area / ra` (S).
    pub fn g_p_s(&self) -> f64 {
        self.area_m2 / self.ra_ohm_m2
    }

    /// Soft problems worth telling the user (the card is still usable): an easy axis that is
    /// not an energy minimum, a barrier too low to hold a state, a reference layer that is
    /// not collinear with the easy axis (the Jc0 formulas then do not apply).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let t = self.tamb_k;
        let hk = super::temperature::hk_eff_a_per_m(self, t);
        if hk <= 0.0 {
            w.push(format!(
                "model {}: H_k,eff = {hk:.3e} A/m <= 0 at {t} K: the easy axis is not stable \
                 (demagnetization wins); the free layer falls into the hard plane",
                self.name
            ));
        } else {
            let delta = super::temperature::delta(self, t);
            if delta < 1.0 {
                w.push(format!(
                    "model {}: thermal stability Δ = {delta:.3} < 1 at {t} K",
                    self.name
                ));
            }
        }
        if super::vec3::dot(self.mp, self.easy).abs() < 1.0 - 1e-9 {
            w.push(format!(
                "model {}: reference layer not collinear with the easy axis; Jc0 and t_sw \
                 formulas assume collinear",
                self.name
            ));
        }
        w
    }
}

/// Initial condition of one element: `state`, `theta0`, `phi0`, `temp0`, `seed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstanceParams {
    /// +1: along +easy (P for the default reference); −1: along −easy (AP).
    pub state: f64,
    /// Polar tilt away from the easy axis (rad).
    pub theta0: f64,
    /// Azimuth of the tilt in the frame of [`Axis::frame`] (rad).
    pub phi0: f64,
    /// Initial temperature (K); `None` = ambient.
    pub temp0_k: Option<f64>,
    /// Per-device RNG seed; `None` = derived from the global seed and the element index.
    pub seed: Option<u64>,
}

impl Default for InstanceParams {
    fn default() -> Self {
        InstanceParams {
            state: 1.0,
            theta0: 0.02,
            phi0: 0.0,
            temp0_k: None,
            seed: None,
        }
    }
}

impl InstanceParams {
    /// Read instance parameters (lowercase keys; `state` = +1 for p, −1 for ap).
    pub fn from_map(map: &HashMap<String, f64>) -> Result<InstanceParams, String> {
        let mut ip = InstanceParams::default();
        let mut unknown: Vec<&str> = map
            .keys()
            .filter(|k| !INSTANCE_PARAMS.contains(&k.as_str()))
            .map(|k| k.as_str())
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return Err(format!(
                "unknown MTJ instance parameter(s) {}; valid: {}",
                unknown.join(", "),
                INSTANCE_PARAMS.join(", ")
            ));
        }
        if let Some(&s) = map.get("state") {
            if s != 1.0 && s != -1.0 {
                return Err(format!("state={s}: expected p (+1) or ap (-1)"));
            }
            ip.state = s;
        }
        if let Some(&t) = map.get("theta0") {
            if !t.is_finite() {
                return Err("theta0 must be finite".into());
            }
            ip.theta0 = t;
        }
        if let Some(&p) = map.get("phi0") {
            if !p.is_finite() {
                return Err("phi0 must be finite".into());
            }
            ip.phi0 = p;
        }
        if let Some(&t) = map.get("temp0") {
            if !(t > 0.0 && t.is_finite()) {
                return Err(format!("temp0={t} must be > 0"));
            }
            ip.temp0_k = Some(t);
        }
        if let Some(&s) = map.get("seed") {
            if !(s >= 0.0 && s.fract() == 0.0 && s < 2f64.powi(64)) {
                return Err(format!("seed={s} must be a non-negative integer"));
            }
            ip.seed = Some(s as u64);
        }
        Ok(ip)
    }

    /// The initial unit magnetization for a card: `state · e` tilted by `theta0` towards
    /// `cos(phi0) u + sin(phi0) v` in the easy-axis frame.
    pub fn initial_m(&self, params: &MtjParams) -> V3 {
        initial_m(params.easy_axis, self.state, self.theta0, self.phi0)
    }
}

/// Unit vector `state · cosθ e + sinθ (cosφ u + sinφ v)` in the frame of `axis`.
pub fn initial_m(axis: Axis, state: f64, theta: f64, phi: f64) -> V3 {
    let (e, u, v) = axis.frame();
    let (st, ct) = theta.sin_cos();
    let (sp, cp) = phi.sin_cos();
    let mut m = [0.0; 3];
    for i in 0..3 {
        m[i] = state * ct * e[i] + st * (cp * u[i] + sp * v[i]);
    }
    normalize(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(params: &[(&str, f64)], strings: &[(&str, &str)]) -> Model {
        Model {
            name: "t".into(),
            kind: "mtj".into(),
            params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            string_params: strings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            span: Default::default(),
        }
    }

    #[test]
    fn defaults_match_the_card_table() {
        let p = MtjParams::default();
        assert_eq!(p.diameter_m, 40e-9);
        assert!((p.area_m2 - std::f64::consts::PI * 4e-16).abs() < 1e-30);
        assert_eq!(p.tfl_m, 1.3e-9);
        assert_eq!(p.ms_a_per_m, 1.1e6);
        assert_eq!(p.easy, [0.0, 0.0, 1.0]);
        assert_eq!(p.mp, [0.0, 0.0, 1.0]);
        assert_eq!(p.demag, [0.0, 0.0, 1.0]);
        assert_eq!(p.tamb_k, 300.0);
        assert!(p.noise);
    }

    #[test]
    fn rejects_unknown_keys_and_lists_valid_ones() {
        let e = MtjParams::from_model(&card(&[("foo", 1.0)], &[])).unwrap_err();
        assert!(
            e.contains("foo") && e.contains("alpha") && e.contains("easy"),
            "{e}"
        );
        let e = MtjParams::from_model(&card(&[], &[("axis", "z")])).unwrap_err();
        assert!(e.contains("axis"), "{e}");
    }

    #[test]
    fn validates_ranges() {
        for bad in [
            ("d", 0.0),
            ("ms", -1.0),
            ("alpha", -0.1),
            ("tc", 250.0),
            ("noise", 0.5),
            ("pol", 1.5),
        ] {
            assert!(
                MtjParams::from_model(&card(&[bad], &[])).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(MtjParams::from_model(&card(&[], &[("easy", "w")])).is_err());
        assert!(MtjParams::from_model(&card(&[("mpx", 0.0)], &[])).is_err());
    }

    #[test]
    fn area_overrides_diameter_and_in_plane_axis() {
        let p = MtjParams::from_model(&card(&[("area", 1e-15), ("d", 99e-9)], &[("easy", "x")]))
            .unwrap();
        assert_eq!(p.area_m2, 1e-15);
        assert_eq!(p.easy, [1.0, 0.0, 0.0]);
        assert_eq!(p.mp, [1.0, 0.0, 0.0]);
        let ap = InstanceParams {
            state: -1.0,
            theta0: 0.0,
            ..Default::default()
        };
        assert_eq!(ap.initial_m(&p), [-1.0, 0.0, 0.0]);
    }

    #[test]
    fn instance_params() {
        let m: HashMap<String, f64> = [
            ("state".to_string(), -1.0),
            ("theta0".to_string(), 0.1),
            ("seed".to_string(), 7.0),
        ]
        .into();
        let ip = InstanceParams::from_map(&m).unwrap();
        assert_eq!(ip.seed, Some(7));
        let p = MtjParams::default();
        let m0 = ip.initial_m(&p);
        assert!((m0[2] + 0.1f64.cos()).abs() < 1e-15 && (m0[0] - 0.1f64.sin()).abs() < 1e-15);
        let bad: HashMap<String, f64> = [("foo".to_string(), 1.0)].into();
        assert!(InstanceParams::from_map(&bad).is_err());
    }
}
