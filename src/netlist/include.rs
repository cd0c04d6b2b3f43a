//! `.include FILE` and `.lib FILE SECTION`: splicing other files' lines into the netlist.
//!
//! Owns: reading files (relative to the including file), caching them in the
//! [`SourceMap`], extracting `.lib SECTION` … `.endl` blocks, skipping section blocks that
//! were not asked for, and detecting include cycles and missing files/sections. Must not
//! interpret any other statement.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::lines::{self, Line, TokKind};
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};

/// Deepest chain of nested `.include` / `.lib`.
pub const MAX_DEPTH: usize = 64;

/// Reads files and expands include directives.
pub struct Loader<'a> {
    pub sources: &'a mut SourceMap,
    pub diags: &'a mut Diagnostics,
    cache: HashMap<PathBuf, (usize, Rc<Vec<Line>>)>,
    /// Files (and sections) being expanded, outermost first, with a display name.
    stack: Vec<(PathBuf, Option<String>, String)>,
}

/// Canonical form of a path for cycle detection and caching.
pub fn key(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl<'a> Loader<'a> {
    pub fn new(sources: &'a mut SourceMap, diags: &'a mut Diagnostics) -> Self {
        Loader {
            sources,
            diags,
            cache: HashMap::new(),
            stack: Vec::new(),
        }
    }

    /// Mark the top-level file as being expanded (so including it again is a cycle).
    pub fn enter_top(&mut self, path: &Path, display: &str) {
        self.stack.push((key(path), None, display.to_string()));
    }

    /// Read a non-top-level file (cached) and split it into lines.
    pub fn open(&mut self, path: &Path) -> Result<(usize, Rc<Vec<Line>>), String> {
        let k = key(path);
        if let Some(hit) = self.cache.get(&k) {
            return Ok(hit.clone());
        }
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let file = self.sources.add(path.display().to_string(), text.as_str());
        let split = lines::split(file, &text, false, self.diags);
        let entry = (file, Rc::new(split.lines));
        self.cache.insert(k, entry.clone());
        Ok(entry)
    }

    /// Expand `.include`/`.lib` in `lines` (of a file in `dir`) into `out`.
    pub fn expand(&mut self, lines: &[Line], dir: &Path, out: &mut Vec<Line>) {
        let mut i = 0;
        while i < lines.len() {
            let line = &lines[i];
            match line.head() {
                ".include" | ".inc" | ".incl" => self.include(line, dir, out),
                ".lib" if line.tokens.len() >= 3 => self.lib(line, dir, out),
                ".lib" if line.tokens.len() == 2 => {
                    // A section definition that nobody asked for: skip it.
                    match lines[i..].iter().position(|l| l.head() == ".endl") {
                        Some(n) => i += n,
                        None => {
                            self.diags.push(
                                Diagnostic::error(
                                    format!(
                                        "missing .endl for library section '{}'",
                                        line.tokens[1].text
                                    ),
                                    Some(line.tokens[1].span),
                                )
                                .with_help(
                                    "'.lib NAME' starts a library section; end it with '.endl', \
                                     or write '.lib FILE SECTION' to read a section of a library",
                                ),
                            );
                            return;
                        }
                    }
                }
                ".lib" => self.diags.push(
                    Diagnostic::error("expected .lib FILE SECTION", Some(line.end_span()))
                        .with_help("e.g. .lib models.lib tt"),
                ),
                ".endl" => self.diags.push(Diagnostic::warning(
                    "'.endl' outside a library section; ignored",
                    Some(line.tokens[0].span),
                )),
                _ => out.push(line.clone()),
            }
            i += 1;
        }
    }

    fn file_arg(&mut self, line: &Line, what: &str) -> Option<(String, Span)> {
        match line.tokens.get(1) {
            Some(t)
                if matches!(t.kind, TokKind::Word | TokKind::Expr | TokKind::Str)
                    && !t.text.is_empty() =>
            {
                Some((t.text.clone(), t.span))
            }
            other => {
                let sp = other.map_or_else(|| line.end_span(), |t| t.span);
                self.diags.push(
                    Diagnostic::error(format!("expected a file name after {what}"), Some(sp))
                        .with_help(format!("e.g. {what} models/mtj.lib")),
                );
                None
            }
        }
    }

    /// Resolve and open a file, reporting missing files, cycles and excessive depth.
    fn enter(
        &mut self,
        name: &str,
        span: Span,
        dir: &Path,
        section: Option<&str>,
    ) -> Option<(usize, Rc<Vec<Line>>, PathBuf)> {
        let path = dir.join(name);
        let k = key(&path);
        if self.stack.len() >= MAX_DEPTH {
            self.diags.push(Diagnostic::error(
                format!("includes nested more than {MAX_DEPTH} levels deep"),
                Some(span),
            ));
            return None;
        }
        let sec = section.map(str::to_string);
        if let Some(pos) = self.stack.iter().position(|(p, s, _)| *p == k && *s == sec) {
            let mut chain: Vec<&str> = self.stack[pos..]
                .iter()
                .map(|(_, _, d)| d.as_str())
                .collect();
            chain.push(name);
            self.diags.push(
                Diagnostic::error(
                    format!("include cycle: '{name}' is already being read"),
                    Some(span),
                )
                .with_help(format!("chain: {}", chain.join(" -> "))),
            );
            return None;
        }
        match self.open(&path) {
            Ok((file, lines)) => Some((file, lines, path)),
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(format!("cannot read '{name}': {e}"), Some(span)).with_help(
                        format!(
                            "looked for {} (paths are relative to the including file)",
                            path.display()
                        ),
                    ),
                );
                None
            }
        }
    }

    fn include(&mut self, line: &Line, dir: &Path, out: &mut Vec<Line>) {
        let Some((name, span)) = self.file_arg(line, ".include") else {
            return;
        };
        if let Some(extra) = line.tokens.get(2) {
            self.diags.push(Diagnostic::warning(
                "extra text after the file name is ignored",
                Some(extra.span),
            ));
        }
        let Some((_, lines, path)) = self.enter(&name, span, dir, None) else {
            return;
        };
        let sub_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.stack.push((key(&path), None, name));
        self.expand(&lines, &sub_dir, out);
        self.stack.pop();
    }

    fn lib(&mut self, line: &Line, dir: &Path, out: &mut Vec<Line>) {
        let Some((name, span)) = self.file_arg(line, ".lib") else {
            return;
        };
        let sec_tok = &line.tokens[2];
        let section = sec_tok.lower.clone();
        let Some((_, lines, path)) = self.enter(&name, span, dir, Some(&section)) else {
            return;
        };
        let Some(body) = self.section(&lines, &section, &name, sec_tok.span) else {
            return;
        };
        let sub_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.stack.push((
            key(&path),
            Some(section.clone()),
            format!("{name} {section}"),
        ));
        self.expand(body, &sub_dir, out);
        self.stack.pop();
    }

    /// The lines of `.lib SECTION` … `.endl` in a file, reporting a missing section at `at`.
    pub fn section<'l>(
        &mut self,
        lines: &'l [Line],
        section: &str,
        file: &str,
        at: Span,
    ) -> Option<&'l [Line]> {
        let is_header = |l: &Line| l.head() == ".lib" && l.tokens.len() == 2;
        let Some(start) = lines
            .iter()
            .position(|l| is_header(l) && l.tokens[1].lower == section)
        else {
            let names: Vec<&str> = lines
                .iter()
                .filter(|l| is_header(l))
                .map(|l| l.tokens[1].lower.as_str())
                .collect();
            let help = if names.is_empty() {
                format!("'{file}' defines no '.lib NAME' sections")
            } else {
                format!("sections in '{file}': {}", names.join(", "))
            };
            self.diags.push(
                Diagnostic::error(
                    format!("library section '{section}' not found in '{file}'"),
                    Some(at),
                )
                .with_help(help),
            );
            return None;
        };
        match lines[start + 1..].iter().position(|l| l.head() == ".endl") {
            Some(n) => Some(&lines[start + 1..start + 1 + n]),
            None => {
                self.diags.push(
                    Diagnostic::error(
                        format!("missing .endl for library section '{section}'"),
                        Some(lines[start].tokens[1].span),
                    )
                    .with_help("end the section with a '.endl' line"),
                );
                None
            }
        }
    }
}
