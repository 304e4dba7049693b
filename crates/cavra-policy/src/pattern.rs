//! Path normalisation and the two pattern languages: gitignore-style path
//! globs and token-wise command patterns.

use std::borrow::Cow;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A path after normalisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormPath {
    /// What patterns are matched against: relative to the repository root
    /// when inside it, otherwise the absolute path without its leading `/`
    /// (or `~/…`).
    pub subject: String,
    /// The path as shown to people.
    pub display: String,
    /// The path is outside the repository root.
    pub outside_root: bool,
    /// An absolute path in a home directory (`/home/u/.aws/credentials`,
    /// `/root/.kube/config`, `/Users/u/.ssh/id_rsa`) as `~/…`, matched as
    /// well, so home-directory patterns hold however the path is written:
    /// agents send absolute paths. `None` inside a repository that lies
    /// below a home directory (those paths are the repository's).
    pub home_alias: Option<String>,
}

impl NormPath {
    /// The path as its `~/…` form, when it has one ([`NormPath::home_alias`]).
    pub fn home_form(&self) -> Option<NormPath> {
        self.home_alias.as_ref().map(|alias| NormPath {
            subject: alias.clone(),
            display: self.display.clone(),
            outside_root: true,
            home_alias: None,
        })
    }
}

/// The home directory an absolute, normalised path lies in (`/root`,
/// `/home/u`, `/Users/u`, `/var/home/u`) and the rest of the path.
fn home_of(abs: &str) -> Option<(&str, &str)> {
    let a = abs.strip_prefix('/')?;
    let user_home = |base: &str| -> Option<usize> {
        let r = a.strip_prefix(base)?;
        let user = r.split('/').next().unwrap_or("");
        (!user.is_empty()).then(|| base.len() + user.len())
    };
    let end = if a == "root" || a.starts_with("root/") {
        4
    } else {
        ["home/", "Users/", "var/home/"]
            .into_iter()
            .find_map(user_home)?
    };
    let home = abs.get(..end + 1)?;
    let rest = a.get(end..).unwrap_or("").trim_start_matches('/');
    Some((home, rest))
}

/// The `~/…` form of `abs` unless `root` lies below its home directory and
/// holds it.
fn home_alias(abs: &str, root: Option<&str>, inside_root: bool) -> Option<String> {
    let (home, rest) = home_of(abs)?;
    let root_below_home = root.is_some_and(|r| r.starts_with(&format!("{home}/")));
    if inside_root && root_below_home {
        return None;
    }
    Some(if rest.is_empty() {
        "~".to_string()
    } else {
        format!("~/{rest}")
    })
}

/// Normalise a path: strip `./`, collapse `//`, resolve `.` and `..`, make
/// paths inside `root` relative to it. A path that climbs above the root, an
/// absolute path elsewhere and a `~` path are `outside_root`.
pub fn normalize_path(
    raw: &str,
    cwd: Option<&str>,
    root: Option<&str>,
) -> Result<NormPath, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("path is empty".into());
    }
    if raw.contains('\0') {
        return Err("path contains a NUL byte".into());
    }
    let mut p = raw.replace('\\', "/");
    // Windows reaches a file by names Linux keeps apart: the data stream
    // (`.env::$DATA`) and components with trailing dots or blanks
    // (`.claude./settings.json`). Judged as the file they reach.
    if p.contains("::")
        || p.contains(". /")
        || p.contains("./")
        || p.ends_with('.')
        || p.contains(" /")
        || p.ends_with(' ')
    {
        p = p
            .split('/')
            .map(|c| {
                let c = match c.len().checked_sub(7) {
                    Some(at)
                        if c.get(at..)
                            .is_some_and(|t| t.eq_ignore_ascii_case("::$data")) =>
                    {
                        c.get(..at).unwrap_or(c)
                    }
                    _ => c,
                };
                if c.chars().all(|ch| ch == '.') {
                    c
                } else {
                    c.trim_end_matches(['.', ' '])
                }
            })
            .collect::<Vec<_>>()
            .join("/");
    }
    // `C:/x` (Windows drive paths) are absolute: `/c/x`.
    let bytes = p.as_bytes();
    if bytes.len() >= 2
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.get(1) == Some(&b':')
    {
        let drive = p.get(..1).unwrap_or("").to_ascii_lowercase();
        p = format!(
            "/{drive}/{}",
            p.get(2..).unwrap_or("").trim_start_matches('/')
        );
    }
    // `~user/x` is another user's home (bash expands `~root` to `/root`):
    // judged like `~/x`, so home-directory patterns cover every home.
    if let Some(rest) = p.strip_prefix('~') {
        let (user, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let login = !user.is_empty()
            && !matches!(user, "+" | "-")
            && user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if login {
            let tail = lexical(tail).0;
            let (subject, display) = if tail.is_empty() {
                ("~".to_string(), format!("~{user}"))
            } else {
                (format!("~/{tail}"), format!("~{user}/{tail}"))
            };
            return Ok(NormPath {
                subject,
                display,
                outside_root: true,
                home_alias: None,
            });
        }
    }
    if p == "~" || p.starts_with("~/") || (p.starts_with('~') && !p.contains('/')) {
        let rest = lexical(p.trim_start_matches('~').trim_start_matches('/'));
        let display = if rest.0.is_empty() {
            "~".to_string()
        } else {
            format!("~/{}", rest.0)
        };
        return Ok(NormPath {
            subject: display.clone(),
            display,
            outside_root: true,
            home_alias: None,
        });
    }
    let root = root
        .map(|r| lexical(r.trim_end_matches('/')).0)
        .filter(|r| !r.is_empty());
    let absolute = if p.starts_with('/') {
        Some(lexical(&p).0)
    } else {
        cwd.filter(|c| c.starts_with('/'))
            .map(|cwd| lexical(&format!("{cwd}/{p}")).0)
    };
    match absolute {
        Some(abs) => {
            if let Some(root) = &root {
                let root_rel = root.trim_start_matches('/');
                let abs_rel = abs.trim_start_matches('/');
                if abs_rel == root_rel {
                    return Ok(NormPath {
                        subject: ".".into(),
                        display: ".".into(),
                        outside_root: false,
                        home_alias: home_alias(&abs, Some(root), true),
                    });
                }
                if let Some(rest) = abs_rel.strip_prefix(&format!("{root_rel}/")) {
                    return Ok(NormPath {
                        subject: rest.to_string(),
                        display: rest.to_string(),
                        outside_root: false,
                        home_alias: home_alias(&abs, Some(root), true),
                    });
                }
            }
            let subject = abs.trim_start_matches('/').to_string();
            Ok(NormPath {
                subject,
                home_alias: home_alias(&abs, None, false),
                display: abs,
                outside_root: true,
            })
        }
        None => {
            let (norm, escaped) = lexical(&p);
            let subject = if norm.is_empty() {
                ".".to_string()
            } else {
                norm
            };
            Ok(NormPath {
                display: subject.clone(),
                subject,
                outside_root: escaped,
                home_alias: None,
            })
        }
    }
}

