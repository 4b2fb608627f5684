//! ARCHITECTURE.md must stay true: every path it names exists.

#[test]
fn architecture_names_only_paths_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut named = 0;
    for (i, part) in text.split('`').enumerate() {
        let is_code = i % 2 == 1;
        let looks_like_path = ["crates/", "docs/", "scripts/", ".ci/"]
            .iter()
            .any(|p| part.starts_with(p));
        if is_code && looks_like_path {
            named += 1;
            assert!(
                root.join(part).exists(),
                "ARCHITECTURE.md names {part}, which does not exist"
            );
        }
    }
    assert!(
        named > 10,
        "the map names the places it describes ({named})"
    );
}
