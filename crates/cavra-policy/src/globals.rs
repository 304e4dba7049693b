//! Options a command-line tool takes before its subcommand
//! (`terraform -chdir=infra apply`, `helm -n prod uninstall api`,
//! `aws --profile prod iam create-user`, `docker --context prod rm -f x`).
//!
//! Block, approval and warn rules also match the line with those options
//! taken out, so `terraform apply*` covers `terraform -chdir=infra apply`.
//! Which options take a value is not looked up: a word after an option may
//! be its value or the subcommand, and every reading is tried. That can
//! only make a restrictive rule match more often. Allow rules match only as
//! written, because a guessed subcommand must never widen what is allowed
//! (`kubectl --as-uid get delete pod x` deletes), except where the tool's
//! own reading is known ([`subcommand_form`]): terraform and tofu, whose
//! global options are single words, and kubectl, oc and helm preceded only
//! by namespace and context options, which always take a value.

/// Tools whose global options may precede the subcommand. git has its own
/// reading ([`crate::git::subcommand`]).
const TOOLS: &[&str] = &[
    "terraform",
    "tofu",
    "helm",
    "kubectl",
    "oc",
    "aws",
    "gcloud",
    "az",
    "docker",
    "podman",
    "gh",
    "glab",
];

/// At most this many readings of one line.
const MAX_FORMS: usize = 8;

/// `argv` with its leading global options (and what may be their values)
/// removed, in every reading that differs from `argv`; empty for other
/// programs or when nothing precedes the subcommand.
pub fn without_globals(argv: &[String]) -> Vec<Vec<String>> {
    let mut forms = Vec::new();
    let Some(tool) = argv.first().filter(|t| TOOLS.contains(&t.as_str())) else {
        return forms;
    };
    let mut after_option = false;
    for (k, word) in argv.iter().enumerate().skip(1) {
        if word == "--" || forms.len() >= MAX_FORMS {
            break;
        }
        if word.starts_with('-') {
            after_option = true;
            continue;
        }
        if k > 1 {
            let mut form = Vec::with_capacity(argv.len() - k + 1);
            form.push(tool.clone());
            form.extend(argv.iter().skip(k).cloned());
            forms.push(form);
        }
        // A word right after an option may be its value; the next plain
        // word is then the subcommand. Otherwise this word is it.
        if !after_option {
            break;
        }
        after_option = false;
    }
    forms
}

/// The line with its global options taken out where the tool's own
/// reading of them is known, for every rule including allow rules; `None`
/// when that is the line as written.
///
/// - git: [`crate::git::subcommand`] (`git -C dir -c k=v log` is `git log`);
/// - terraform and tofu, and kubectl, oc and helm with only namespace and
///   context options before the subcommand ([`subcommand_form`]).
pub fn canonical_form(argv: &[String]) -> Option<Vec<String>> {
    let form = if argv.first().map(String::as_str) == Some("git") {
        let (sub, rest) = crate::git::subcommand(argv)?;
        let mut form = vec!["git".to_string(), sub.to_string()];
        form.extend(git_options(sub, rest));
        form
    } else {
        subcommand_form(argv)?
    };
    (form != argv).then_some(form)
}

/// The line with its global options taken out. terraform's and tofu's
/// global options are single words (`-chdir=DIR`, `-help`, `-version`), so
/// the first word that is not an option is the subcommand. `-chdir DIR`
/// without `=` is an error there (nothing runs), and so gives no form.
/// kubectl's, oc's and helm's line without leading namespace and context
/// options ([`kube_scope_end`]).
fn subcommand_form(argv: &[String]) -> Option<Vec<String>> {
    let tool = argv.first()?;
    let k = match tool.as_str() {
        "terraform" | "tofu" => {
            let mut k = 1;
            while let Some(word) = argv.get(k) {
                if word == "-chdir" || word == "--" {
                    return None;
                }
                if !word.starts_with('-') {
                    break;
                }
                k += 1;
            }
            k
        }
        "kubectl" | "oc" | "helm" => kube_scope_end(argv)?,
        _ => return None,
    };
    if k == 1 || k >= argv.len() {
        return None;
    }
    let mut form = vec![tool.clone()];
    form.extend(argv.iter().skip(k).cloned());
    Some(form)
}

/// Where the subcommand of a kubectl, oc or helm line starts when only
/// options that choose the namespace or the kubeconfig context precede it
/// (`-n NS`, `-nNS`, `-n=NS`, `--namespace[=]NS`, `--context[=]C`,
/// `--kube-context[=]C`). Those options always take a value, so the
/// reading is exact, and they change where a command acts, not what it
/// does: `kubectl -n prod get pods` is `kubectl get pods`. Any other
/// option gives no form (its value, if it takes one, is not known here).
fn kube_scope_end(argv: &[String]) -> Option<usize> {
    const SCOPE: &[&str] = &["-n", "--namespace", "--context", "--kube-context"];
    let mut k = 1;
    while let Some(word) = argv.get(k) {
        if !word.starts_with('-') {
            return Some(k);
        }
        if SCOPE.contains(&word.as_str()) {
            k += 2;
        } else if SCOPE
            .iter()
            .any(|o| word.strip_prefix(o).is_some_and(|v| v.starts_with('=')))
            || word.strip_prefix("-n").is_some_and(|v| !v.is_empty())
        {
            k += 1;
        } else {
            return None;
        }
    }
    None
}

