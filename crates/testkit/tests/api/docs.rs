//! The repository stands alone and its documentation stays true: every repository path the
//! docs name exists, every relative link resolves, and no file points outside the
//! repository (a sibling checkout, a path of one particular machine).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The Markdown files whose paths and links are checked: the map, the README, everything
/// under `docs/`, and each crate's README.
fn documents(root: &Path) -> Vec<PathBuf> {
    fn markdown_under(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                markdown_under(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut docs = vec![root.join("ARCHITECTURE.md"), root.join("README.md")];
    markdown_under(&root.join("docs"), &mut docs);
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("README.md"))
        .filter(|p| p.exists())
        .collect();
    crates.sort();
    docs.extend(crates);
    docs
}

/// The text outside fenced code blocks: a shell example is not a claim about the tree, and
/// its backticks would upset the pairing of inline ones.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Backticked spans that name a place in the repository.
fn named_paths(prose: &str) -> Vec<&str> {
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|part| {
            ["crates/", "docs/", "scripts/", ".ci/"]
                .iter()
                .any(|p| part.starts_with(p))
        })
        .collect()
}

/// Targets of inline links `[text](target)` that point into the repository: not a URL, not
/// an anchor of the same page. The anchor and any title are dropped.
fn relative_links(prose: &str) -> Vec<&str> {
    prose
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split_whitespace().next().unwrap_or_default())
        .map(|target| target.split('#').next().unwrap_or_default())
        .filter(|target| !target.is_empty() && !target.contains("://"))
        .filter(|target| !target.starts_with("mailto:"))
        .collect()
}

#[test]
fn docs_name_only_paths_that_exist_and_links_that_resolve() {
    let root = root();
    let mut broken = Vec::new();
    let mut named = 0;
    for doc in documents(&root) {
        let shown = doc.strip_prefix(&root).unwrap().display().to_string();
        let text = prose(&std::fs::read_to_string(&doc).unwrap());
        for path in named_paths(&text) {
            if shown == "ARCHITECTURE.md" {
                named += 1;
            }
            if !root.join(path).exists() {
                broken.push(format!("{shown} names `{path}`, which does not exist"));
            }
        }
        let dir = doc.parent().unwrap();
        for link in relative_links(&text) {
            if !dir.join(link).exists() {
                broken.push(format!("{shown} links to {link}, which does not exist"));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
    assert!(
        named > 10,
        "the map names the places it describes ({named})"
    );
}

#[test]
fn doc_checks_see_paths_and_links_but_not_code_blocks_or_urls() {
    let text = prose(
        "See `crates/domain` and `Matrix`, [ADR](decisions/0001-x.md#why \"t\"), [web](https://a.example/b),\n\
         [here](#top) and [mail](mailto:a@b.example).\n\
         ```sh\n\
         cat `docs/inside-a-fence.md` [x](fenced.md)\n\
         ```\n\
         Then `docs/after.md`.\n",
    );
    assert_eq!(named_paths(&text), ["crates/domain", "docs/after.md"]);
    assert_eq!(relative_links(&text), ["decisions/0001-x.md"]);
}

/// What no file of the repository may mention: a checkout beside it, or a machine's own
/// paths. Spelt in pieces so this file does not match itself.
const OUTSIDE: &[&str] = &[
    concat!("..", "/shared"),
    concat!("shared", "/spec"),
    concat!("shared", "/design-notes"),
    concat!("shared", "/style.md"),
    concat!("spec", "/API.md"),
    concat!("spec", "/providers.md"),
    concat!("/wo", "rk/"),
];

/// Not walked: build output, version control, a Python environment, and the providers'
/// published specs, which are third-party files copied byte for byte.
const NOT_WALKED: &[&str] = &[
    "target",
    ".git",
    ".venv",
    ".ci-tmp",
    ".schemathesis",
    ".hypothesis",
    "crates/fakes/spec",
];

fn text_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = path.strip_prefix(root).unwrap();
        if NOT_WALKED.iter().any(|skip| relative == Path::new(skip)) {
            continue;
        }
        if path.is_dir() {
            text_files(root, &path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_file_points_outside_the_repository() {
    let root = root();
    let mut files = Vec::new();
    text_files(&root, &root, &mut files);
    assert!(
        files.len() > 50,
        "the walk sees the repository ({} files)",
        files.len()
    );
    let mut found = Vec::new();
    for file in files {
        // Binary files (a local SQLite database, an image) are not text to check.
        let Ok(text) = String::from_utf8(std::fs::read(&file).unwrap()) else {
            continue;
        };
        let shown = file.strip_prefix(&root).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            for needle in OUTSIDE.iter().filter(|needle| line.contains(*needle)) {
                found.push(format!("{shown}:{}: mentions {needle}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the repository must stand alone: cite docs/api.md, docs/providers.md or a public URL \
         instead\n{found:#?}"
    );
}
