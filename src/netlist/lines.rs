//! Logical lines and tokens of one netlist file.
//!
//! Owns: the title line, `*` full-line comments, `;` and `$ ` inline comments, `+`
//! continuation lines, skipping `.control` … `.endc` blocks, stopping at `.end` (top-level
//! file only), and splitting each logical line into tokens with byte spans. Must not know
//! what any statement means.
//!
//! Tokens: words (anything up to whitespace or one of `( ) = , { } ' " ;`), `{…}` and `'…'`
//! expressions (one token each, braces may nest), `"…"` strings, and the punctuation
//! `(`, `)`, `=`, `,`.

use crate::diag::{Diagnostic, Diagnostics, Span};

/// Kind of a [`Token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    Word,
    /// `{…}` or `'…'`: `text` is the inside, `inner` its span.
    Expr,
    /// `"…"`: `text` is the inside.
    Str,
    LParen,
    RParen,
    Eq,
    Comma,
}

/// One token with its source span.
#[derive(Debug, Clone)]
pub struct Token {
    pub kind: TokKind,
    /// Original text (the inside for `Expr` and `Str`).
    pub text: String,
    /// `text` in ASCII lowercase.
    pub lower: String,
    /// The whole token, delimiters included.
    pub span: Span,
    /// The inside of `Expr`/`Str` tokens; equal to `span` otherwise.
    pub inner: Span,
}

impl Token {
    /// A word equal (case-insensitively) to `w`.
    pub fn is(&self, w: &str) -> bool {
        self.kind == TokKind::Word && self.lower == w
    }

    /// A `{expr}` token or a word that starts like a number (`1k`, `-2`, `.5`).
    pub fn looks_numeric(&self) -> bool {
        match self.kind {
            TokKind::Expr => true,
            TokKind::Word => {
                matches!(
                    self.text.as_bytes().first(),
                    Some(b'0'..=b'9' | b'.' | b'+' | b'-')
                )
            }
            _ => false,
        }
    }
}

/// One logical line (continuations joined): at least one token.
#[derive(Debug, Clone)]
pub struct Line {
    pub tokens: Vec<Token>,
    /// From the first token's start to the last token's end.
    pub span: Span,
}

impl Line {
    /// Lowercase text of the first token (`.model`, `r1`, ...).
    pub fn head(&self) -> &str {
        self.tokens.first().map_or("", |t| t.lower.as_str())
    }

    /// An empty span just after the last token: where something missing was expected.
    pub fn end_span(&self) -> Span {
        let e = self.tokens.last().map_or(self.span.end, |t| t.span.end);
        Span {
            file: self.span.file,
            start: e,
            end: e,
        }
    }

    /// The span of token `i`, or [`Line::end_span`] when the line is shorter.
    pub fn span_at(&self, i: usize) -> Span {
        self.tokens
            .get(i)
            .map_or_else(|| self.end_span(), |t| t.span)
    }
}

/// A `key=value` pair found by [`split_kv`].
#[derive(Debug, Clone, Copy)]
pub struct Kv<'l> {
    pub key: &'l Token,
    pub value: &'l Token,
}

/// Split tokens into positional tokens and single-token `key=value` pairs, in order.
/// A `=` without a word before it or a value after it is reported and skipped.
pub fn split_kv<'l>(toks: &'l [Token], diags: &mut Diagnostics) -> (Vec<&'l Token>, Vec<Kv<'l>>) {
    let mut pos = Vec::new();
    let mut kvs = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let next_is_eq = toks.get(i + 1).is_some_and(|n| n.kind == TokKind::Eq);
        if t.kind == TokKind::Word && next_is_eq {
            match toks.get(i + 2) {
                Some(v) if matches!(v.kind, TokKind::Word | TokKind::Expr | TokKind::Str) => {
                    kvs.push(Kv { key: t, value: v });
                    i += 3;
                }
                _ => {
                    let at = toks.get(i + 2).map_or(
                        Span {
                            file: t.span.file,
                            start: toks[i + 1].span.end,
                            end: toks[i + 1].span.end,
                        },
                        |v| v.span,
                    );
                    diags.push(
                        Diagnostic::error(
                            format!("expected a value after '{}='", t.text),
                            Some(at),
                        )
                        .with_help("write NAME=VALUE, e.g. w=1u or w={2*l}"),
                    );
                    i += 2;
                }
            }
        } else if t.kind == TokKind::Eq {
            diags.push(
                Diagnostic::error("unexpected '='", Some(t.span))
                    .with_help("write NAME=VALUE with a parameter name before '='"),
            );
            i += 1;
        } else {
            pos.push(t);
            i += 1;
        }
    }
    (pos, kvs)
}

/// The result of [`split`].
#[derive(Debug, Default)]
pub struct Split {
    /// The first line of a top-level file.
    pub title: Option<String>,
    pub lines: Vec<Line>,
}

