//! AWS checks: RDS, security groups, S3, EC2/EBS, IAM, EKS, CloudTrail,
//! KMS and load balancer listeners.

use rampart_types::Severity;

use super::hcl::{Attr, Block, Value};
use super::{Check, Companion, Module, Resource, Sink, is_open_cidr};

pub(crate) static CHECKS: &[&Check] = &[
    &RDS_PUBLIC,
    &RDS_ENCRYPTION,
    &RDS_CLUSTER_ENCRYPTION,
    &RDS_BACKUP,
    &RDS_DELETION_PROTECTION,
    &SG_PUBLIC_INGRESS,
    &SG_ADMIN_PORTS,
    &SG_DATABASE_PORTS,
    &SG_PUBLIC_EGRESS,
    &S3_PUBLIC_ACL,
    &S3_NO_ACCESS_BLOCK,
    &S3_BLOCK_PUBLIC_ACLS,
    &S3_BLOCK_PUBLIC_POLICY,
    &S3_IGNORE_PUBLIC_ACLS,
    &S3_RESTRICT_PUBLIC_BUCKETS,
    &S3_ENCRYPTION,
    &S3_VERSIONING,
    &EC2_IMDSV2,
    &EC2_ROOT_ENCRYPTION,
    &EBS_ENCRYPTION,
    &EC2_PUBLIC_IP,
    &SUBNET_PUBLIC_IP,
    &IAM_ADMIN_POLICY,
    &EKS_PUBLIC_ENDPOINT,
    &CLOUDTRAIL_MULTI_REGION,
    &CLOUDTRAIL_LOG_VALIDATION,
    &KMS_ROTATION,
    &LB_PLAIN_HTTP,
];

// --- RDS ---------------------------------------------------------------

static RDS_PUBLIC: Check = Check {
    id: "AVD-AWS-0082",
    severity: Severity::Critical,
    title: "RDS instance is publicly accessible",
    description: "A publicly accessible database gets a public DNS name and address; with a permissive \
                  security group anyone on the internet can reach its listener and try credentials or \
                  exploits.",
    resolution: "Set publicly_accessible = false and reach the database from inside the VPC.",
    provider: "AWS",
    service: "rds",
    types: &["aws_db_instance", "aws_rds_cluster_instance"],
    run: |res, _, out| out.expect_bool(&res.block, "publicly_accessible", false, false),
};

static RDS_ENCRYPTION: Check = Check {
    id: "AVD-AWS-0080",
    severity: Severity::High,
    title: "RDS instance storage is not encrypted",
    description: "Unencrypted database storage, its snapshots and automated backups can be read by anyone \
                  who gets hold of a copy; encryption cannot be turned on later without a restore.",
    resolution: "Set storage_encrypted = true (and kms_key_id for a customer-managed key).",
    provider: "AWS",
    service: "rds",
    types: &["aws_db_instance"],
    run: |res, _, out| {
        // A read replica inherits its source's encryption.
        if res.block.attr("replicate_source_db").is_some() {
            return out.undecided();
        }
        out.expect_bool(&res.block, "storage_encrypted", true, false)
    },
};

static RDS_CLUSTER_ENCRYPTION: Check = Check {
    id: "AVD-AWS-0079",
    severity: Severity::High,
    title: "RDS cluster storage is not encrypted",
    description: "An Aurora or Multi-AZ cluster without storage encryption keeps its data, snapshots and \
                  backups readable to anyone with access to the underlying copies.",
    resolution: "Set storage_encrypted = true on the cluster.",
    provider: "AWS",
    service: "rds",
    types: &["aws_rds_cluster"],
    run: |res, _, out| out.expect_bool(&res.block, "storage_encrypted", true, false),
};

