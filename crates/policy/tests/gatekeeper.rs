//! Reviews through the public API: what a webhook or audit sees.

use std::path::PathBuf;

use rampart_policy::{EnforcementAction, Error, Gatekeeper};
use serde_json::{Value as Json, json};

fn library() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/gatekeeper-library/library"
    ));
    assert!(
        dir.is_dir(),
        "{} is missing: the tests need the data bundle at ../shared/data beside the project root",
        dir.display()
    );
    dir
}

const LABELS_TEMPLATE: &str = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: string
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredlabels
        violation[{"msg": msg, "details": {"missing": missing}}] {
          provided := {l | input.review.object.metadata.labels[l]}
          required := {l | l := input.parameters.labels[_]}
          missing := required - provided
          count(missing) > 0
          msg := sprintf("missing labels: %v", [missing])
        }
"#;

fn yaml(text: &str) -> Json {
    serde_saphyr::from_str(text).unwrap()
}

fn labels_constraint(name: &str, action: &str, extra_match: Json) -> Json {
    let mut m = json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]});
    for (k, v) in extra_match.as_object().unwrap() {
        m[k] = v.clone();
    }
    json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": "K8sRequiredLabels",
        "metadata": {"name": name},
        "spec": {"enforcementAction": action, "match": m, "parameters": {"labels": ["owner"]}},
    })
}

fn pod(name: &str, ns: &str, labels: Json) -> Json {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

fn request(op: &str, object: Option<Json>, old: Option<Json>) -> Json {
    let subject = object.clone().or(old.clone()).unwrap();
    json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "name": subject["metadata"]["name"], "namespace": subject["metadata"]["namespace"],
        "operation": op, "userInfo": {"username": "alice"},
        "object": object, "oldObject": old,
    })
}

fn labels_gatekeeper(constraints: &[Json]) -> Gatekeeper {
    let mut g = Gatekeeper::new();
    assert!(g.add_template(&yaml(LABELS_TEMPLATE), "labels.yaml").unwrap().is_empty());
    for c in constraints {
        g.add_constraint(c, "constraint.yaml").unwrap();
    }
    g
}

#[test]
fn whole_library_loads_without_warnings() {
    let mut g = Gatekeeper::new();
    let warnings = g.load_path(&library()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(g.template_kinds().count(), 30);
    // 43 sample constraints, two pairs of which share kind and name.
    assert_eq!(g.constraints().count(), 41);
}

#[test]
fn violation_carries_constraint_message_action_and_details() {
    let g = labels_gatekeeper(&[labels_constraint("need-owner", "deny", json!({}))]);
    let v =
        g.review(&request("CREATE", Some(pod("web", "default", json!({"app": "web"}))), None), None).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].template, "K8sRequiredLabels");
    assert_eq!(v[0].constraint, "need-owner");
    assert_eq!(v[0].message, r#"missing labels: {"owner"}"#);
    assert_eq!(v[0].action, EnforcementAction::Deny);
    assert_eq!(v[0].details, Some(json!({"missing": ["owner"]})));
    let ok = g
        .review(&request("CREATE", Some(pod("web", "default", json!({"owner": "me"}))), None), None)
        .unwrap();
    assert!(ok.is_empty());
}

