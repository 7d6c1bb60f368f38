//! No reference in the repository names a file that is not in it (docs/design.md section 6).
//!
//! The test reads every text file of the repository (the files git tracks, plus new ones not
//! yet added and not ignored; a plain directory walk where git is unavailable) and extracts:
//!
//! - paths from the repository root: runs such as `docs/design.md`, `crates/mail-wire/src/`,
//!   `examples/mail-server/main.rs`, `fuzz/fuzz_targets/...`, `.ci/run`;
//! - paths relative to the crate the file belongs to: `tests/dot.rs`, `src/server.rs`,
//!   `benches/...`, `examples/...` (from a file outside every crate, such as `docs/*.md`, a
//!   path of this kind may name a file of any crate);
//! - paths relative to the file: `../README.md` (for example in `include_str!`);
//! - bare document names, an upper-case first letter and `.md` (`CONTRIBUTING.md`): at the
//!   root, beside the file, or at the root of its crate;
//! - Markdown link targets, `[text](target)`, relative to the file.
//!
//! Each must name a file or a directory in the repository. Globs and placeholders (a run
//! followed by `*`, `{`, `<` or `$`), URLs and absolute paths are not references. Paths
//! under a `.gitignore`d directory (for example the fuzz corpus) are allowed.
//!
//! It also checks that every citation of a section of docs/design.md ("section 4", "security
//! rule 3", "3.5") names a section that exists there.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Top-level directories a root-relative path starts with.
const ROOT_DIRS: &[&str] = &["crates", "docs", "examples", "benches", "fuzz", ".ci"];
/// Directories a crate-relative path starts with.
const CRATE_DIRS: &[&str] = &["src", "tests", "benches", "examples"];

/// How a reference was written, which decides what it is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// From the repository root (`docs/design.md`).
    Root,
    /// From the crate of the file (`tests/dot.rs`).
    Crate,
    /// From the file's directory (`../README.md`, Markdown links).
    File,
    /// A bare document name (`CONTRIBUTING.md`): at the root, beside the file, or at the root
    /// of the file's crate.
    Bare,
}

/// One path-like reference found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    /// 1-based line number.
    line: usize,
    /// The path as written (without a `#fragment`).
    target: String,
    kind: Kind,
}

/// Whether `c` can be part of a path run.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')
}

/// Extracts the references of one file's text. `markdown` turns on link extraction for every
/// link; otherwise (source files) only links whose target looks like a path are taken.
fn extract(text: &str, markdown: bool) -> Vec<Reference> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        extract_runs(line, number, &mut out);
        extract_links(line, number, markdown, &mut out);
    }
    // `[../x.md](../x.md)` names one file once.
    let mut unique: Vec<Reference> = Vec::with_capacity(out.len());
    for reference in out {
        if !unique.contains(&reference) {
            unique.push(reference);
        }
    }
    unique
}

fn extract_runs(line: &str, number: usize, out: &mut Vec<Reference>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_path_char(chars[i].1) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_path_char(chars[i].1) {
            i += 1;
        }
        let begin = chars[start].0;
        let end = chars.get(i).map_or(line.len(), |&(at, _)| at);
        let before = start.checked_sub(1).map(|j| chars[j].1);
        let after = chars.get(i).map(|&(_, c)| c);
        // Placeholders, globs, variables, URLs (`https://`), Windows drives and `@` mentions.
        if matches!(after, Some('*' | '{' | '<' | '$' | '%'))
            || matches!(before, Some(':' | '$' | '{' | '@' | '\\' | '%' | '*'))
        {
            continue;
        }
        // A bare name right after `(` is a Markdown link target, which `extract_links` reads.
        let run = &line[begin..end];
        if before == Some('(') && !run.contains('/') {
            continue;
        }
        if let Some(reference) = classify_run(run, number) {
            out.push(reference);
        }
    }
}