static RDS_BACKUP: Check = Check {
    id: "AVD-AWS-0077",
    severity: Severity::Medium,
    title: "RDS automated backups disabled",
    description: "A backup retention period of 0 turns automated backups and point-in-time recovery off, \
                  so deleted or corrupted data cannot be restored.",
    resolution: "Set backup_retention_period to 7 days or more.",
    provider: "AWS",
    service: "rds",
    types: &["aws_db_instance"],
    run: |res, _, out| {
        let Some(a) = res.block.attr("backup_retention_period") else { return };
        match a.value.as_num() {
            Some(n) if n < 1.0 => {
                out.fail(a.span(), format!("{} sets backup_retention_period = {n}", out.address()));
            }
            Some(_) => {}
            None => out.undecided(),
        }
    },
};

static RDS_DELETION_PROTECTION: Check = Check {
    id: "AVD-AWS-0177",
    severity: Severity::Low,
    title: "RDS deletion protection disabled",
    description: "Without deletion protection a mistaken `terraform destroy`, a renamed resource or a \
                  compromised account deletes the database in one call.",
    resolution: "Set deletion_protection = true.",
    provider: "AWS",
    service: "rds",
    types: &["aws_db_instance", "aws_rds_cluster"],
    run: |res, _, out| out.expect_bool(&res.block, "deletion_protection", true, false),
};

// --- Security groups ---------------------------------------------------

/// One rule of a security group, from any of the four ways to write one.
struct Rule<'a> {
    ingress: bool,
    /// The CIDR attributes of the rule.
    cidrs: Vec<&'a Attr>,
    /// The port range; `None` when unknown.
    ports: Option<(f64, f64)>,
}

impl Rule<'_> {
    fn all_ports(&self) -> bool {
        self.ports.is_some_and(|(from, to)| from <= 0.0 && to >= 65535.0)
    }

    fn covers(&self, port: f64) -> bool {
        self.ports.is_some_and(|(from, to)| from <= port && port <= to)
    }

    fn describe_ports(&self) -> String {
        match self.ports {
            _ if self.all_ports() => "all ports".into(),
            Some((from, to)) if from == to => format!("port {from}"),
            Some((from, to)) => format!("ports {from}-{to}"),
            None => "unknown ports".into(),
        }
    }
}

fn rule<'a>(block: &'a Block, ingress: bool, protocol: &str, cidrs: &[&str]) -> Rule<'a> {
    let all = block.value(protocol).is_some_and(|p| match p {
        Value::Num(n) => *n == -1.0,
        Value::Str(s) => s == "-1" || s.eq_ignore_ascii_case("all"),
        _ => false,
    });
    let port = |name| block.value(name).and_then(Value::as_num);
    let ports = if all { Some((0.0, 65535.0)) } else { port("from_port").zip(port("to_port")) };
    Rule { ingress, cidrs: cidrs.iter().filter_map(|c| block.attr(c)).collect(), ports }
}

fn rules(res: &Resource) -> Vec<Rule<'_>> {
    let b = &res.block;
    match res.kind.as_str() {
        "aws_security_group" => b
            .children("ingress")
            .map(|r| rule(r, true, "protocol", &["cidr_blocks", "ipv6_cidr_blocks"]))
            .chain(
                b.children("egress")
                    .map(|r| rule(r, false, "protocol", &["cidr_blocks", "ipv6_cidr_blocks"])),
            )
            .collect(),
        "aws_security_group_rule" => match b.str("type") {
            Some(t) => vec![rule(b, t == "ingress", "protocol", &["cidr_blocks", "ipv6_cidr_blocks"])],
            None => Vec::new(),
        },
        "aws_vpc_security_group_ingress_rule" => {
            vec![rule(b, true, "ip_protocol", &["cidr_ipv4", "cidr_ipv6"])]
        }
        "aws_vpc_security_group_egress_rule" => {
            vec![rule(b, false, "ip_protocol", &["cidr_ipv4", "cidr_ipv6"])]
        }
        _ => Vec::new(),
    }
}

const SG_TYPES: &[&str] = &[
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
];

