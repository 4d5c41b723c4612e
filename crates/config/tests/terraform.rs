//! Terraform checks through the public API: every check fires at the
//! offending line and stays quiet when the resource is fixed; a hardened
//! module passes; variables resolve across the module's files.

use std::collections::HashSet;
use std::path::Path;

use rampart_config::{ConfigError, ConfigKind, Outcome, checks, scan};

fn try_scan(text: &str) -> Result<Outcome, ConfigError> {
    scan(ConfigKind::Terraform, Path::new("infra/main.tf"), "infra/main.tf", text.as_bytes())
}

fn run(text: &str) -> Outcome {
    try_scan(text).unwrap_or_else(|e| panic!("scan failed: {e}\n{text}"))
}

/// `(id, start line)` of every finding, sorted.
fn found(outcome: &Outcome) -> Vec<(String, u32)> {
    let mut hits: Vec<_> =
        outcome.failures.iter().map(|f| (f.id.clone(), f.cause_metadata.start_line)).collect();
    hits.sort();
    hits
}

/// One check: an input that fires it at a line, and the fixed input.
struct Case {
    id: &'static str,
    bad: &'static str,
    line: u32,
    good: &'static str,
}

const CASES: &[Case] = &[
    Case {
        id: "AVD-AWS-0082",
        bad: "resource \"aws_db_instance\" \"main\" {\n  engine = \"postgres\"\n  publicly_accessible = true\n}\n",
        line: 3,
        good: "resource \"aws_db_instance\" \"main\" {\n  publicly_accessible = false\n}\n",
    },
    Case {
        id: "AVD-AWS-0080",
        bad: "resource \"aws_db_instance\" \"main\" {\n  engine = \"postgres\"\n}\n",
        line: 1,
        good: "resource \"aws_db_instance\" \"main\" {\n  storage_encrypted = true\n}\n",
    },
    Case {
        id: "AVD-AWS-0079",
        bad: "resource \"aws_rds_cluster\" \"c\" {\n  storage_encrypted = false\n}\n",
        line: 2,
        good: "resource \"aws_rds_cluster\" \"c\" {\n  storage_encrypted = true\n}\n",
    },
    Case {
        id: "AVD-AWS-0077",
        bad: "resource \"aws_db_instance\" \"main\" {\n  backup_retention_period = 0\n}\n",
        line: 2,
        good: "resource \"aws_db_instance\" \"main\" {\n  backup_retention_period = 7\n}\n",
    },
    Case {
        id: "AVD-AWS-0177",
        bad: "resource \"aws_db_instance\" \"main\" {\n  deletion_protection = false\n}\n",
        line: 2,
        good: "resource \"aws_db_instance\" \"main\" {\n  deletion_protection = true\n}\n",
    },
    Case {
        id: "AVD-AWS-0107",
        bad: "resource \"aws_security_group\" \"web\" {\n  ingress {\n    from_port = 443\n    to_port = 443\n    protocol = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n",
        line: 6,
        good: "resource \"aws_security_group\" \"web\" {\n  ingress {\n    from_port = 443\n    to_port = 443\n    protocol = \"tcp\"\n    cidr_blocks = [\"10.0.0.0/16\"]\n  }\n}\n",
    },
    Case {
        id: "RPT-TF-001",
        bad: "resource \"aws_security_group_rule\" \"ssh\" {\n  type = \"ingress\"\n  from_port = 22\n  to_port = 22\n  protocol = \"tcp\"\n  ipv6_cidr_blocks = [\"::/0\"]\n}\n",
        line: 6,
        good: "resource \"aws_security_group_rule\" \"ssh\" {\n  type = \"ingress\"\n  from_port = 443\n  to_port = 443\n  protocol = \"tcp\"\n  ipv6_cidr_blocks = [\"::/0\"]\n}\n",
    },
    Case {
        id: "RPT-TF-002",
        bad: "resource \"aws_vpc_security_group_ingress_rule\" \"db\" {\n  ip_protocol = \"tcp\"\n  from_port = 5432\n  to_port = 5432\n  cidr_ipv4 = \"0.0.0.0/0\"\n}\n",
        line: 5,
        good: "resource \"aws_vpc_security_group_ingress_rule\" \"db\" {\n  ip_protocol = \"tcp\"\n  from_port = 5432\n  to_port = 5432\n  cidr_ipv4 = \"10.0.1.0/24\"\n}\n",
    },
    Case {
        id: "AVD-AWS-0104",
        bad: "resource \"aws_security_group\" \"web\" {\n  egress {\n    from_port = 0\n    to_port = 0\n    protocol = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n",
        line: 6,
        good: "resource \"aws_security_group\" \"web\" {\n  egress {\n    from_port = 0\n    to_port = 0\n    protocol = \"-1\"\n    cidr_blocks = [\"10.0.0.0/8\"]\n  }\n}\n",
    },
    Case {
        id: "AVD-AWS-0092",
        bad: "resource \"aws_s3_bucket_acl\" \"a\" {\n  bucket = aws_s3_bucket.b.id\n  acl = \"public-read\"\n}\n",
        line: 3,
        good: "resource \"aws_s3_bucket_acl\" \"a\" {\n  bucket = aws_s3_bucket.b.id\n  acl = \"private\"\n}\n",
    },
    Case {
        id: "AVD-AWS-0094",
        bad: "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"data\"\n}\n",
        line: 1,
        good: "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"data\"\n}\nresource \"aws_s3_bucket_public_access_block\" \"p\" {\n  bucket = \"data\"\n}\n",
    },
    Case {
        id: "AVD-AWS-0086",
        bad: "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  bucket = aws_s3_bucket.b.id\n  block_public_acls = false\n}\n",
        line: 3,
        good: "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  bucket = aws_s3_bucket.b.id\n  block_public_acls = true\n}\n",
    },
    Case {
        id: "AVD-AWS-0087",
        bad: "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  bucket = aws_s3_bucket.b.id\n}\n",
        line: 1,
        good: "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  block_public_policy = true\n}\n",
    },
    Case {
        id: "AVD-AWS-0091",
        bad: "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  ignore_public_acls = \"false\"\n}\n",
        line: 2,
        good: "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  ignore_public_acls = \"true\"\n}\n",
    },
    Case {
        id: "AVD-AWS-0093",
        bad: "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  restrict_public_buckets = false\n}\n",
        line: 2,
        good: "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  restrict_public_buckets = true\n}\n",
    },
    Case {
        id: "AVD-AWS-0088",
        bad: "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"data\"\n}\n",
        line: 1,
        good: "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"data\"\n}\nresource \"aws_s3_bucket_server_side_encryption_configuration\" \"e\" {\n  bucket = aws_s3_bucket.b.id\n  rule {\n    apply_server_side_encryption_by_default {\n      sse_algorithm = \"aws:kms\"\n    }\n  }\n}\n",
    },
    Case {
        id: "AVD-AWS-0090",
        bad: "resource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = aws_s3_bucket.b.id\n  versioning_configuration {\n    status = \"Suspended\"\n  }\n}\n",
        line: 4,
        good: "resource \"aws_s3_bucket\" \"b\" {\n  versioning {\n    enabled = true\n  }\n}\n",
    },
    Case {
        id: "AVD-AWS-0028",
        bad: "resource \"aws_instance\" \"web\" {\n  metadata_options {\n    http_tokens = \"optional\"\n  }\n}\n",
        line: 3,
        good: "resource \"aws_launch_template\" \"web\" {\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}\n",
    },
    Case {
        id: "AVD-AWS-0131",
        bad: "resource \"aws_instance\" \"web\" {\n  root_block_device {\n    encrypted = true\n  }\n  ebs_block_device {\n    device_name = \"/dev/sdf\"\n  }\n}\n",
        line: 5,
        good: "resource \"aws_instance\" \"web\" {\n  root_block_device {\n    encrypted = true\n  }\n}\n",
    },
    Case {
        id: "AVD-AWS-0026",
        bad: "resource \"aws_ebs_volume\" \"v\" {\n  size = 10\n}\n",
        line: 1,
        good: "resource \"aws_ebs_volume\" \"v\" {\n  size = 10\n  encrypted = true\n}\n",
    },
    Case {
        id: "RPT-TF-003",
        bad: "resource \"aws_launch_template\" \"web\" {\n  network_interfaces {\n    associate_public_ip_address = \"true\"\n  }\n}\n",
        line: 3,
        good: "resource \"aws_instance\" \"web\" {\n  associate_public_ip_address = false\n}\n",
    },
    Case {
        id: "AVD-AWS-0164",
        bad: "resource \"aws_subnet\" \"public\" {\n  cidr_block = \"10.0.0.0/24\"\n  map_public_ip_on_launch = true\n}\n",
        line: 3,
        good: "resource \"aws_subnet\" \"private\" {\n  cidr_block = \"10.0.1.0/24\"\n}\n",
    },
    Case {
        id: "RPT-TF-004",
        bad: "resource \"aws_iam_policy\" \"admin\" {\n  name = \"admin\"\n  policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [{\n      Effect = \"Allow\"\n      Action = \"*\"\n      Resource = \"*\"\n    }]\n  })\n}\n",
        line: 3,
        good: "resource \"aws_iam_policy\" \"read\" {\n  policy = jsonencode({\n    Statement = [{\n      Effect = \"Allow\"\n      Action = [\"s3:GetObject\"]\n      Resource = \"*\"\n    }]\n  })\n}\n",
    },
    Case {
        id: "AVD-AWS-0041",
        bad: "resource \"aws_eks_cluster\" \"k\" {\n  vpc_config {\n    subnet_ids = []\n  }\n}\n",
        line: 2,
        good: "resource \"aws_eks_cluster\" \"k\" {\n  vpc_config {\n    endpoint_public_access = true\n    public_access_cidrs = [\"203.0.113.0/24\"]\n  }\n}\n",
    },
    Case {
        id: "AVD-AWS-0014",
        bad: "resource \"aws_cloudtrail\" \"t\" {\n  name = \"t\"\n  is_multi_region_trail = false\n}\n",
        line: 3,
        good: "resource \"aws_cloudtrail\" \"t\" {\n  is_multi_region_trail = true\n}\n",
    },
    Case {
        id: "AVD-AWS-0016",
        bad: "resource \"aws_cloudtrail\" \"t\" {\n  name = \"t\"\n}\n",
        line: 1,
        good: "resource \"aws_cloudtrail\" \"t\" {\n  enable_log_file_validation = true\n}\n",
    },
    Case {
        id: "AVD-AWS-0065",
        bad: "resource \"aws_kms_key\" \"k\" {\n  description = \"data\"\n}\n",
        line: 1,
        good: "resource \"aws_kms_key\" \"k\" {\n  customer_master_key_spec = \"RSA_2048\"\n  key_usage = \"SIGN_VERIFY\"\n}\n",
    },
    Case {
        id: "AVD-AWS-0054",
        bad: "resource \"aws_lb_listener\" \"http\" {\n  port = 80\n  protocol = \"HTTP\"\n  default_action {\n    type = \"forward\"\n  }\n}\n",
        line: 3,
        good: "resource \"aws_lb_listener\" \"http\" {\n  port = 80\n  protocol = \"HTTP\"\n  default_action {\n    type = \"redirect\"\n    redirect {\n      port = \"443\"\n      protocol = \"HTTPS\"\n      status_code = \"HTTP_301\"\n    }\n  }\n}\n",
    },
    Case {
        id: "AVD-GCP-0001",
        bad: "resource \"google_storage_bucket_iam_binding\" \"b\" {\n  bucket = \"site\"\n  role = \"roles/storage.objectViewer\"\n  members = [\"user:a@example.com\", \"allUsers\"]\n}\n",
        line: 4,
        good: "resource \"google_storage_bucket_iam_member\" \"b\" {\n  member = \"group:ops@example.com\"\n}\n",
    },
    Case {
        id: "RPT-TF-005",
        bad: "resource \"azurerm_storage_account\" \"s\" {\n  name = \"s\"\n  allow_nested_items_to_be_public = true\n}\n",
        line: 3,
        good: "resource \"azurerm_storage_account\" \"s\" {\n  allow_nested_items_to_be_public = false\n}\n",
    },
    Case {
        id: "AVD-AZU-0007",
        bad: "resource \"azurerm_storage_container\" \"c\" {\n  container_access_type = \"blob\"\n}\n",
        line: 2,
        good: "resource \"azurerm_storage_container\" \"c\" {\n  container_access_type = \"private\"\n}\n",
    },
    Case {
        id: "AVD-AZU-0011",
        bad: "resource \"azurerm_storage_account\" \"s\" {\n  min_tls_version = \"TLS1_0\"\n}\n",
        line: 2,
        good: "resource \"azurerm_storage_account\" \"s\" {\n  min_tls_version = \"TLS1_2\"\n}\n",
    },
];

