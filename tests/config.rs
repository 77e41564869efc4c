//! Config loading: the Python tool's file unchanged, env-only mode, hybrid overrides, errors.

use std::collections::HashMap;

use balance_alert_core::config::{self, ConfigError, Mode};
use balance_alert_core::model::subscription::Cycle;
use serde_json::json;

use crate::util::parse_config;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    crate::util::env_map(pairs)
}

const PYTHON_CONFIG: &str = include_str!("fixtures/python_config.json");

fn python_env() -> HashMap<String, String> {
    env(&[
        ("API_KEY", "sk-test-0000000000001234"),
        (
            "WEBHOOK_URL",
            "https://open.feishu.cn/open-apis/bot/v2/hook/token-abc",
        ),
        ("WEBHOOK_SOURCE", "ops"),
        ("WEBHOOK_TYPE", "feishu"),
        ("EMAIL_PASSWORD", "pw"),
    ])
}

#[test]
fn python_tools_config_loads_unchanged() {
    let loaded = config::parse(PYTHON_CONFIG, &python_env()).expect("the peer's file loads");
    let c = &loaded.config;
    assert_eq!(c.projects.len(), 4);
    assert_eq!(c.projects[0].api_key.expose(), "sk-test-0000000000001234");
    assert_eq!(c.projects[1].owner_project.as_deref(), Some("chatbot"));
    assert_eq!(c.projects[1].threshold, crate::util::dec(50.0));
    assert!(!c.projects[3].enabled);
    assert_eq!(c.subscriptions.len(), 4);
    assert_eq!(c.subscriptions[2].cycle, Cycle::YearlyAnniversary);
    assert_eq!(c.subscriptions[3].cycle, Cycle::Weekly { renewal_day: 1 });
    assert_eq!(c.email.len(), 2);
    let hook = c.webhook.as_ref().expect("webhook configured");
    assert_eq!(
        (hook.kind.as_str(), hook.source.as_str()),
        ("feishu", "ops")
    );
    assert_eq!(c.settings.balance_refresh_interval_seconds, 3600);
    // Every provider is supported (uniapi, volc too); the disabled mailbox's unset variable
    // is a warning only.
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        !warnings.iter().any(|w| w.contains("not supported")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("QQ_PASSWORD_NOT_SET")),
        "{warnings:?}"
    );
    // The raw document keeps placeholders and unknown fields for write-back.
    let raw = loaded.raw.expect("raw kept");
    assert_eq!(raw["projects"][0]["api_key"], "${API_KEY}");
    assert_eq!(raw["projects"][0]["_comment"], "key from API_KEY");
}

#[test]
fn unset_placeholder_is_an_error_naming_the_variable_and_path() {
    let mut e = python_env();
    e.remove("API_KEY");
    let Err(ConfigError::Invalid(problems)) = config::parse(PYTHON_CONFIG, &e) else {
        panic!("expected validation problems");
    };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(text.contains(&"projects[0].api_key: environment variable API_KEY is not set; set it or replace \"${API_KEY}\" with a value".to_string()), "{text:?}");
    // The disabled project's placeholder is not an error.
    assert!(
        !text.iter().any(|t| t.starts_with("projects[3]")),
        "{text:?}"
    );
    // Reported once: not again as "api_key is required" for the empty stand-in.
    assert_eq!(
        text.iter()
            .filter(|t| t.starts_with("projects[0].api_key"))
            .count(),
        1,
        "{text:?}"
    );
}

#[test]
fn secrets_never_appear_in_debug_output_or_errors() {
    let loaded = config::parse(PYTHON_CONFIG, &python_env()).expect("loads");
    let debug = format!("{:?} {loaded:?}", loaded.config);
    assert!(!debug.contains("sk-test-0000000000001234"));
    assert!(!debug.contains("token-abc"));
    assert!(!debug.contains("\"pw\""));
}