/// Split one file into logical lines. `is_top`: the first line is the title and `.end`
/// ends the netlist. Lines with lexical errors are reported and dropped.
pub fn split(file: usize, text: &str, is_top: bool, diags: &mut Diagnostics) -> Split {
    let mut out = Split::default();
    let mut cur: Vec<Token> = Vec::new();
    let mut cur_bad = false;
    let mut in_control: Option<Span> = None;
    let mut offset = 0;
    for (idx, raw_nl) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw_nl.len();
        let raw = raw_nl.trim_end_matches(['\n', '\r']);
        let content_off = raw.len() - raw.trim_start().len();
        let content = &raw[content_off..];
        let first_word = content
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let word_span = Span {
            file,
            start: start + content_off,
            end: start + content_off + first_word.len(),
        };
        if is_top && idx == 0 {
            let t = raw.trim();
            if first_word == ".title" {
                out.title = Some(t.get(6..).unwrap_or("").trim().to_string());
            } else {
                if first_word.starts_with('.') {
                    diags.push(
                        Diagnostic::warning(
                            "the first line of a netlist is its title; this line is not read as a statement",
                            Some(word_span),
                        )
                        .with_help("start the netlist with a title or comment line"),
                    );
                }
                out.title = Some(t.to_string());
            }
            continue;
        }
        if in_control.is_some() {
            if first_word == ".endc" {
                in_control = None;
            }
            continue;
        }
        if content.is_empty() || content.starts_with('*') {
            continue;
        }
        if first_word == ".control" {
            finish(&mut cur, &mut cur_bad, &mut out.lines, diags);
            diags.push(Diagnostic::warning(
                "'.control' blocks are not supported yet; ignored up to '.endc'",
                Some(word_span),
            ));
            in_control = Some(word_span);
            continue;
        }
        if is_top && first_word == ".end" {
            break;
        }
        if let Some(rest) = content.strip_prefix('+') {
            let base = start + content_off + 1;
            if cur.is_empty() && !cur_bad {
                diags.push(
                    Diagnostic::error(
                        "continuation line ('+') with no line to continue",
                        Some(Span {
                            file,
                            start: base - 1,
                            end: base,
                        }),
                    )
                    .with_help("a '+' line continues the statement on the line above it"),
                );
                continue;
            }
            if !tokenize(rest, base, file, &mut cur, diags) {
                cur_bad = true;
            }
        } else {
            finish(&mut cur, &mut cur_bad, &mut out.lines, diags);
            if !tokenize(content, start + content_off, file, &mut cur, diags) {
                cur_bad = true;
            }
        }
    }
    finish(&mut cur, &mut cur_bad, &mut out.lines, diags);
    if let Some(sp) = in_control {
        diags.push(Diagnostic::warning(
            "'.control' block without '.endc'",
            Some(sp),
        ));
    }
    out
}

fn finish(cur: &mut Vec<Token>, bad: &mut bool, lines: &mut Vec<Line>, diags: &mut Diagnostics) {
    let tokens = std::mem::take(cur);
    let was_bad = std::mem::replace(bad, false);
    if was_bad || tokens.is_empty() || !parens_balanced(&tokens, diags) {
        return;
    }
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return;
    };
    let span = Span {
        file: first.span.file,
        start: first.span.start,
        end: last.span.end,
    };
    lines.push(Line { tokens, span });
}

fn parens_balanced(tokens: &[Token], diags: &mut Diagnostics) -> bool {
    let mut open: Vec<Span> = Vec::new();
    for t in tokens {
        match t.kind {
            TokKind::LParen => open.push(t.span),
            TokKind::RParen if open.pop().is_none() => {
                diags.push(
                    Diagnostic::error("unmatched ')'", Some(t.span))
                        .with_help("remove it or add the matching '('"),
                );
                return false;
            }
            _ => {}
        }
    }
    if let Some(sp) = open.first() {
        diags.push(Diagnostic::error("unmatched '('", Some(*sp)).with_help("close it with ')'"));
        return false;
    }
    true
}

fn is_special(c: char) -> bool {
    matches!(c, '(' | ')' | '=' | ',' | '{' | '}' | '\'' | '"' | ';')
}