#[test]
fn every_check_has_a_case() {
    let cases: HashSet<_> = CASES.iter().map(|c| c.id).collect();
    let terraform: HashSet<_> =
        checks().into_iter().filter(|c| c.kind == ConfigKind::Terraform).map(|c| c.id).collect();
    assert_eq!(cases, terraform);
    assert_eq!(cases.len(), CASES.len());
}

#[test]
fn each_check_fires_at_its_line_and_not_when_fixed() {
    for case in CASES {
        let bad = found(&run(case.bad));
        assert!(
            bad.contains(&(case.id.to_string(), case.line)),
            "{} not at line {}: {bad:?}",
            case.id,
            case.line
        );
        let good = found(&run(case.good));
        assert!(good.iter().all(|(id, _)| id != case.id), "{} fires on the fixed input: {good:?}", case.id);
    }
}

#[test]
fn findings_name_resource_attribute_and_provider() {
    let out = run(CASES[0].bad);
    let f = out.failures.iter().find(|f| f.id == "AVD-AWS-0082").expect("finding");
    assert_eq!(f.kind, "Terraform Security Check");
    assert_eq!(f.cause_metadata.resource, "aws_db_instance.main");
    assert_eq!((f.cause_metadata.provider.as_str(), f.cause_metadata.service.as_str()), ("AWS", "rds"));
    assert_eq!(f.message, "aws_db_instance.main sets publicly_accessible = true");
    assert_eq!(f.primary_url, "https://avd.aquasec.com/misconfig/avd-aws-0082");
    assert_eq!(f.severity, rampart_types::Severity::Critical);
}

