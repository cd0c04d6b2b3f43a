//! Source positions and user-facing diagnostics.
//!
//! Every error a user can cause points at `file:line:col`, shows the line with a caret and
//! says what was expected. Spans are byte ranges into files held by a [`SourceMap`], so the
//! parser, the elaborator and the analyses can all report against the original text.

use std::fmt;
use std::sync::Arc;

/// A byte range in one file of a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: usize,
    pub start: usize,
    pub end: usize,
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as the user wrote it (or resolved relative to the including file).
    pub path: String,
    pub text: Arc<str>,
}

/// All files read while parsing a netlist (top level, `.include`, `.lib`).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    pub files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<Arc<str>>) -> usize {
        self.files.push(SourceFile {
            path: path.into(),
            text: text.into(),
        });
        self.files.len() - 1
    }

    /// 1-based (line, column) of a byte offset; column counts characters.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let Some(f) = self.files.get(span.file) else {
            return (0, 0);
        };
        let start = span.start.min(f.text.len());
        let before = &f.text[..floor_char_boundary(&f.text, start)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// The full text of the line containing `span.start` (without the newline).
    pub fn line_text(&self, span: Span) -> &str {
        let Some(f) = self.files.get(span.file) else {
            return "";
        };
        let start = floor_char_boundary(&f.text, span.start.min(f.text.len()));
        let line_start = f.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = f.text[start..]
            .find('\n')
            .map_or(f.text.len(), |i| start + i);
        f.text[line_start..line_end].trim_end_matches('\r')
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A message about the user's input, optionally located.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    /// What was expected / what to try.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Option<Span>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            help: None,
        }
    }
    pub fn warning(message: impl Into<String>, span: Option<Span>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            span,
            help: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Render as `file:line:col: error: message`, the line, a caret under the span, and help.
    pub fn render(&self, sources: &SourceMap) -> String {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = String::new();
        match self.span {
            Some(span) if span.file < sources.files.len() => {
                let (line, col) = sources.line_col(span);
                let path = &sources.files[span.file].path;
                out.push_str(&format!("{path}:{line}:{col}: {kind}: {}\n", self.message));
                let text = sources.line_text(span);
                let gutter = format!("{line}");
                out.push_str(&format!("{:w$} |\n", "", w = gutter.len()));
                out.push_str(&format!("{gutter} | {text}\n"));
                let width = {
                    let f = &sources.files[span.file].text;
                    let s = floor_char_boundary(f, span.start.min(f.len()));
                    let e = floor_char_boundary(f, span.end.min(f.len())).max(s);
                    f[s..e]
                        .split('\n')
                        .next()
                        .unwrap_or("")
                        .chars()
                        .count()
                        .max(1)
                };
                out.push_str(&format!(
                    "{:w$} | {:c$}{}\n",
                    "",
                    "",
                    "^".repeat(width),
                    w = gutter.len(),
                    c = col - 1
                ));
            }
            _ => out.push_str(&format!("{kind}: {}\n", self.message)),
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A batch of diagnostics with the sources they refer to; the error type of the front end.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn render(&self, sources: &SourceMap) -> String {
        self.items
            .iter()
            .map(|d| d.render(sources))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
