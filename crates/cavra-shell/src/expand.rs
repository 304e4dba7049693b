//! Word expansion as far as it can be done statically: quote removal, ANSI-C
//! escapes, tilde, literal variables, `$IFS` splitting and brace expansion.
//! Anything that depends on run-time state marks the field non-literal.

use std::collections::HashMap;

use brush_parser::ParserOptions;
use brush_parser::word::{
    self, BraceExpressionMember, BraceExpressionOrText, Parameter, ParameterExpr,
    ParameterTransformOp, TildeExpr, WordPiece, WordPieceWithSource,
};

/// One field (argument) produced by expanding a word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Field {
    pub text: String,
    /// Statically known.
    pub literal: bool,
    /// Contains unquoted glob characters (pathname expansion would apply).
    pub glob: bool,
    /// Some part of the word was quoted (so an empty field is kept).
    pub quoted: bool,
    /// Stays exactly one word: every expansion whose value is unknown is
    /// inside double quotes and yields one word (`-m "$MSG"`, not `$MSG`,
    /// `"$@"` or `"${a[@]}"`). Only meaningful when not `literal`.
    pub whole: bool,
}

impl Field {
    fn new() -> Self {
        Field {
            literal: true,
            whole: true,
            ..Field::default()
        }
    }
}

/// The expansion of one word.
#[derive(Debug, Default)]
pub(crate) struct Expanded {
    pub fields: Vec<Field>,
    /// Command substitutions (`$(…)`, backquotes) whose bodies must be analysed.
    pub substitutions: Vec<String>,
    /// Constructs that may run code we cannot see.
    pub opaque: Vec<String>,
    /// Variables the expansion assigns (`${x:=v}`): their value afterwards
    /// is not known here.
    pub assigned: Vec<String>,
    /// Variables arithmetic assigns (`$((x=1))`, `((x++))`): a number not
    /// known here, which holds no code.
    pub numeric: Vec<String>,
}

/// Marks, in a variable map, a name whose unknown value is a number
/// (`NUMERIC_VAR` followed by the name), next to its [`UNKNOWN_VAR`] mark.
pub(crate) const NUMERIC_VAR: char = '\u{2}';

/// Variables bash sets by itself (`$_` is the last word of the previous
/// command, `$PWD` follows `cd`, `$BASH_REMATCH` the last `=~`): an
/// assignment on the line does not tell their value when read.
pub(crate) const BASH_SET: &[&str] = &[
    "_",
    "PWD",
    "OLDPWD",
    "BASH_REMATCH",
    "BASH_COMMAND",
    "BASH_SOURCE",
    "BASH_LINENO",
    "BASH_ARGV",
    "BASH_ARGC",
    "FUNCNAME",
    "MAPFILE",
    "REPLY",
    "OPTARG",
    "OPTIND",
    "COPROC",
    "DIRSTACK",
    "PIPESTATUS",
    "RANDOM",
    "SRANDOM",
    "SECONDS",
    "LINENO",
    "EPOCHSECONDS",
    "EPOCHREALTIME",
    "BASHPID",
    "HISTCMD",
];

/// Marks, in a variable map, a name assigned a value not known here:
/// `UNKNOWN_VAR` followed by the name (never a valid name itself).
pub(crate) const UNKNOWN_VAR: char = '\u{1}';

/// Most alternatives produced by one brace expansion.
const MAX_BRACE_ALTERNATIVES: usize = 256;

/// Deepest nesting of words inside parameter expansions and of variable
/// values inside arithmetic that is followed (`${a:-${b:-…}}`).
const MAX_INNER_DEPTH: usize = 16;

/// Command substitutions that evaluating arithmetic `text` would run: those
/// written in it (`$(( $(cmd) ))`, `a[$(cmd)]`) and those in the values of
/// the variables it names, which bash evaluates as expressions in turn
/// (`x='a[$(cmd)]'; echo $((x))` runs `cmd`).
pub(crate) fn arithmetic_code(text: &str, vars: &HashMap<String, String>) -> Expanded {
    let mut out = Expanded::default();
    arithmetic_into(text, vars, &ParserOptions::default(), &mut out, 0);
    out
}