/// The arguments of `git commit` and `git push` with the options rules
/// name spelt out: git takes unambiguous prefixes of long options
/// (`--no-verif`, `--amen`) and clusters of short ones (`commit -nm x` is
/// `-n -m x`, and commit's `-n` is `--no-verify`). A prefix that could be
/// several options counts as each. Other arguments are kept as written.
/// Options of `git commit` whose value is the next word. (`-o` is
/// commit's `--only`, a flag: listed here it would swallow the word after
/// it, `git commit -o -m -m "$X"`.)
pub(crate) const COMMIT_VALUE_OPTIONS: &[&str] = &[
    "-m",
    "-F",
    "-C",
    "-c",
    "-t",
    "--message",
    "--file",
    "--reuse-message",
    "--reedit-message",
    "--fixup",
    "--squash",
    "--author",
    "--date",
    "--template",
    "--cleanup",
    "--trailer",
    "--pathspec-from-file",
];

/// Options of `git push` whose value is the next word.
const PUSH_VALUE_OPTIONS: &[&str] = &["--repo", "--receive-pack", "--exec", "--push-option", "-o"];

fn git_options(sub: &str, rest: &[String]) -> Vec<String> {
    let longs: &[&str] = match sub {
        "commit" => &["--no-verify", "--amend"],
        "push" => &["--no-verify"],
        _ => return rest.to_vec(),
    };
    let mut out = Vec::with_capacity(rest.len());
    let mut words = rest.iter();
    while let Some(w) = words.next() {
        if w == "--" {
            out.push(w.clone());
            out.extend(words.by_ref().cloned());
            break;
        }
        // An option whose value is the next word: that word is text (a
        // message line `- Added x`), never an option.
        let values = if sub == "commit" {
            COMMIT_VALUE_OPTIONS
        } else {
            PUSH_VALUE_OPTIONS
        };
        if values.contains(&w.as_str()) {
            out.push(w.clone());
            out.extend(words.next().cloned());
            continue;
        }
        if w.starts_with("--") {
            let name = w.split_once('=').map_or(w.as_str(), |(n, _)| n);
            let full: Vec<&&str> = longs
                .iter()
                .filter(|l| name.len() >= 4 && l.starts_with(name) && name != **l)
                .collect();
            out.push(w.clone());
            out.extend(full.into_iter().map(|l| (*l).to_string()));
            continue;
        }
        if sub == "commit" && w.len() > 2 && w.starts_with('-') {
            // A cluster: each letter an option until one that takes a
            // value: the rest of the word, or else (`-m`, `-F`, `-C`,
            // `-c`, `-t`) the next word; `-S` and `-u` take only the rest.
            for (k, c) in w.char_indices().skip(1) {
                if matches!(c, 'm' | 'F' | 'C' | 'c' | 't' | 'S' | 'u') {
                    let value = w.get(k + 1..).unwrap_or("");
                    out.push(format!("-{c}"));
                    if !value.is_empty() {
                        out.push(value.to_string());
                    } else if !matches!(c, 'S' | 'u')
                        && let Some(next) = words.next()
                    {
                        out.push(next.clone());
                    }
                    break;
                }
                out.push(if c == 'n' {
                    "--no-verify".to_string()
                } else {
                    format!("-{c}")
                });
            }
            continue;
        }
        if sub == "commit" && w == "-n" {
            out.push("--no-verify".to_string());
            continue;
        }
        out.push(w.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{canonical_form, subcommand_form, without_globals};

    #[test]
    fn terraform_subcommand() {
        let f = |line: &str| {
            let argv: Vec<String> = line.split_whitespace().map(String::from).collect();
            subcommand_form(&argv).map(|f| f.join(" "))
        };
        assert_eq!(
            f("terraform -chdir=infra plan -out x").as_deref(),
            Some("terraform plan -out x")
        );
        assert_eq!(f("terraform -chdir infra plan"), None);
        assert_eq!(f("terraform plan"), None);
        assert_eq!(f("helm -n x status y").as_deref(), Some("helm status y"));
        assert_eq!(
            f("kubectl -nprod --context=stage get pods").as_deref(),
            Some("kubectl get pods")
        );
        assert_eq!(
            f("oc --namespace prod -n=x get pods").as_deref(),
            Some("oc get pods")
        );
        // The value is taken whatever it looks like, as the tool does.
        assert_eq!(
            f("kubectl -n get delete pod x").as_deref(),
            Some("kubectl delete pod x")
        );
        assert_eq!(f("kubectl --as admin get pods"), None);
        assert_eq!(f("kubectl -v=9 get pods"), None);
        assert_eq!(f("kubectl -n prod"), None);
        assert_eq!(f("kubectl get pods"), None);
        let argv =
            |line: &str| -> Vec<String> { line.split_whitespace().map(String::from).collect() };
        assert_eq!(
            canonical_form(&argv("git -C x push origin main")),
            Some(argv("git push origin main"))
        );
        assert_eq!(canonical_form(&argv("git push origin main")), None);
    }

    fn forms(line: &str) -> Vec<String> {
        let argv: Vec<String> = line.split_whitespace().map(String::from).collect();
        without_globals(&argv).iter().map(|f| f.join(" ")).collect()
    }

    #[test]
    fn readings() {
        assert_eq!(forms("terraform -chdir=infra apply"), ["terraform apply"]);
        assert_eq!(
            forms("helm -n prod uninstall api"),
            ["helm prod uninstall api", "helm uninstall api"]
        );
        assert_eq!(
            forms("kubectl --insecure-skip-tls-verify delete pod x"),
            ["kubectl delete pod x", "kubectl pod x"]
        );
        assert!(forms("terraform apply -auto-approve").is_empty());
        assert!(forms("rm -rf /").is_empty());
        assert!(forms("helm -- uninstall api").is_empty());
    }
}