/// Fails at each open CIDR attribute of the rules that `pick` selects.
fn open_rules(
    res: &Resource,
    out: &mut Sink<'_>,
    ingress: bool,
    pick: fn(&Rule<'_>) -> Option<&'static str>,
) {
    for rule in rules(res).iter().filter(|r| r.ingress == ingress) {
        let Some(what) = pick(rule) else { continue };
        for cidr in &rule.cidrs {
            match is_open_cidr(cidr) {
                Some(true) => {
                    let dir = if ingress { "ingress from" } else { "egress to" };
                    let msg = format!(
                        "{} allows {dir} the internet ({}) on {}{what}",
                        out.address(),
                        cidr.name,
                        rule.describe_ports()
                    );
                    out.fail(cidr.span(), msg);
                }
                Some(false) => {}
                None => out.undecided(),
            }
        }
    }
}

static SG_PUBLIC_INGRESS: Check = Check {
    id: "AVD-AWS-0107",
    severity: Severity::Critical,
    title: "Security group allows ingress from the internet",
    description: "An ingress rule from 0.0.0.0/0 or ::/0 exposes whatever listens on those ports to every \
                  scanner on the internet; this is how a database or admin interface ends up public.",
    resolution: "Restrict the rule's source to the CIDRs or security groups that need access.",
    provider: "AWS",
    service: "ec2",
    types: SG_TYPES,
    run: |res, _, out| open_rules(res, out, true, |_| Some("")),
};

static SG_ADMIN_PORTS: Check = Check {
    id: "RPT-TF-001",
    severity: Severity::Critical,
    title: "SSH, RDP or all ports open to the internet",
    description: "Remote administration ports (22, 3389), or every port, reachable from anywhere invite \
                  brute-force and exploit attempts within minutes of the rule being applied.",
    resolution: "Reach instances through SSM Session Manager, a VPN or a bastion restricted to known \
                 addresses; never open 22, 3389 or all ports to 0.0.0.0/0.",
    provider: "AWS",
    service: "ec2",
    types: SG_TYPES,
    run: |res, _, out| {
        open_rules(res, out, true, |r| {
            (r.all_ports() || r.covers(22.0) || r.covers(3389.0))
                .then_some(" (includes remote administration)")
        })
    },
};

/// Default ports of MySQL, PostgreSQL, SQL Server, Oracle, Redshift,
/// MongoDB, Redis, Cassandra and Elasticsearch.
const DATABASE_PORTS: &[f64] = &[3306.0, 5432.0, 1433.0, 1521.0, 5439.0, 27017.0, 6379.0, 9042.0, 9200.0];

static SG_DATABASE_PORTS: Check = Check {
    id: "RPT-TF-002",
    severity: Severity::Critical,
    title: "Database port open to the internet",
    description: "A rule opening a database port (MySQL, PostgreSQL, SQL Server, Oracle, Redshift, MongoDB, \
                  Redis, Cassandra, Elasticsearch) to 0.0.0.0/0 lets anyone reach the database listener.",
    resolution: "Allow the database port only from the application's security group or subnets.",
    provider: "AWS",
    service: "ec2",
    types: SG_TYPES,
    run: |res, _, out| {
        // Rules open on every port are reported by RPT-TF-001.
        open_rules(res, out, true, |r| {
            (!r.all_ports() && DATABASE_PORTS.iter().any(|p| r.covers(*p))).then_some(" (a database port)")
        })
    },
};

static SG_PUBLIC_EGRESS: Check = Check {
    id: "AVD-AWS-0104",
    severity: Severity::High,
    title: "Security group allows egress to the internet",
    description: "Unrestricted egress lets a compromised workload download tooling and send data anywhere; \
                  limiting destinations makes exfiltration and command-and-control harder.",
    resolution: "Restrict egress to the CIDRs, prefix lists or security groups the workload talks to.",
    provider: "AWS",
    service: "ec2",
    types: SG_TYPES,
    run: |res, _, out| open_rules(res, out, false, |_| Some("")),
};

// --- S3 ----------------------------------------------------------------

static S3_PUBLIC_ACL: Check = Check {
    id: "AVD-AWS-0092",
    severity: Severity::High,
    title: "S3 bucket has a public canned ACL",
    description: "The public-read, public-read-write and authenticated-read ACLs let anyone (or any AWS \
                  account) list and read the bucket, and with public-read-write also write to it.",
    resolution: "Use the private ACL (or none, with object ownership enforced) and grant access by policy.",
    provider: "AWS",
    service: "s3",
    types: &["aws_s3_bucket", "aws_s3_bucket_acl"],
    run: |res, _, out| {
        out.reject_str(&res.block, "acl", &["public-read", "public-read-write", "authenticated-read"])
    },
};

/// A bucket's companion resource of `kind`, reporting "unknown" to `out`.
fn bucket_companion<'m>(
    res: &Resource,
    module: &'m Module,
    out: &mut Sink<'_>,
    kind: &str,
) -> Option<&'m Resource> {
    match module.companion(kind, "bucket", res, "bucket") {
        Companion::Found(r) => Some(r),
        Companion::Unknown => {
            out.undecided();
            None
        }
        Companion::None => None,
    }
}

