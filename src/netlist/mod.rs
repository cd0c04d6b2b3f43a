//! The netlist front end (ngspice dialect): text → flat [`Circuit`].
//!
//! Owns: everything between the user's files and [`Circuit`] — reading files, lexing,
//! `.include`/`.lib`, `.param` scopes and expressions, subcircuit flattening, element and
//! dot-command syntax, and the diagnostics for all of it (with `file:line:col` spans).
//! Must not know how elements are simulated. `docs/netlist.md` is the user reference.
//!
//! Inside, one job per file, in pipeline order:
//! [`lines`] (logical lines, tokens) → [`include`] (splice `.include`/`.lib`) →
//! [`subckt`] (group into bodies; flatten `X` lines) → `elaborate` (registries, order of the
//! pass) with [`params`]/[`expr`] (values), `model`, `elements`, `dot` → [`check`] (topology).

use std::collections::HashMap;
use std::path::Path;

use crate::circuit::{Circuit, Model};
use crate::diag::{Diagnostic, Diagnostics, SourceMap};

pub mod check;
mod dot;
mod elaborate;
mod elements;
pub mod expr;
pub mod include;
pub mod lines;
pub mod mc;
mod meas;
pub use meas::collect_refs;
mod model;
pub mod number;
pub mod params;
mod step;
pub mod subckt;

/// The result of loading a netlist. `circuit` is meaningful only when
/// `!diagnostics.has_errors()`; `sources` holds every file read, for rendering.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub circuit: Circuit,
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
}

impl Parsed {
    /// All diagnostics rendered (`file:line:col: error: ...`, the line, a caret, help).
    pub fn render_diagnostics(&self) -> String {
        self.diagnostics.render(&self.sources)
    }
}

/// Load a netlist file. `.include`/`.lib` paths are relative to the including file.
pub fn load(path: &Path) -> Parsed {
    let display = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let dir = path.parent().unwrap_or(Path::new(""));
            load_inner(&display, &text, dir, Some(path))
        }
        Err(e) => {
            let mut diagnostics = Diagnostics::default();
            diagnostics.push(
                Diagnostic::error(format!("cannot read netlist '{display}': {e}"), None)
                    .with_help("check the path"),
            );
            Parsed {
                diagnostics,
                ..Parsed::default()
            }
        }
    }
}

/// Load a netlist from text; `name` is used in diagnostics and `base_dir` resolves includes.
pub fn load_str(name: &str, text: &str, base_dir: &Path) -> Parsed {
    load_inner(name, text, base_dir, None)
}

fn load_inner(name: &str, text: &str, base_dir: &Path, path: Option<&Path>) -> Parsed {
    prepare_inner(name, text, base_dir, path).elaborate(&[], None)
}

/// A netlist read, split into lines and include-expanded once, ready to be elaborated many
/// times with different parameter values — one elaboration per sweep point, so a point
/// never re-reads or re-lexes files.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    title: Option<String>,
    flat: Vec<lines::Line>,
    pub sources: SourceMap,
    /// Diagnostics of reading and splitting (repeated in every elaboration).
    diagnostics: Diagnostics,
}

impl Prepared {
    /// Elaborate with top-level `.param` overrides; `mc_seed` seeds the Monte Carlo
    /// functions (`gauss`, `agauss`, ...; see [`mc`]), `None` gives nominal values.
    pub fn elaborate(&self, overrides: &[(String, f64)], mc_seed: Option<u64>) -> Parsed {
        let mut diagnostics = self.diagnostics.clone();
        let circuit = mc::with_seed(mc_seed, || {
            elaborate::run(
                self.title.clone(),
                &self.flat,
                &self.sources,
                overrides,
                &mut diagnostics,
            )
        });
        dedup(&mut diagnostics);
        Parsed {
            circuit,
            sources: self.sources.clone(),
            diagnostics,
        }
    }
}

impl Prepared {
    /// Whether a top-level `.param` line defines `name` (lowercase).
    pub fn has_top_param(&self, name: &str) -> bool {
        let mut d = Diagnostics::default();
        let body = subckt::build(&self.flat, &self.sources, &mut d);
        body.params.iter().any(|p| p.name == name)
    }
}

/// Most points one `.step` line or `--set` may produce.
pub fn step_max_points() -> usize {
    step::MAX_STEP_POINTS
}

/// Read a netlist file for repeated elaboration (see [`Prepared`]).
pub fn prepare(path: &Path) -> Prepared {
    let display = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let dir = path.parent().unwrap_or(Path::new(""));
            prepare_inner(&display, &text, dir, Some(path))
        }
        Err(e) => {
            let mut diagnostics = Diagnostics::default();
            diagnostics.push(
                Diagnostic::error(format!("cannot read netlist '{display}': {e}"), None)
                    .with_help("check the path"),
            );
            Prepared {
                diagnostics,
                ..Prepared::default()
            }
        }
    }
}

fn prepare_inner(name: &str, text: &str, base_dir: &Path, path: Option<&Path>) -> Prepared {
    let mut sources = SourceMap::default();
    let mut diagnostics = Diagnostics::default();
    let file = sources.add(name, text);
    let split = lines::split(file, text, true, &mut diagnostics);
    let mut flat = Vec::new();
    {
        let mut loader = include::Loader::new(&mut sources, &mut diagnostics);
        if let Some(p) = path {
            loader.enter_top(p, name);
        }
        loader.expand(&split.lines, base_dir, &mut flat);
    }
    Prepared {
        title: split.title,
        flat,
        sources,
        diagnostics,
    }
}

/// Drop repeated identical diagnostics (e.g. the same bad default in every instance).
fn dedup(d: &mut Diagnostics) {
    let mut seen = std::collections::HashSet::new();
    d.items
        .retain(|x| seen.insert((x.message.clone(), x.span, x.help.clone())));
}

/// Models of a `.lib` file section (or the whole file, outside any section, if `section` is
/// `None`), keyed by lowercase name — used by `mtjsim device LIB SECTION`. `.param` lines
/// of the same text are visible to the models; element lines are ignored.
pub fn load_models(
    path: &Path,
    section: Option<&str>,
) -> Result<(HashMap<String, Model>, SourceMap), (Diagnostics, SourceMap)> {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let mut flat = Vec::new();
    {
        let mut loader = include::Loader::new(&mut sources, &mut diags);
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let display = path.display().to_string();
        match loader.open(path) {
            Err(e) => loader.diags.push(
                Diagnostic::error(format!("cannot read model library '{display}': {e}"), None)
                    .with_help("check the path"),
            ),
            Ok((file, lines)) => {
                loader.enter_top(path, &display);
                match section {
                    None => loader.expand(&lines, &dir, &mut flat),
                    Some(sec) => {
                        let sec = sec.to_ascii_lowercase();
                        let at = crate::diag::Span {
                            file,
                            start: 0,
                            end: 0,
                        };
                        if let Some(body) = loader.section(&lines, &sec, &display, at) {
                            let body = body.to_vec();
                            loader.expand(&body, &dir, &mut flat);
                        }
                    }
                }
            }
        }
    }
    let body = subckt::build(&flat, &sources, &mut diags);
    let scope = params::Scope::new(None);
    for p in &body.params {
        scope.define(p, &mut diags);
    }
    scope.eval_all(&mut diags);
    let mut models = HashMap::new();
    for line in &body.models {
        if let Some((name, m)) = model::parse_model(line, &scope, "", &mut diags) {
            models.insert(name, m);
        }
    }
    dedup(&mut diags);
    if diags.has_errors() {
        Err((diags, sources))
    } else {
        Ok((models, sources))
    }
}

#[cfg(test)]
mod tests;
