//! template.yaml: cfn-lint on the SAM template and on its offline CloudFormation translation
//! (aws-sam-translator), then what lint cannot see — the stream event wired to the table's
//! stream with partial batch failures and the DLQ, each function's environment and policies,
//! and a table identical to what `balance-alert table create` makes.

use std::path::PathBuf;
use std::process::Command;

use balance_alert_store_dynamodb::table;
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's tool when there is one (./scripts/test.sh makes it), else PATH's.
fn tool(name: &str) -> PathBuf {
    let venv = root().join(".venv/bin").join(name);
    if venv.exists() {
        venv
    } else {
        PathBuf::from(name)
    }
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{what}: {e} (./scripts/test.sh installs cfn-lint and aws-sam-translator in .venv)")
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The template translated to CloudFormation.
fn translated() -> Value {
    let text = run(
        Command::new(tool("python"))
            .arg(root().join("scripts/sam_translate.py"))
            .arg(root().join("template.yaml")),
        "sam translate",
    );
    serde_json::from_str(&text).expect("CloudFormation JSON")
}

fn get_att(resource: &str, attr: &str) -> Value {
    json!({"Fn::GetAtt": [resource, attr]})
}

#[test]
fn cfn_lint_passes_the_template_and_its_translation() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("cfn.json");
    std::fs::write(&out, serde_json::to_vec(&translated()).expect("json")).expect("write");
    run(
        Command::new(tool("cfn-lint"))
            .arg(root().join("template.yaml"))
            .arg(&out),
        "cfn-lint",
    );
}