static S3_NO_ACCESS_BLOCK: Check = Check {
    id: "AVD-AWS-0094",
    severity: Severity::Low,
    title: "S3 bucket has no public access block",
    description: "Without a bucket-level public access block, a later ACL or bucket policy change can make \
                  the bucket public without any guard rail.",
    resolution: "Add an aws_s3_bucket_public_access_block for the bucket with all four settings true.",
    provider: "AWS",
    service: "s3",
    types: &["aws_s3_bucket"],
    run: |res, module, out| {
        if bucket_companion(res, module, out, "aws_s3_bucket_public_access_block").is_none() && !out.undecided
        {
            out.fail(res.block.span(), format!("{} has no aws_s3_bucket_public_access_block", res.address));
        }
    },
};

macro_rules! access_block_check {
    ($name:ident, $id:literal, $attr:literal, $title:literal, $description:literal) => {
        static $name: Check = Check {
            id: $id,
            severity: Severity::High,
            title: $title,
            description: $description,
            resolution: concat!("Set ", $attr, " = true in the aws_s3_bucket_public_access_block."),
            provider: "AWS",
            service: "s3",
            types: &["aws_s3_bucket_public_access_block"],
            run: |res, _, out| out.expect_bool(&res.block, $attr, true, false),
        };
    };
}

access_block_check!(
    S3_BLOCK_PUBLIC_ACLS,
    "AVD-AWS-0086",
    "block_public_acls",
    "S3 access block does not block public ACLs",
    "Unless block_public_acls is true, requests that set a public ACL on the bucket or its objects succeed."
);
access_block_check!(
    S3_BLOCK_PUBLIC_POLICY,
    "AVD-AWS-0087",
    "block_public_policy",
    "S3 access block does not block public policies",
    "Unless block_public_policy is true, a bucket policy granting public access can be attached to the bucket."
);
access_block_check!(
    S3_IGNORE_PUBLIC_ACLS,
    "AVD-AWS-0091",
    "ignore_public_acls",
    "S3 access block does not ignore public ACLs",
    "Unless ignore_public_acls is true, public ACLs already on the bucket or its objects keep granting access."
);
access_block_check!(
    S3_RESTRICT_PUBLIC_BUCKETS,
    "AVD-AWS-0093",
    "restrict_public_buckets",
    "S3 access block does not restrict public buckets",
    "Unless restrict_public_buckets is true, a public bucket policy still gives anonymous and cross-account \
     principals access."
);

static S3_ENCRYPTION: Check = Check {
    id: "AVD-AWS-0088",
    severity: Severity::High,
    title: "S3 bucket has no server-side encryption configuration",
    description: "Without an explicit default encryption configuration the bucket's encryption is left to \
                  account defaults, and no KMS key controls who can decrypt its objects.",
    resolution: "Add an aws_s3_bucket_server_side_encryption_configuration (aws:kms or AES256) for the bucket.",
    provider: "AWS",
    service: "s3",
    types: &["aws_s3_bucket"],
    run: |res, module, out| {
        let kind = "aws_s3_bucket_server_side_encryption_configuration";
        let inline = "server_side_encryption_configuration";
        if res.block.child(inline).is_some() || res.block.has_dynamic(inline) {
            return;
        }
        if bucket_companion(res, module, out, kind).is_none() && !out.undecided {
            out.fail(res.block.span(), format!("{} has no {kind}", res.address));
        }
    },
};