#[test]
fn security_group_severity_split() {
    // All ports open: the general check and the all-ports one, not the database one.
    let src = "resource \"aws_security_group\" \"db\" {\n  ingress {\n    from_port = 0\n    to_port = 0\n    protocol = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n";
    let ids: Vec<_> = found(&run(src)).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["AVD-AWS-0107", "RPT-TF-001"]);
    // A port range spanning 5432: the database check.
    let src = "resource \"aws_security_group_rule\" \"r\" {\n  type = \"ingress\"\n  from_port = 5000\n  to_port = 6000\n  protocol = \"tcp\"\n  cidr_blocks = [\"0.0.0.0/0\"]\n}\n";
    let ids: Vec<_> = found(&run(src)).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["AVD-AWS-0107", "RPT-TF-002"]);
}

#[test]
fn iam_policy_forms() {
    let heredoc = "resource \"aws_iam_role_policy\" \"p\" {\n  policy = <<EOF\n{\"Statement\": {\"Effect\": \"Allow\", \"Action\": [\"*\"], \"Resource\": \"*\"}}\nEOF\n}\n";
    assert_eq!(found(&run(heredoc)), [("RPT-TF-004".to_string(), 2)]);
    let deny = heredoc.replace("Allow", "Deny");
    assert!(found(&run(&deny)).is_empty());
    let document = "data \"aws_iam_policy_document\" \"admin\" {\n  statement {\n    actions = [\"*\"]\n    resources = [\"*\"]\n  }\n}\n";
    let out = run(document);
    assert_eq!(found(&out), [("RPT-TF-004".to_string(), 3)]);
    assert_eq!(out.failures[0].cause_metadata.resource, "data.aws_iam_policy_document.admin");
    // A resource only known after apply: no finding, and no success either.
    let unknown = "resource \"aws_iam_policy\" \"p\" {\n  policy = data.aws_iam_policy_document.x.json\n}\n";
    let out = run(unknown);
    assert!(out.failures.is_empty());
    assert_eq!(out.successes, 0);
}