#[test]
fn env_only_mode_builds_projects_from_indexed_variables() {
    let e = env(&[
        ("USE_ENV_CONFIG", "true"),
        ("PROJECT_1_NAME", "Main"),
        ("PROJECT_1_PROVIDER", "openrouter"),
        ("PROJECT_1_API_KEY", "k1"),
        ("PROJECT_1_THRESHOLD", "25.5"),
        ("PROJECT_2_NAME", "DS"),
        ("PROJECT_2_PROVIDER", "deepseek"),
        ("PROJECT_2_API_KEY", "k2"),
        ("PROJECT_2_THRESHOLD", "10"),
        ("PROJECT_2_ENABLED", "false"),
        ("SUBSCRIPTION_1_NAME", "Copilot"),
        ("SUBSCRIPTION_1_CYCLE_TYPE", "yearly"),
        ("SUBSCRIPTION_1_RENEWAL_DAY", "1231"),
        ("EMAIL_1_USERNAME", "me@example.com"),
        ("EMAIL_1_HOST", "imap.example.com"),
        ("MAX_CONCURRENT_CHECKS", "500"),
    ]);
    let loaded = config::load(std::path::Path::new("/nonexistent/config.json"), &e)
        .expect("env config loads");
    assert_eq!(loaded.mode, Mode::Env);
    let c = loaded.config;
    assert_eq!(c.projects.len(), 2);
    assert_eq!(c.projects[0].threshold, crate::util::dec(25.5));
    assert!(!c.projects[1].enabled);
    assert_eq!(
        c.subscriptions[0].cycle,
        Cycle::Yearly { month: 12, day: 31 }
    );
    assert_eq!(c.email[0].host, "imap.example.com");
    assert_eq!(c.settings.max_concurrent_checks, 500);
}

#[test]
fn env_only_mode_names_the_variable_to_fix() {
    let e = env(&[
        ("USE_ENV_CONFIG", "true"),
        ("PROJECT_1_NAME", "Main"),
        ("PROJECT_1_PROVIDER", "openrouter"),
        ("PROJECT_1_API_KEY", "k1"),
        ("PROJECT_1_THRESHOLD", "abc"),
    ]);
    let Err(ConfigError::Invalid(problems)) =
        config::load(std::path::Path::new("/nonexistent"), &e)
    else {
        panic!("expected problems");
    };
    assert_eq!(
        problems[0].to_string(),
        "PROJECT_1_THRESHOLD: must be a number ≥ 0, got \"abc\""
    );
    assert_eq!(
        problems.len(),
        1,
        "no spurious critical_threshold problem: {problems:?}"
    );
}

#[test]
fn env_only_mode_names_setting_variables() {
    let e = env(&[
        ("USE_ENV_CONFIG", "true"),
        ("PROJECT_1_NAME", "Main"),
        ("PROJECT_1_API_KEY", "k1"),
        ("MAX_RETRIES", "abc"),
        ("TIMEZONE", "Asia/Shanghai"),
    ]);
    let Err(ConfigError::Invalid(problems)) =
        config::load(std::path::Path::new("/nonexistent"), &e)
    else {
        panic!("expected problems");
    };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(text[0].starts_with("MAX_RETRIES: "), "{text:?}");
}

#[test]
fn hybrid_mode_names_the_variable_that_overrides_a_setting() {
    let doc = json!({"settings": {"max_retries": 2}, "projects": []});
    let Err(ConfigError::Invalid(problems)) =
        config::parse(&doc.to_string(), &env(&[("MAX_RETRIES", "abc")]))
    else {
        panic!("expected problems");
    };
    assert!(
        problems[0]
            .to_string()
            .starts_with("MAX_RETRIES (overrides settings.max_retries): "),
        "{problems:?}"
    );
}

#[test]
fn hybrid_mode_applies_env_overrides_like_the_python_tool() {
    let doc = json!({"projects": [
        {"name": "my-proj", "provider": "openrouter", "api_key": "from-file", "threshold": 1}
    ]});
    let c = parse_config(
        &doc,
        &[
            ("MY_PROJ_API_KEY", "from-env"),
            ("MAX_CONCURRENT_CHECKS", "7"),
        ],
    )
    .expect("loads");
    assert_eq!(c.projects[0].api_key.expose(), "from-env");
    assert_eq!(c.settings.max_concurrent_checks, 7);

    // PROJECT_n_* in the environment replaces the file's project list.
    let c = parse_config(
        &doc,
        &[
            ("PROJECT_1_NAME", "E"),
            ("PROJECT_1_PROVIDER", "moonshot"),
            ("PROJECT_1_API_KEY", "k"),
            ("PROJECT_1_THRESHOLD", "3"),
        ],
    )
    .expect("loads");
    assert_eq!(c.projects.len(), 1);
    assert_eq!(c.projects[0].provider, "moonshot");
}