static S3_VERSIONING: Check = Check {
    id: "AVD-AWS-0090",
    severity: Severity::Medium,
    title: "S3 bucket versioning not enabled",
    description: "Without versioning an overwrite or delete, by mistake or by ransomware, destroys the only \
                  copy of an object.",
    resolution: "Add an aws_s3_bucket_versioning with versioning_configuration { status = \"Enabled\" }.",
    provider: "AWS",
    service: "s3",
    types: &["aws_s3_bucket", "aws_s3_bucket_versioning"],
    run: |res, module, out| {
        if res.kind == "aws_s3_bucket_versioning" {
            if let Some(config) = out.require_block(&res.block, "versioning_configuration") {
                out.reject_str(config, "status", &["Suspended", "Disabled"]);
            }
            return;
        }
        if let Some(inline) = res.block.child("versioning") {
            return out.expect_bool(inline, "enabled", true, false);
        }
        if res.block.has_dynamic("versioning") {
            return out.undecided();
        }
        if bucket_companion(res, module, out, "aws_s3_bucket_versioning").is_none() && !out.undecided {
            out.fail(res.block.span(), format!("{} has no aws_s3_bucket_versioning", res.address));
        }
    },
};

// --- EC2 and EBS -------------------------------------------------------

static EC2_IMDSV2: Check = Check {
    id: "AVD-AWS-0028",
    severity: Severity::High,
    title: "Instance metadata service does not require tokens (IMDSv2)",
    description: "With IMDSv1 allowed, a server-side request forgery in any application on the instance can \
                  read the instance role's credentials from the metadata endpoint.",
    resolution: "Add metadata_options { http_tokens = \"required\" }.",
    provider: "AWS",
    service: "ec2",
    types: &["aws_instance", "aws_launch_template"],
    run: |res, _, out| {
        let Some(options) = out.require_block(&res.block, "metadata_options") else { return };
        if options.str("http_endpoint") == Some("disabled") {
            return;
        }
        match options.attr("http_tokens") {
            None => {
                out.fail(options.span(), format!("{} does not set metadata_options.http_tokens", res.address))
            }
            Some(_) => out.reject_str(options, "http_tokens", &["optional"]),
        }
    },
};

static EC2_ROOT_ENCRYPTION: Check = Check {
    id: "AVD-AWS-0131",
    severity: Severity::High,
    title: "Instance block device is not encrypted",
    description: "An unencrypted root or EBS block device, and every snapshot of it, can be read by anyone \
                  who can copy or share the snapshot.",
    resolution: "Set encrypted = true in root_block_device and every ebs_block_device.",
    provider: "AWS",
    service: "ec2",
    types: &["aws_instance"],
    run: |res, _, out| {
        if let Some(root) = out.require_block(&res.block, "root_block_device") {
            out.expect_bool(root, "encrypted", true, false);
        }
        for device in res.block.children("ebs_block_device") {
            out.expect_bool(device, "encrypted", true, false);
        }
    },
};

static EBS_ENCRYPTION: Check = Check {
    id: "AVD-AWS-0026",
    severity: Severity::High,
    title: "EBS volume is not encrypted",
    description: "An unencrypted EBS volume and its snapshots hold data in the clear for anyone who can \
                  attach, copy or share them.",
    resolution: "Set encrypted = true (and kms_key_id for a customer-managed key).",
    provider: "AWS",
    service: "ec2",
    types: &["aws_ebs_volume"],
    run: |res, _, out| out.expect_bool(&res.block, "encrypted", true, false),
};