#[test]
fn enforcement_actions_and_match_rules() {
    let g = labels_gatekeeper(&[
        labels_constraint("warn-only", "warn", json!({})),
        labels_constraint("dry", "dryrun", json!({})),
        labels_constraint("prod-only", "deny", json!({"namespaces": ["prod-*"]})),
        labels_constraint("not-system", "deny", json!({"excludedNamespaces": ["*-system"]})),
        labels_constraint("named", "deny", json!({"name": "db-*"})),
        labels_constraint(
            "tiered",
            "deny",
            json!({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}}),
        ),
        labels_constraint("env-prod", "deny", json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}})),
    ]);
    let prod_ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod-eu", "labels": {"env": "prod"}}});
    let ns = |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let (default_ns, system_ns) = (ns("default"), ns("kube-system"));
    let cases: Vec<(Json, Option<&Json>, Vec<&str>)> = vec![
        (pod("web", "default", json!({})), Some(&default_ns), vec!["dry", "not-system", "warn-only"]),
        (pod("web", "kube-system", json!({})), Some(&system_ns), vec!["dry", "warn-only"]),
        (
            pod("db-1", "prod-eu", json!({"tier": "x"})),
            Some(&prod_ns),
            vec!["dry", "env-prod", "named", "not-system", "prod-only", "tiered", "warn-only"],
        ),
    ];
    for (object, ns, want) in cases {
        let name = object["metadata"]["name"].clone();
        let v = g.review(&request("CREATE", Some(object), None), ns).unwrap();
        let mut got: Vec<&str> = v.iter().map(|v| v.constraint.as_str()).collect();
        got.sort();
        assert_eq!(got, want, "pod {name}");
        for v in &v {
            let want_action = match v.constraint.as_str() {
                "warn-only" => EnforcementAction::Warn,
                "dry" => EnforcementAction::Dryrun,
                _ => EnforcementAction::Deny,
            };
            assert_eq!(v.action, want_action, "{}", v.constraint);
        }
    }
    // A namespaced object whose Namespace is unknown cannot be matched by a
    // namespaceSelector: the constraint reports that instead of passing it.
    let v = g.review(&request("CREATE", Some(pod("web", "team-a", json!({}))), None), None).unwrap();
    let env = v.iter().find(|v| v.constraint == "env-prod").expect("env-prod reports");
    assert!(
        env.message.contains("namespaceSelector needs the Namespace object of `team-a`"),
        "{}",
        env.message
    );
}

#[test]
fn delete_and_update_use_the_old_object() {
    let g = labels_gatekeeper(&[labels_constraint(
        "tiered",
        "deny",
        json!({"labelSelector": {"matchLabels": {"tier": "front"}}}),
    )]);
    // DELETE carries only oldObject; the template still sees input.review.object.
    let v = g
        .review(&request("DELETE", None, Some(pod("web", "default", json!({"tier": "front"})))), None)
        .unwrap();
    assert_eq!(v.len(), 1);
    // Removing the selected label in an update does not escape the constraint.
    let v = g
        .review(
            &request(
                "UPDATE",
                Some(pod("web", "default", json!({}))),
                Some(pod("web", "default", json!({"tier": "front"}))),
            ),
            None,
        )
        .unwrap();
    assert_eq!(v.len(), 1);
}

#[test]
fn audit_object_reviews_a_plain_object() {
    let g = labels_gatekeeper(&[labels_constraint("need-owner", "deny", json!({}))]);
    let v = g.audit_object(&pod("web", "default", json!({})), None).unwrap();
    assert_eq!(v.len(), 1);
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}});
    assert!(g.audit_object(&svc, None).unwrap().is_empty());
}

#[test]
fn inventory_feeds_referential_templates_and_resets_cached_results() {
    let dir = library().join("general/uniqueingresshost");
    let mut g = Gatekeeper::new();
    assert!(g.load_path(&dir).unwrap().is_empty());
    let ingress = |name: &str, ns: &str| {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name, "namespace": ns},
               "spec": {"rules": [{"host": "example.com"}]}})
    };
    assert!(g.audit_object(&ingress("a", "one"), None).unwrap().is_empty());
    g.set_inventory(vec![ingress("b", "two")]);
    let v = g.audit_object(&ingress("a", "one"), None).unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].message.contains("ingress host conflicts"), "{}", v[0].message);
    // The object itself in the inventory is not a conflict.
    g.set_inventory(vec![ingress("a", "one")]);
    assert!(g.audit_object(&ingress("a", "one"), None).unwrap().is_empty());
}