#[test]
fn our_additions_per_project_are_read() {
    let doc = json!({"projects": [{
        "name": "a", "provider": "deepseek", "api_key": "k", "threshold": 10,
        "critical_threshold": 2, "base_url": "http://127.0.0.1:9/", "currency": "usd",
        "check_interval": 600
    }]});
    let c = parse_config(&doc, &[]).expect("loads");
    let p = &c.projects[0];
    assert_eq!(p.critical_threshold, Some(crate::util::dec(2.0)));
    assert_eq!(p.base_url.as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(p.currency.as_deref(), Some("USD"));
    assert_eq!(p.check_interval, Some(600));
}

#[test]
fn invalid_json_reports_line_and_column() {
    let err = config::parse("{\n  \"projects\": [,]\n}", &env(&[])).expect_err("bad JSON");
    let text = err.to_string();
    assert!(text.contains("line 2"), "{text}");
}

/// A Kubernetes-ConfigMap-style layout: `config.json → ..data/config.json`, `..data → ..v1`.
fn configmap_dir(doc: &serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let v1 = dir.path().join("..v1");
    std::fs::create_dir(&v1).expect("v1");
    std::fs::write(v1.join("config.json"), doc.to_string()).expect("write");
    std::os::unix::fs::symlink("..v1", dir.path().join("..data")).expect("data link");
    std::os::unix::fs::symlink("..data/config.json", dir.path().join("config.json"))
        .expect("config link");
    dir
}

/// Re-points `..data` atomically, as the kubelet does.
fn swap_configmap(dir: &std::path::Path, version: &str, doc: &serde_json::Value) {
    let v = dir.join(version);
    std::fs::create_dir(&v).expect("version dir");
    std::fs::write(v.join("config.json"), doc.to_string()).expect("write");
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(version, &tmp).expect("tmp link");
    std::fs::rename(&tmp, dir.join("..data")).expect("swap");
}

fn projects_doc(names: &[&str]) -> serde_json::Value {
    json!({"projects": names.iter().map(|n| json!({"name": n, "provider": "openrouter", "api_key": "k", "threshold": 1})).collect::<Vec<_>>()})
}

#[test]
fn a_configmap_swap_and_an_edit_through_the_link_are_each_one_reload() {
    let dir = configmap_dir(&projects_doc(&["a"]));
    let path = dir.path().join("config.json");
    let live = config::LiveConfig::load(&path, env(&[])).expect("loads");
    let first_hash = live.get().content_hash.clone().expect("hash");
    for _ in 0..25 {
        assert!(
            !live.poll(),
            "an unchanged file is never re-read into a reload"
        );
    }
    assert_eq!(live.reload_counts(), (0, 0));
    // WHEN the ConfigMap is swapped THEN one reload, and the hash changes
    swap_configmap(dir.path(), "..v2", &projects_doc(&["a", "b"]));
    assert!(live.poll());
    assert_eq!(live.get().config.projects.len(), 2);
    assert_ne!(
        live.get().content_hash.as_deref(),
        Some(first_hash.as_str())
    );
    for _ in 0..25 {
        assert!(!live.poll());
    }
    // WHEN the file the link points to is edited in place THEN one more reload
    std::fs::write(
        dir.path().join("..v2/config.json"),
        projects_doc(&["a", "b", "c"]).to_string(),
    )
    .expect("edit target");
    assert!(live.poll());
    assert_eq!(live.get().config.projects.len(), 3);
    for _ in 0..25 {
        assert!(!live.poll());
    }
    assert_eq!(live.reload_counts(), (2, 0));
}

#[test]
fn a_broken_or_oversized_file_is_reported_once_and_keeps_the_last_good_config() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, projects_doc(&["a"]).to_string()).expect("write");
    let live = config::LiveConfig::load(&path, env(&[])).expect("loads");
    std::fs::write(&path, "{\"projects\": [").expect("break");
    for _ in 0..25 {
        assert!(!live.poll());
    }
    assert_eq!(
        live.reload_counts(),
        (1, 1),
        "one failed attempt, not one per poll"
    );
    assert!(live
        .last_error()
        .is_some_and(|e| e.contains("not valid JSON")));
    assert_eq!(live.get().config.projects.len(), 1);
    // A 2 MiB file is refused with a clear error, without reading it whole.
    let mut big = projects_doc(&["a"]);
    big["padding"] = json!("x".repeat(2 * 1024 * 1024));
    std::fs::write(&path, big.to_string()).expect("big");
    assert!(!live.poll());
    let e = live.last_error().expect("error");
    assert!(e.contains("the limit is 1048576 bytes"), "{e}");
    let Err(e) = config::load(&path, &env(&[])) else {
        panic!("a 2 MiB file must not load");
    };
    assert!(matches!(e, ConfigError::TooLarge { .. }), "{e}");
}

