//! What `sed` and `awk` programs do besides filtering text: run commands
//! (`sed 'e …'`, `s///e`, `awk 'system(…)'`, `print | "cmd"`), write files
//! (`sed 'w f'`, `awk 'print > "f"'`) and read files (`sed 'r f'`,
//! `getline < "f"`).
//!
//! Both scanners are conservative: they return [`Effect::Unparsed`] for a
//! program they cannot follow, and callers treat that as opaque.

/// One side effect of a `sed` or `awk` program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Runs a shell command; `None` when its text is computed at run time.
    Exec(Option<String>),
    /// Writes a file; `None` when the name is computed at run time.
    Write(Option<String>),
    /// Reads a file; `None` when the name is computed at run time.
    Read(Option<String>),
    /// The program could not be followed.
    Unparsed,
}

/// Side effects of a GNU `sed` script.
pub fn sed_effects(script: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    let rest_of_line = |i: &mut usize| -> String {
        let mut s = String::new();
        while let Some(c) = at(*i) {
            if c == '\n' {
                break;
            }
            s.push(c);
            *i += 1;
        }
        s.trim().to_string()
    };
    // Skip a regex (`regex`) or replacement delimited by `delim`; false at
    // end of input. In a regex a bracket expression may hold the delimiter.
    let skip_delimited = |i: &mut usize, delim: char, regex: bool| -> bool {
        while let Some(c) = at(*i) {
            *i += 1;
            if c == '\\' {
                *i += 1;
            } else if c == '[' && regex {
                if at(*i) == Some('^') {
                    *i += 1;
                }
                if at(*i) == Some(']') {
                    *i += 1;
                }
                loop {
                    match at(*i) {
                        None | Some('\n') => return false,
                        Some(']') => {
                            *i += 1;
                            break;
                        }
                        Some('[') if matches!(at(*i + 1), Some(':' | '.' | '=')) => {
                            // `[:alpha:]` inside the class.
                            *i += 2;
                            while let Some(d) = at(*i) {
                                *i += 1;
                                if d == ']' {
                                    break;
                                }
                            }
                        }
                        Some(_) => *i += 1,
                    }
                }
            } else if c == delim {
                return true;
            } else if c == '\n' && delim != '\n' {
                return false;
            }
        }
        false
    };
    while i < chars.len() {
        // Separators and blanks.
        while matches!(at(i), Some(c) if c.is_whitespace() || c == ';') {
            i += 1;
        }
        let Some(mut c) = at(i) else { break };
        if c == '#' {
            rest_of_line(&mut i);
            continue;
        }
        // Addresses: `N`, `$`, `/re/`, `\cREc`, ranges `a,b`, `first~step`, `!`.
        for _ in 0..2 {
            if c.is_ascii_digit() {
                while matches!(at(i), Some(d) if d.is_ascii_digit() || d == '~') {
                    i += 1;
                }
            } else if c == '$' {
                i += 1;
            } else if c == '/' || c == '\\' {
                let delim = if c == '\\' {
                    i += 1;
                    match at(i) {
                        Some(d) => d,
                        None => return vec![Effect::Unparsed],
                    }
                } else {
                    '/'
                };
                i += 1;
                if !skip_delimited(&mut i, delim, true) {
                    return vec![Effect::Unparsed];
                }
                while matches!(at(i), Some('I' | 'M')) {
                    i += 1;
                }
            }
            while matches!(at(i), Some(' ' | '\t')) {
                i += 1;
            }
            if at(i) == Some(',') {
                i += 1;
                while matches!(at(i), Some(' ' | '\t')) {
                    i += 1;
                }
                match at(i) {
                    Some('+' | '~') => {
                        i += 1;
                        c = at(i).unwrap_or(' ');
                    }
                    Some(n) => c = n,
                    None => return vec![Effect::Unparsed],
                }
                continue;
            }
            break;
        }
        while matches!(at(i), Some(' ' | '\t' | '!')) {
            i += 1;
        }
        let Some(cmd) = at(i) else { break };
        i += 1;
        match cmd {
            '{' => continue,
            '}' | '=' | 'd' | 'D' | 'g' | 'G' | 'h' | 'H' | 'n' | 'N' | 'p' | 'P' | 'x' | 'z'
            | 'F' => {}
            'q' | 'Q' | 'l' | 'L' => {
                while matches!(at(i), Some(d) if d.is_ascii_digit() || d == ' ') {
                    i += 1;
                }
            }
            ':' | 'b' | 't' | 'T' => {
                // Labels end at a newline, `;` or a blank (GNU).
                while matches!(at(i), Some(' ' | '\t')) {
                    i += 1;
                }
                while matches!(at(i), Some(d) if d != '\n' && d != ';' && d != ' ' && d != '\t') {
                    i += 1;
                }
                // Whatever follows the label is the next command.
                continue;
            }
            'a' | 'i' | 'c' => {
                // Text to the end of the line, continued by a trailing `\`.
                loop {
                    let line = rest_of_line(&mut i);
                    if line.ends_with('\\') && at(i) == Some('\n') {
                        i += 1;
                        continue;
                    }
                    break;
                }
            }
            'r' | 'R' => out.push(Effect::Read(Some(rest_of_line(&mut i)))),
            'w' | 'W' => out.push(Effect::Write(Some(rest_of_line(&mut i)))),
            'e' => {
                let mut c = rest_of_line(&mut i);
                // A trailing backslash continues the command on the next line.
                while c.ends_with('\\') && at(i) == Some('\n') {
                    i += 1;
                    c.pop();
                    c.push('\n');
                    c.push_str(&rest_of_line(&mut i));
                }
                out.push(Effect::Exec((!c.is_empty()).then_some(c)));
            }
            's' | 'y' => {
                let Some(delim) = at(i) else {
                    return vec![Effect::Unparsed];
                };
                if delim == '\n' || delim == '\\' {
                    return vec![Effect::Unparsed];
                }
                i += 1;
                if !skip_delimited(&mut i, delim, cmd == 's')
                    || !skip_delimited(&mut i, delim, false)
                {
                    return vec![Effect::Unparsed];
                }
                if cmd == 's' {
                    // Flags: g p i I m M e, a number, and `w FILE` last.
                    while let Some(f) = at(i) {
                        match f {
                            'g' | 'p' | 'i' | 'I' | 'm' | 'M' => i += 1,
                            d if d.is_ascii_digit() => i += 1,
                            'e' => {
                                // The pattern space is run as a command.
                                out.push(Effect::Exec(None));
                                i += 1;
                            }
                            'w' => {
                                i += 1;
                                out.push(Effect::Write(Some(rest_of_line(&mut i))));
                            }
                            _ => break,
                        }
                    }
                }
            }
            _ => return vec![Effect::Unparsed],
        }
        // After a command: blanks, then `;`, `}`, `#` or a newline.
        while matches!(at(i), Some(' ' | '\t')) {
            i += 1;
        }
        match at(i) {
            None | Some(';' | '\n' | '}' | '#') => {}
            Some(_) => return vec![Effect::Unparsed],
        }
    }
    out
}