/// Lexically resolve `.`, `..` and empty components. Returns the path and
/// whether `..` climbed above the start.
fn lexical(p: &str) -> (String, bool) {
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    let mut escaped = false;
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    escaped = true;
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        (format!("/{joined}"), false)
    } else {
        (joined, escaped)
    }
}

/// A list of gitignore-style path patterns compiled into one matcher.
///
/// [`PathPatterns::new`] parses (and so validates) every glob;
/// [`PathPatterns::lazy`], used when compiling a pack that already
/// validated, only translates them. The combined matcher is built on first
/// use, because building every matcher of a pack costs a hook process more
/// than the decision itself and one action only needs a few of them. Should
/// the combined matcher not build, every pattern counts as matching (fail
/// closed for the deny lists the engine consults first).
///
/// Lists that block or gate ([`PathPatterns::folding_case`]) match without
/// regard to case: on the case-insensitive file systems of macOS and
/// Windows `.ENV` is `.env` and `.GitHub/Workflows/ci.yml` is the workflow.
/// Lists that allow or exempt match as written.
#[derive(Clone, Debug)]
pub struct PathPatterns {
    pub patterns: Vec<String>,
    anchored: Vec<bool>,
    /// Match without regard to case (globs are stored lower-cased).
    fold: bool,
    /// `**/x` patterns also match absolute paths outside the repository
    /// (the built-in self-protection: hook settings of any checkout).
    anywhere: bool,
    /// Translated globs, each with the index of its pattern.
    globs: Vec<(String, usize)>,
    set: std::sync::OnceLock<Option<GlobSet>>,
}