#[test]
fn unknown_values_give_no_finding() {
    let src = "resource \"aws_db_instance\" \"main\" {\n  publicly_accessible = var.public\n  storage_encrypted = var.encrypted\n  deletion_protection = true\n}\n";
    let out = run(src);
    assert!(out.failures.is_empty(), "{:?}", found(&out));
    // Only deletion protection and backup retention are decided.
    assert_eq!(out.successes, 2);
}

/// A realistic, hardened module: VPC, subnets, security groups, RDS, S3, KMS.
const HARDENED: &str = r#"
variable "db_port" {
  type    = number
  default = 5432
}

variable "vpc_cidr" {
  default = "10.20.0.0/16"
}

locals {
  name = "shop"
  tags = { Project = local.name }
}

resource "aws_vpc" "main" {
  cidr_block = var.vpc_cidr
  tags       = local.tags
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]
}

resource "aws_security_group" "app" {
  name   = "${local.name}-app"
  vpc_id = aws_vpc.main.id

  egress {
    from_port   = var.db_port
    to_port     = var.db_port
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_security_group" "db" {
  name   = "${local.name}-db"
  vpc_id = aws_vpc.main.id

  ingress {
    description     = "PostgreSQL from the app"
    from_port       = var.db_port
    to_port         = var.db_port
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
}

resource "aws_kms_key" "data" {
  description         = "${local.name} data"
  enable_key_rotation = true
}

resource "aws_db_instance" "main" {
  identifier              = "${local.name}-db"
  engine                  = "postgres"
  instance_class          = "db.t4g.medium"
  allocated_storage       = 20
  db_subnet_group_name    = aws_db_subnet_group.main.name
  vpc_security_group_ids  = [aws_security_group.db.id]
  publicly_accessible     = false
  storage_encrypted       = true
  kms_key_id              = aws_kms_key.data.arn
  backup_retention_period = 14
  deletion_protection     = true
  port                    = var.db_port
}

resource "aws_s3_bucket" "assets" {
  bucket = "${local.name}-assets"
}

resource "aws_s3_bucket_public_access_block" "assets" {
  bucket                  = aws_s3_bucket.assets.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "assets" {
  bucket = aws_s3_bucket.assets.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
  }
}

resource "aws_s3_bucket_versioning" "assets" {
  bucket = aws_s3_bucket.assets.id
  versioning_configuration {
    status = "Enabled"
  }
}
"#;

#[test]
fn hardened_module_passes_everything() {
    let out = run(HARDENED);
    assert!(out.applicable);
    assert!(out.failures.is_empty(), "{:?}", found(&out));
    assert!(out.successes >= 20, "{}", out.successes);
}

#[test]
fn variables_and_locals_resolve() {
    let src = r#"
variable "public" {
  default = true
}
locals {
  settings = { encrypt = false }
}
resource "aws_db_instance" "main" {
  publicly_accessible = var.public
  storage_encrypted   = local.settings.encrypt
  deletion_protection = !var.public
}
"#;
    let hits = found(&run(src));
    assert_eq!(
        hits,
        [("AVD-AWS-0080".to_string(), 10), ("AVD-AWS-0082".to_string(), 9), ("AVD-AWS-0177".to_string(), 11)]
    );
}

#[test]
fn sibling_files_supply_variables_and_companions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let main = dir.path().join("main.tf");
    let main_src = "resource \"aws_db_instance\" \"main\" {\n  publicly_accessible = var.public\n}\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = var.bucket\n}\n";
    std::fs::write(&main, main_src).expect("write");
    std::fs::write(
        dir.path().join("variables.tf"),
        "variable \"public\" {\n  default = true\n}\nvariable \"bucket\" {\n  default = \"logs\"\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("s3.tf"),
        "resource \"aws_s3_bucket_public_access_block\" \"logs\" {\n  bucket = \"logs\"\n}\n\
         resource \"aws_s3_bucket_versioning\" \"logs\" {\n  bucket = aws_s3_bucket.logs.id\n  versioning_configuration {\n    status = \"Enabled\"\n  }\n}\n",
    )
    .expect("write");
    // Not a .tf file: ignored.
    std::fs::write(dir.path().join("notes.txt"), "variable \"public\" { default = false }").expect("write");

    let out = scan(ConfigKind::Terraform, &main, "main.tf", main_src.as_bytes()).expect("scans");
    let ids: HashSet<_> = out.failures.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains("AVD-AWS-0082"), "{ids:?}");
    // The access block matches by literal name, versioning by reference; the
    // access block's own settings are reported when s3.tf is scanned.
    assert!(!ids.contains("AVD-AWS-0094") && !ids.contains("AVD-AWS-0090") && !ids.contains("AVD-AWS-0086"));
    assert!(ids.contains("AVD-AWS-0088"), "{ids:?}");

    // Without the siblings (a path that is not on disk) the variable is unknown.
    let alone = try_scan(main_src).expect("scans");
    assert!(alone.failures.iter().all(|f| f.id != "AVD-AWS-0082"));
}