fn arithmetic_into(
    text: &str,
    vars: &HashMap<String, String>,
    options: &ParserOptions,
    out: &mut Expanded,
    depth: usize,
) {
    if depth > MAX_INNER_DEPTH {
        out.opaque
            .push("arithmetic whose variables refer to each other too deeply".into());
        return;
    }
    if text.contains(['$', '`']) {
        // Bash reads arithmetic as if double-quoted: a single quote is an
        // ordinary character there, so `$(( 'a[$(cmd)]' ))` runs `cmd`.
        let unquoted = text.replace('\'', "");
        let fields = expand_inner(&unquoted, vars, options, out, depth + 1);
        // The expanded text is then evaluated as an expression: pieces
        // that only together spell `a[$(cmd)]` (`$p$q`) run `cmd` too.
        let joined: String = fields
            .iter()
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if fields.iter().all(|f| f.literal) && joined != text && holds_code(&joined) {
            arithmetic_into(&joined, vars, options, out, depth + 1);
        }
    }
    arithmetic_assignments(text, out);
    let mut seen: Vec<&str> = Vec::new();
    for name in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) || seen.contains(&name)
        {
            continue;
        }
        seen.push(name);
        // Text bash put there itself (`_`: the previous command's last
        // word; `BASH_REMATCH`: what `=~` matched) may hold `a[$(cmd)]`.
        if matches!(
            name,
            "_" | "BASH_REMATCH"
                | "BASH_COMMAND"
                | "MAPFILE"
                | "REPLY"
                | "OPTARG"
                | "PWD"
                | "OLDPWD"
                | "DIRSTACK"
                | "BASH_ARGV"
        ) {
            out.opaque
                .push(format!("arithmetic on `{name}`, which bash sets by itself"));
        } else if let Some(value) = vars.get(name)
            && value != name
            && value.contains(|c: char| !(c.is_ascii_digit() || c.is_whitespace()))
        {
            arithmetic_into(value, vars, options, out, depth + 1);
        } else if vars.contains_key(&format!("{UNKNOWN_VAR}{name}"))
            && !vars.contains_key(&format!("{NUMERIC_VAR}{name}"))
        {
            // Assigned on this line a value not known here (`x=$(…)`,
            // `x+=…`, an array): bash would evaluate it as an expression,
            // `a[$(cmd)]` running `cmd`.
            out.opaque.push(format!(
                "arithmetic on `{name}`, whose value is not known here and may hold code"
            ));
        }
    }
}

/// Names arithmetic text assigns (`x=1`, `x+=2`, `x++`, `--x`).
fn arithmetic_assignments(text: &str, out: &mut Expanded) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while b
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                i += 1;
            }
            let name = text.get(start..i).unwrap_or("");
            // Skip a subscript (`a[i]=1`).
            let mut j = i;
            if b.get(j) == Some(&b'[') {
                let mut depth = 0usize;
                while let Some(&c) = b.get(j) {
                    if c == b'[' {
                        depth += 1;
                    } else if c == b']' {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            j += 1;
                            break;
                        }
                    }
                    j += 1;
                }
            }
            let after = text.get(j..).unwrap_or("").trim_start();
            let before = text.get(..start).unwrap_or("").trim_end();
            let assigns = (after.starts_with('=') && !after.starts_with("=="))
                || after.starts_with("++")
                || after.starts_with("--")
                || ["+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="]
                    .iter()
                    .any(|op| after.starts_with(op))
                || before.ends_with("++")
                || before.ends_with("--");
            if assigns && !out.numeric.iter().any(|n| n == name) {
                out.numeric.push(name.to_string());
            }
        } else {
            i += 1;
        }
    }
}

/// Whether literal text would run a command if bash evaluated it as code
/// (`$(…)`, backquotes): a value stored in a variable or passed as a name
/// to a builtin that evaluates it (`printf -v 'a[$(cmd)]'`).
pub(crate) fn holds_code(text: &str) -> bool {
    text.contains("$(") || text.contains('`')
}

/// The substitutions in `text` parsed as an (unquoted) word.
pub(crate) fn word_code(text: &str, vars: &HashMap<String, String>) -> Expanded {
    let mut out = Expanded::default();
    let _ = expand_inner(text, vars, &ParserOptions::default(), &mut out, 1);
    out
}

