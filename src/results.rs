//! Simulation results: named vectors over a scale (time, swept value), one [`Plot`] per
//! analysis — the same shape as an ngspice raw file's plots, so output is a straight copy.

/// What a vector measures; decides the raw-file type column and plot axis units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VecKind {
    Time,
    Voltage,
    Current,
    /// Temperature in kelvin.
    Temperature,
    /// Power in watts.
    Power,
    /// Resistance in ohms.
    Resistance,
    /// Dimensionless (magnetization components, swept parameters).
    Other,
}

impl VecKind {
    /// The type name ngspice writes in a raw file's `Variables:` section.
    pub fn raw_type(self) -> &'static str {
        match self {
            VecKind::Time => "time",
            VecKind::Voltage => "voltage",
            VecKind::Current => "current",
            VecKind::Temperature => "temperature",
            VecKind::Power => "power",
            VecKind::Resistance => "impedance",
            VecKind::Other => "notype",
        }
    }
    /// SI unit symbol for axis labels.
    pub fn unit(self) -> &'static str {
        match self {
            VecKind::Time => "s",
            VecKind::Voltage => "V",
            VecKind::Current => "A",
            VecKind::Temperature => "K",
            VecKind::Power => "W",
            VecKind::Resistance => "Ω",
            VecKind::Other => "",
        }
    }
}

/// One named data vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Vector {
    /// ngspice naming: `v(node)`, `i(vsrc)`, `mz(n1)`, `time`, `v-sweep`.
    pub name: String,
    pub kind: VecKind,
    pub data: Vec<f64>,
}

/// The result of one analysis: a scale vector (first) and the saved vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// Circuit title.
    pub title: String,
    /// ngspice plot name: `Operating Point`, `DC transfer characteristic`, `Transient Analysis`.
    pub name: String,
    pub scale: Vector,
    pub vectors: Vec<Vector>,
}

impl Plot {
    pub fn len(&self) -> usize {
        self.scale.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.scale.data.is_empty()
    }
    /// Vector by case-insensitive name (the scale included).
    pub fn get(&self, name: &str) -> Option<&Vector> {
        let lower = name.to_ascii_lowercase();
        std::iter::once(&self.scale)
            .chain(&self.vectors)
            .find(|v| v.name == lower)
    }
}

/// Counters printed in the run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    pub accepted_steps: usize,
    pub rejected_steps: usize,
    pub newton_iterations: usize,
    pub lu_factorizations: usize,
    /// Device evaluations skipped by `.options bypass=1` (0 when it is off).
    pub device_bypasses: usize,
    /// Device evaluations replaced by the last one because it is exact at the present
    /// voltages to within `devices::LATENCY_CURRENT_A` (cut-off transistors, always on).
    pub latent_devices: usize,
    /// Newton iterations that solved with the factors in hand instead of refactoring
    /// (`.options chordtol`).
    pub chord_iterations: usize,
    /// Newton iterations whose matrix and rhs were rebuilt only where evaluated devices
    /// stamp (a point's repeated iterations; the other devices kept their stamps).
    pub partial_assemblies: usize,
    pub wall_seconds: f64,
}