#[test]
fn malformed_input_is_an_error_with_the_line() {
    let src = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  acl = = \"private\"\n}\n";
    match try_scan(src) {
        Err(ConfigError::Malformed { line, path, .. }) => {
            assert_eq!(line, Some(3));
            assert_eq!(path, "infra/main.tf");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert!(matches!(try_scan("resource \"a\" \"b\" {\n"), Err(ConfigError::Malformed { .. })));
    assert!(matches!(
        scan(ConfigKind::Terraform, Path::new("x.tf"), "x.tf", b"\xff\xfe"),
        Err(ConfigError::Malformed { line: None, .. })
    ));
}

#[test]
fn hostile_input_is_bounded() {
    // Deep nesting is refused by the parser, not a stack overflow.
    let deep =
        format!("resource \"a\" \"b\" {{\n  x = {}1{}\n}}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(try_scan(&deep).is_err());
    let blocks = format!("{}{}", "a {\n".repeat(10_000), "}\n".repeat(10_000));
    assert!(try_scan(&blocks).is_err());
    // Many resources: every one is checked.
    let many: String =
        (0..5000).map(|i| format!("resource \"aws_ebs_volume\" \"v{i}\" {{\n  size = 1\n}}\n")).collect();
    assert_eq!(run(&many).failures.len(), 5000);
}

#[test]
fn detects_terraform_files() {
    assert_eq!(ConfigKind::detect(Path::new("infra/main.tf")), Some(ConfigKind::Terraform));
    assert_eq!(ConfigKind::detect(Path::new("infra/terraform.tfvars")), None);
    assert_eq!(ConfigKind::Terraform.trivy_type(), "terraform");
}

#[test]
fn inline_comments_suppress_findings_in_a_block_or_on_a_line() {
    let bad =
        "resource \"aws_db_instance\" \"main\" {\n  engine = \"postgres\"\n  publicly_accessible = true\n}\n";
    let fired = |text: &str| found(&run(text)).iter().any(|(id, _)| id == "AVD-AWS-0082");
    assert!(fired(bad));
    assert!(!fired(&format!("# rampart:ignore:AVD-AWS-0082\n{bad}")), "above the block");
    assert!(!fired(&format!("// trivy:ignore:AVD-AWS-0082\n{bad}")), "Trivy's marker, // comment");
    assert!(!fired(&bad.replace("= true", "= true # rampart:ignore:AVD-AWS-0082")), "on the line");
    assert!(fired(&format!("# rampart:ignore:AVD-AWS-0080\n{bad}")), "another id");
    let two = format!("# rampart:ignore:AVD-AWS-0082\nresource \"aws_s3_bucket\" \"logs\" {{}}\n{bad}");
    assert!(fired(&two), "the comment covers only the block below it");
}

#[test]
fn count_and_for_each_expand_into_instances() {
    let src = r#"
variable "dbs" {
  default = { reports = true, billing = false }
}
locals {
  public = [false, true]
}
resource "aws_db_instance" "each" {
  for_each            = var.dbs
  publicly_accessible = each.value
  storage_encrypted   = true
  deletion_protection = true
}
resource "aws_db_instance" "counted" {
  count               = 2
  publicly_accessible = local.public[count.index]
  storage_encrypted   = true
  deletion_protection = true
}
resource "aws_db_instance" "off" {
  count               = 0
  publicly_accessible = true
}
"#;
    let outcome = run(src);
    let public: Vec<&str> = outcome
        .failures
        .iter()
        .filter(|f| f.id == "AVD-AWS-0082")
        .map(|f| f.cause_metadata.resource.as_str())
        .collect();
    assert_eq!(public, ["aws_db_instance.each[\"reports\"]", "aws_db_instance.counted[1]"]);
    assert!(outcome.failures.iter().all(|f| !f.cause_metadata.resource.starts_with("aws_db_instance.off")));
}

#[test]
fn tfvars_files_set_variables_over_their_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let main = dir.path().join("main.tf");
    let src = "variable \"public\" {\n  default = false\n}\nresource \"aws_db_instance\" \"main\" {\n  publicly_accessible = var.public\n}\n";
    std::fs::write(&main, src).expect("write");
    let public = || {
        let out = scan(ConfigKind::Terraform, &main, "main.tf", src.as_bytes()).expect("scans");
        out.failures.iter().any(|f| f.id == "AVD-AWS-0082")
    };
    assert!(!public(), "the default says private");
    std::fs::write(dir.path().join("terraform.tfvars"), "public = true\n").expect("write");
    assert!(public(), "terraform.tfvars overrides the default");
    std::fs::write(dir.path().join("z.auto.tfvars"), "public = false\n").expect("write");
    assert!(!public(), "*.auto.tfvars load after terraform.tfvars");
    std::fs::write(dir.path().join("other.tfvars"), "public = true\n").expect("write");
    assert!(!public(), "other .tfvars files need -var-file and are not read");
}

#[test]
fn local_modules_are_checked_with_the_values_the_call_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("envs/prod");
    let module = dir.path().join("modules/db");
    let nested = dir.path().join("modules/disk");
    for d in [&root, &module, &nested] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::fs::write(
        module.join("main.tf"),
        "variable \"public\" {}\nvariable \"encrypted\" {\n  default = true\n}\n\
         resource \"aws_db_instance\" \"this\" {\n  publicly_accessible = var.public\n  \
         storage_encrypted = var.encrypted\n  deletion_protection = true\n}\n\
         module \"disk\" {\n  source = \"../disk\"\n  encrypted = var.encrypted\n}\n",
    )
    .expect("write");
    std::fs::write(
        nested.join("main.tf"),
        "variable \"encrypted\" {}\nresource \"aws_ebs_volume\" \"data\" {\n  encrypted = var.encrypted\n}\n",
    )
    .expect("write");
    let main = root.join("main.tf");
    let src = "locals {\n  exposed = true\n}\n\nmodule \"db\" {\n  source    = \"../../modules/db\"\n  public    = local.exposed\n  encrypted = false\n}\n\nmodule \"registry\" {\n  source = \"terraform-aws-modules/s3-bucket/aws\"\n}\n";
    std::fs::write(&main, src).expect("write");
    let out = scan(ConfigKind::Terraform, &main, "envs/prod/main.tf", src.as_bytes()).expect("scans");
    let found: Vec<(&str, &str, u32, u32)> = out
        .failures
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                f.cause_metadata.resource.as_str(),
                f.cause_metadata.start_line,
                f.cause_metadata.end_line,
            )
        })
        .collect();
    assert!(found.contains(&("AVD-AWS-0082", "module.db.aws_db_instance.this", 5, 9)), "{found:?}");
    assert!(found.contains(&("AVD-AWS-0080", "module.db.aws_db_instance.this", 5, 9)), "{found:?}");
    assert!(
        found.contains(&("AVD-AWS-0026", "module.db.module.disk.aws_ebs_volume.data", 5, 9)),
        "{found:?}"
    );
    let public = out.failures.iter().find(|f| f.id == "AVD-AWS-0082").expect("finding");
    assert!(public.message.contains("in module modules/db, line 6"), "{}", public.message);

    // Scanned on its own, the module does not know whether it is public.
    let alone = std::fs::read(module.join("main.tf")).expect("read");
    let out =
        scan(ConfigKind::Terraform, &module.join("main.tf"), "modules/db/main.tf", &alone).expect("scans");
    assert!(out.failures.iter().all(|f| f.id != "AVD-AWS-0082"));
}