/// Side effects of an `awk` program.
pub fn awk_effects(program: &str) -> Vec<Effect> {
    let toks = match awk_tokens(program) {
        Some(t) => t,
        None => return vec![Effect::Unparsed],
    };
    let mut out = Vec::new();
    let lit = |t: Option<&Tok>| match t {
        Some(Tok::Str(s)) => Some(s.clone()),
        _ => None,
    };
    // The string an expression starting at `toks[i]` makes: adjacent
    // literals concatenate (`".claude/" "settings.json"`); anything else
    // before the expression ends (`".github/" $3`) makes it unknown.
    let lit_at = |i: usize| -> Option<String> {
        let mut s = String::new();
        let mut j = i;
        while let Some(Tok::Str(x)) = toks.get(j) {
            s.push_str(x);
            j += 1;
        }
        if j == i {
            return None;
        }
        match toks.get(j) {
            None
            | Some(
                Tok::Punct(';' | '{' | '}' | '\n' | ')' | ',' | '>' | '<')
                | Tok::Pipe
                | Tok::Op
                | Tok::Append,
            ) => Some(s),
            _ => None,
        }
    };
    // Whether we are inside a print/printf statement (for `>` and `|`).
    let mut in_print = false;
    for (k, t) in toks.iter().enumerate() {
        let next = toks.get(k + 1);
        match t {
            Tok::Word(w) if w == "print" || w == "printf" => in_print = true,
            Tok::Word(w) if w == "system" && matches!(next, Some(Tok::Punct('('))) => {
                // `system("cmd")`: known only when the argument is one literal.
                let known = lit_at(k + 2);
                out.push(Effect::Exec(known));
            }
            Tok::Word(w) if w == "getline" => {
                // `getline < "file"`, `getline var < "file"`,
                // `getline $0 < "file"`, `getline a[i] < "file"`.
                let lt = (1..=6)
                    .map(|d| k + d)
                    .take_while(|j| {
                        !matches!(
                            toks.get(*j),
                            None | Some(Tok::Punct(';' | '}' | '\n' | ')'))
                        )
                    })
                    .find(|j| toks.get(*j) == Some(&Tok::Punct('<')))
                    .map(|j| j + 1);
                // `getline < a b` is `(getline < a) b`: only the first
                // string names the file.
                if let Some(j) = lt {
                    out.push(Effect::Read(lit(toks.get(j))));
                }
            }
            // awk reads the files ARGV names when the program starts: one
            // that changes ARGV (`ARGV[1] = ".env"`, `ARGV[ARGC++] = f`,
            // `split(s, ARGV)`, `sub(/x/, f, ARGV[1])`) reads files the
            // command line does not show.
            Tok::Word(w) if w == "ARGV" => {
                if let Some(file) = argv_changed(&toks, k) {
                    out.push(Effect::Read(file));
                }
            }
            Tok::Word(w) if w.starts_with('@') || w == "extension" => {
                out.push(Effect::Unparsed);
            }
            Tok::Punct(';' | '{' | '}' | '\n') => in_print = false,
            Tok::Pipe => {
                // `"cmd" | getline` runs the command before it; `print … |
                // "cmd"` the one after it.
                if matches!(next, Some(Tok::Word(w)) if w == "getline") {
                    // `"a" "b" | getline` runs the concatenation; anything
                    // else in the expression makes it unknown.
                    let mut j = k;
                    let mut parts = Vec::new();
                    while let Some(Tok::Str(x)) = j.checked_sub(1).and_then(|p| toks.get(p)) {
                        parts.push(x.clone());
                        j -= 1;
                    }
                    parts.reverse();
                    let starts_expression = j == 0
                        || matches!(
                            toks.get(j - 1),
                            Some(Tok::Punct(';' | '{' | '}' | '\n' | '(' | ',') | Tok::Op)
                        );
                    let known = (!parts.is_empty() && starts_expression).then(|| parts.concat());
                    out.push(Effect::Exec(known));
                } else if in_print {
                    out.push(Effect::Exec(lit_at(k + 1)));
                }
            }
            Tok::Punct('>') | Tok::Append if in_print => {
                out.push(Effect::Write(lit_at(k + 1)));
                in_print = false;
            }
            _ => {}
        }
    }
    out
}