/// Tokenize one physical line segment starting at byte `base` of the file.
/// Returns false (after reporting) on a lexical error.
fn tokenize(
    s: &str,
    base: usize,
    file: usize,
    out: &mut Vec<Token>,
    diags: &mut Diagnostics,
) -> bool {
    let sp = |a: usize, b: usize| Span {
        file,
        start: base + a,
        end: base + b,
    };
    let push = |out: &mut Vec<Token>, kind: TokKind, text: &str, span: Span, inner: Span| {
        out.push(Token {
            kind,
            text: text.to_string(),
            lower: text.to_ascii_lowercase(),
            span,
            inner,
        });
    };
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        let n = c.len_utf8();
        if c.is_whitespace() {
            i += n;
            continue;
        }
        match c {
            ';' => break,
            '$' if s[i + 1..].chars().next().is_none_or(char::is_whitespace) => break,
            '(' | ')' | '=' | ',' => {
                let kind = match c {
                    '(' => TokKind::LParen,
                    ')' => TokKind::RParen,
                    '=' => TokKind::Eq,
                    _ => TokKind::Comma,
                };
                push(out, kind, &s[i..i + 1], sp(i, i + 1), sp(i, i + 1));
                i += 1;
            }
            '{' => {
                let mut depth = 0usize;
                let mut end = None;
                for (k, ch) in s[i..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(i + k);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else {
                    diags.push(
                        Diagnostic::error("unmatched '{'", Some(sp(i, i + 1)))
                            .with_help("close the expression with '}' on the same line"),
                    );
                    return false;
                };
                push(
                    out,
                    TokKind::Expr,
                    &s[i + 1..end],
                    sp(i, end + 1),
                    sp(i + 1, end),
                );
                i = end + 1;
            }
            '}' => {
                diags.push(
                    Diagnostic::error("unmatched '}'", Some(sp(i, i + 1)))
                        .with_help("expressions are written {like * this}"),
                );
                return false;
            }
            '\'' | '"' => {
                let Some(len) = s[i + 1..].find(c) else {
                    diags.push(
                        Diagnostic::error(format!("unmatched {c}"), Some(sp(i, i + 1)))
                            .with_help(format!("close it with {c} on the same line")),
                    );
                    return false;
                };
                let end = i + 1 + len;
                let kind = if c == '"' {
                    TokKind::Str
                } else {
                    TokKind::Expr
                };
                push(out, kind, &s[i + 1..end], sp(i, end + 1), sp(i + 1, end));
                i = end + 1;
            }
            _ => {
                let mut j = i;
                while let Some(ch) = s[j..].chars().next() {
                    if ch.is_whitespace() || is_special(ch) {
                        break;
                    }
                    j += ch.len_utf8();
                }
                push(out, TokKind::Word, &s[i..j], sp(i, j), sp(i, j));
                i = j;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(l: &Line) -> Vec<&str> {
        l.tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn title_comments_continuation() {
        let text =
            "my title\n* comment\nR1 a b 1k ; trailing\n+ tc1=0 $ dollar comment\n\nC1 a 0 1p\n";
        let mut d = Diagnostics::default();
        let s = split(0, text, true, &mut d);
        assert_eq!(s.title.as_deref(), Some("my title"));
        assert_eq!(s.lines.len(), 2);
        assert_eq!(words(&s.lines[0]), ["R1", "a", "b", "1k", "tc1", "=", "0"]);
        assert_eq!(words(&s.lines[1]), ["C1", "a", "0", "1p"]);
        assert!(d.items.is_empty());
        // Spans point into the original text.
        let t = &s.lines[0].tokens[4];
        assert_eq!(&text[t.span.start..t.span.end], "tc1");
    }

    #[test]
    fn expressions_and_strings() {
        let mut d = Diagnostics::default();
        let s = split(
            0,
            "t\nR1 a b {2*(x+1)} 'y' \"f.lib\" v(a,b)=1\n",
            true,
            &mut d,
        );
        let k: Vec<TokKind> = s.lines[0].tokens.iter().map(|t| t.kind).collect();
        use TokKind::*;
        assert_eq!(
            k,
            [
                Word, Word, Word, Expr, Expr, Str, Word, LParen, Word, Comma, Word, RParen, Eq,
                Word
            ]
        );
        assert_eq!(s.lines[0].tokens[3].text, "2*(x+1)");
    }

    #[test]
    fn control_block_and_end() {
        let mut d = Diagnostics::default();
        let text = "t\nR1 a 0 1\n.control\nrun 'x\n.endc\n.end\nR2 b 0 1\n";
        let s = split(0, text, true, &mut d);
        assert_eq!(s.lines.len(), 1);
        assert_eq!(d.items.len(), 1);
        assert!(!d.has_errors());
    }

    #[test]
    fn lexical_errors() {
        let mut d = Diagnostics::default();
        let s = split(
            0,
            "t\nR1 a b {1+2\nR2 a b 1)\nR3 a b (1\n+ 2\n",
            true,
            &mut d,
        );
        assert!(s.lines.is_empty());
        assert_eq!(d.items.len(), 3);
    }

    #[test]
    fn continuation_without_line() {
        let mut d = Diagnostics::default();
        let _ = split(0, "+ a b\n", false, &mut d);
        assert!(d.has_errors());
    }
}