static EC2_PUBLIC_IP: Check = Check {
    id: "RPT-TF-003",
    severity: Severity::Medium,
    title: "Instance gets a public IP address",
    description: "An instance with a public address is one security group mistake away from being reachable \
                  from the internet; private instances behind a load balancer or NAT are not.",
    resolution: "Set associate_public_ip_address = false and place instances in private subnets.",
    provider: "AWS",
    service: "ec2",
    types: &["aws_instance", "aws_launch_template"],
    run: |res, _, out| {
        out.expect_bool(&res.block, "associate_public_ip_address", false, false);
        for nic in res.block.children("network_interfaces") {
            out.expect_bool(nic, "associate_public_ip_address", false, false);
        }
    },
};

static SUBNET_PUBLIC_IP: Check = Check {
    id: "AVD-AWS-0164",
    severity: Severity::High,
    title: "Subnet assigns public IP addresses by default",
    description: "With map_public_ip_on_launch every instance launched into the subnet gets a public \
                  address, whether it is meant to be reachable or not.",
    resolution: "Set map_public_ip_on_launch = false; give public addresses only where needed.",
    provider: "AWS",
    service: "ec2",
    types: &["aws_subnet"],
    run: |res, _, out| out.expect_bool(&res.block, "map_public_ip_on_launch", false, false),
};

// --- IAM ---------------------------------------------------------------

/// Whether an action or resource list (JSON string or array) holds `*`.
fn json_has_star(v: Option<&serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::String(s)) => s == "*",
        Some(serde_json::Value::Array(items)) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    }
}

fn admin_statement(statement: &serde_json::Value) -> bool {
    statement.get("Effect").and_then(|e| e.as_str()) == Some("Allow")
        && json_has_star(statement.get("Action"))
        && json_has_star(statement.get("Resource"))
}

static IAM_ADMIN_POLICY: Check = Check {
    id: "RPT-TF-004",
    severity: Severity::Critical,
    title: "IAM policy allows every action on every resource",
    description: "A statement allowing Action \"*\" on Resource \"*\" makes its holder a full administrator: \
                  it can read every secret, change IAM and delete the account's resources.",
    resolution: "Grant only the actions the principal needs, on the resources it needs them on.",
    provider: "AWS",
    service: "iam",
    types: &[
        "aws_iam_policy",
        "aws_iam_role_policy",
        "aws_iam_user_policy",
        "aws_iam_group_policy",
        "data.aws_iam_policy_document",
    ],
    run: |res, _, out| {
        if res.kind == "data.aws_iam_policy_document" {
            for statement in res.block.children("statement") {
                let effect = statement.str("effect").unwrap_or("Allow");
                let has_star =
                    |name| statement.value(name).and_then(Value::strings).is_some_and(|s| s.contains(&"*"));
                if effect == "Allow"
                    && has_star("actions")
                    && has_star("resources")
                    && let Some(actions) = statement.attr("actions")
                {
                    let msg =
                        format!("{} has a statement allowing actions \"*\" on resources \"*\"", res.address);
                    out.fail(actions.span(), msg);
                }
            }
            return;
        }
        let Some(policy) = res.block.attr("policy") else { return };
        let Some(doc) = policy.value.as_str().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        else {
            return out.undecided();
        };
        let admin = match doc.get("Statement") {
            Some(serde_json::Value::Array(statements)) => statements.iter().any(admin_statement),
            Some(statement) => admin_statement(statement),
            None => false,
        };
        if admin {
            let msg =
                format!("{} policy has a statement allowing Action \"*\" on Resource \"*\"", res.address);
            out.fail(policy.span(), msg);
        }
    },
};

// --- EKS, CloudTrail, KMS, ELB ------------------------------------------