#[test]
fn the_readme_lists_every_setting_as_the_table_says() {
    let readme = include_str!("../README.md");
    let table = config::settings::markdown();
    assert!(
        readme.contains(&table),
        "README's settings table is out of date: paste `balance-alert config settings`"
    );
}

#[test]
fn every_setting_can_come_from_its_environment_variable() {
    // The settings functions are configured with: none may be file-only.
    for spec in config::settings::SETTINGS {
        let value = match spec.kind {
            config::settings::Kind::Int { min, .. } => min.to_string(),
            config::settings::Kind::Float { max, .. } => max.to_string(),
            config::settings::Kind::Bool => "false".into(),
            config::settings::Kind::Path => "/tmp/x.db".into(),
            config::settings::Kind::Zone => "UTC".into(),
            config::settings::Kind::Language => "en".into(),
            config::settings::Kind::Digest => "daily 08:30".into(),
        };
        let e = env(&[
            ("USE_ENV_CONFIG", "true"),
            ("PROJECT_1_NAME", "Main"),
            ("PROJECT_1_API_KEY", "k"),
            (spec.env, value.as_str()),
        ]);
        let loaded = config::load(std::path::Path::new("/nonexistent"), &e)
            .unwrap_or_else(|err| panic!("{}={value}: {err}", spec.env));
        let mut expected = config::Settings::default();
        config::settings::apply(
            &mut expected,
            spec.name,
            spec.parse(&value).expect("valid value"),
        );
        assert_eq!(loaded.config.settings, expected, "{}", spec.env);
    }
}

#[test]
fn the_readme_layout_names_every_crate_and_top_level_folder() {
    let readme = include_str!("../README.md");
    let layout = readme
        .split("## Layout")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Layout section");
    let listed = |path: &str| {
        layout.lines().any(|l| {
            l.split('|')
                .nth(1)
                .is_some_and(|cell| cell.contains(&format!("`{path}")))
        })
    };
    let manifest = include_str!("../Cargo.toml");
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("workspace members")
        .split('"')
        .skip(1)
        .step_by(2);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let folders = std::fs::read_dir(root)
        .expect("root")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        // Build output, local data and dot folders are not part of the source layout.
        .filter(|n| {
            !n.starts_with('.')
                && !["target", "dist", "data", "examples", "node_modules"].contains(&n.as_str())
        });
    let mut missing: Vec<String> = members
        // A function is listed through `functions/`.
        .filter(|m| !m.starts_with("functions/"))
        .map(str::to_owned)
        .chain(folders)
        .filter(|p| !listed(p))
        .collect();
    missing.sort();
    assert!(missing.is_empty(), "README Layout omits {missing:?}");
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut crates: Vec<String> = std::fs::read_dir(root.join("shared"))
        .expect("shared/")
        .filter_map(Result::ok)
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .map(|p| p.display().to_string())
        .collect();
    crates.extend(["src", "frontend/src"].map(|p| root.join(p).display().to_string()));
    let out = std::process::Command::new("python3")
        .arg(root.join("scripts/module_cycles.py"))
        .args(&crates)
        .output()
        .expect("python3 runs scripts/module_cycles.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cycles = String::from_utf8_lossy(&out.stdout);
    assert!(
        cycles.trim().is_empty(),
        "import cycles between modules:\n{cycles}"
    );
}