#[test]
fn json_syntax_is_checked_at_its_own_lines() {
    assert_eq!(ConfigKind::detect(Path::new("infra/main.tf.json")), Some(ConfigKind::Terraform));
    let dir = tempfile::tempdir().expect("tempdir");
    let main = dir.path().join("main.tf.json");
    let src = r#"{
  "resource": {
    "aws_db_instance": {
      "main": {
        "publicly_accessible": "${var.public}",
        "storage_encrypted": true,
        "deletion_protection": true,
        "tags": { "team": "data" }
      }
    },
    "aws_security_group": {
      "web": {
        "ingress": [
          { "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"] }
        ]
      }
    }
  }
}
"#;
    std::fs::write(&main, src).expect("write");
    std::fs::write(dir.path().join("variables.tf"), "variable \"public\" {\n  default = true\n}\n")
        .expect("write");
    let out = scan(ConfigKind::Terraform, &main, "main.tf.json", src.as_bytes()).expect("scans");
    let hits = found(&out);
    assert!(hits.contains(&("AVD-AWS-0082".to_string(), 5)), "{hits:?}");
    assert!(hits.contains(&("RPT-TF-001".to_string(), 14)), "{hits:?}");
    assert!(hits.contains(&("AVD-AWS-0107".to_string(), 14)), "{hits:?}");
    let bad = scan(ConfigKind::Terraform, &main, "main.tf.json", b"{\n  \"resource\": [\n");
    assert!(matches!(bad, Err(ConfigError::Malformed { line: Some(_), .. })), "{bad:?}");
}