fn build_glob(g: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(g)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

impl PathPatterns {
    /// Translates and validates every pattern.
    pub fn new(patterns: &[String]) -> Result<PathPatterns, (usize, String)> {
        let pp = PathPatterns::lazy(patterns)?;
        for (g, i) in &pp.globs {
            build_glob(g).map_err(|e| {
                let raw = patterns.get(*i).map(String::as_str).unwrap_or("");
                (*i, format!("invalid glob `{raw}`: {}", e.kind()))
            })?;
        }
        Ok(pp)
    }

    /// Translates the patterns; globs are parsed on first use.
    pub fn lazy(patterns: &[String]) -> Result<PathPatterns, (usize, String)> {
        let mut globs = Vec::new();
        let mut anchored = Vec::new();
        for (i, raw) in patterns.iter().enumerate() {
            let (translated, is_anchored) = translate_path_pattern(raw).map_err(|e| (i, e))?;
            globs.extend(translated.into_iter().map(|g| (g, i)));
            anchored.push(is_anchored);
        }
        Ok(PathPatterns {
            patterns: patterns.to_vec(),
            anchored,
            fold: false,
            anywhere: false,
            globs,
            set: std::sync::OnceLock::new(),
        })
    }

    /// The same patterns, whose `**/x` also match outside the repository.
    pub fn anywhere(self) -> PathPatterns {
        PathPatterns {
            anywhere: true,
            ..self
        }
    }

    /// The same patterns, matching without regard to case.
    pub fn folding_case(self) -> PathPatterns {
        PathPatterns {
            globs: self
                .globs
                .into_iter()
                .map(|(g, i)| (g.to_lowercase(), i))
                .collect(),
            fold: true,
            set: std::sync::OnceLock::new(),
            ..self
        }
    }

    /// `s` as this list compares it: lower-cased when it folds case.
    fn folded<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.fold && s.chars().any(char::is_uppercase) {
            Cow::Owned(s.to_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The combined matcher, built on first use.
    fn set(&self) -> Option<&GlobSet> {
        self.set
            .get_or_init(|| {
                let mut b = GlobSetBuilder::new();
                for (g, _) in &self.globs {
                    b.add(build_glob(g).ok()?);
                }
                b.build().ok()
            })
            .as_ref()
    }

    /// The first pattern (in list order) matching `path`.
    pub fn first_match(&self, path: &NormPath) -> Option<&str> {
        self.all_matches(path)
            .first()
            .and_then(|i| self.patterns.get(*i))
            .map(String::as_str)
    }

    /// Indices of every pattern matching `path`, ascending.
    pub fn all_matches(&self, path: &NormPath) -> Vec<usize> {
        if self.patterns.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<usize> = Vec::new();
        // A `~/…` path is also matched relative to the home directory, so
        // `.aws/credentials` and `.kube/config` protect the home files.
        let Some(set) = self.set() else {
            return (0..self.patterns.len()).collect();
        };
        let subject = self.folded(&path.subject);
        let mut hits = set.matches(subject.as_ref());
        if let Some(home_rel) = subject.strip_prefix("~/") {
            hits.extend(set.matches(home_rel));
        }
        // Hits through the `~/…` form hold like those of a `~/…` path.
        let mut home_hits = Vec::new();
        if let Some(alias) = &path.home_alias {
            let alias = self.folded(alias);
            home_hits.extend(set.matches(alias.as_ref()));
            if let Some(home_rel) = alias.strip_prefix("~/") {
                home_hits.extend(set.matches(home_rel));
            }
        }
        for pi in home_hits
            .iter()
            .filter_map(|gi| self.globs.get(*gi).map(|g| g.1))
        {
            out.push(pi);
        }
        for gi in hits {
            let Some(&(_, pi)) = self.globs.get(gi) else {
                continue;
            };
            if path.outside_root
                && self.anchored.get(pi).copied().unwrap_or(true)
                && !path.subject.starts_with('~')
            {
                // Anchored patterns are relative to the repository root; for
                // absolute paths outside it only patterns written as absolute
                // paths apply.
                let pat = self.patterns.get(pi).map(String::as_str).unwrap_or("");
                let anywhere = self.anywhere && pat.trim_start().starts_with("**/");
                if !(pat.starts_with('/') || anywhere) {
                    continue;
                }
            }
            out.push(pi);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether an operation on everything below `dir` (`rm -r DIR`, `mv DIR`,
    /// `cp -r DIR`) could reach a path one of these patterns matches;
    /// returns that pattern. Only anchored patterns count: a name matched at
    /// any depth (`.env`) could sit below any directory, and judging every
    /// recursive operation by it would flag them all.
    pub fn tree_could_match(&self, dir: &NormPath) -> Option<&str> {
        if let Some(home) = dir.home_form()
            && let Some(p) = self.tree_could_match(&home)
        {
            return Some(p);
        }
        let folded = self.folded(&dir.subject);
        let subject = folded.as_ref();
        let mut bases: Vec<&str> = vec![subject];
        if let Some(home_rel) = subject.strip_prefix("~/") {
            bases.push(home_rel);
        } else if subject == "~" {
            bases.push(".");
        }
        for (i, raw) in self.patterns.iter().enumerate() {
            if !self.anchored.get(i).copied().unwrap_or(true) {
                continue;
            }
            let p = raw.trim();
            let p = p.strip_prefix("./").unwrap_or(p);
            if p.trim_start_matches('/').starts_with("**") {
                // `**/x` matches at any depth, like an unanchored name.
                continue;
            }
            if dir.outside_root && !subject.starts_with('~') && !p.starts_with('/') {
                // Relative anchored patterns apply inside the repository.
                continue;
            }
            for base in &bases {
                // Everything below `base` is the glob `base/**`.
                let below: Vec<&str> = base
                    .split('/')
                    .filter(|c| !c.is_empty() && *c != ".")
                    .chain(["**"])
                    .collect();
                let reaches = self.globs.iter().filter(|(_, gi)| *gi == i).any(|(g, _)| {
                    let pat: Vec<&str> = g.split('/').filter(|c| !c.is_empty()).collect();
                    globs_intersect(&below, &pat)
                });
                if reaches {
                    return Some(raw.as_str());
                }
            }
        }
        None
    }

    /// A pattern naming a hidden file or directory at any depth (`.env`,
    /// `.env.*`, `**/.npmrc`): such files sit at the top of a repository
    /// or home directory, so reading everything below one reads them.
    pub fn hidden_name(&self) -> Option<&str> {
        self.patterns.iter().enumerate().find_map(|(i, raw)| {
            let p = raw.trim();
            let p = p.strip_prefix("./").unwrap_or(p).trim_start_matches('/');
            let any_depth = !self.anchored.get(i).copied().unwrap_or(true) || p.starts_with("**/");
            let name = p.trim_start_matches("**/");
            (any_depth && name.starts_with('.')).then_some(raw.as_str())
        })
    }

    /// Whether a shell glob operand (`.e*`, `~/.ssh/id_*`, `infra/*/main.tf`),
    /// normalised like a path, could name a path one of these patterns
    /// matches; returns that pattern. The answer errs towards yes.
    pub fn glob_could_match(&self, operand: &NormPath) -> Option<&str> {
        if let Some(home) = operand.home_form()
            && let Some(p) = self.glob_could_match(&home)
        {
            return Some(p);
        }
        let folded = self.folded(&operand.subject);
        let subject = folded.as_ref();
        let mut subjects = vec![subject];
        if let Some(home_rel) = subject.strip_prefix("~/") {
            subjects.push(home_rel);
        }
        for (k, (g, pi)) in self.globs.iter().enumerate() {
            let raw = self.patterns.get(*pi).map(String::as_str).unwrap_or("");
            // Every pattern also matches below a directory of that name
            // (`CODEOWNERS/…`); unless the pattern was written as a
            // directory (`.ssh/`), that reading would make every glob with
            // `**` suspect, so it is not used here.
            let dir_variant = k > 0 && self.globs.get(k - 1).is_some_and(|(_, prev)| prev == pi);
            if dir_variant && !raw.trim().ends_with('/') {
                continue;
            }
            if operand.outside_root
                && self.anchored.get(*pi).copied().unwrap_or(true)
                && !subject.starts_with('~')
                && !raw.trim().starts_with('/')
            {
                continue;
            }
            let pat: Vec<&str> = g.split('/').filter(|c| !c.is_empty()).collect();
            for s in &subjects {
                let ops: Vec<&str> = s
                    .split('/')
                    .filter(|c| !c.is_empty() && *c != ".")
                    .collect();
                if globs_intersect(&ops, &pat) {
                    return Some(raw);
                }
            }
        }
        None
    }
}

/// Representative paths a glob matches: every wildcard filled with nothing
/// and with `x` (`?` and classes with one character). `**` components are
/// dropped; a component left empty becomes `x`. With `tail`, a trailing `**`
/// stands for a file `x` below.
fn witnesses(glob: &str, tail: bool) -> Vec<String> {
    let comps: Vec<&str> = glob.split('/').filter(|c| !c.is_empty()).collect();
    let last = comps.len().saturating_sub(1);
    let mut out = Vec::new();
    for fill in ["", "x"] {
        let mut parts: Vec<String> = Vec::new();
        for (i, c) in comps.iter().enumerate() {
            if *c == "**" {
                if tail && i == last {
                    parts.push("x".into());
                }
                continue;
            }
            let mut w = String::new();
            let mut chars = c.chars().peekable();
            while let Some(ch) = chars.next() {
                match ch {
                    '*' => w.push_str(fill),
                    '?' => w.push('x'),
                    '[' => {
                        // The first character the class admits (or `x` for a
                        // negated class).
                        let negated = matches!(chars.peek(), Some('!' | '^'));
                        if negated {
                            chars.next();
                        }
                        let mut first = None;
                        for k in chars.by_ref() {
                            if k == ']' && first.is_some() {
                                break;
                            }
                            first.get_or_insert(k);
                        }
                        w.push(if negated { 'x' } else { first.unwrap_or('x') });
                    }
                    '\\' => {
                        if let Some(k) = chars.next() {
                            w.push(k);
                        }
                    }
                    '{' | '}' => {}
                    _ => w.push(ch),
                }
            }
            parts.push(if w.is_empty() { "x".into() } else { w });
        }
        out.push(parts.join("/"));
    }
    out.dedup();
    out
}

impl PathPatterns {
    /// Whether a search confined to the glob `operand` (a search tool's file
    /// filter, as `DIR/**/*.pem`) is aimed at a path these patterns
    /// protect; returns that pattern. Aimed means the filter matches a
    /// representative protected path below its directory (`*.p?m` matches
    /// `x.pem`), or a protected pattern matches a representative path of the
    /// filter (`.env*` gives `.env`). Unlike [`Self::glob_could_match`], a
    /// filter that merely could include a protected file (`*.rs` and
    /// `secrets.rs`) is not aimed: the unfiltered search of the directory
    /// reads those too.
    pub fn search_could_target(&self, operand: &NormPath) -> Option<&str> {
        let folded = self.folded(&operand.subject);
        let subject = folded.as_ref();
        let Ok(filter) = build_glob(subject).map(|g| g.compile_matcher()) else {
            // A filter globset cannot read is judged by intersection.
            return self.glob_could_match(operand);
        };
        // The literal directory the search starts in.
        let base: Vec<&str> = subject
            .split('/')
            .take_while(|c| !c.contains(['*', '?', '[', '{']))
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let base = base.join("/");
        let op_witnesses = witnesses(subject, false);
        for (k, (g, pi)) in self.globs.iter().enumerate() {
            let raw = self.patterns.get(*pi).map(String::as_str).unwrap_or("");
            let dir_variant = k > 0 && self.globs.get(k - 1).is_some_and(|(_, prev)| prev == pi);
            if dir_variant && !raw.trim().ends_with('/') {
                continue;
            }
            let anchored = self.anchored.get(*pi).copied().unwrap_or(true);
            if operand.outside_root && anchored && !raw.trim().starts_with('/') {
                continue;
            }
            let Ok(pattern) = build_glob(g).map(|g| g.compile_matcher()) else {
                return Some(raw);
            };
            if op_witnesses.iter().any(|w| pattern.is_match(w)) {
                return Some(raw);
            }
            let unanchored = !anchored || g.starts_with("**/");
            for w in witnesses(g, true) {
                let candidate = if unanchored && !base.is_empty() {
                    format!("{base}/{w}")
                } else {
                    w
                };
                if filter.is_match(&candidate) {
                    return Some(raw);
                }
            }
        }
        None
    }
}

/// Translate one gitignore-style pattern into globset globs.
fn translate_path_pattern(raw: &str) -> Result<(Vec<String>, bool), String> {
    let p = raw.trim();
    if p.is_empty() {
        return Err("empty path pattern".into());
    }
    if p.starts_with('!') {
        return Err(format!(
            "negated pattern `{raw}` is not supported; use `unless` on a rule"
        ));
    }
    if p.contains('\0') {
        return Err("path pattern contains a NUL byte".into());
    }
    let p = p.strip_prefix("./").unwrap_or(p);
    let trimmed = p.trim_end_matches('/');
    let inner = trimmed.trim_start_matches('/');
    let anchored = trimmed.starts_with('/') || inner.contains('/');
    let base = if p.starts_with('/') && !inner.starts_with("**") {
        // Absolute pattern: keep it absolute (matched against paths outside
        // the root without their leading slash) and also relative.
        inner.to_string()
    } else if anchored {
        inner.to_string()
    } else {
        format!("**/{inner}")
    };
    let mut globs = vec![base.clone()];
    if !base.ends_with("/**") {
        globs.push(format!("{base}/**"));
    }
    Ok((globs, anchored))
}

/// Whether two globs, split into path components, could match one common
/// path. `**` matches any number of components; two single components are
/// compared by their literal prefix and suffix around the wildcards, which
/// over-approximates (never answers no when a common name exists).
fn globs_intersect(a: &[&str], b: &[&str]) -> bool {
    // Bounded work on hostile input: a very deep glob could match anything.
    if a.len() > 64 || b.len() > 64 {
        return true;
    }
    // memo[i][j]: a[i..] and b[j..] can still meet (None: not computed).
    let mut memo = vec![vec![None; b.len() + 1]; a.len() + 1];
    intersect_from(a, b, 0, 0, &mut memo)
}

fn intersect_from(
    a: &[&str],
    b: &[&str],
    i: usize,
    j: usize,
    memo: &mut Vec<Vec<Option<bool>>>,
) -> bool {
    if let Some(Some(v)) = memo.get(i).and_then(|r| r.get(j)) {
        return *v;
    }
    let v = match (a.get(i), b.get(j)) {
        (None, None) => true,
        (Some(&"**"), _) => {
            intersect_from(a, b, i + 1, j, memo)
                || (j < b.len() && intersect_from(a, b, i, j + 1, memo))
        }
        (_, Some(&"**")) => {
            intersect_from(a, b, i, j + 1, memo)
                || (i < a.len() && intersect_from(a, b, i + 1, j, memo))
        }
        (Some(x), Some(y)) => components_meet(x, y) && intersect_from(a, b, i + 1, j + 1, memo),
        _ => false,
    };
    if let Some(slot) = memo.get_mut(i).and_then(|r| r.get_mut(j)) {
        *slot = Some(v);
    }
    v
}

/// Whether an operand's component glob `x` and a pattern's component `y`
/// could match one common name. As in bash, a wildcard at the start of the
/// operand's component does not match a leading dot.
fn components_meet(x: &str, y: &str) -> bool {
    const WILD: &[char] = &['*', '?', '[', '{'];
    if x.starts_with(WILD) && y.starts_with('.') {
        return false;
    }
    let literal = |s: &str| !s.contains(WILD);
    let glob_matches = |g: &str, name: &str| {
        GlobBuilder::new(g)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map(|g| g.compile_matcher().is_match(name))
            .unwrap_or(true)
    };
    match (literal(x), literal(y)) {
        (true, true) => x == y,
        (true, false) => glob_matches(y, x),
        (false, true) => glob_matches(x, y),
        // A bracket or brace expression is not a simple prefix/suffix; assume
        // the two can meet.
        (false, false) if x.contains(['[', '{']) || y.contains(['[', '{']) => true,
        (false, false) => {
            let prefix = |s: &str| s.split(WILD).next().unwrap_or("").to_string();
            let suffix = |s: &str| s.rsplit(WILD).next().unwrap_or("").to_string();
            let (px, py) = (prefix(x), prefix(y));
            let (sx, sy) = (suffix(x), suffix(y));
            (px.starts_with(&py) || py.starts_with(&px)) && (sx.ends_with(&sy) || sy.ends_with(&sx))
        }
    }
}

/// The options of a command whose short options combine freely (`rm -rf`,
/// `rm -r -f`, `rm -Rf`, `rm --recursive --force`, `rm / -rf` all mean the
/// same): which letters may form a cluster, which capitals are the same
/// option, and what each long option (or an unambiguous prefix of it, as
/// GNU getopt takes) stands for.
struct OptionTable {
    cmd: &'static str,
    short: &'static str,
    alias: &'static [(char, char)],
    long: &'static [(&'static str, Option<char>)],
}

const PERMISSIONS_LONG: &[(&str, Option<char>)] = &[
    ("recursive", Some('R')),
    ("verbose", Some('v')),
    ("changes", Some('c')),
    ("silent", Some('f')),
    ("quiet", Some('f')),
    ("dereference", None),
    ("no-dereference", Some('h')),
    ("from", None),
    ("reference", None),
    ("preserve-root", None),
    ("no-preserve-root", None),
    ("help", None),
    ("version", None),
];

const OPTION_TABLES: &[OptionTable] = &[
    OptionTable {
        cmd: "rm",
        short: "fiIrRdv",
        alias: &[('R', 'r')],
        long: &[
            ("force", Some('f')),
            ("interactive", None),
            ("one-file-system", None),
            ("no-preserve-root", None),
            ("preserve-root", None),
            ("recursive", Some('r')),
            ("dir", Some('d')),
            ("verbose", Some('v')),
            ("help", None),
            ("version", None),
        ],
    },
    // chmod's `-w` or `-rwx` is a mode, not options: only clusters of its
    // option letters are options.
    OptionTable {
        cmd: "chmod",
        short: "cfvR",
        alias: &[],
        long: PERMISSIONS_LONG,
    },
    OptionTable {
        cmd: "chown",
        short: "cfvRhHLP",
        alias: &[],
        long: PERMISSIONS_LONG,
    },
    OptionTable {
        cmd: "chgrp",
        short: "cfvRhHLP",
        alias: &[],
        long: PERMISSIONS_LONG,
    },
];

/// A command line of a command in [`OPTION_TABLES`] as its set of option
/// letters and its operands, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionForm {
    cmd: String,
    letters: Vec<char>,
    operands: Vec<String>,
}

impl OptionForm {
    /// The form of `argv` (program basename first), or `None` for a command
    /// without an option table. `wild` tells pattern tokens: a token with
    /// a wildcard is never an option cluster.
    pub fn of(argv: &[String]) -> Option<OptionForm> {
        Self::parse(argv, false)
    }

    fn parse(argv: &[String], pattern: bool) -> Option<OptionForm> {
        let (cmd, args) = argv.split_first()?;
        let table = OPTION_TABLES.iter().find(|t| t.cmd == cmd)?;
        let mut letters = Vec::new();
        let mut operands = Vec::new();
        let mut options_end = false;
        let add = |c: char, letters: &mut Vec<char>| {
            let c = table
                .alias
                .iter()
                .find(|(a, _)| *a == c)
                .map_or(c, |(_, to)| *to);
            if !letters.contains(&c) {
                letters.push(c);
            }
        };
        for a in args {
            let wild = pattern && a.contains(['*', '?']);
            if options_end || wild || a == "-" || !a.starts_with('-') {
                operands.push(a.clone());
            } else if a == "--" {
                options_end = true;
            } else if let Some(long) = a.strip_prefix("--") {
                let name = long.split('=').next().unwrap_or(long);
                let exact = table.long.iter().find(|(n, _)| *n == name);
                let mut prefixed = table.long.iter().filter(|(n, _)| n.starts_with(name));
                let found = exact.or_else(|| match (prefixed.next(), prefixed.next()) {
                    (Some(one), None) => Some(one),
                    _ => None,
                });
                // Options without a letter do not change what the command
                // acts on; unknown or ambiguous ones make the real command
                // fail.
                if let Some((_, Some(c))) = found {
                    add(*c, &mut letters);
                }
            } else if a.chars().skip(1).all(|c| table.short.contains(c)) {
                for c in a.chars().skip(1) {
                    add(c, &mut letters);
                }
            } else {
                operands.push(a.clone());
            }
        }
        letters.sort_unstable();
        Some(OptionForm {
            cmd: cmd.clone(),
            letters,
            operands,
        })
    }

    /// Whether a command of form `self` does what pattern form `pat` names:
    /// the same command with at least the pattern's options, and operands
    /// the pattern's operand tokens match.
    fn covers(&self, pat: &OptionForm) -> bool {
        self.cmd == pat.cmd
            && pat.letters.iter().all(|c| self.letters.contains(c))
            && tokens_match(&pat.operands, &self.operands)
    }
}

/// A command pattern: pipeline stages of token globs.
#[derive(Clone, Debug)]
pub struct CommandPattern {
    pub raw: String,
    stages: Vec<Vec<String>>,
    /// The pattern's option form when it names a command of
    /// [`OPTION_TABLES`] (single stage only).
    options: Option<OptionForm>,
    /// The stages with every shell that reads its script from standard
    /// input written as `sh`, when any is.
    shell_stages: Option<Vec<Vec<String>>>,
    /// The program name when it has no wildcard: a cheap first check.
    first_literal: Option<String>,
    /// The literal start of the program token when it has a wildcard
    /// (`[*` → `[`): another cheap first check.
    first_prefix: Option<String>,
    /// The program as the pattern writes it, when that is a path
    /// (`./gradlew build*`): it then names that file, not any program of
    /// that name.
    program_path: Option<String>,
    /// The name before a program word's final `*` (`rg` of `rg*`), when
    /// nothing else in the word is a wildcard ([`Self::names_whole_program`]).
    program_stem: Option<String>,
}

impl CommandPattern {
    pub fn new(raw: &str) -> Result<CommandPattern, String> {
        let raw_t = raw.trim();
        if raw_t.is_empty() {
            return Err("empty command pattern".into());
        }
        if raw_t.len() > 4096 {
            return Err("command pattern longer than 4096 bytes".into());
        }
        let program_path = raw_t
            .split_whitespace()
            .next()
            .filter(|t| t.contains('/') && !t.contains(['*', '?']) && !raw_t.contains(" | "))
            .map(str::to_string);
        let stages: Vec<Vec<String>> = raw_t
            .split(" | ")
            .map(|s| {
                let mut toks: Vec<String> = s.split_whitespace().map(str::to_string).collect();
                if let Some(first) = toks.first_mut()
                    && !first.contains('*')
                {
                    *first = cavra_shell::basename(first).to_string();
                }
                toks
            })
            .collect();
        if stages.iter().any(Vec::is_empty) {
            return Err(format!(
                "command pattern `{raw}` has an empty pipeline stage"
            ));
        }
        let first_literal = match stages.as_slice() {
            [one] => one.first().filter(|t| !t.contains(['*', '?'])).cloned(),
            _ => None,
        };
        let first_prefix = match stages.as_slice() {
            [one] => one
                .first()
                .and_then(|t| t.split(['*', '?']).next())
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            _ => None,
        };
        let options = match stages.as_slice() {
            [one] => OptionForm::parse(one, true),
            _ => None,
        };
        let program_stem = stages
            .first()
            .and_then(|s| s.first())
            .and_then(|t| t.strip_suffix('*'))
            .filter(|n| !n.is_empty() && !n.contains(['*', '?', '[']))
            .map(str::to_string);
        let shell_stages = (stages.len() > 1
            && stages
                .iter()
                .any(|s| cavra_shell::shell_reads_stdin(s) && s.as_slice() != ["sh"]))
        .then(|| stages.iter().map(|s| as_shell(s)).collect());
        Ok(CommandPattern {
            raw: raw.to_string(),
            stages,
            options,
            shell_stages,
            first_literal,
            first_prefix,
            program_path,
            program_stem,
        })
    }

    /// Whether the pattern writes its program as the path `program`
    /// (`./gradlew build*` for `./gradlew build`).
    pub fn names_program_path(&self, program: &str) -> bool {
        self.program_path.as_deref() == Some(program)
    }

    /// Match a command's option form ([`OptionForm::of`]): the pattern's
    /// command with at least its options, in any spelling, and matching
    /// operands. For restrictive rules only: `rm -rfv /` is `rm -rf /`,
    /// but an allow rule for `sed -n *` must not allow `sed -ni …`.
    pub fn matches_options(&self, form: &OptionForm) -> bool {
        self.options.as_ref().is_some_and(|p| form.covers(p))
    }

    /// Match a pipeline. Each stage is the set of commands it may run
    /// (`Analysis::pipeline_members`); a pattern stage matches a stage when
    /// it matches one of them, and the pattern's stages must appear in order
    /// with any stages between them, which pass the data on (`curl … | tee f
    /// | sh` is `curl … | sh`). With `shell`, every shell reading its script
    /// from standard input counts as `sh`, so `curl … | sh` also names
    /// `curl … | zsh` and `curl … | bash -s --`. For restrictive rules only.
    pub fn matches_stages(&self, stages: &[Vec<&[String]>], shell: bool) -> bool {
        let pat = if shell {
            self.shell_stages.as_ref().unwrap_or(&self.stages)
        } else {
            &self.stages
        };
        if pat.len() < 2 {
            return false;
        }
        let mut want = pat.iter().peekable();
        for stage in stages {
            let Some(p) = want.peek() else { break };
            let hit = stage.iter().any(|c| {
                if shell && cavra_shell::shell_reads_stdin(c) {
                    tokens_match(p, std::slice::from_ref(&*SH))
                } else {
                    tokens_match(p, c)
                }
            });
            if hit {
                want.next();
            }
        }
        want.peek().is_none()
    }

    pub fn is_pipeline(&self) -> bool {
        self.stages.len() > 1
    }

    /// For allow rules: a pattern whose program word is a name followed by
    /// `*` (`rg*`, `diff*`, `tail*`) names that program with any further
    /// words, not every program whose name starts so: `rg*` allows
    /// `rg -n x` and `rg`, not `rgrep` (which is `grep -r`), `diff*` not
    /// `diff3 --diff-program=P`, `tail*` not `tailscale up`. Restrictive
    /// rules keep the looser reading (`terraform apply*` blocks
    /// `terraform applyx`).
    pub fn names_whole_program(&self, argv: &[String]) -> bool {
        self.program_stem
            .as_ref()
            .is_none_or(|n| argv.first() == Some(n))
    }

    /// Match one simple command (single-stage patterns only).
    pub fn matches_argv(&self, argv: &[String]) -> bool {
        if let Some(f) = &self.first_literal
            && argv.first() != Some(f)
        {
            return false;
        }
        if let Some(p) = &self.first_prefix
            && !argv.first().is_some_and(|a| a.starts_with(p.as_str()))
        {
            return false;
        }
        match self.stages.as_slice() {
            [one] => tokens_match(one, argv),
            _ => false,
        }
    }
}

/// `["sh"]` for a shell reading its script from standard input, else the
/// stage itself.
fn as_shell(stage: &[String]) -> Vec<String> {
    if cavra_shell::shell_reads_stdin(stage) {
        vec!["sh".to_string()]
    } else {
        stage.to_vec()
    }
}

/// The stage every shell reading its script from standard input stands for.
static SH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "sh".to_string());

/// Token-wise match: `*`/`**` alone match any number of tokens; a final
/// token ending in `*` matches its token and any further ones.
fn tokens_match(pat: &[String], argv: &[String]) -> bool {
    // Short command lines use buffers on the stack.
    const SMALL: usize = 32;
    if argv.len() < SMALL {
        let (mut r, mut n) = ([false; SMALL], [false; SMALL]);
        let len = argv.len() + 1;
        match (r.get_mut(..len), n.get_mut(..len)) {
            (Some(r), Some(n)) => tokens_match_in(pat, argv, r, n),
            _ => false,
        }
    } else {
        let (mut r, mut n) = (vec![false; argv.len() + 1], vec![false; argv.len() + 1]);
        tokens_match_in(pat, argv, &mut r, &mut n)
    }
}

/// `reach[j]`: the pattern prefix seen so far can consume argv prefix `j`;
/// both buffers have `argv.len() + 1` entries.
fn tokens_match_in<'a>(
    pat: &[String],
    argv: &[String],
    mut reach: &'a mut [bool],
    mut next: &'a mut [bool],
) -> bool {
    let (p, a) = (pat.len(), argv.len());
    reach.fill(false);
    if let Some(r) = reach.first_mut() {
        *r = true;
    }
    for (i, tok) in pat.iter().enumerate() {
        let last = i + 1 == p;
        next.fill(false);
        if tok == "*" || tok == "**" {
            let mut seen = false;
            for j in 0..=a {
                seen |= reach.get(j).copied().unwrap_or(false);
                if let Some(n) = next.get_mut(j) {
                    *n = seen;
                }
            }
        } else if last && tok.ends_with('*') {
            for j in 0..a {
                if reach.get(j).copied().unwrap_or(false)
                    && argv.get(j).is_some_and(|t| wildcard(tok, t))
                {
                    return true;
                }
            }
            return false;
        } else {
            for j in 0..a {
                if reach.get(j).copied().unwrap_or(false)
                    && argv.get(j).is_some_and(|t| wildcard(tok, t))
                    && let Some(n) = next.get_mut(j + 1)
                {
                    *n = true;
                }
            }
        }
        std::mem::swap(&mut reach, &mut next);
        if !reach.iter().any(|r| *r) {
            return false;
        }
    }
    reach.get(a).copied().unwrap_or(false)
}

/// `*` matches any characters, `?` one character; everything else literal.
/// Works on the UTF-8 bytes without allocating: literal bytes compare
/// exactly, `?` and the backtracking of `*` move by whole characters.
pub fn wildcard(pat: &str, text: &str) -> bool {
    let (p, t) = (pat.as_bytes(), text.as_bytes());
    // Length of the UTF-8 character starting with `b`.
    let width = |b: Option<&u8>| match b {
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(&b) if b >= 0xC0 => 2,
        _ => 1,
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(b'?') => {
                pi += 1;
                ti += width(t.get(ti));
            }
            Some(c) if Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    let next = st + width(t.get(st));
                    pi = sp + 1;
                    ti = next;
                    star = Some((sp, next));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&b'*') {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn np(p: &str) -> NormPath {
        normalize_path(p, None, None).unwrap()
    }

    #[test]
    fn normalisation() {
        assert_eq!(np("./a//b/../c/").subject, "a/c");
        assert!(np("../x").outside_root);
        let n = normalize_path("/repo/src/../.env", None, Some("/repo")).unwrap();
        assert_eq!((n.subject.as_str(), n.outside_root), (".env", false));
        let n = normalize_path("/etc/passwd", None, Some("/repo")).unwrap();
        assert!(n.outside_root);
        let n = normalize_path("sub/x", Some("/repo/a"), Some("/repo")).unwrap();
        assert_eq!(n.subject, "a/sub/x");
        assert!(normalize_path("a\0b", None, None).is_err());
    }

    #[test]
    fn gitignore_globs() {
        let p = PathPatterns::new(&[
            ".env".into(),
            "**/main.tf".into(),
            "iam/".into(),
            ".github/workflows/**".into(),
            "*.pem".into(),
        ])
        .unwrap();
        for (path, want) in [
            (".env", Some(".env")),
            ("config/.env", Some(".env")),
            (".env.local", None),
            ("main.tf", Some("**/main.tf")),
            ("infra/main.tf", Some("**/main.tf")),
            ("iam/role.tf", Some("iam/")),
            ("svc/iam/role.tf", Some("iam/")),
            (".github/workflows/ci.yml", Some(".github/workflows/**")),
            ("x/.github/workflows/ci.yml", None),
            ("certs/a.pem", Some("*.pem")),
        ] {
            assert_eq!(p.first_match(&np(path)), want, "{path}");
        }
        let abs = normalize_path("/home/u/.ssh/a.pem", None, Some("/repo")).unwrap();
        assert_eq!(p.first_match(&abs), Some("*.pem"));
        let g = |o: &str| normalize_path(o, Some("/repo"), Some("/repo")).unwrap();
        assert_eq!(p.glob_could_match(&g(".e*")), Some(".env"));
        assert_eq!(p.glob_could_match(&g("src/*.rs")), None);
        // As in bash, `*` does not match a leading dot.
        assert_eq!(p.glob_could_match(&g("config/*")), Some("**/main.tf"));
        assert_eq!(p.glob_could_match(&g("config/.e*")), Some(".env"));
        assert_eq!(p.glob_could_match(&g("src/*/mod.rs")), Some("iam/"));
        assert_eq!(p.glob_could_match(&g("src/*.rs")), None);
        assert!(p.glob_could_match(&g("infra/*/main.tf")).is_some());
        assert!(p.glob_could_match(&g(".github/*/ci.yml")).is_some());
        assert!(p.glob_could_match(&g(".git*/w*/*.yml")).is_some());
        assert_eq!(p.glob_could_match(&g("docs/*.md")), None);
        assert_eq!(p.glob_could_match(&g("/repo/certs/*.pem")), Some("*.pem"));
    }

    #[test]
    fn folding_lists_ignore_case() {
        let list = vec![
            ".env".to_string(),
            ".github/workflows/**".into(),
            "CODEOWNERS".into(),
        ];
        let exact = PathPatterns::new(&list).unwrap();
        let folded = PathPatterns::new(&list).unwrap().folding_case();
        for (path, want) in [
            (".ENV", Some(".env")),
            ("Config/.Env", Some(".env")),
            (".GitHub/Workflows/ci.yml", Some(".github/workflows/**")),
            ("codeowners", Some("CODEOWNERS")),
            ("src/Main.rs", None),
        ] {
            assert_eq!(folded.first_match(&np(path)), want, "{path}");
            if path != want.unwrap_or("") {
                assert_eq!(exact.first_match(&np(path)), None, "{path} as written");
            }
        }
        let g = |o: &str| normalize_path(o, Some("/repo"), Some("/repo")).unwrap();
        assert_eq!(
            folded.tree_could_match(&g(".GITHUB")),
            Some(".github/workflows/**")
        );
        assert_eq!(exact.tree_could_match(&g(".GITHUB")), None);
        assert_eq!(folded.glob_could_match(&g(".E*")), Some(".env"));
        assert_eq!(folded.search_could_target(&g(".ENV*")), Some(".env"));
    }

    #[test]
    fn wildcard_on_characters() {
        for (p, t, want) in [
            ("*", "", true),
            ("a*c", "abbbc", true),
            ("a?c", "abc", true),
            ("a?c", "aéc", true),
            ("a?c", "a😀c", true),
            ("a?c", "ac", false),
            ("é*", "éclair", true),
            ("*é", "café", true),
            ("*é", "cafe", false),
            ("?", "é", true),
            ("??", "é", false),
            ("*.tf", "main.tf", true),
            ("*.tf", "main.tfvars", false),
            ("terraform*", "terraform", true),
            ("a*b*c", "aXbYbZc", true),
        ] {
            assert_eq!(wildcard(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn command_patterns() {
        let m = |p: &str, c: &str| {
            CommandPattern::new(p)
                .unwrap()
                .matches_argv(&c.split(' ').map(String::from).collect::<Vec<_>>())
        };
        assert!(m("terraform apply*", "terraform apply -auto-approve"));
        assert!(m("terraform apply*", "terraform apply"));
        assert!(!m("terraform plan", "terraform plan -out x"));
        assert!(m("terraform plan *", "terraform plan"));
        assert!(m("terraform plan *", "terraform plan -out x"));
        assert!(m("kubectl * delete *", "kubectl -n x delete pod y"));
        assert!(!m("git push origin main", "git push origin main --force"));
        assert!(m("/usr/bin/terraform apply*", "terraform apply"));
        let p = CommandPattern::new("curl * | sh").unwrap();
        let a: Vec<String> = vec!["curl".into(), "x".into()];
        let b: Vec<String> = vec!["sh".into()];
        let (a, b, t) = (a.as_slice(), b.as_slice(), ["tee".to_string()]);
        assert!(p.matches_stages(&[vec![a], vec![b]], false));
        // Stages in between pass the data on; a compound stage matches
        // through any of its commands.
        assert!(p.matches_stages(&[vec![a], vec![&t], vec![b]], false));
        assert!(p.matches_stages(&[vec![&t, a], vec![b]], false));
        assert!(!p.matches_stages(&[vec![b], vec![a]], false));
        let zsh = ["zsh".to_string()];
        assert!(!p.matches_stages(&[vec![a], vec![&zsh]], false));
        assert!(p.matches_stages(&[vec![a], vec![&zsh]], true));
        assert!(wildcard("a*b?c", "axxbyc"));
        assert!(!wildcard("a*b", "ac"));
    }
}