pub(crate) fn expand_word(raw: &str, vars: &HashMap<String, String>) -> Expanded {
    let mut out = Expanded::default();
    let options = ParserOptions::default();
    if has_brace_candidate(raw) {
        if raw.contains(['\'', '"', '\\', '$', '`']) {
            // Brace expansion mixed with quoting: do not guess, mark uncertain.
            let mut e = expand_plain(raw, vars, &options, &mut out);
            for f in &mut e {
                f.glob = true;
            }
            out.fields.extend(e);
            return out;
        }
        if let Ok(Some(items)) = word::parse_brace_expansions(raw, &options) {
            let mut alternatives = vec![String::new()];
            let mut overflow = false;
            for item in &items {
                alternatives = product(&alternatives, &brace_item(item, &mut overflow));
                if overflow || alternatives.len() > MAX_BRACE_ALTERNATIVES {
                    overflow = true;
                    break;
                }
            }
            if overflow {
                out.fields.push(Field {
                    text: raw.to_string(),
                    literal: false,
                    glob: true,
                    quoted: false,
                    whole: false,
                });
                out.opaque
                    .push("a brace expansion too large to expand".into());
                return out;
            }
            for alt in alternatives {
                let fields = expand_plain(&alt, vars, &options, &mut out);
                out.fields.extend(fields);
            }
            return out;
        }
    }
    let fields = expand_plain(raw, vars, &options, &mut out);
    out.fields.extend(fields);
    out
}

/// [`expand_plain`] of a word nested `depth` deep in another.
fn expand_inner(
    raw: &str,
    vars: &HashMap<String, String>,
    options: &ParserOptions,
    out: &mut Expanded,
    depth: usize,
) -> Vec<Field> {
    if depth > MAX_INNER_DEPTH {
        out.opaque
            .push("words nested too deeply inside parameter expansions".into());
        return Vec::new();
    }
    expand_at(raw, vars, options, out, depth)
}

fn has_brace_candidate(raw: &str) -> bool {
    raw.contains('{') && raw.contains('}') && (raw.contains(',') || raw.contains(".."))
}

fn product(left: &[String], right: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(left.len().saturating_mul(right.len()));
    for l in left {
        for r in right {
            if out.len() > MAX_BRACE_ALTERNATIVES {
                return out;
            }
            out.push(format!("{l}{r}"));
        }
    }
    out
}

fn brace_item(item: &BraceExpressionOrText, overflow: &mut bool) -> Vec<String> {
    match item {
        BraceExpressionOrText::Text(t) => vec![t.clone()],
        BraceExpressionOrText::Expr(members) => {
            let mut out = Vec::new();
            for m in members {
                match m {
                    BraceExpressionMember::NumberSequence {
                        start,
                        end,
                        increment,
                    } => {
                        let step = increment.unsigned_abs().max(1);
                        let count = start.abs_diff(*end) / step + 1;
                        if count > MAX_BRACE_ALTERNATIVES as u64 {
                            *overflow = true;
                            return out;
                        }
                        let mut v = *start;
                        for _ in 0..count {
                            out.push(v.to_string());
                            v = if start <= end {
                                v.saturating_add(step as i64)
                            } else {
                                v.saturating_sub(step as i64)
                            };
                        }
                    }
                    BraceExpressionMember::CharSequence {
                        start,
                        end,
                        increment,
                    } => {
                        let (a, b) = (*start as u32, *end as u32);
                        let step = increment.unsigned_abs().clamp(1, u32::MAX as u64) as u32;
                        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                        if (hi - lo) / step > MAX_BRACE_ALTERNATIVES as u32 {
                            *overflow = true;
                            return out;
                        }
                        let mut c = lo;
                        while c <= hi {
                            if let Some(ch) = char::from_u32(c) {
                                out.push(ch.to_string());
                            }
                            c = c.saturating_add(step);
                            if step == 0 {
                                break;
                            }
                        }
                        if a > b {
                            out.reverse();
                        }
                    }
                    BraceExpressionMember::Child(children) => {
                        let mut alts = vec![String::new()];
                        for child in children {
                            alts = product(&alts, &brace_item(child, overflow));
                            if *overflow {
                                return out;
                            }
                        }
                        out.extend(alts);
                    }
                }
                if out.len() > MAX_BRACE_ALTERNATIVES {
                    *overflow = true;
                    return out;
                }
            }
            out
        }
    }
}