#[test]
fn unsupported_templates_warn_and_bad_ones_fail_with_their_source() {
    let mut g = Gatekeeper::new();
    let cel = yaml(
        r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8scel}
spec:
  crd: {spec: {names: {kind: K8sCel}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: K8sNativeValidation
          source: {validations: [{expression: "true"}]}
"#,
    );
    let w = g.add_template(&cel, "cel.yaml").unwrap();
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("K8sNativeValidation code, which is unsupported"), "{}", w[0].message);
    let c = json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sCel", "metadata": {"name": "x"}});
    assert!(g.add_constraint(&c, "c.yaml").is_err());

    let external = LABELS_TEMPLATE
        .replace("count(missing) > 0", "resp := external_data({\"provider\": \"p\", \"keys\": []})");
    let w = g.add_template(&yaml(&external), "ext.yaml").unwrap();
    assert!(w[0].message.contains("external_data"), "{}", w[0].message);

    let broken = LABELS_TEMPLATE.replace("count(missing) > 0", "count(missing) > ");
    match g.add_template(&yaml(&broken), "broken.yaml") {
        Err(Error::Rego { source_name, template, message }) => {
            assert_eq!((source_name.as_str(), template.as_str()), ("broken.yaml", "K8sRequiredLabels"));
            assert!(message.contains("K8sRequiredLabels.rego:"), "{message}");
        }
        other => panic!("want a Rego error, got {:?}", other.map(|_| ())),
    }

    let no_violation = LABELS_TEMPLATE.replace("violation[", "deny[");
    let err = g.add_template(&yaml(&no_violation), "nv.yaml").unwrap_err().to_string();
    assert!(err.contains("does not define a `violation` rule"), "{err}");
}

#[test]
fn parameters_are_checked_against_the_schema() {
    let mut g = labels_gatekeeper(&[]);
    let mut c = labels_constraint("bad", "deny", json!({}));
    c["spec"]["parameters"] = json!({"labels": [1]});
    let err = g.add_constraint(&c, "bad.yaml").unwrap_err().to_string();
    assert!(
        err.contains("bad.yaml") && err.contains("spec.parameters.labels[0]: expected string, got integer"),
        "{err}"
    );
    let mut c = labels_constraint("bad", "block", json!({}));
    c["spec"]["parameters"] = json!({"labels": ["a"]});
    let err = g.add_constraint(&c, "bad.yaml").unwrap_err().to_string();
    assert!(err.contains("spec.enforcementAction `block`"), "{err}");
}