/// Whether the `ARGV` at `toks[k]` is assigned to or handed to a function
/// that may change it (not `ARGV[i]` read, nor `for (i in ARGV)`): `None`
/// when it is not, else the file it now names when that is one literal
/// string (`ARGV[1] = ".env"`).
fn argv_changed(toks: &[Tok], k: usize) -> Option<Option<String>> {
    let prev = k.checked_sub(1).and_then(|p| toks.get(p));
    if toks.get(k + 1) != Some(&Tok::Punct('[')) {
        // The whole array as an argument: `split(s, ARGV)`.
        let passed = matches!(toks.get(k + 1), Some(Tok::Punct(',' | ')')))
            && !matches!(prev, Some(Tok::Word(w)) if w == "in")
            && called(toks, k) != Some("length");
        return passed.then_some(None);
    }
    let mut depth = 0usize;
    let mut j = k + 1;
    while let Some(t) = toks.get(j) {
        match t {
            Tok::Punct('[') => depth += 1,
            Tok::Punct(']') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        j += 1;
    }
    match (toks.get(j + 1), toks.get(j + 2)) {
        // `ARGV[i] = f`: the file, when `f` is one literal string.
        (Some(Tok::Punct('=')), Some(Tok::Str(f)))
            if matches!(toks.get(j + 3), None | Some(Tok::Punct(';' | '}' | '\n'))) =>
        {
            Some(Some(f.clone()))
        }
        (Some(Tok::Punct('=')), _) => Some(None),
        // `ARGV[i] += x`.
        (Some(Tok::Punct('+' | '-' | '*' | '/' | '%' | '^')), Some(Tok::Punct('='))) => Some(None),
        // The last argument of `sub`/`gsub`: `sub(/x/, f, ARGV[1])`.
        (Some(Tok::Punct(')')), _)
            if prev == Some(&Tok::Punct(','))
                && matches!(called(toks, k), Some(f) if f == "sub" || f == "gsub") =>
        {
            Some(None)
        }
        _ => None,
    }
}

/// The name of the function whose argument list holds `toks[k]`.
fn called(toks: &[Tok], k: usize) -> Option<&str> {
    let mut depth = 0usize;
    let mut j = k;
    while j > 0 {
        j -= 1;
        match toks.get(j)? {
            Tok::Punct(')') => depth += 1,
            Tok::Punct('(') if depth == 0 => {
                return match toks.get(j.checked_sub(1)?)? {
                    Tok::Word(w) => Some(w.as_str()),
                    _ => None,
                };
            }
            Tok::Punct('(') => depth -= 1,
            _ => {}
        }
    }
    None
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Regex,
    Num,
    Punct(char),
    /// `|` or `|&` (not `||`).
    Pipe,
    /// `>>`.
    Append,
    /// `||`, `&&`, `==`, `>=`, `<=`, `!=`, `~`, `!~` and other operators.
    Op,
}

fn awk_tokens(src: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        match c {
            ' ' | '\t' | '\r' => i += 1,
            '\\' if at(i + 1) == Some('\n') => i += 2,
            '#' => {
                while matches!(at(i), Some(d) if d != '\n') {
                    i += 1;
                }
            }
            '"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    match at(i)? {
                        '"' => break,
                        '\\' => {
                            let e = at(i + 1)?;
                            i += 2;
                            // Octal (`\156`) and hex (`\x6e`) escapes name
                            // characters: `".e\156v"` is `.env`.
                            let radix_digits = |start: usize, radix: u32, max: usize| {
                                let mut v: u32 = 0;
                                let mut n = 0;
                                while n < max {
                                    match at(start + n).and_then(|c| c.to_digit(radix)) {
                                        Some(d) => {
                                            v = v * radix + d;
                                            n += 1;
                                        }
                                        None => break,
                                    }
                                }
                                (v, n)
                            };
                            match e {
                                '0'..='7' => {
                                    let (v, n) = radix_digits(i - 1, 8, 3);
                                    s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                                    i += n - 1;
                                }
                                'x' => {
                                    let (v, n) = radix_digits(i, 16, 2);
                                    if n == 0 {
                                        s.push('x');
                                    } else {
                                        s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                                        i += n;
                                    }
                                }
                                'n' => s.push('\n'),
                                't' => s.push('\t'),
                                'r' => s.push('\r'),
                                other => s.push(other),
                            }
                        }
                        other => {
                            s.push(other);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Tok::Str(s));
            }
            '/' if regex_allowed(out.last()) => {
                i += 1;
                let mut in_class = false;
                loop {
                    match at(i)? {
                        '\\' => i += 2,
                        '[' => {
                            in_class = true;
                            i += 1;
                        }
                        ']' => {
                            in_class = false;
                            i += 1;
                        }
                        '/' if !in_class => break,
                        '\n' => return None,
                        _ => i += 1,
                    }
                }
                i += 1;
                out.push(Tok::Regex);
            }
            '|' => {
                if at(i + 1) == Some('|') {
                    out.push(Tok::Op);
                    i += 2;
                } else {
                    out.push(Tok::Pipe);
                    i += if at(i + 1) == Some('&') { 2 } else { 1 };
                }
            }
            '>' => match at(i + 1) {
                Some('>') => {
                    out.push(Tok::Append);
                    i += 2;
                }
                Some('=') => {
                    out.push(Tok::Op);
                    i += 2;
                }
                _ => {
                    out.push(Tok::Punct('>'));
                    i += 1;
                }
            },
            '<' | '=' | '!' | '&' if at(i + 1) == Some('=') || at(i + 1) == Some('&') => {
                out.push(Tok::Op);
                i += 2;
            }
            '~' => {
                out.push(Tok::Op);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == '@' => {
                let mut w = String::new();
                while let Some(d) = at(i) {
                    if d.is_ascii_alphanumeric() || d == '_' || d == '@' {
                        w.push(d);
                        i += 1;
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(w));
            }
            c if c.is_ascii_digit() || c == '.' => {
                while matches!(at(i), Some(d) if d.is_ascii_alphanumeric() || d == '.') {
                    i += 1;
                }
                out.push(Tok::Num);
            }
            other => {
                out.push(Tok::Punct(other));
                i += 1;
            }
        }
    }
    Some(out)
}

/// A `/` starts a regex unless it follows an operand (division).
fn regex_allowed(prev: Option<&Tok>) -> bool {
    match prev {
        None => true,
        Some(Tok::Word(w)) => matches!(
            w.as_str(),
            "print" | "printf" | "return" | "in" | "if" | "while" | "case"
        ),
        Some(Tok::Str(_) | Tok::Num | Tok::Regex) => false,
        // After `)`, `]`, `$`, `++`/`--` a `/` divides (`i++/2`).
        Some(Tok::Punct(')' | ']' | '$' | '+' | '-')) => false,
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Effect {
        Effect::Exec(Some(s.into()))
    }

    #[test]
    fn sed_scripts() {
        let cases: &[(&str, Vec<Effect>)] = &[
            ("s/a/b/g", vec![]),
            ("1,5p", vec![]),
            ("/^#/d; s|x|y|2", vec![]),
            ("s/[/]/x/", vec![]),
            ("s/[[:space:]]\\+$//", vec![]),
            (r"s/\//x/g", vec![]),
            ("1e rm -rf /", vec![e("rm -rf /")]),
            ("s/.*/rm -rf x/e", vec![Effect::Exec(None)]),
            ("w /tmp/out", vec![Effect::Write(Some("/tmp/out".into()))]),
            (
                "s/a/b/w .github/workflows/ci.yml",
                vec![Effect::Write(Some(".github/workflows/ci.yml".into()))],
            ),
            ("$r .env", vec![Effect::Read(Some(".env".into()))]),
            ("/start/,/end/{s/a/b/;p}", vec![]),
            ("y/abc/xyz/", vec![]),
            ("0~3d", vec![]),
            ("/x/!d", vec![]),
            ("a\\\nhello", vec![]),
            ("3i hello; w nothing", vec![]),
            (":a;N;$!ba;s/\\n/ /g", vec![]),
            ("s/x/y/ ; e", vec![Effect::Exec(None)]),
            ("1 W out.txt", vec![Effect::Write(Some("out.txt".into()))]),
            ("k", vec![Effect::Unparsed]),
        ];
        for (script, want) in cases {
            assert_eq!(&sed_effects(script), want, "sed script: {script}");
        }
    }

    #[test]
    fn awk_programs() {
        let cases: &[(&str, Vec<Effect>)] = &[
            ("{print $1}", vec![]),
            ("$3 > 10 {print $1 / 2}", vec![]),
            ("BEGIN{system(\"rm -rf /\")}", vec![e("rm -rf /")]),
            ("{system($0)}", vec![Effect::Exec(None)]),
            ("{print | \"sh\"}", vec![e("sh")]),
            ("{print $0 | cmd}", vec![Effect::Exec(None)]),
            ("BEGIN{\"date\" | getline d; print d}", vec![e("date")]),
            (
                "{print > \".github/workflows/ci.yml\"}",
                vec![Effect::Write(Some(".github/workflows/ci.yml".into()))],
            ),
            ("{print >> f}", vec![Effect::Write(None)]),
            (
                "BEGIN{while ((getline l < \".env\") > 0) print l}",
                vec![Effect::Read(Some(".env".into()))],
            ),
            ("/a|b/ {print}", vec![]),
            ("$1 == \"x\" || $2 ~ /y/ {n++} END {print n}", vec![]),
            ("@load \"x\"", vec![Effect::Unparsed]),
            ("{print \"unterminated}", vec![Effect::Unparsed]),
        ];
        for (prog, want) in cases {
            assert_eq!(&awk_effects(prog), want, "awk program: {prog}");
        }
    }
}