fn classify_run(run: &str, number: usize) -> Option<Reference> {
    // A sentence may end right after a path.
    let run = run.trim_end_matches('.');
    if !run.contains('/') {
        // Document names such as `CONTRIBUTING.md` or `README.md`: an upper-case first letter
        // and the `.md` extension (a lower-case `name.md` is too often an example or a field).
        let stem = run.strip_suffix(".md")?;
        let first = stem.chars().next()?;
        if !first.is_ascii_uppercase()
            || !stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return None;
        }
        return Some(Reference {
            line: number,
            target: run.to_owned(),
            kind: Kind::Bare,
        });
    }
    let first = run.split('/').next().unwrap_or_default();
    let kind = if first == "." || first == ".." {
        // `./data` and `../etc` in code are paths at run time (and test inputs); a file a
        // comment or `include_str!` names has an extension.
        let last = run.rsplit('/').next().unwrap_or_default();
        let extension = last
            .rsplit_once('.')
            .map(|(_, ext)| ext)
            .unwrap_or_default();
        if extension.is_empty() || !extension.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        Kind::File
    } else if ROOT_DIRS.contains(&first) {
        Kind::Root
    } else if CRATE_DIRS.contains(&first) {
        Kind::Crate
    } else {
        return None;
    };
    Some(Reference {
        line: number,
        target: run.to_owned(),
        kind,
    })
}

fn extract_links(line: &str, number: usize, markdown: bool, out: &mut Vec<Reference>) {
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(close) = rest.find(')') else { break };
        let raw = rest[..close].trim_start_matches('<').trim_end_matches('>');
        rest = &rest[close + 1..];
        let target = raw.split('#').next().unwrap_or_default();
        if target.is_empty()
            || raw.contains("://")
            || raw.starts_with("mailto:")
            || target.contains(['"', '\'', ' ', '`', '(', '['])
            || target.contains("::")
        {
            continue;
        }
        // In source files, `[`Type`](self)` and the like are rustdoc links, not paths.
        if !markdown && !target.contains('/') && !target.ends_with(".md") {
            continue;
        }
        out.push(Reference {
            line: number,
            target: target.to_owned(),
            kind: Kind::File,
        });
    }
}

/// `a/./b/../c` as `a/c`; `None` when it climbs out of the repository.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The repository's files and directories, as `/`-separated paths from its root.
#[derive(Debug, Default)]
struct Tree {
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
    /// Directories holding a package manifest, the repository root excluded.
    crates: BTreeSet<String>,
    /// Ignored directories (from `.gitignore`) where generated files may be named.
    ignored: Vec<String>,
}

impl Tree {
    fn from_files<I: IntoIterator<Item = String>>(files: I) -> Tree {
        let mut tree = Tree::default();
        tree.dirs.insert(String::new());
        for file in files {
            let mut dir = file.as_str();
            while let Some(slash) = dir.rfind('/') {
                dir = &dir[..slash];
                tree.dirs.insert(dir.to_owned());
            }
            if let Some(crate_dir) = file.strip_suffix("/Cargo.toml") {
                tree.crates.insert(crate_dir.to_owned());
            }
            tree.files.insert(file);
        }
        tree
    }

    fn exists(&self, path: &str) -> bool {
        let Some(path) = normalize(path) else {
            return false;
        };
        self.files.contains(&path)
            || self.dirs.contains(&path)
            || self
                .ignored
                .iter()
                .any(|dir| path == *dir || path.starts_with(&format!("{dir}/")))
    }

    /// The crate `file` belongs to (the deepest directory with a manifest above it).
    fn crate_of(&self, file: &str) -> Option<&str> {
        self.crates
            .iter()
            .filter(|dir| file.starts_with(&format!("{dir}/")))
            .max_by_key(|dir| dir.len())
            .map(String::as_str)
    }

    /// Whether `reference`, found in `file`, names something that exists.
    fn resolves(&self, file: &str, reference: &Reference) -> bool {
        let dir = file.rfind('/').map_or("", |slash| &file[..slash]);
        let join = |base: &str| {
            if base.is_empty() {
                reference.target.clone()
            } else {
                format!("{base}/{}", reference.target)
            }
        };
        match reference.kind {
            // Relative to the file, or to its crate's root (`CARGO_MANIFEST_DIR`).
            Kind::File => {
                self.exists(&join(dir))
                    || self
                        .crate_of(file)
                        .is_some_and(|root| self.exists(&join(root)))
            }
            Kind::Root => {
                self.exists(&reference.target)
                    // `examples/...` and `benches/...` may also be crate-relative.
                    || self.crate_of(file).is_some_and(|root| self.exists(&join(root)))
            }
            Kind::Bare => {
                self.exists(&reference.target)
                    || self.exists(&join(dir))
                    || self
                        .crate_of(file)
                        .is_some_and(|root| self.exists(&join(root)))
            }
            Kind::Crate => match self.crate_of(file) {
                Some(root) => self.exists(&join(root)),
                None => self.crates.iter().any(|root| self.exists(&join(root))),
            },
        }
    }
}