fn expand_plain(
    raw: &str,
    vars: &HashMap<String, String>,
    options: &ParserOptions,
    out: &mut Expanded,
) -> Vec<Field> {
    expand_at(raw, vars, options, out, 0)
}

fn expand_at(
    raw: &str,
    vars: &HashMap<String, String>,
    options: &ParserOptions,
    out: &mut Expanded,
    depth: usize,
) -> Vec<Field> {
    let pieces = match crate::guarded(|| word::parse(raw, options)) {
        Some(Ok(p)) => p,
        _ => {
            return vec![Field {
                text: raw.to_string(),
                literal: false,
                glob: false,
                quoted: false,
                whole: false,
            }];
        }
    };
    let mut st = State {
        fields: Vec::new(),
        cur: Field::new(),
        vars,
        out,
        depth,
    };
    st.pieces(&pieces, false);
    let State {
        mut fields, cur, ..
    } = st;
    if !cur.text.is_empty() || cur.quoted || !cur.literal {
        fields.push(cur);
    }
    fields
}

struct State<'a> {
    fields: Vec<Field>,
    cur: Field,
    vars: &'a HashMap<String, String>,
    out: &'a mut Expanded,
    /// How deep this word is nested inside parameter expansions.
    depth: usize,
}

impl State<'_> {
    fn pieces(&mut self, pieces: &[WordPieceWithSource], quoted: bool) {
        for p in pieces {
            self.piece(&p.piece, quoted);
        }
    }

    fn piece(&mut self, piece: &WordPiece, quoted: bool) {
        match piece {
            WordPiece::Text(t) => {
                if !quoted && is_glob_text(t) {
                    self.cur.glob = true;
                }
                self.cur.text.push_str(t);
            }
            WordPiece::SingleQuotedText(t) => {
                self.cur.quoted = true;
                self.cur.text.push_str(t);
            }
            WordPiece::AnsiCQuotedText(t) => {
                self.cur.quoted = true;
                self.cur.text.push_str(&ansi_c_unescape(t));
            }
            WordPiece::DoubleQuotedSequence(ps) | WordPiece::GettextDoubleQuotedSequence(ps) => {
                self.cur.quoted = true;
                self.pieces(ps, true);
            }
            WordPiece::TildeExpansion(t) => {
                let s = match t {
                    TildeExpr::Home => "~".to_string(),
                    TildeExpr::UserHome(u) => format!("~{u}"),
                    TildeExpr::WorkingDir => "~+".to_string(),
                    TildeExpr::OldWorkingDir => "~-".to_string(),
                    TildeExpr::NthDirFromTopOfDirStack { n, .. } => format!("~+{n}"),
                    TildeExpr::NthDirFromBottomOfDirStack { n } => format!("~-{n}"),
                };
                if !matches!(t, TildeExpr::Home | TildeExpr::UserHome(_)) {
                    self.cur.literal = false;
                }
                self.cur.text.push_str(&s);
            }
            WordPiece::ParameterExpansion(expr) => self.parameter(expr, quoted),
            WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                self.out.substitutions.push(s.clone());
                self.cur.literal = false;
                self.cur.whole &= quoted;
                self.cur.text.push_str("$(");
                self.cur.text.push_str(s);
                self.cur.text.push(')');
            }
            WordPiece::EscapeSequence(s) => {
                let rest = s.strip_prefix('\\').unwrap_or(s);
                if quoted {
                    if matches!(rest, "$" | "`" | "\"" | "\\") {
                        self.cur.text.push_str(rest);
                    } else if rest == "\n" {
                    } else {
                        self.cur.text.push_str(s);
                    }
                } else if rest != "\n" {
                    self.cur.quoted = true;
                    self.cur.text.push_str(rest);
                }
            }
            WordPiece::ArithmeticExpression(e) => {
                arithmetic_into(
                    &e.value,
                    self.vars,
                    &ParserOptions::default(),
                    self.out,
                    self.depth + 1,
                );
                self.cur.literal = false;
                self.cur.whole &= quoted;
                self.cur.text.push_str("$((");
                self.cur.text.push_str(&e.value);
                self.cur.text.push_str("))");
            }
        }
    }

    fn parameter(&mut self, expr: &ParameterExpr, quoted: bool) {
        self.inner_code(expr);
        let known = match expr {
            ParameterExpr::Parameter {
                parameter: Parameter::Named(name),
                indirect: false,
            } => self.lookup(name),
            _ => None,
        };
        match known {
            Some(value) => {
                if quoted {
                    self.cur.text.push_str(&value);
                } else {
                    // Unquoted expansion is split on IFS (default: blanks).
                    for c in value.chars() {
                        if matches!(c, ' ' | '\t' | '\n') {
                            if !self.cur.text.is_empty() || self.cur.quoted {
                                let done = std::mem::replace(&mut self.cur, Field::new());
                                self.fields.push(done);
                            }
                        } else {
                            if matches!(c, '*' | '?' | '[') {
                                self.cur.glob = true;
                            }
                            self.cur.text.push(c);
                        }
                    }
                }
            }
            None => {
                self.cur.literal = false;
                // Quoted, a plain parameter is one word; `"$@"`,
                // `"${a[@]}"` and the operators' words may be several.
                let single = matches!(
                    expr,
                    ParameterExpr::Parameter {
                        parameter: Parameter::Named(_)
                            | Parameter::Positional(_)
                            | Parameter::NamedWithIndex { .. },
                        indirect: false,
                    }
                );
                self.cur.whole &= quoted && single;
                self.cur
                    .text
                    .push_str(&format!("${{{}}}", param_name(expr)));
            }
        }
    }

    /// Analyses what a parameter expansion evaluates besides the value:
    /// the words of `${x:-word}`, `${x#pattern}`, `${x/a/b}`…, the
    /// arithmetic of subscripts and `${x:offset:length}`, and the value of
    /// `${x@P}`, which bash expands like a prompt (running its `$(…)`).
    fn inner_code(&mut self, expr: &ParameterExpr) {
        use ParameterExpr as P;
        let options = ParserOptions::default();
        let mut words: Vec<String> = Vec::new();
        let mut arithmetic: Vec<&str> = Vec::new();
        let parameter = parameter_of(expr);
        if let Some(Parameter::NamedWithIndex { index, .. }) = parameter {
            arithmetic.push(index);
        }
        // `${x:=v}` assigns x (when it was unset or empty).
        if let P::AssignDefaultValues { .. } = expr {
            let name = param_name(expr);
            let base = name.split('[').next().unwrap_or("").to_string();
            if !base.is_empty() && !self.out.assigned.contains(&base) {
                self.out.assigned.push(base);
            }
        }
        match expr {
            P::UseDefaultValues {
                default_value: Some(w),
                ..
            }
            | P::AssignDefaultValues {
                default_value: Some(w),
                ..
            }
            | P::IndicateErrorIfNullOrUnset {
                error_message: Some(w),
                ..
            }
            | P::UseAlternativeValue {
                alternative_value: Some(w),
                ..
            }
            | P::RemoveSmallestSuffixPattern {
                pattern: Some(w), ..
            }
            | P::RemoveLargestSuffixPattern {
                pattern: Some(w), ..
            }
            | P::RemoveSmallestPrefixPattern {
                pattern: Some(w), ..
            }
            | P::RemoveLargestPrefixPattern {
                pattern: Some(w), ..
            }
            | P::UppercaseFirstChar {
                pattern: Some(w), ..
            }
            | P::UppercasePattern {
                pattern: Some(w), ..
            }
            | P::LowercaseFirstChar {
                pattern: Some(w), ..
            }
            | P::LowercasePattern {
                pattern: Some(w), ..
            } => words.push(w.clone()),
            P::ReplaceSubstring {
                pattern,
                replacement,
                ..
            } => {
                words.push(pattern.clone());
                words.extend(replacement.iter().cloned());
            }
            P::Substring { offset, length, .. } => {
                arithmetic.push(&offset.value);
                if let Some(l) = length {
                    arithmetic.push(&l.value);
                }
            }
            P::Transform {
                op: ParameterTransformOp::PromptExpand,
                parameter,
                ..
            } => {
                let value = match parameter {
                    Parameter::Named(n) => self.lookup(n),
                    _ => None,
                };
                match value {
                    Some(v) => words.push(v),
                    None => self
                        .out
                        .opaque
                        .push("a prompt expansion (`@P`) of a value not known here".into()),
                }
            }
            _ => {}
        }
        for w in words.iter().filter(|w| w.contains(['$', '`'])) {
            let _ = expand_inner(w, self.vars, &options, self.out, self.depth + 1);
        }
        for a in arithmetic {
            arithmetic_into(a, self.vars, &options, self.out, self.depth + 1);
        }
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if BASH_SET.contains(&name) {
            return None;
        }
        if let Some(v) = self.vars.get(name) {
            return Some(v.clone());
        }
        match name {
            "IFS" => Some(" \t\n".to_string()),
            "HOME" => Some("~".to_string()),
            _ => None,
        }
    }
}

