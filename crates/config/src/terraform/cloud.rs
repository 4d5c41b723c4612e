//! Google Cloud and Azure storage checks.

use rampart_types::Severity;

use super::Check;

pub(crate) static CHECKS: &[&Check] =
    &[&GCS_PUBLIC_MEMBER, &AZURE_PUBLIC_NESTED_ITEMS, &AZURE_PUBLIC_CONTAINER, &AZURE_MIN_TLS];

static GCS_PUBLIC_MEMBER: Check = Check {
    id: "AVD-GCP-0001",
    severity: Severity::High,
    title: "Cloud Storage bucket granted to allUsers or allAuthenticatedUsers",
    description: "A bucket IAM member or ACL entity of allUsers makes the bucket readable by anyone on the \
                  internet; allAuthenticatedUsers means any Google account, which is no better.",
    resolution: "Grant roles to specific users, groups or service accounts only.",
    provider: "Google",
    service: "storage",
    types: &[
        "google_storage_bucket_iam_member",
        "google_storage_bucket_iam_binding",
        "google_storage_bucket_access_control",
        "google_storage_default_object_access_control",
    ],
    run: |res, _, out| {
        for name in ["member", "members", "entity"] {
            let Some(attr) = res.block.attr(name) else { continue };
            let Some(principals) = attr.value.strings() else {
                out.undecided();
                continue;
            };
            if let Some(p) = principals.iter().find(|p| matches!(**p, "allUsers" | "allAuthenticatedUsers")) {
                let msg = format!("{} grants access to {p} in {name}", res.address);
                out.fail(attr.span(), msg);
            }
        }
    },
};

static AZURE_PUBLIC_NESTED_ITEMS: Check = Check {
    id: "RPT-TF-005",
    severity: Severity::High,
    title: "Storage account allows public blob access",
    description: "When a storage account allows public access to nested items, any container in it can \
                  be switched to anonymous read access without a change to the account.",
    resolution: "Set allow_nested_items_to_be_public = false (allow_blob_public_access = false on the \
                 AzureRM 2.x provider).",
    provider: "Azure",
    service: "storage",
    types: &["azurerm_storage_account"],
    run: |res, _, out| {
        // Only explicit settings count: the default changed between provider versions.
        for name in ["allow_nested_items_to_be_public", "allow_blob_public_access"] {
            if res.block.attr(name).is_some() {
                out.expect_bool(&res.block, name, false, false);
            }
        }
    },
};

static AZURE_PUBLIC_CONTAINER: Check = Check {
    id: "AVD-AZU-0007",
    severity: Severity::High,
    title: "Storage container allows anonymous access",
    description: "A container with access type blob or container lets anyone on the internet read its \
                  blobs (and, for container, list them) without credentials.",
    resolution: "Set container_access_type = \"private\".",
    provider: "Azure",
    service: "storage",
    types: &["azurerm_storage_container"],
    run: |res, _, out| out.reject_str(&res.block, "container_access_type", &["blob", "container"]),
};

static AZURE_MIN_TLS: Check = Check {
    id: "AVD-AZU-0011",
    severity: Severity::High,
    title: "Storage account accepts TLS older than 1.2",
    description: "TLS 1.0 and 1.1 have known weaknesses and are deprecated; a storage account accepting \
                  them lets clients negotiate a connection an attacker may be able to break.",
    resolution: "Set min_tls_version = \"TLS1_2\".",
    provider: "Azure",
    service: "storage",
    types: &["azurerm_storage_account"],
    run: |res, _, out| out.reject_str(&res.block, "min_tls_version", &["TLS1_0", "TLS1_1"]),
};