/// This file: its unit tests hold sample references on purpose, so the path scan skips it.
const THIS_FILE: &str = "crates/mail-testkit/tests/references.rs";

/// Whether a file is text the check reads.
fn is_checked(path: &str) -> bool {
    if path.starts_with("fuzz/seeds/") || path.starts_with("fuzz/dict/") {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    path == ".ci/run"
        || [".rs", ".md", ".toml", ".py", ".sh"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repository's files: tracked, or new and not ignored, and present on disk.
fn repository_files(root: &Path) -> Vec<String> {
    let listed = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .ok()
        .filter(|out| out.status.success());
    let files: Vec<String> = match listed {
        Some(out) => String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect(),
        None => {
            let mut files = Vec::new();
            walk(root, "", &mut files);
            files
        }
    };
    files
        .into_iter()
        .filter(|name| root.join(name).is_file())
        .collect()
}

/// The directory walk used without git: skips build output, git's own directory, the fuzz
/// corpus and virtual environments.
fn walk(root: &Path, relative: &str, out: &mut Vec<String>) {
    const SKIP: &[&str] = &[
        "target",
        ".git",
        "fuzz/target",
        "fuzz/corpus",
        "fuzz/artifacts",
        ".venv",
        ".venv-ci",
        "mail-data",
    ];
    let Ok(entries) = fs::read_dir(root.join(relative)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        if SKIP.contains(&path.as_str()) || name_is(&path, "target") {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(root, &path, out),
            Ok(kind) if kind.is_file() => out.push(path),
            _ => {}
        }
    }
}

fn name_is(path: &str, name: &str) -> bool {
    path.rsplit('/').next() == Some(name)
}

/// The directories `.gitignore` names (`/fuzz/corpus` and the like).
fn ignored_dirs(root: &Path) -> Vec<String> {
    fs::read_to_string(root.join(".gitignore"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.contains('*'))
        .map(|line| line.trim_matches('/').to_owned())
        .collect()
}

/// Every dangling reference in `files`, as `path:line: target` lines.
fn dangling<'a>(tree: &Tree, files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files {
        for reference in extract(text, path.ends_with(".md")) {
            let message = format!("{path}:{}: {}", reference.line, reference.target);
            // `[x](crates/x)` names the path twice on its line; report it once.
            if !tree.resolves(path, &reference) && !out.contains(&message) {
                out.push(message);
            }
        }
    }
    out
}

#[test]
fn every_referenced_path_exists() {
    let root = repo_root();
    let files = repository_files(&root);
    assert!(
        files.iter().any(|name| name == "docs/design.md"),
        "the repository's files were not found from {}",
        root.display()
    );
    let mut tree = Tree::from_files(files.iter().cloned());
    tree.ignored = ignored_dirs(&root);
    let texts: Vec<(String, String)> = files
        .iter()
        .filter(|name| is_checked(name) && name.as_str() != THIS_FILE)
        .filter_map(|name| Some((name.clone(), fs::read_to_string(root.join(name)).ok()?)))
        .collect();
    let missing = dangling(
        &tree,
        texts
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str())),
    );
    assert!(
        missing.is_empty(),
        "{} reference(s) to files that are not in the repository:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Citations of docs/design.md
// ---------------------------------------------------------------------------------------------

/// The section numbers a citation right after `design.md` names: "section 4" gives `4`,
/// "security rule 3" and "rule 3" give `3.3`, "3.5" and "| 3.7" give themselves, "sections 3
/// and 5" gives both, "section 3, rule 5" gives `3` and `3.5`.
fn cited_sections(after: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = after.trim_start_matches([' ', '|', '`']).trim_start();
    let mut rule = false;
    loop {
        let word_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        match &rest[..word_end] {
            "section" | "sections" => rule = false,
            "security" => {}
            "rule" | "rules" => rule = true,
            "and" => {}
            "" => {
                let number_end = rest
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(rest.len());
                let number = rest[..number_end].trim_end_matches('.');
                if number.is_empty() {
                    break;
                }
                out.push(if rule && !number.contains('.') {
                    format!("3.{number}")
                } else {
                    number.to_owned()
                });
                rest = &rest[number_end..];
                rest = rest.trim_start_matches(',').trim_start();
                continue;
            }
            _ => break,
        }
        rest = rest[word_end..].trim_start();
    }
    out
}

/// The section numbers of docs/design.md: `## 3. Title` gives `3`, `### 3.5 Title` gives `3.5`.
fn design_sections(design: &str) -> BTreeSet<String> {
    design
        .lines()
        .filter_map(|line| line.strip_prefix("## ").or(line.strip_prefix("### ")))
        .filter_map(|title| title.split_whitespace().next())
        .map(|number| number.trim_end_matches('.').to_owned())
        .filter(|number| number.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .collect()
}

#[test]
fn every_cited_design_section_exists() {
    let root = repo_root();
    let design = fs::read_to_string(root.join("docs/design.md")).expect("docs/design.md");
    let sections = design_sections(&design);
    let mut missing = Vec::new();
    for name in repository_files(&root)
        .iter()
        .filter(|name| is_checked(name))
    {
        let Ok(text) = fs::read_to_string(root.join(name)) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("design.md") {
                for section in cited_sections(&line[at + "design.md".len()..]) {
                    if !sections.contains(&section) {
                        missing.push(format!("{name}:{}: section {section}", index + 1));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "citations of sections docs/design.md does not have:\n{}",
        missing.join("\n")
    );
}

#[test]
fn nothing_cites_the_old_design_document_or_shared_notes() {
    // Spelled in pieces, so that this file does not cite them itself.
    let forbidden = [concat!("DESIGN", ".md"), concat!("../", "shared/")];
    let root = repo_root();
    let mut found = Vec::new();
    for name in repository_files(&root)
        .iter()
        .filter(|name| is_checked(name))
    {
        let Ok(text) = fs::read_to_string(root.join(name)) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            for word in forbidden {
                if line.contains(word) {
                    found.push(format!("{name}:{}: {word}", index + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "cites a file that is not in the repository:\n{}",
        found.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The extractor itself. Paths that must not exist are spelled in pieces (`concat!`), so that
// the scan of this file above does not find them.
// ---------------------------------------------------------------------------------------------

fn sample_tree() -> Tree {
    Tree::from_files(
        [
            "Cargo.toml",
            "README.md",
            "docs/design.md",
            "docs/ARCHITECTURE.md",
            "crates/mail-wire/Cargo.toml",
            "crates/mail-wire/README.md",
            "crates/mail-wire/src/lib.rs",
            "crates/mail-wire/tests/dot.rs",
            "crates/other/Cargo.toml",
            "crates/other/tests/only_here.rs",
        ]
        .map(String::from),
    )
}

fn targets(text: &str, markdown: bool) -> Vec<(String, Kind)> {
    extract(text, markdown)
        .into_iter()
        .map(|reference| (reference.target, reference.kind))
        .collect()
}

#[test]
fn extracts_root_crate_file_and_link_references() {
    let text = concat!(
        "// see docs/design.md section 2, and `crates/mail-wire/src/` and tests/dot.rs.\n",
        "#[doc = include_str!(\"../README.md\")]\n",
        "[the architecture](ARCHITECTURE.md#crate-map) and [web](https://example.org/a/b)\n",
    );
    assert_eq!(
        targets(text, true),
        [
            ("docs/design.md".to_owned(), Kind::Root),
            ("crates/mail-wire/src/".to_owned(), Kind::Root),
            ("tests/dot.rs".to_owned(), Kind::Crate),
            ("../README.md".to_owned(), Kind::File),
            ("ARCHITECTURE.md".to_owned(), Kind::File),
        ]
    );
    let lines: Vec<usize> = extract(text, true).iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 1, 1, 2, 3]);
}

#[test]
fn globs_placeholders_urls_and_plain_words_are_not_references() {
    let text = concat!(
        "crates/*/Cargo.toml fuzz/seeds/<target>/ fuzz/$corpus https://github.com/a/docs/x.md\n",
        "a/b and x / y and docs and std::io::Read; [`Session`](self) [`x`](crate::x)\n",
    );
    assert_eq!(targets(text, false), []);
}

#[test]
fn resolves_each_kind_against_the_right_base() {
    let tree = sample_tree();
    let rs = "crates/mail-wire/src/lib.rs";
    let found = |text: &str, file: &str| {
        extract(text, file.ends_with(".md"))
            .iter()
            .all(|reference| tree.resolves(file, reference))
    };
    assert!(found("docs/design.md and docs/", rs));
    assert!(found("tests/dot.rs", rs));
    assert!(found("include_str!(\"../README.md\")", rs));
    // Crate-relative means this crate's, from a file inside a crate ...
    assert!(!found(concat!("tests/", "only_here.rs"), rs));
    // ... and any crate's from a file outside every crate.
    assert!(found(concat!("tests/", "only_here.rs"), "docs/design.md"));
    assert!(found(
        "[a](ARCHITECTURE.md) [b](../README.md)",
        "docs/design.md"
    ));
}

#[test]
fn a_dangling_reference_fails_the_check() {
    let tree = sample_tree();
    let dangling_root = concat!("see docs/", "no-such-page.md for more\n");
    let dangling_crate = concat!("// the tests in tests/", "gone.rs\n");
    let dangling_link = concat!("[old](", "DESIGN", ".md)\n");
    let files = [
        ("crates/mail-wire/src/lib.rs", dangling_root),
        ("crates/mail-wire/src/lib.rs", dangling_crate),
        ("docs/ARCHITECTURE.md", dangling_link),
        ("docs/design.md", "all fine: docs/ARCHITECTURE.md\n"),
    ];
    assert_eq!(
        dangling(&tree, files),
        [
            concat!("crates/mail-wire/src/lib.rs:1: docs/", "no-such-page.md"),
            concat!("crates/mail-wire/src/lib.rs:1: tests/", "gone.rs"),
            concat!("docs/ARCHITECTURE.md:1: DESIGN", ".md"),
        ]
    );
}

#[test]
fn ignored_directories_and_escapes() {
    let mut tree = sample_tree();
    assert!(!tree.exists(concat!("fuzz/", "corpus/line_framer")));
    tree.ignored.push("fuzz/corpus".to_owned());
    assert!(tree.exists(concat!("fuzz/", "corpus/line_framer")));
    assert!(!tree.exists("../../etc/passwd"));
    // Run-time paths in code are not file references; files with an extension are.
    assert_eq!(targets("Path::new(\"./data\").join(\"../etc\")", false), []);
    assert_eq!(
        targets("[x](../x.md) ../x.md", true),
        [("../x.md".to_owned(), Kind::File)]
    );
    assert_eq!(normalize("a/./b/../c/"), Some("a/c".to_owned()));
}

#[test]
fn design_citations_are_parsed_to_section_numbers() {
    assert_eq!(cited_sections(" section 4)."), ["4"]);
    assert_eq!(cited_sections(" security rule 3;"), ["3.3"]);
    assert_eq!(cited_sections(" rule 3)."), ["3.3"]);
    assert_eq!(cited_sections(" 3.5 | — |"), ["3.5"]);
    assert_eq!(cited_sections(" | 3.7 | A"), ["3.7"]);
    assert_eq!(cited_sections(" sections 3 and 5)"), ["3", "5"]);
    assert_eq!(cited_sections(" section 3, rule 5)."), ["3", "3.5"]);
    assert_eq!(cited_sections("`: the house rules"), Vec::<String>::new());
    let sections = design_sections("# T\n## 1. What\n### 3.5 Bounded\n## Notes\n");
    assert_eq!(
        sections,
        ["1", "3.5"]
            .map(String::from)
            .into_iter()
            .collect::<BTreeSet<_>>()
    );
}

/// The defect this check was written for was a bare file name (the code cited a design
/// document 26 times, without a directory): bare document names are references too.
#[test]
fn a_bare_root_file_name_is_a_reference() {
    let missing = concat!("HACK", "ING.md");
    let comment = format!("// The rules are in {missing}, section 3.");
    let found = targets(&comment, false);
    assert!(
        found.iter().any(|(target, _)| target == missing),
        "{missing} is not extracted: {found:?}"
    );
}