/// The parameter an expansion reads (`None` for `${!prefix*}` and
/// `${!array[@]}`).
fn parameter_of(expr: &ParameterExpr) -> Option<&Parameter> {
    use ParameterExpr as P;
    match expr {
        P::Parameter { parameter, .. }
        | P::UseDefaultValues { parameter, .. }
        | P::AssignDefaultValues { parameter, .. }
        | P::IndicateErrorIfNullOrUnset { parameter, .. }
        | P::UseAlternativeValue { parameter, .. }
        | P::ParameterLength { parameter, .. }
        | P::RemoveSmallestSuffixPattern { parameter, .. }
        | P::RemoveLargestSuffixPattern { parameter, .. }
        | P::RemoveSmallestPrefixPattern { parameter, .. }
        | P::RemoveLargestPrefixPattern { parameter, .. }
        | P::Substring { parameter, .. }
        | P::Transform { parameter, .. }
        | P::UppercaseFirstChar { parameter, .. }
        | P::UppercasePattern { parameter, .. }
        | P::LowercaseFirstChar { parameter, .. }
        | P::LowercasePattern { parameter, .. }
        | P::ReplaceSubstring { parameter, .. } => Some(parameter),
        P::VariableNames { .. } | P::MemberKeys { .. } => None,
    }
}