static EKS_PUBLIC_ENDPOINT: Check = Check {
    id: "AVD-AWS-0041",
    severity: Severity::Critical,
    title: "EKS API endpoint open to the internet",
    description: "A public cluster endpoint reachable from 0.0.0.0/0 (the default when public access is on \
                  and public_access_cidrs is unset) exposes the Kubernetes API to credential and exploit \
                  attempts from anywhere.",
    resolution: "Set vpc_config.endpoint_public_access = false, or restrict public_access_cidrs to known \
                 networks.",
    provider: "AWS",
    service: "eks",
    types: &["aws_eks_cluster"],
    run: |res, _, out| {
        let Some(vpc) = out.require_block(&res.block, "vpc_config") else { return };
        match vpc.value("endpoint_public_access").map(Value::as_bool) {
            Some(Some(false)) => return,
            Some(None) => return out.undecided(),
            _ => {}
        }
        match vpc.attr("public_access_cidrs") {
            None => {
                let at = vpc.attr("endpoint_public_access").map_or(vpc.span(), Attr::span);
                out.fail(
                    at,
                    format!("{} has a public endpoint and no public_access_cidrs (0.0.0.0/0)", res.address),
                );
            }
            Some(cidrs) => match is_open_cidr(cidrs) {
                Some(true) => out.fail(
                    cidrs.span(),
                    format!(
                        "{} allows the public endpoint from 0.0.0.0/0 in vpc_config.public_access_cidrs",
                        res.address
                    ),
                ),
                Some(false) => {}
                None => out.undecided(),
            },
        }
    },
};

static CLOUDTRAIL_MULTI_REGION: Check = Check {
    id: "AVD-AWS-0014",
    severity: Severity::Medium,
    title: "CloudTrail trail does not cover all regions",
    description: "A single-region trail records nothing an attacker does in the other regions, which is \
                  where abuse such as crypto-mining usually happens.",
    resolution: "Set is_multi_region_trail = true.",
    provider: "AWS",
    service: "cloudtrail",
    types: &["aws_cloudtrail"],
    run: |res, _, out| out.expect_bool(&res.block, "is_multi_region_trail", true, false),
};

static CLOUDTRAIL_LOG_VALIDATION: Check = Check {
    id: "AVD-AWS-0016",
    severity: Severity::High,
    title: "CloudTrail log file validation disabled",
    description: "Without log file validation, deleted or altered log files cannot be detected, so an \
                  intruder can cover their tracks.",
    resolution: "Set enable_log_file_validation = true.",
    provider: "AWS",
    service: "cloudtrail",
    types: &["aws_cloudtrail"],
    run: |res, _, out| out.expect_bool(&res.block, "enable_log_file_validation", true, false),
};

static KMS_ROTATION: Check = Check {
    id: "AVD-AWS-0065",
    severity: Severity::Medium,
    title: "KMS key rotation disabled",
    description: "A symmetric key that is never rotated protects ever more data with the same key \
                  material, widening the damage if it is ever exposed.",
    resolution: "Set enable_key_rotation = true.",
    provider: "AWS",
    service: "kms",
    types: &["aws_kms_key"],
    run: |res, _, out| {
        // Only symmetric encryption keys can rotate automatically.
        let usage = res.block.str("key_usage").unwrap_or("ENCRYPT_DECRYPT");
        let spec = res.block.str("customer_master_key_spec").unwrap_or("SYMMETRIC_DEFAULT");
        if usage != "ENCRYPT_DECRYPT" || spec != "SYMMETRIC_DEFAULT" {
            return out.undecided();
        }
        out.expect_bool(&res.block, "enable_key_rotation", true, false)
    },
};

static LB_PLAIN_HTTP: Check = Check {
    id: "AVD-AWS-0054",
    severity: Severity::Critical,
    title: "Load balancer listener uses plain HTTP",
    description: "An HTTP listener that serves content instead of redirecting to HTTPS sends cookies, \
                  tokens and form data in the clear across the internet.",
    resolution: "Use protocol = \"HTTPS\" with a certificate, or make the HTTP listener redirect to HTTPS.",
    provider: "AWS",
    service: "elb",
    types: &["aws_lb_listener", "aws_alb_listener"],
    run: |res, _, out| {
        let redirects = res.block.children("default_action").any(|a| {
            a.str("type") == Some("redirect")
                && a.child("redirect")
                    .and_then(|r| r.str("protocol"))
                    .is_some_and(|p| p.eq_ignore_ascii_case("HTTPS"))
        });
        if !redirects {
            out.reject_str(&res.block, "protocol", &["HTTP"]);
        }
    },
};