#[test]
fn the_stream_feeds_the_notifier_with_partial_failures_and_a_dead_letter_queue() {
    let t = translated();
    let mapping = &t["Resources"]["NotifierFunctionStream"]["Properties"];
    assert_eq!(mapping["EventSourceArn"], get_att("Table", "StreamArn"));
    assert_eq!(
        mapping["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(mapping["BisectBatchOnFunctionError"], true);
    assert!(mapping["MaximumRetryAttempts"]
        .as_i64()
        .is_some_and(|n| n > 0));
    assert_eq!(
        mapping["DestinationConfig"]["OnFailure"]["Destination"],
        get_att("NotifierDeadLetters", "Arn")
    );
    let alarm = &t["Resources"]["DeadLetterAlarm"]["Properties"];
    assert_eq!(
        alarm["Dimensions"][0]["Value"],
        get_att("NotifierDeadLetters", "QueueName")
    );
}

/// Every action a function's own policies grant.
fn actions(t: &Value, role: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in statements(t, role) {
        match &s["Action"] {
            Value::String(a) => out.push(a.clone()),
            Value::Array(list) => {
                out.extend(list.iter().filter_map(|a| a.as_str().map(str::to_owned)))
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn each_function_gets_the_table_and_only_the_calls_its_code_makes() {
    let t = translated();
    for f in ["CheckerFunction", "ApiFunction", "NotifierFunction"] {
        let env = &t["Resources"][f]["Properties"]["Environment"]["Variables"];
        assert_eq!(env["TABLE_NAME"], json!({"Ref": "Table"}), "{f}");
        assert_eq!(
            t["Resources"][f]["Properties"]["Architectures"],
            json!([{"Ref": "Architecture"}])
        );
        assert_eq!(t["Parameters"]["Architecture"]["Default"], "arm64");
        assert_eq!(
            t["Resources"][f]["Properties"]["Runtime"],
            "provided.al2023"
        );
    }
    let store_calls = [
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
    ];
    assert_eq!(actions(&t, "CheckerFunctionRole"), store_calls);
    assert_eq!(actions(&t, "ApiFunctionRole"), store_calls);
    // The notifier reads and updates alerts and holds leases: item calls only.
    let notifier = actions(&t, "NotifierFunctionRole");
    assert!(
        notifier
            .iter()
            .all(|a| !a.contains('*') && a != "dynamodb:Query"),
        "{notifier:?}"
    );
    assert!(notifier.contains(&"dynamodb:UpdateItem".to_owned()));
    assert!(notifier.contains(&"secretsmanager:GetSecretValue".to_owned()));
    // The API key is read from its secret at run time: named by ARN, never resolved into the
    // function's configuration, and readable by the api function alone.
    let api_env = &t["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        api_env["API_KEY_SECRET_ARN"],
        json!({"Ref": "ApiKeySecret"})
    );
    assert!(
        !t.to_string().contains("resolve:secretsmanager"),
        "no secret is resolved at deploy time"
    );
    let key_readers: Vec<&str> = [
        "CheckerFunctionRole",
        "ApiFunctionRole",
        "NotifierFunctionRole",
    ]
    .into_iter()
    .filter(|role| {
        statements(&t, role).iter().any(|s| {
            s["Resource"] == json!({"Ref": "ApiKeySecret"})
                && s["Action"] == json!("secretsmanager:GetSecretValue")
        })
    })
    .collect();
    assert_eq!(key_readers, ["ApiFunctionRole"]);
}

/// Every statement of a function's own policies.
fn statements(t: &Value, role: &str) -> Vec<Value> {
    t["Resources"][role]["Properties"]["Policies"]
        .as_array()
        .expect("policies")
        .iter()
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn the_table_is_the_one_table_create_makes() {
    let t = translated();
    let p = &t["Resources"]["Table"]["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["KeySchema"],
        json!([{"AttributeName": table::PK, "KeyType": "HASH"}, {"AttributeName": table::SK, "KeyType": "RANGE"}])
    );
    let gsis: Vec<(String, String, String)> = p["GlobalSecondaryIndexes"]
        .as_array()
        .expect("GSIs")
        .iter()
        .map(|g| {
            (
                g["IndexName"].as_str().unwrap_or("").to_owned(),
                g["KeySchema"][0]["AttributeName"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                g["KeySchema"][1]["AttributeName"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = table::INDEXES
        .iter()
        .map(|(n, h, r)| (n.to_string(), h.to_string(), r.to_string()))
        .collect();
    assert_eq!(gsis, expected);
    assert!(p["GlobalSecondaryIndexes"]
        .as_array()
        .expect("GSIs")
        .iter()
        .all(|g| g["Projection"]["ProjectionType"] == "ALL"));
    assert_eq!(
        p["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
    assert_eq!(
        p["TimeToLiveSpecification"]["AttributeName"],
        table::TTL_ATTRIBUTE
    );
    assert_eq!(p["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}

/// Whether a Lambda event-filter `pattern` (the subset the template uses: lists of exact
/// values and `{"prefix": …}`, nested objects) admits `record`.
fn admits(pattern: &Value, record: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(k, p)| record.get(k).is_some_and(|r| admits(p, r))),
        Value::Array(options) => options.iter().any(|o| match o {
            Value::Object(rule) => match rule.get("prefix").and_then(Value::as_str) {
                Some(prefix) => record.as_str().is_some_and(|r| r.starts_with(prefix)),
                None => panic!("filter rule {rule:?} is not understood by this test"),
            },
            exact => exact == record,
        }),
        other => panic!("filter pattern {other} is not understood by this test"),
    }
}

#[test]
fn only_new_alert_records_wake_the_notifier() {
    let t = translated();
    let filters =
        &t["Resources"]["NotifierFunctionStream"]["Properties"]["FilterCriteria"]["Filters"];
    let patterns: Vec<Value> = filters
        .as_array()
        .expect("a filter on the stream mapping")
        .iter()
        .map(|f| serde_json::from_str(f["Pattern"].as_str().expect("pattern")).expect("JSON"))
        .collect();
    let wakes = |record: Value| patterns.iter().any(|p| admits(p, &record));
    let record = |event: &str, pk: &str| json!({"eventName": event, "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "X"}}}});
    // The records the notifier acts on (the shape of shared/lambda/tests/functions.rs's events).
    assert!(wakes(record("INSERT", "ALERT#p-1-1")));
    // Not a delivery outcome written back, a reading, a state or a schedule.
    assert!(!wakes(record("MODIFY", "ALERT#p-1-1")));
    assert!(!wakes(record("INSERT", "READING#p")));
    assert!(!wakes(record("MODIFY", "STATE#p")));
    assert!(!wakes(record("REMOVE", "ALERT#p-1-1")));
}

#[test]
fn the_table_the_secret_and_the_logs_survive_a_replacement_or_a_delete() {
    let t = translated();
    for r in [
        "Table",
        "ApiKeySecret",
        "CheckerLogs",
        "ApiLogs",
        "NotifierLogs",
    ] {
        let res = &t["Resources"][r];
        assert_eq!(res["DeletionPolicy"], "Retain", "{r}");
        assert_eq!(res["UpdateReplacePolicy"], "Retain", "{r}");
    }
}

#[test]
fn a_hosted_dashboard_can_poll_with_etags_and_few_preflights() {
    let t = translated();
    // SAM writes the HTTP API's CORS into its OpenAPI body.
    let cors = &t["Resources"]["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"];
    let lower = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        lower(&cors["allowHeaders"]).contains(&"if-none-match".to_owned()),
        "{cors}"
    );
    assert!(
        lower(&cors["exposeHeaders"]).contains(&"etag".to_owned()),
        "{cors}"
    );
    assert!(cors["maxAge"].as_i64().is_some_and(|s| s >= 300), "{cors}");
}

#[test]
fn a_checker_that_stops_running_and_a_stream_that_falls_behind_raise_alarms() {
    let t = translated();
    let heartbeat = &t["Resources"]["CheckerHeartbeatAlarm"]["Properties"];
    // The series the checker emits once per run (shared/lambda/src/emf.rs ALWAYS), in its
    // namespace; no data at all is the failure this alarm exists for.
    let emf = std::fs::read_to_string(root().join("shared/lambda/src/emf.rs")).expect("emf.rs");
    assert!(emf.contains(&format!(
        "pub const NAMESPACE: &str = {};",
        heartbeat["Namespace"]
    )));
    assert!(
        emf.contains(&format!("{},", heartbeat["MetricName"])),
        "{heartbeat}"
    );
    assert_eq!(heartbeat["TreatMissingData"], "breaching");
    assert_eq!(heartbeat["ComparisonOperator"], "LessThanThreshold");
    let age = &t["Resources"]["StreamIteratorAgeAlarm"]["Properties"];
    assert_eq!(age["MetricName"], "IteratorAge");
    assert_eq!(
        age["Dimensions"][0]["Value"],
        json!({"Ref": "NotifierFunction"})
    );
    assert_eq!(
        t["Resources"]["ThrottlesAlarm"]["Properties"]["MetricName"],
        "Throttles"
    );
}

/// The template as written (SAM, before translation), as JSON.
fn raw_template() -> Value {
    let text = run(
        Command::new(tool("python"))
            .arg("-c")
            .arg(
                "import json, sys; from samtranslator.yaml_helper import yaml_parse; \
                 json.dump(yaml_parse(open(sys.argv[1], encoding='utf-8').read()), sys.stdout)",
            )
            .arg(root().join("template.yaml")),
        "parse template.yaml",
    );
    serde_json::from_str(&text).expect("template JSON")
}

/// The bin targets cargo considers for `--bin` when run in `dir` without `-p`: the package whose
/// manifest is there, or at the workspace root its default members.
fn default_run_bins(dir: &std::path::Path) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let text = run(
        Command::new(cargo)
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .current_dir(dir),
        "cargo metadata",
    );
    let m: Value = serde_json::from_str(&text).expect("cargo metadata JSON");
    let dir = dir.canonicalize().expect("dir");
    let manifest = dir.join("Cargo.toml");
    let at_root = PathBuf::from(m["workspace_root"].as_str().expect("workspace_root"))
        .canonicalize()
        .expect("root")
        == dir;
    let selected: Vec<&Value> = m["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| {
            if at_root {
                m["workspace_default_members"]
                    .as_array()
                    .expect("workspace_default_members")
                    .contains(&p["id"])
            } else {
                manifest
                    == std::path::Path::new(p["manifest_path"].as_str().expect("manifest_path"))
            }
        })
        .collect();
    selected
        .iter()
        .flat_map(|p| p["targets"].as_array().expect("targets").iter())
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.contains(&json!("bin")))
        })
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect()
}

/// `sam build` runs `cargo lambda build --release --bin <Binary>` in each function's CodeUri
/// (aws-lambda-builders' rust_cargo workflow), and `cargo lambda watch` at the root runs
/// `cargo run --bin <function>`: cargo finds the bin only among the packages it selects there
/// ("no bin target named `checker` in default-run packages" otherwise).
#[test]
fn sam_build_and_cargo_lambda_watch_find_each_functions_binary() {
    let t = raw_template();
    let at_root = default_run_bins(&root());
    let mut functions = 0;
    for (name, r) in t["Resources"].as_object().expect("resources") {
        if r["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        assert_eq!(r["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let bin = r["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: BuildProperties.Binary"));
        let code_uri = r["Properties"]["CodeUri"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: CodeUri"));
        let bins = default_run_bins(&root().join(code_uri));
        assert!(
            bins.iter().any(|b| b == bin),
            "{name}: sam build runs `cargo lambda build --bin {bin}` in {code_uri:?}, where cargo selects only the bins {bins:?}"
        );
        assert!(
            at_root.iter().any(|b| b == bin),
            "{name}: `cargo lambda watch` runs `cargo run --bin {bin}` at the root, where cargo selects only the bins {at_root:?}"
        );
        functions += 1;
    }
    assert_eq!(functions, 3);
    // A bare `cargo run` (README, scripts) still starts the local binary.
    assert!(at_root.iter().any(|b| b == "balance-alert"));
}