fn param_name(expr: &ParameterExpr) -> String {
    let Some(p) = parameter_of(expr) else {
        return "?".to_string();
    };
    p.to_string()
        .trim_start_matches('$')
        .trim_start_matches('{')
        .trim_end_matches('}')
        .to_string()
}

/// Decode the body of a `$'…'` string as bash does.
pub(crate) fn ansi_c_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'e' | 'E' => out.push('\x1b'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' | '\'' | '"' | '?' => out.push(e),
            'x' | 'u' | 'U' => {
                let max = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut n = 0u32;
                let mut digits = 0;
                while digits < max {
                    match chars.peek().and_then(|d| d.to_digit(16)) {
                        Some(d) => {
                            n = n * 16 + d;
                            digits += 1;
                            chars.next();
                        }
                        None => break,
                    }
                }
                if digits == 0 {
                    out.push('\\');
                    out.push(e);
                } else if let Some(ch) = char::from_u32(n) {
                    out.push(ch);
                }
            }
            '0'..='7' => {
                let mut n = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                if let Some(ch) = char::from_u32(n & 0xff) {
                    out.push(ch);
                }
            }
            'c' => {
                if let Some(x) = chars.next()
                    && let Some(ch) = char::from_u32((x as u32) & 0x1f)
                {
                    out.push(ch);
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// Whether unquoted text holds a pattern bash would expand: `*`, `?`, or a
/// `[` with a closing `]` after it (a lone `[`, the test command, is not).
fn is_glob_text(t: &str) -> bool {
    t.contains(['*', '?'])
        || t.find('[')
            .is_some_and(|i| t.get(i + 1..).is_some_and(|r| r.contains(']')))
}