#[test]
fn reviews_run_concurrently_with_the_same_answers() {
    let mut g = Gatekeeper::new();
    g.load_path(&library()).unwrap();
    let req = request("CREATE", Some(pod("web", "default", json!({}))), None);
    let want = g.review(&req, None).unwrap();
    assert!(!want.is_empty());
    let g = std::sync::Arc::new(g);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (g, req) = (std::sync::Arc::clone(&g), req.clone());
            std::thread::spawn(move || (0..20).map(|_| g.review(&req, None).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    for h in handles {
        for got in h.join().unwrap() {
            assert_eq!(got, want);
        }
    }
}

#[test]
fn review_until_stops_a_runaway_template_at_the_deadline() {
    let template = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sslow
spec:
  crd:
    spec:
      names:
        kind: K8sSlow
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sslow
        violation[{"msg": "never"}] {
          xs := numbers.range(1, 20000)
          xs[i] + xs[j] < 0
        }
"#;
    let mut g = Gatekeeper::new();
    g.set_decision_cache(0);
    g.add_template(&yaml(template), "slow.yaml").unwrap();
    let constraint = json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sSlow",
        "metadata": {"name": "slow"}, "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}}});
    g.add_constraint(&constraint, "slow.yaml").unwrap();
    let req = request("CREATE", Some(pod("web", "default", json!({}))), None);
    let started = std::time::Instant::now();
    let deadline = started + std::time::Duration::from_millis(50);
    match g.review_until(&req, None, Some(deadline)) {
        Err(Error::Eval { constraint, message, .. }) => {
            assert_eq!(constraint, "slow");
            assert!(message.contains("time limit"), "{message}");
        }
        other => panic!("expected a deadline error, got {other:?}"),
    }
    // 400 million comparisons take far longer than this when nothing stops them.
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    // A deadline already passed fails before evaluating.
    assert!(matches!(g.review_until(&req, None, Some(started)), Err(Error::Eval { .. })));
}

#[test]
fn cached_reviews_keep_each_constraints_own_outcome() {
    let mut team = labels_constraint("need-team", "warn", json!({}));
    team["spec"]["parameters"]["labels"] = json!(["team"]);
    let g = labels_gatekeeper(&[labels_constraint("need-owner", "deny", json!({})), team]);
    let req = request("CREATE", Some(pod("web", "default", json!({"team": "a"}))), None);
    let other = request("CREATE", Some(pod("web", "default", json!({"owner": "b"}))), None);
    let summary = |v: Vec<rampart_policy::Violation>| -> Vec<(String, String)> {
        v.into_iter().map(|v| (v.constraint, v.message)).collect()
    };
    let first = summary(g.review(&req, None).unwrap());
    assert_eq!(first, [("need-owner".to_string(), "missing labels: {\"owner\"}".to_string())]);
    let first_other = summary(g.review(&other, None).unwrap());
    assert_eq!(first_other, [("need-team".to_string(), "missing labels: {\"team\"}".to_string())]);
    // Answered from the cache now: the same, per constraint and per input.
    for _ in 0..3 {
        assert_eq!(summary(g.review(&req, None).unwrap()), first);
        assert_eq!(summary(g.review(&other, None).unwrap()), first_other);
    }
}

#[test]
fn rego_that_reads_the_uid_is_answered_per_uid_from_the_cache() {
    // Two templates on the same requests: one names the uid in its message,
    // one may read anything (`input.review[k]`); both must see each uid.
    let template = |name: &str, rego_body: &str| {
        yaml(&format!(
            r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: {name}
spec:
  crd:
    spec:
      names:
        kind: {name}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package {name}
        violation[{{"msg": msg}}] {{
          {rego_body}
        }}
"#
        ))
    };
    let mut g = Gatekeeper::new();
    g.add_template(&template("nameduid", r#"msg := sprintf("uid %v", [input.review.uid])"#), "t1.yaml")
        .unwrap();
    g.add_template(
        &template("anykey", r#"input.review[k] == "u-1"; msg := sprintf("key %v", [k])"#),
        "t2.yaml",
    )
    .unwrap();
    for kind in ["nameduid", "anykey"] {
        let constraint = json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": kind,
            "metadata": {"name": kind}, "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}}});
        g.add_constraint(&constraint, "c.yaml").unwrap();
    }
    let with_uid = |uid: &str| {
        let mut r = request("CREATE", Some(pod("web", "default", json!({}))), None);
        r["uid"] = json!(uid);
        r
    };
    let messages = |uid: &str| -> Vec<String> {
        g.review(&with_uid(uid), None).unwrap().into_iter().map(|v| v.message).collect()
    };
    for _ in 0..3 {
        assert_eq!(messages("u-1"), ["key uid", "uid u-1"]);
        assert_eq!(messages("u-2"), ["uid u-2"]);
    }
}

#[test]
fn templates_using_what_only_regorus_runs_still_work() {
    // `with` and `print` are left to regorus; the verdicts are the same.
    let template = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8snohostpath
spec:
  crd:
    spec:
      names:
        kind: K8sNoHostPath
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snohostpath
        violation[{"msg": msg}] {
          volume := input.review.object.spec.volumes[i]
          volume.hostPath
          print("hostPath volume", volume.name)
          msg := sprintf("hostPath at %v", [i])
        }
        violation[{"msg": "label check failed"}] {
          not labelled with input.review.object.metadata as {"labels": {}}
        }
        labelled { count(input.review.object.metadata.labels) > 0 }
"#;
    let mut g = Gatekeeper::new();
    g.add_template(&yaml(template), "hostpath.yaml").unwrap();
    let constraint = json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sNoHostPath",
        "metadata": {"name": "no-hostpath"}, "spec": {}});
    g.add_constraint(&constraint, "hostpath.yaml").unwrap();
    let mut object = pod("web", "default", json!({"app": "web"}));
    object["spec"]["volumes"] =
        json!([{"name": "a", "emptyDir": {}}, {"name": "b", "hostPath": {"path": "/"}}]);
    let messages: Vec<String> = g
        .review(&request("CREATE", Some(object), None), None)
        .unwrap()
        .into_iter()
        .map(|v| v.message)
        .collect();
    assert_eq!(messages, ["hostPath at 1", "label check failed"]);
}
